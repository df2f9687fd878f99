// The topic configuration catalogue: every topic-level config of Kafka 4.1 with its type, default, validation and
// the broker-level synonyms that supply a cluster-wide default (log.retention.hours for retention.ms, ...).
//
// A topic's effective value for a key is, in order: the topic override (source TOPIC_CONFIG), the first broker
// synonym set in the broker's config file (STATIC_BROKER_CONFIG), the catalogue default (DEFAULT_CONFIG).
// DescribeConfigs with includeSynonyms lists all of those that exist, most specific first, as Kafka does.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { Compression, compressionCodec } from '../protocol/compression.js';
import type { CleanupPolicy, LogConfig } from '../storage/types.js';
import {
  ConfigSource,
  ConfigType,
  ConfigValueError,
  LONG_MAX,
  atLeast,
  between,
  either,
  listOf,
  oneOf,
  parseConfigValue,
  toSafeNumber,
  type ConfigKeyDef,
  type ConfigSourceCode,
  type ConfigTypeName,
  type Validator,
} from './config-def.js';

/** A broker config that supplies the default of a topic config. `unitMs` converts hours/minutes to ms. */
export interface BrokerSynonymDef extends ConfigKeyDef {
  readonly unitMs?: number;
}

export interface TopicConfigDef extends ConfigKeyDef {
  /** in priority order: the first one set in the broker config wins */
  readonly synonyms: readonly BrokerSynonymDef[];
  /** rejects values this broker cannot honour (e.g. tiered storage) */
  readonly unsupported?: (value: string) => string | null;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** `partition:broker` pairs or `*` (leader/follower.replication.throttled.replicas) */
const throttledReplicas: Validator = {
  describe: '[partitionId]:[brokerId],[partitionId]:[brokerId],...',
  check: (v) => {
    if (v === '' || v === '*') return null;
    return v.split(',').every((p) => /^\d+:\d+$/.test(p))
      ? null
      : 'Must be the wildcard (*) or a list of replicas in the form [partitionId]:[brokerId]';
  },
};

type Def = Omit<TopicConfigDef, 'synonyms'> & { synonyms?: BrokerSynonymDef[] };

/** a broker synonym of the same type, default and validation as its topic config, under another name */
function same(def: Def, name: string): BrokerSynonymDef {
  return { name, type: def.type, default: def.default, doc: def.doc, validator: def.validator };
}

function topic(def: Def, synonymNames: string[] = []): TopicConfigDef {
  const synonyms = def.synonyms ?? synonymNames.map((n) => same(def, n));
  return { ...def, synonyms };
}

const defs: TopicConfigDef[] = [
  topic(
    {
      name: 'cleanup.policy',
      type: 'LIST',
      default: 'delete',
      validator: listOf(['compact', 'delete']),
      doc: 'How old segments are cleaned up: "delete" removes them after the retention limits, "compact" keeps the latest record per key; both may be given.',
    },
    ['log.cleanup.policy'],
  ),
  topic(
    {
      name: 'compression.gzip.level',
      type: 'INT',
      default: '-1',
      validator: either(between(1, 9), between(-1, -1), '[1,...,9] or -1'),
      doc: 'Compression level used when the broker compresses with gzip (compression.type=gzip); -1 is the codec default.',
    },
    ['compression.gzip.level'],
  ),
  topic(
    {
      name: 'compression.lz4.level',
      type: 'INT',
      default: '9',
      validator: between(1, 17),
      doc: 'Compression level used when the broker compresses with lz4 (compression.type=lz4).',
    },
    ['compression.lz4.level'],
  ),
  topic(
    {
      name: 'compression.type',
      type: 'STRING',
      default: 'producer',
      validator: oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
      doc: 'Codec the topic stores batches with; "producer" keeps whatever the producer sent, "uncompressed" stores them uncompressed.',
    },
    ['compression.type'],
  ),
  topic(
    {
      name: 'compression.zstd.level',
      type: 'INT',
      default: '3',
      validator: between(-131072, 22),
      doc: 'Compression level used when the broker compresses with zstd (compression.type=zstd).',
    },
    ['compression.zstd.level'],
  ),
  topic(
    {
      name: 'delete.retention.ms',
      type: 'LONG',
      default: '86400000',
      validator: atLeast(0),
      doc: 'How long tombstones (null-value records) survive in a compacted topic, so consumers reading from the start still see the delete.',
    },
    ['log.cleaner.delete.retention.ms'],
  ),
  topic(
    {
      name: 'file.delete.delay.ms',
      type: 'LONG',
      default: '60000',
      validator: atLeast(0),
      doc: 'Grace period between a segment being dropped from the log and its files being removed from disk.',
    },
    ['log.segment.delete.delay.ms'],
  ),
  topic(
    {
      name: 'flush.messages',
      type: 'LONG',
      default: LONG_MAX,
      validator: atLeast(1),
      doc: 'Force an fsync after this many messages; by default the broker relies on acks=all group commits instead.',
    },
    ['log.flush.interval.messages'],
  ),
  topic({
    name: 'flush.ms',
    type: 'LONG',
    default: LONG_MAX,
    validator: atLeast(0),
    doc: 'Force an fsync when data has been unflushed for this long; by default never forced by time.',
    synonyms: [
      { name: 'log.flush.interval.ms', type: 'LONG', default: null, validator: atLeast(0), doc: 'Broker default of flush.ms; when unset, log.flush.scheduler.interval.ms applies.' },
      { name: 'log.flush.scheduler.interval.ms', type: 'LONG', default: LONG_MAX, validator: atLeast(0), doc: 'Fallback broker default of flush.ms.' },
    ],
  }),
  topic({
    name: 'follower.replication.throttled.replicas',
    type: 'LIST',
    default: '',
    validator: throttledReplicas,
    doc: 'Replicas whose follower-side replication is throttled, as partition:broker pairs or *. Accepted for compatibility; a single node has no followers.',
  }),
  topic(
    {
      name: 'index.interval.bytes',
      type: 'INT',
      default: '4096',
      validator: atLeast(0),
      doc: 'How many bytes of log go between two entries of the sparse offset index.',
    },
    ['log.index.interval.bytes'],
  ),
  {
    name: 'internal.segment.bytes',
    type: 'INT',
    default: null,
    validator: atLeast(0),
    internal: true,
    synonyms: [],
    doc: 'Testing only: overrides segment.bytes without its 1 MiB minimum. Not listed by DescribeConfigs.',
  },
  topic({
    name: 'leader.replication.throttled.replicas',
    type: 'LIST',
    default: '',
    validator: throttledReplicas,
    doc: 'Replicas whose leader-side replication is throttled, as partition:broker pairs or *. Accepted for compatibility; a single node has no followers.',
  }),
  topic(
    {
      name: 'local.retention.bytes',
      type: 'LONG',
      default: '-2',
      validator: atLeast(-2),
      doc: 'Tiered storage: bytes kept on local disk before segments are only in remote storage; -2 means retention.bytes.',
    },
    ['log.local.retention.bytes'],
  ),
  topic(
    {
      name: 'local.retention.ms',
      type: 'LONG',
      default: '-2',
      validator: atLeast(-2),
      doc: 'Tiered storage: time segments stay on local disk before they are only in remote storage; -2 means retention.ms.',
    },
    ['log.local.retention.ms'],
  ),
  topic(
    {
      name: 'max.compaction.lag.ms',
      type: 'LONG',
      default: LONG_MAX,
      validator: atLeast(1),
      doc: 'Longest time a record may stay uncompacted in a compacted topic.',
    },
    ['log.cleaner.max.compaction.lag.ms'],
  ),
  topic(
    {
      name: 'max.message.bytes',
      type: 'INT',
      default: '1048588',
      validator: atLeast(0),
      doc: 'Largest record batch the topic accepts, after compression. Consumers must be able to fetch batches this large.',
    },
    ['message.max.bytes'],
  ),
  topic(
    {
      name: 'message.timestamp.after.max.ms',
      type: 'LONG',
      default: '3600000',
      validator: atLeast(0),
      doc: 'With CreateTime, how far in the future a record timestamp may be (relative to the broker clock) before the batch is rejected.',
    },
    ['log.message.timestamp.after.max.ms'],
  ),
  topic(
    {
      name: 'message.timestamp.before.max.ms',
      type: 'LONG',
      default: LONG_MAX,
      validator: atLeast(0),
      doc: 'With CreateTime, how far in the past a record timestamp may be (relative to the broker clock) before the batch is rejected.',
    },
    ['log.message.timestamp.before.max.ms'],
  ),
  topic(
    {
      name: 'message.timestamp.type',
      type: 'STRING',
      default: 'CreateTime',
      validator: oneOf('CreateTime', 'LogAppendTime'),
      doc: 'Whether record timestamps are the producer\'s (CreateTime) or set by the broker when it appends (LogAppendTime).',
    },
    ['log.message.timestamp.type'],
  ),
  topic(
    {
      name: 'min.cleanable.dirty.ratio',
      type: 'DOUBLE',
      default: '0.5',
      validator: between(0, 1),
      doc: 'Share of the log that must be uncompacted before the compactor cleans it; higher means fewer, more efficient cleanings.',
    },
    ['log.cleaner.min.cleanable.ratio'],
  ),
  topic(
    {
      name: 'min.compaction.lag.ms',
      type: 'LONG',
      default: '0',
      validator: atLeast(0),
      doc: 'Shortest time a record stays uncompacted in a compacted topic.',
    },
    ['log.cleaner.min.compaction.lag.ms'],
  ),
  topic(
    {
      name: 'min.insync.replicas',
      type: 'INT',
      default: '1',
      validator: atLeast(1),
      doc: 'With acks=all, how many replicas must have a write before it is acknowledged.',
    },
    ['min.insync.replicas'],
  ),
  topic(
    {
      name: 'preallocate',
      type: 'BOOLEAN',
      default: 'false',
      doc: 'Whether a new segment file is preallocated to its full size on disk.',
    },
    ['log.preallocate'],
  ),
  topic({
    name: 'remote.log.copy.disable',
    type: 'BOOLEAN',
    default: 'false',
    doc: 'Tiered storage: stop copying segments to remote storage while keeping the remote data readable.',
  }),
  topic({
    name: 'remote.log.delete.on.disable',
    type: 'BOOLEAN',
    default: 'false',
    doc: 'Tiered storage: delete the remote data when tiered storage is turned off for the topic.',
  }),
  {
    ...topic({
      name: 'remote.storage.enable',
      type: 'BOOLEAN',
      default: 'false',
      doc: 'Tiered storage: move older segments to remote storage. Not supported by Umbra.',
    }),
    unsupported: (v) => (v === 'true' ? 'Tiered storage is not supported by this broker' : null),
  },
  topic(
    {
      name: 'retention.bytes',
      type: 'LONG',
      default: '-1',
      doc: 'Largest size a partition may grow to before its oldest segments are deleted (delete policy); -1 means no size limit. Per partition.',
    },
    ['log.retention.bytes'],
  ),
  topic({
    name: 'retention.ms',
    type: 'LONG',
    default: '604800000',
    validator: atLeast(-1),
    doc: 'How long records are kept before their segments are deleted (delete policy); -1 means forever.',
    synonyms: [
      { name: 'log.retention.ms', type: 'LONG', default: null, doc: 'Broker default of retention.ms; when unset, log.retention.minutes applies.' },
      { name: 'log.retention.minutes', type: 'INT', default: null, unitMs: MINUTE_MS, doc: 'Broker default of retention.ms in minutes; when unset, log.retention.hours applies.' },
      { name: 'log.retention.hours', type: 'INT', default: '168', unitMs: HOUR_MS, doc: 'Broker default of retention.ms in hours.' },
    ],
  }),
  topic(
    {
      name: 'segment.bytes',
      type: 'INT',
      default: '1073741824',
      validator: atLeast(1048576),
      doc: 'Size at which the active segment is closed and a new one started; retention and compaction work a segment at a time.',
    },
    ['log.segment.bytes'],
  ),
  topic(
    {
      name: 'segment.index.bytes',
      type: 'INT',
      default: '10485760',
      validator: atLeast(4),
      doc: 'Largest size of a segment\'s offset index; a full index also rolls the segment.',
    },
    ['log.index.size.max.bytes'],
  ),
  topic({
    name: 'segment.jitter.ms',
    type: 'LONG',
    default: '0',
    validator: atLeast(0),
    doc: 'Random amount subtracted from segment.ms so that many partitions do not roll at the same moment.',
    synonyms: [
      { name: 'log.roll.jitter.ms', type: 'LONG', default: null, validator: atLeast(0), doc: 'Broker default of segment.jitter.ms; when unset, log.roll.jitter.hours applies.' },
      { name: 'log.roll.jitter.hours', type: 'INT', default: '0', unitMs: HOUR_MS, validator: atLeast(0), doc: 'Broker default of segment.jitter.ms in hours.' },
    ],
  }),
  topic({
    name: 'segment.ms',
    type: 'LONG',
    default: '604800000',
    validator: atLeast(1),
    doc: 'Age at which the active segment is closed even if not full, so time-based retention and compaction can act on it.',
    synonyms: [
      { name: 'log.roll.ms', type: 'LONG', default: null, validator: atLeast(1), doc: 'Broker default of segment.ms; when unset, log.roll.hours applies.' },
      { name: 'log.roll.hours', type: 'INT', default: '168', unitMs: HOUR_MS, validator: atLeast(1), doc: 'Broker default of segment.ms in hours.' },
    ],
  }),
  topic(
    {
      name: 'unclean.leader.election.enable',
      type: 'BOOLEAN',
      default: 'false',
      doc: 'Whether a replica outside the in-sync set may become leader as a last resort, at the risk of losing data.',
    },
    ['unclean.leader.election.enable'],
  ),
];

export const TOPIC_CONFIGS: ReadonlyMap<string, TopicConfigDef> = new Map(defs.map((d) => [d.name, d]));

export function topicConfigDef(name: string): TopicConfigDef | undefined {
  return TOPIC_CONFIGS.get(name);
}

function invalidConfig(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_CONFIG, message);
}

/** Validates one topic config value; returns its normalized form. Throws KafkaError(INVALID_CONFIG) naming the key. */
export function parseTopicConfigValue(name: string, value: string | null | undefined): string {
  const def = TOPIC_CONFIGS.get(name);
  if (!def) throw invalidConfig(`Unknown topic config name: ${name}`);
  if (value === null || value === undefined) throw invalidConfig(`Null value not supported for topic config: ${name}`);
  let parsed: string;
  try {
    parsed = parseConfigValue(def, value);
  } catch (err) {
    if (err instanceof ConfigValueError) throw invalidConfig(err.message);
    throw err;
  }
  const unsupported = def.unsupported?.(parsed);
  if (unsupported) throw invalidConfig(`Invalid value ${value} for configuration ${name}: ${unsupported}`);
  return parsed;
}

/**
 * Validates a whole set of topic overrides (CreateTopics configs, the result of an AlterConfigs) including the
 * checks that span keys, against the broker's static defaults. Returns the normalized overrides.
 */
export function validateTopicConfigs(
  overrides: Readonly<Record<string, string | null>>,
  staticBrokerConfigs: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(overrides)) out[name] = parseTopicConfigValue(name, value);
  const resolved = resolveTopicConfig(out, staticBrokerConfigs);
  const minLag = BigInt(resolved.get('min.compaction.lag.ms')!.value!);
  const maxLag = BigInt(resolved.get('max.compaction.lag.ms')!.value!);
  if (minLag > maxLag) {
    throw invalidConfig(`conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})`);
  }
  return out;
}

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: ConfigSourceCode;
}

/** One key of a resolved (effective) configuration, with everything DescribeConfigs reports about it. */
export interface ResolvedConfigEntry {
  name: string;
  value: string | null;
  source: ConfigSourceCode;
  type: ConfigTypeName;
  /** DescribeConfigs v3+ configType */
  typeCode: number;
  sensitive: boolean;
  readOnly: boolean;
  internal: boolean;
  /** false when the value is the catalogue default */
  isDefault: boolean;
  documentation: string;
  /** most specific first: the topic override, set broker synonyms, then defaults */
  synonyms: ConfigSynonym[];
}

export type ResolvedTopicConfig = ReadonlyMap<string, ResolvedConfigEntry>;

/** A broker synonym's value in the topic config's unit (hours and minutes become ms). */
function synonymAsTopicValue(syn: BrokerSynonymDef, value: string): string {
  if (!syn.unitMs) return value;
  const ms = BigInt(value) * BigInt(syn.unitMs);
  // Kafka treats any negative retention in hours/minutes as "forever"
  return ms < 0n ? '-1' : ms.toString();
}

/**
 * The effective topic configuration: every key of the catalogue with its value and source. `overrides` are the
 * topic's own (already validated) configs; `staticBrokerConfigs` are the Kafka-named broker configs set in the
 * broker's config file (already validated), from which the broker-wide defaults come.
 */
export function resolveTopicConfig(
  overrides: Readonly<Record<string, string>>,
  staticBrokerConfigs: Readonly<Record<string, string>> = {},
): ResolvedTopicConfig {
  const out = new Map<string, ResolvedConfigEntry>();
  for (const def of TOPIC_CONFIGS.values()) {
    const synonyms: ConfigSynonym[] = [];
    let value: string | null = null;
    let source: ConfigSourceCode = ConfigSource.DEFAULT_CONFIG;
    let found = false;
    const override = overrides[def.name];
    if (override !== undefined) {
      synonyms.push({ name: def.name, value: override, source: ConfigSource.TOPIC_CONFIG });
      value = override;
      source = ConfigSource.TOPIC_CONFIG;
      found = true;
    }
    for (const syn of def.synonyms) {
      const set = staticBrokerConfigs[syn.name];
      if (set === undefined) continue;
      synonyms.push({ name: syn.name, value: set, source: ConfigSource.STATIC_BROKER_CONFIG });
      if (!found) {
        value = synonymAsTopicValue(syn, set);
        source = ConfigSource.STATIC_BROKER_CONFIG;
        found = true;
      }
    }
    for (const syn of def.synonyms) {
      if (syn.default !== null) synonyms.push({ name: syn.name, value: syn.default, source: ConfigSource.DEFAULT_CONFIG });
    }
    if (!found) value = def.default;
    out.set(def.name, {
      name: def.name,
      value,
      source,
      type: def.type,
      typeCode: ConfigType[def.type],
      sensitive: def.sensitive ?? false,
      readOnly: def.readOnly ?? false,
      internal: def.internal ?? false,
      isDefault: source === ConfigSource.DEFAULT_CONFIG,
      documentation: def.doc,
      synonyms,
    });
  }
  return out;
}

function num(resolved: ResolvedTopicConfig, name: string): number {
  return toSafeNumber(resolved.get(name)!.value!);
}

function cleanupPolicy(value: string): CleanupPolicy {
  const parts = new Set(value.split(','));
  if (parts.has('compact') && parts.has('delete')) return 'compact,delete';
  return parts.has('compact') ? 'compact' : 'delete';
}

/** compression.type as a codec (null: keep the producer's) with the level configured for it. */
function compressionOf(resolved: ResolvedTopicConfig): Pick<LogConfig, 'compression' | 'compressionLevel'> {
  const type = resolved.get('compression.type')!.value!;
  switch (type) {
    case 'producer':
      return { compression: null, compressionLevel: 0 };
    case 'uncompressed':
      return { compression: Compression.none, compressionLevel: 0 };
    case 'gzip':
      return { compression: Compression.gzip, compressionLevel: num(resolved, 'compression.gzip.level') };
    case 'zstd':
      return { compression: Compression.zstd, compressionLevel: num(resolved, 'compression.zstd.level') };
    case 'lz4':
      return { compression: Compression.lz4, compressionLevel: num(resolved, 'compression.lz4.level') };
    default:
      return { compression: compressionCodec(type), compressionLevel: 0 };
  }
}

/** The settings the partition log obeys, from a resolved topic configuration. */
export function toLogConfig(resolved: ResolvedTopicConfig): LogConfig {
  const internalSegmentBytes = resolved.get('internal.segment.bytes')?.value;
  return {
    segmentBytes: internalSegmentBytes ? toSafeNumber(internalSegmentBytes) : num(resolved, 'segment.bytes'),
    segmentMs: num(resolved, 'segment.ms'),
    retentionMs: num(resolved, 'retention.ms'),
    retentionBytes: num(resolved, 'retention.bytes'),
    cleanupPolicy: cleanupPolicy(resolved.get('cleanup.policy')!.value!),
    deleteRetentionMs: num(resolved, 'delete.retention.ms'),
    minCompactionLagMs: num(resolved, 'min.compaction.lag.ms'),
    maxCompactionLagMs: num(resolved, 'max.compaction.lag.ms'),
    minCleanableDirtyRatio: num(resolved, 'min.cleanable.dirty.ratio'),
    maxMessageBytes: num(resolved, 'max.message.bytes'),
    messageTimestampType: resolved.get('message.timestamp.type')!.value === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    indexIntervalBytes: num(resolved, 'index.interval.bytes'),
    fileDeleteDelayMs: num(resolved, 'file.delete.delay.ms'),
    ...compressionOf(resolved),
    timestampBeforeMaxMs: num(resolved, 'message.timestamp.before.max.ms'),
    timestampAfterMaxMs: num(resolved, 'message.timestamp.after.max.ms'),
    segmentJitterMs: num(resolved, 'segment.jitter.ms'),
    segmentIndexBytes: num(resolved, 'segment.index.bytes'),
    flushMessages: num(resolved, 'flush.messages'),
    flushMs: num(resolved, 'flush.ms'),
  };
}

/** A DescribeConfigs result entry, ready to encode (the generated DescribeConfigsResourceResult's shape). */
export interface DescribeConfigsEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: ConfigSourceCode;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: ConfigSourceCode }[];
  configType: number;
  documentation: string | null;
}

export interface DescribeOptions {
  /** the requested keys; null or undefined = all (internal keys are never listed) */
  keys?: readonly string[] | null;
  includeSynonyms?: boolean;
  includeDocumentation?: boolean;
}

/**
 * DescribeConfigs entries for a resolved configuration (topic or broker): sensitive values are hidden (null), internal
 * keys omitted, unknown requested keys skipped (Kafka returns only the keys it knows).
 */
export function describeConfigEntries(
  resolved: ReadonlyMap<string, ResolvedConfigEntry>,
  opts: DescribeOptions = {},
): DescribeConfigsEntry[] {
  const names = opts.keys ?? [...resolved.keys()].sort();
  const out: DescribeConfigsEntry[] = [];
  for (const name of names) {
    const e = resolved.get(name);
    if (!e || (e.internal && !opts.keys)) continue;
    out.push({
      name: e.name,
      value: e.sensitive ? null : e.value,
      readOnly: e.readOnly,
      configSource: e.source,
      isSensitive: e.sensitive,
      synonyms: opts.includeSynonyms
        ? e.synonyms.map((s) => ({ name: s.name, value: e.sensitive ? null : s.value, source: s.source }))
        : [],
      configType: e.typeCode,
      documentation: opts.includeDocumentation ? e.documentation : null,
    });
  }
  return out;
}
