// The broker configuration catalogue: the Kafka-named broker configs Umbra honours, for the `broker:` map of the
// config file and for DescribeConfigs on the BROKER resource. Only keys the broker actually uses are listed, so
// an unknown key in a config file is an error rather than a silently ignored setting.
//
// Umbra has no dynamic broker configs (AlterConfigs on a BROKER resource), so every entry is read-only, as Kafka
// reports its static configs.
import {
  ConfigSource,
  ConfigType,
  atLeast,
  parseConfigValue,
  ConfigValueError,
  type ConfigKeyDef,
  type ConfigSourceCode,
} from './config-def.js';
import { TOPIC_CONFIGS, type ResolvedConfigEntry } from './topic-config.js';

export interface BrokerConfigDef extends ConfigKeyDef {
  /** set by a structured field of the config file (e.g. `node_id`) rather than in the `broker:` map */
  readonly setVia?: string;
  /** the topic config this key supplies the default of */
  readonly synonymOf?: string;
}

const brokerOnly: BrokerConfigDef[] = [
  { name: 'node.id', type: 'INT', default: null, setVia: 'node_id', doc: 'This node\'s id in the cluster.' },
  { name: 'broker.id', type: 'INT', default: null, setVia: 'node_id', doc: 'Same as node.id (its older name).' },
  { name: 'log.dirs', type: 'LIST', default: null, setVia: 'data_dir', doc: 'Directory holding the partition logs and the cluster metadata.' },
  { name: 'listeners', type: 'LIST', default: null, setVia: 'listen', doc: 'Address the Kafka listener binds to.' },
  {
    name: 'advertised.listeners',
    type: 'LIST',
    default: null,
    setVia: 'advertised_host / advertised_port',
    doc: 'Address clients are told to connect to (Metadata).',
  },
  { name: 'num.partitions', type: 'INT', default: '1', validator: atLeast(1), doc: 'Partitions of a topic created without a partition count (auto-created or -1).' },
  {
    name: 'default.replication.factor',
    type: 'INT',
    default: '1',
    validator: atLeast(1),
    doc: 'Replication factor of a topic created without one. A single node can only hold one replica.',
  },
  { name: 'auto.create.topics.enable', type: 'BOOLEAN', default: 'true', doc: 'Whether Metadata and Produce requests for an unknown topic create it.' },
  { name: 'delete.topic.enable', type: 'BOOLEAN', default: 'true', doc: 'Whether DeleteTopics is allowed.' },
  {
    name: 'connections.max.idle.ms',
    type: 'LONG',
    default: '600000',
    validator: atLeast(1000),
    doc: 'A client connection that sends nothing and has nothing pending for this long is closed.',
  },
  {
    name: 'max.connections',
    type: 'INT',
    default: '10000',
    validator: atLeast(1),
    doc: 'Most client connections each listener accepts at once; more are refused at accept.',
  },
  {
    name: 'allow.everyone.if.no.acl.found',
    type: 'BOOLEAN',
    default: 'false',
    doc: 'With authorization on: whether a resource that no ACL applies to is open to everyone (Kafka: false).',
  },
  {
    name: 'socket.request.max.bytes',
    type: 'INT',
    default: '104857600',
    validator: atLeast(1),
    doc: 'Largest request the broker reads; a larger size prefix closes the connection.',
  },
  {
    name: 'log.retention.check.interval.ms',
    type: 'LONG',
    default: '300000',
    validator: atLeast(1),
    doc: 'How often retention, segment rolling by time and compaction run over all logs.',
  },
  { name: 'offsets.topic.num.partitions', type: 'INT', default: '50', validator: atLeast(1), doc: 'Partitions of __consumer_offsets (fixed once created).' },
  { name: 'offsets.topic.segment.bytes', type: 'INT', default: '104857600', validator: atLeast(1), doc: 'segment.bytes of __consumer_offsets.' },
  {
    name: 'offsets.retention.minutes',
    type: 'INT',
    default: '10080',
    validator: atLeast(1),
    doc: 'How long committed offsets of a group without members are kept.',
  },
  {
    name: 'offsets.retention.check.interval.ms',
    type: 'LONG',
    default: '600000',
    validator: atLeast(1),
    doc: 'How often expired committed offsets are removed.',
  },
  {
    name: 'max.incremental.fetch.session.cache.slots',
    type: 'INT',
    default: '1000',
    validator: atLeast(0),
    doc: 'Most incremental fetch sessions (KIP-227) the broker keeps; 0 turns them off.',
  },
  { name: 'group.min.session.timeout.ms', type: 'INT', default: '6000', doc: 'Smallest session timeout a group member may ask for.' },
  { name: 'group.max.session.timeout.ms', type: 'INT', default: '1800000', doc: 'Largest session timeout a group member may ask for.' },
  {
    name: 'group.initial.rebalance.delay.ms',
    type: 'INT',
    default: '3000',
    validator: atLeast(0),
    doc: 'How long a new group waits for more members to join before its first rebalance.',
  },
  { name: 'group.max.size', type: 'INT', default: '2147483647', validator: atLeast(1), doc: 'Most members a consumer group may have.' },
  {
    name: 'producer.id.expiration.ms',
    type: 'INT',
    default: '86400000',
    validator: atLeast(1),
    doc: 'How long an idempotent producer\'s state is kept after its last write.',
  },
  {
    name: 'transactional.id.expiration.ms',
    type: 'INT',
    default: '604800000',
    validator: atLeast(1),
    doc: 'How long a transactional id is kept without transaction status updates.',
  },
  { name: 'transaction.max.timeout.ms', type: 'INT', default: '900000', validator: atLeast(1), doc: 'Largest transaction timeout a producer may ask for.' },
];

function build(): Map<string, BrokerConfigDef> {
  const out = new Map<string, BrokerConfigDef>();
  for (const d of brokerOnly) out.set(d.name, d);
  // The broker-level synonyms of topic configs are broker configs too (log.retention.hours, message.max.bytes, ...).
  for (const t of TOPIC_CONFIGS.values()) {
    for (const s of t.synonyms) {
      if (!out.has(s.name)) out.set(s.name, { ...s, validator: s.validator ?? (s.unitMs ? undefined : t.validator), synonymOf: t.name });
    }
  }
  return out;
}

export const BROKER_CONFIGS: ReadonlyMap<string, BrokerConfigDef> = build();

/**
 * Validates a value for the `broker:` map of the config file; returns its normalized form. Throws ConfigValueError
 * naming the key for unknown keys, keys set elsewhere in the file, and bad values.
 */
export function parseBrokerConfigValue(name: string, raw: string | number | boolean | bigint): string {
  const def = BROKER_CONFIGS.get(name);
  if (!def || def.internal) throw new ConfigValueError(name, `Unknown or unsupported broker config: ${name}`);
  if (def.setVia) throw new ConfigValueError(name, `Broker config ${name} is set with \`${def.setVia}\` in the config file, not under broker:`);
  const value = parseConfigValue(def, raw);
  if (def.synonymOf) {
    const topicDef = TOPIC_CONFIGS.get(def.synonymOf)!;
    const reason = topicDef.unsupported?.(value);
    if (reason) throw new ConfigValueError(name, `Invalid value ${String(raw)} for configuration ${name}: ${reason}`);
  }
  return value;
}

/** The value of a broker config: as set in the config file, else its default. */
export function brokerConfigValue(staticBrokerConfigs: Readonly<Record<string, string>>, name: string): string | null {
  const set = staticBrokerConfigs[name];
  if (set !== undefined) return set;
  const def = BROKER_CONFIGS.get(name);
  if (!def) throw new Error(`not a broker config: ${name}`);
  return def.default;
}

/** Values of the broker configs set by structured fields of the config file. */
export interface BrokerIdentityConfigs {
  nodeId: number;
  dataDir: string;
  /** e.g. PLAINTEXT://127.0.0.1:9092 */
  listeners: string;
  advertisedListeners: string;
}

/** The broker's configuration as DescribeConfigs on the BROKER resource reports it. */
export function resolveBrokerConfig(
  staticBrokerConfigs: Readonly<Record<string, string>>,
  identity: BrokerIdentityConfigs,
): ReadonlyMap<string, ResolvedConfigEntry> {
  const fromIdentity: Record<string, string> = {
    'node.id': String(identity.nodeId),
    'broker.id': String(identity.nodeId),
    'log.dirs': identity.dataDir,
    listeners: identity.listeners,
    'advertised.listeners': identity.advertisedListeners,
  };
  const out = new Map<string, ResolvedConfigEntry>();
  for (const def of [...BROKER_CONFIGS.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const set = fromIdentity[def.name] ?? staticBrokerConfigs[def.name];
    const source: ConfigSourceCode = set !== undefined ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    const synonyms = [];
    if (set !== undefined) synonyms.push({ name: def.name, value: set, source: ConfigSource.STATIC_BROKER_CONFIG });
    if (def.default !== null) synonyms.push({ name: def.name, value: def.default, source: ConfigSource.DEFAULT_CONFIG });
    out.set(def.name, {
      name: def.name,
      value: set ?? def.default,
      source,
      type: def.type,
      typeCode: ConfigType[def.type],
      sensitive: def.sensitive ?? false,
      readOnly: true,
      internal: def.internal ?? false,
      isDefault: set === undefined,
      documentation: def.doc,
      synonyms,
    });
  }
  return out;
}
