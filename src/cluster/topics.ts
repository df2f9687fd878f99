// The topic registry: which topics exist, their ids, partition counts and config overrides, kept in the metadata
// store under `topics/<name>`. Every check Kafka's controller makes on CreateTopics, DeleteTopics, CreatePartitions,
// AlterConfigs and IncrementalAlterConfigs is made here, with Kafka's error codes, so the handlers only translate.
//
// Mutations run one at a time (check, persist, notify), so two concurrent creates of one name cannot both succeed.
// Listeners (the broker opening/closing logs, applying config changes) are awaited before the mutation resolves:
// when CreateTopics answers, the partitions are ready for Produce.
import { randomUUID } from 'node:crypto';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { TOPIC_CONFIGS, parseTopicConfigValue, resolveTopicConfig, toLogConfig, validateTopicConfigs, type ResolvedTopicConfig } from './topic-config.js';
import type { LogConfig } from '../storage/types.js';
import type { MetadataStore, TopicRecord } from './types.js';

const KEY_PREFIX = 'topics/';
const MAX_NAME_LENGTH = 249;
const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/;

/** Topics the broker itself owns (Kafka's Topic.INTERNAL_TOPICS). */
/**
 * Most partitions one topic may have on this broker. Kafka sets no limit, but every partition is a directory with
 * open files here, so one CreateTopics asking for a billion partitions would take the broker down for everyone.
 */
export const MAX_PARTITIONS_PER_TOPIC = 100_000;

export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state']);

export interface TopicRegistryOptions {
  /** partitions of a topic created with -1 (num.partitions) */
  numPartitions: number;
  /** replication factor of a topic created with -1 (default.replication.factor) */
  defaultReplicationFactor: number;
  /** Kafka-named broker configs from the config file: broker-wide topic defaults (log.retention.hours, ...) */
  staticBrokerConfigs?: Readonly<Record<string, string>>;
  /** brokers able to hold a replica; a single node has 1 */
  liveBrokers?: number;
  /** told about listener failures (the mutation itself has succeeded by then) */
  logger?: { error(obj: object, msg: string): void };
}

export interface CreateTopicRequest {
  name: string;
  /** -1 or absent = num.partitions */
  partitions?: number;
  /** -1 or absent = default.replication.factor */
  replicationFactor?: number;
  /** manual assignment: replica broker ids per partition index (partitions and replicationFactor must then be -1) */
  assignments?: { partitionIndex: number; brokerIds: number[] }[];
  configs?: Readonly<Record<string, string | null>>;
}

export type AlterConfigOpType = 'SET' | 'DELETE' | 'APPEND' | 'SUBTRACT';
/** IncrementalAlterConfigs `ConfigOperation` codes */
export const ALTER_CONFIG_OP_BY_CODE: Readonly<Record<number, AlterConfigOpType>> = { 0: 'SET', 1: 'DELETE', 2: 'APPEND', 3: 'SUBTRACT' };

export interface AlterConfigOp {
  name: string;
  op: AlterConfigOpType;
  value: string | null;
}

export interface MutationOptions {
  /** check everything and return what would result, change nothing (the validateOnly flag of the requests) */
  validateOnly?: boolean;
}

export type TopicChange =
  | { type: 'created'; topic: TopicRecord }
  | { type: 'deleted'; topic: TopicRecord }
  | { type: 'partitionsAdded'; topic: TopicRecord; previousPartitions: number }
  | { type: 'configChanged'; topic: TopicRecord; previousConfigs: Readonly<Record<string, string>> };

export type TopicChangeListener = (change: TopicChange) => void | Promise<void>;

function err(code: number, message: string): KafkaError {
  return new KafkaError(code, message);
}

/** Kafka's Topic.validate: throws INVALID_TOPIC_EXCEPTION with Kafka's wording. */
export function validateTopicName(name: string): void {
  if (name.length === 0) throw err(ErrorCode.INVALID_TOPIC_EXCEPTION, 'Topic name is illegal, it can\'t be empty');
  if (name === '.' || name === '..') throw err(ErrorCode.INVALID_TOPIC_EXCEPTION, 'Topic name cannot be "." or ".."');
  if (name.length > MAX_NAME_LENGTH) {
    throw err(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic name is illegal, it can't be longer than ${MAX_NAME_LENGTH} characters, topic name: ${name}`);
  }
  if (!LEGAL_NAME.test(name)) {
    throw err(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`);
  }
}

export class TopicRegistry {
  private readonly byName = new Map<string, TopicRecord>();
  private readonly byId = new Map<string, TopicRecord>();
  private readonly listeners: TopicChangeListener[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private readonly staticBrokerConfigs: Readonly<Record<string, string>>;

  constructor(
    private readonly store: MetadataStore,
    private readonly opts: TopicRegistryOptions,
  ) {
    this.staticBrokerConfigs = opts.staticBrokerConfigs ?? {};
    for (const [, t] of store.list<TopicRecord>(KEY_PREFIX)) this.index(t);
  }

  // ---- reads (synchronous, from memory) ----

  get(name: string): TopicRecord | undefined {
    return this.byName.get(name);
  }

  getById(topicId: string): TopicRecord | undefined {
    return this.byId.get(topicId);
  }

  /** all topics, by name */
  list(): TopicRecord[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** the topic's effective configuration, every key with its source (DescribeConfigs) */
  resolvedConfig(name: string): ResolvedTopicConfig {
    return resolveTopicConfig(this.require(name).configs, this.staticBrokerConfigs);
  }

  /** what the topic's partition logs obey */
  logConfig(name: string): LogConfig {
    return toLogConfig(this.resolvedConfig(name));
  }

  /** the log settings of a topic with no overrides (broker-wide defaults) */
  defaultLogConfig(): LogConfig {
    return toLogConfig(resolveTopicConfig({}, this.staticBrokerConfigs));
  }

  /** Registers a listener; returns a function that removes it. */
  onChange(listener: TopicChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  // ---- mutations ----

  /**
   * CreateTopics. Errors: INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS,
   * INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_REQUEST, INVALID_CONFIG.
   */
  create(req: CreateTopicRequest, opts: MutationOptions = {}): Promise<TopicRecord> {
    return this.serialize(async () => {
      const topic = this.checkCreate(req);
      if (opts.validateOnly) return topic;
      const created = await this.persist(topic);
      await this.emit({ type: 'created', topic: created });
      return created;
    });
  }

  /** Creates the topic unless it exists (internal topics, auto-creation); returns the topic either way. */
  ensure(req: CreateTopicRequest): Promise<TopicRecord> {
    const existing = this.byName.get(req.name);
    if (existing) return Promise.resolve(existing);
    return this.create(req).catch((e: unknown) => {
      const now = this.byName.get(req.name);
      if (e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS && now) return now;
      throw e;
    });
  }

  /** DeleteTopics. Errors: UNKNOWN_TOPIC_OR_PARTITION; INVALID_REQUEST for the broker's internal topics. */
  delete(name: string): Promise<TopicRecord> {
    return this.serialize(async () => {
      const topic = this.require(name);
      if (topic.internal) throw err(ErrorCode.INVALID_REQUEST, `Topic ${name} is an internal topic of the broker and cannot be deleted`);
      await this.store.delete(KEY_PREFIX + name);
      this.byName.delete(name);
      this.byId.delete(topic.topicId);
      await this.emit({ type: 'deleted', topic });
      return topic;
    });
  }

  /** CreatePartitions: raise the partition count to `totalCount`. Errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS. */
  addPartitions(name: string, totalCount: number, opts: MutationOptions = {}): Promise<TopicRecord> {
    return this.serialize(async () => {
      const current = this.require(name);
      if (!Number.isInteger(totalCount) || totalCount <= current.partitions) {
        throw err(
          ErrorCode.INVALID_PARTITIONS,
          totalCount === current.partitions
            ? `Topic already has ${current.partitions} partition(s).`
            : `The topic ${name} currently has ${current.partitions} partition(s); ${totalCount} would not be an increase.`,
        );
      }
      if (totalCount > MAX_PARTITIONS_PER_TOPIC) {
        throw err(ErrorCode.INVALID_PARTITIONS, `${totalCount} partitions exceed this broker's limit of ${MAX_PARTITIONS_PER_TOPIC} per topic.`);
      }
      const topic: TopicRecord = { ...current, partitions: totalCount };
      if (opts.validateOnly) return topic;
      const stored = await this.persist(topic);
      await this.emit({ type: 'partitionsAdded', topic: stored, previousPartitions: current.partitions });
      return stored;
    });
  }

  /**
   * AlterConfigs (the legacy, non-incremental API): the topic's overrides become exactly `configs`; keys not given
   * revert to their defaults. Errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG.
   */
  alterConfigs(name: string, configs: Readonly<Record<string, string | null>>, opts: MutationOptions = {}): Promise<TopicRecord> {
    return this.serialize(async () => {
      const current = this.require(name);
      const next = validateTopicConfigs(configs, this.staticBrokerConfigs);
      return this.applyConfigs(current, next, opts);
    });
  }

  /**
   * IncrementalAlterConfigs: SET/DELETE a key, APPEND to/SUBTRACT from a LIST key. All ops are checked before any
   * is applied. Errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG, INVALID_REQUEST (duplicate keys).
   */
  incrementalAlterConfigs(name: string, ops: readonly AlterConfigOp[], opts: MutationOptions = {}): Promise<TopicRecord> {
    return this.serialize(async () => {
      const current = this.require(name);
      const seen = new Set<string>();
      const next: Record<string, string> = { ...current.configs };
      for (const o of ops) {
        if (seen.has(o.name)) throw err(ErrorCode.INVALID_REQUEST, `Error due to duplicate config keys: ${o.name}`);
        seen.add(o.name);
        const def = TOPIC_CONFIGS.get(o.name);
        if (!def) throw err(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${o.name}`);
        switch (o.op) {
          case 'SET':
            next[o.name] = parseTopicConfigValue(o.name, o.value);
            break;
          case 'DELETE':
            delete next[o.name];
            break;
          case 'APPEND':
          case 'SUBTRACT': {
            if (def.type !== 'LIST') {
              throw err(ErrorCode.INVALID_CONFIG, `Config value ${o.op === 'APPEND' ? 'append' : 'subtract'} is not allowed for config key: ${o.name}`);
            }
            // Kafka starts from the override, else the key's default (not the broker-level value)
            if (o.value === null) throw err(ErrorCode.INVALID_CONFIG, `Null value not supported for topic config: ${o.name}`);
            const base = next[o.name] ?? def.default ?? '';
            const items = base === '' ? [] : base.split(',');
            const given = o.value.split(',').map((s) => s.trim()).filter((s) => s !== '');
            const result = o.op === 'APPEND' ? [...items, ...given.filter((g) => !items.includes(g))] : items.filter((i) => !given.includes(i));
            next[o.name] = parseTopicConfigValue(o.name, result.join(','));
            break;
          }
        }
      }
      return this.applyConfigs(current, validateTopicConfigs(next, this.staticBrokerConfigs), opts);
    });
  }

  // ---- internals ----

  private checkCreate(req: CreateTopicRequest): TopicRecord {
    validateTopicName(req.name);
    if (this.byName.has(req.name)) throw err(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${req.name}' already exists.`);
    let partitions = req.partitions ?? -1;
    let replicationFactor = req.replicationFactor ?? -1;
    const liveBrokers = this.opts.liveBrokers ?? 1;

    if (req.assignments && req.assignments.length > 0) {
      if (partitions !== -1 || replicationFactor !== -1) {
        throw err(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.');
      }
      const sorted = [...req.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
      sorted.forEach((a, i) => {
        if (a.partitionIndex !== i) throw err(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be a consecutive 0-based integer sequence');
        if (a.brokerIds.length === 0) throw err(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Empty replica assignment for partition ${i}`);
        if (a.brokerIds.length !== sorted[0]!.brokerIds.length) throw err(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'All partitions should have the same number of replicas');
        if (new Set(a.brokerIds).size !== a.brokerIds.length) throw err(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Duplicate brokers in the replica assignment of partition ${i}`);
        const unknown = a.brokerIds.find((b) => b !== this.store.nodeId);
        if (unknown !== undefined) throw err(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${unknown}, but no such broker is registered.`);
      });
      partitions = sorted.length;
      replicationFactor = sorted[0]!.brokerIds.length;
    }

    if (partitions === -1) partitions = this.opts.numPartitions;
    if (!Number.isInteger(partitions) || partitions <= 0) {
      throw err(ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
    }
    if (partitions > MAX_PARTITIONS_PER_TOPIC) {
      throw err(ErrorCode.INVALID_PARTITIONS, `${partitions} partitions exceed this broker's limit of ${MAX_PARTITIONS_PER_TOPIC} per topic.`);
    }
    if (replicationFactor === -1) replicationFactor = this.opts.defaultReplicationFactor;
    if (!Number.isInteger(replicationFactor) || replicationFactor <= 0) {
      throw err(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
    }
    if (replicationFactor > liveBrokers) {
      throw err(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only ${liveBrokers} broker(s) are registered.`,
      );
    }
    const configs = validateTopicConfigs(req.configs ?? {}, this.staticBrokerConfigs);
    return {
      name: req.name,
      topicId: randomUUID(),
      partitions,
      replicationFactor,
      configs,
      createdAtMs: Date.now(),
      internal: INTERNAL_TOPICS.has(req.name),
    };
  }

  private async applyConfigs(current: TopicRecord, configs: Record<string, string>, opts: MutationOptions): Promise<TopicRecord> {
    const topic: TopicRecord = { ...current, configs };
    if (opts.validateOnly) return topic;
    const stored = await this.persist(topic);
    await this.emit({ type: 'configChanged', topic: stored, previousConfigs: current.configs });
    return stored;
  }

  private require(name: string): TopicRecord {
    const t = this.byName.get(name);
    if (!t) throw err(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic: ${name}`);
    return t;
  }

  /** Writes the topic and indexes what the store kept (its frozen copy), so readers cannot mutate registry state. */
  private async persist(topic: TopicRecord): Promise<TopicRecord> {
    const key = KEY_PREFIX + topic.name;
    await this.store.put(key, topic);
    const stored = this.store.get<TopicRecord>(key) ?? topic;
    this.index(stored);
    return stored;
  }

  private index(topic: TopicRecord): void {
    this.byName.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async emit(change: TopicChange): Promise<void> {
    for (const l of [...this.listeners]) {
      try {
        await l(change);
      } catch (e) {
        // The metadata change is durable and stands; the broker reconciles logs with metadata at the next start.
        this.opts.logger?.error({ err: e, topic: change.topic.name, change: change.type }, 'topic change listener failed');
      }
    }
  }
}
