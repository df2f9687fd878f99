// KafkaClient: a small Kafka client over a bootstrap list, built on the generated codecs.
//
// It keeps one BrokerConnection per broker address, shared by every caller (requests pipeline on it), and a
// metadata cache (brokers, topics → partitions → leader, topic ids). Typed `request(apiKey, body, {node})` reaches
// any API; the helpers below cover what the CLI, the consumer/producer and shadow linking need. Record data is
// never decoded here: produce takes and fetch returns raw RecordBatch bytes.
//
// Errors: helpers about one thing (listOffsets of one partition, produce to one partition) throw a KafkaError;
// helpers about many things (createTopics, fetch) return one result per thing with its error code, and throw only
// when the request as a whole failed. Routing errors (NOT_LEADER_OR_FOLLOWER, NOT_COORDINATOR, …) refresh the
// cache and are retried where retrying is safe.
import type { Logger } from 'pino';
import { ApiKey } from '../protocol/generated/api.js';
import { ZERO_UUID } from '../protocol/primitives.js';
import { BrokerConnection, type Authenticator, type RequestOptions, type SocketFactory } from './connection.js';
import type { ClientApiKey, RequestOf, ResponseOf } from './apis.js';
import { ErrorCode, KafkaError, isRetriable, kafkaError, networkError, throwIfError } from './errors.js';
import type { MetadataResponse } from '../protocol/generated/messages/MetadataResponse.js';
import type { FetchResponse } from '../protocol/generated/messages/FetchResponse.js';
export type { RequestOptions } from './connection.js';

/** Special ListOffsets timestamps. */
export const OffsetSpec = {
  LATEST: -1,
  EARLIEST: -2,
  MAX_TIMESTAMP: -3,
} as const;

/** Config resource types (DescribeConfigs / IncrementalAlterConfigs). */
export const ConfigResourceType = {
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  GROUP: 32,
} as const;

/** IncrementalAlterConfigs operations. */
export const AlterConfigOp = {
  SET: 0,
  DELETE: 1,
  APPEND: 2,
  SUBTRACT: 3,
} as const;

export const IsolationLevel = {
  READ_UNCOMMITTED: 0,
  READ_COMMITTED: 1,
} as const;

export interface KafkaClientOptions {
  /** "host:port" list, as an array or comma-separated */
  brokers: string | readonly string[];
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** cached topic metadata older than this is refreshed before use; default 30 s */
  metadataMaxAgeMs?: number;
  retryBackoffMs?: number;
  /** attempts for retriable failures of safe-to-retry calls; default 5 */
  retries?: number;
  versionCaps?: Readonly<Partial<Record<number, number>>>;
  socketFactory?: SocketFactory;
  authenticate?: Authenticator;
  logger?: Logger;
}

export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionMetadata {
  partition: number;
  /** -1 when leaderless */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  /** canonical UUID text; ZERO_UUID when the broker reports none */
  topicId: string;
  isInternal: boolean;
  errorCode: number;
  /** sorted by partition */
  partitions: PartitionMetadata[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerNode[];
  topics: TopicMetadata[];
}

export interface CreateTopicSpec {
  name: string;
  /** -1 = broker default */
  numPartitions?: number;
  /** -1 = broker default */
  replicationFactor?: number;
  configs?: Readonly<Record<string, string>>;
}

export interface CreateTopicResult {
  name: string;
  topicId: string;
  errorCode: number;
  errorMessage: string | null;
  numPartitions: number;
  replicationFactor: number;
}

export interface TopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

export interface ConfigResource {
  type: number;
  name: string;
  /** null/undefined = all keys */
  keys?: string[] | null;
}

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  isSensitive: boolean;
  configType: number;
  synonyms: ConfigSynonym[];
  documentation: string | null;
}

export interface ConfigResourceResult {
  type: number;
  name: string;
  errorCode: number;
  errorMessage: string | null;
  configs: ConfigEntry[];
}

export interface AlterConfigResource {
  type: number;
  name: string;
  ops: { name: string; op: number; value?: string | null }[];
}

export interface ConfigAlterResult {
  type: number;
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

export interface ListOffsetsSpec {
  topic: string;
  partition: number;
  /** a timestamp in ms, or OffsetSpec.LATEST / EARLIEST / MAX_TIMESTAMP */
  timestamp: number;
}

export interface ListOffsetsResult {
  topic: string;
  partition: number;
  errorCode: number;
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

export interface ProduceResult {
  /** offset of the first record; -1 with acks=0 */
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}

export interface FetchSpec {
  topic: string;
  partition: number;
  fetchOffset: number;
  /** default: the request's partitionMaxBytes */
  partitionMaxBytes?: number;
  currentLeaderEpoch?: number;
}

export interface FetchOptions {
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  partitionMaxBytes?: number;
  isolationLevel?: number;
}

export interface FetchPartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  abortedTransactions: { producerId: number; firstOffset: number }[] | null;
  /** raw RecordBatch bytes (a view of the response frame, never copied or decoded); empty when none */
  records: Buffer;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1 when the group has no committed offset */
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

const EMPTY_RECORDS = Buffer.alloc(0);

/** "host:port" → {host, port}; IPv6 as "[::1]:9092". */
export function parseHostPort(s: string, defaultPort = 9092): { host: string; port: number } {
  const t = s.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? /^([^:]+)(?::(\d+))?$/.exec(t);
  if (!m || !m[1]) throw new Error(`not a host:port: '${s}'`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad port in '${s}'`);
  return { host: m[1], port };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** errors after which the cached leader or coordinator is stale */
const REFRESH_METADATA_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
]);
const COORDINATOR_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

export class KafkaClient {
  readonly clientId: string;
  private readonly opts: KafkaClientOptions;
  private readonly bootstrap: { host: string; port: number }[];
  private readonly requestTimeoutMs: number;
  private readonly metadataMaxAgeMs: number;
  private readonly retryBackoffMs: number;
  private readonly retries: number;
  /** connections by "host:port"; the promise is shared while connecting */
  private readonly connections = new Map<string, Promise<BrokerConnection>>();
  private readonly nodes = new Map<number, BrokerNode>();
  private readonly topics = new Map<string, { meta: TopicMetadata; at: number }>();
  private readonly topicNamesById = new Map<string, string>();
  private readonly coordinators = new Map<string, number>();
  private clusterIdValue: string | null = null;
  private controllerIdValue = -1;
  private closed = false;
  private bootstrapIndex = 0;

  constructor(opts: KafkaClientOptions) {
    this.opts = opts;
    this.clientId = opts.clientId ?? 'umbra';
    const list = typeof opts.brokers === 'string' ? opts.brokers.split(',') : opts.brokers;
    this.bootstrap = list.filter((s) => s.trim() !== '').map((s) => parseHostPort(s));
    if (this.bootstrap.length === 0) throw new Error('no bootstrap brokers given');
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.metadataMaxAgeMs = opts.metadataMaxAgeMs ?? 30_000;
    this.retryBackoffMs = opts.retryBackoffMs ?? 100;
    this.retries = opts.retries ?? 5;
  }

  /** Bootstraps: connects and loads the broker list. Optional; every call connects lazily too. */
  async connect(): Promise<void> {
    await this.metadata([]);
  }

  /** Closes every connection; pending requests fail with NETWORK_EXCEPTION. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const p of all) {
      try {
        (await p).close(networkError('client closed'));
      } catch {
        // never connected
      }
    }
  }

  get clusterId(): string | null {
    return this.clusterIdValue;
  }

  get controllerId(): number {
    return this.controllerIdValue;
  }

  /** Brokers from the last Metadata response. */
  brokers(): BrokerNode[] {
    return [...this.nodes.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  // ---- connections -----------------------------------------------------------------------------------------

  private connectTo(host: string, port: number): Promise<BrokerConnection> {
    if (this.closed) return Promise.reject(networkError('client closed'));
    const key = `${host}:${port}`;
    const existing = this.connections.get(key);
    if (existing) return existing;
    const p = BrokerConnection.connect({
      host,
      port,
      clientId: this.clientId,
      ...(this.opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.opts.connectTimeoutMs } : {}),
      requestTimeoutMs: this.requestTimeoutMs,
      ...(this.opts.versionCaps ? { versionCaps: this.opts.versionCaps } : {}),
      ...(this.opts.socketFactory ? { socketFactory: this.opts.socketFactory } : {}),
      ...(this.opts.authenticate ? { authenticate: this.opts.authenticate } : {}),
    }).then(
      (conn) => {
        conn.once('close', (err) => {
          if (this.connections.get(key) === p) this.connections.delete(key);
          this.opts.logger?.debug({ broker: key, err: err.message }, 'connection closed');
        });
        return conn;
      },
      (err: unknown) => {
        if (this.connections.get(key) === p) this.connections.delete(key);
        throw err;
      },
    );
    this.connections.set(key, p);
    return p;
  }

  /**
   * The connection to a node (by id), or to any broker when node is undefined: an open connection if there is
   * one, else the bootstrap servers and known brokers in turn.
   */
  async connection(node?: number): Promise<BrokerConnection> {
    if (node !== undefined) {
      let b = this.nodes.get(node);
      if (!b) {
        await this.metadata([]);
        b = this.nodes.get(node);
      }
      if (!b) throw kafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `node ${node} is not in the cluster metadata`);
      return this.connectTo(b.host, b.port);
    }
    for (const p of this.connections.values()) {
      const c = await p.catch(() => null);
      if (c && !c.isClosed) return c;
    }
    const candidates = [...this.bootstrap, ...this.brokers()];
    let last: unknown = null;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[(this.bootstrapIndex + i) % candidates.length]!;
      try {
        return await this.connectTo(c.host, c.port);
      } catch (err) {
        last = err;
      }
    }
    this.bootstrapIndex++;
    const reason = (last instanceof Error ? last.message : String(last)).replace(/^NETWORK_EXCEPTION: /, '');
    throw networkError(`no broker reachable (tried ${candidates.map((c) => `${c.host}:${c.port}`).join(', ')}): ${reason}`);
  }

  /** Sends a typed request to a node (default: any broker). */
  async request<K extends ClientApiKey>(apiKey: K, body: RequestOf<K>, opts: RequestOptions & { node?: number } = {}): Promise<ResponseOf<K>> {
    const conn = await this.connection(opts.node);
    return conn.request(apiKey, body, opts);
  }

  /** Sends a request of an API without a typed entry; the response is the generated codec's object. */
  async requestUntyped(apiKey: number, body: unknown, opts: RequestOptions & { node?: number } = {}): Promise<unknown> {
    const conn = await this.connection(opts.node);
    return conn.requestUntyped(apiKey, body, opts);
  }

  /**
   * Runs fn, retrying retriable KafkaErrors with backoff; `onRetry` can refresh caches first. Gives up after
   * `retries` attempts, or, with `budgetMs`, once that much time has passed (for waits of unknown length, such
   * as a coordinator that is still loading).
   */
  private async withRetries<T>(
    what: string,
    fn: () => Promise<T>,
    onRetry?: (err: KafkaError) => Promise<void> | void,
    budgetMs?: number,
  ): Promise<T> {
    let attempt = 0;
    const deadline = budgetMs === undefined ? 0 : Date.now() + budgetMs;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof KafkaError) || !isRetriable(err.code) || this.closed) throw err;
        const exhausted = budgetMs === undefined ? attempt >= this.retries : Date.now() >= deadline;
        if (exhausted) throw err;
        attempt++;
        this.opts.logger?.debug({ what, attempt, err: err.message }, 'retrying');
        await sleep(Math.min(this.retryBackoffMs * attempt, 1000));
        if (onRetry) await onRetry(err);
      }
    }
  }

  // ---- metadata --------------------------------------------------------------------------------------------

  /**
   * Sends Metadata for the given topics (undefined/null = all topics, [] = brokers only) and updates the cache.
   * Never creates topics unless asked.
   */
  async metadata(topics?: readonly string[] | null, opts: { allowAutoTopicCreation?: boolean } = {}): Promise<ClusterMetadata> {
    return this.withRetries('Metadata', async () => {
      const conn = await this.connection();
      const version = conn.versionFor(ApiKey.Metadata);
      const all = topics === undefined || topics === null;
      // v0 has no "null = all": an empty list meant all topics, so "brokers only" cannot be asked at v0
      const res = await conn.request(
        ApiKey.Metadata,
        {
          topics: all ? (version === 0 ? [] : null) : topics.map((name) => ({ name, topicId: ZERO_UUID })),
          allowAutoTopicCreation: opts.allowAutoTopicCreation ?? false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        },
        { version },
      );
      if (res.errorCode) throwIfError(res.errorCode, 'Metadata');
      return this.absorbMetadata(res);
    });
  }

  private absorbMetadata(res: MetadataResponse): ClusterMetadata {
    const now = Date.now();
    if (res.brokers.length > 0) {
      this.nodes.clear();
      for (const b of res.brokers) this.nodes.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    }
    this.clusterIdValue = res.clusterId;
    this.controllerIdValue = res.controllerId;
    const topics: TopicMetadata[] = [];
    for (const t of res.topics) {
      const name = t.name ?? this.topicNamesById.get(t.topicId) ?? '';
      const meta: TopicMetadata = {
        name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        errorCode: t.errorCode,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      };
      topics.push(meta);
      if (t.errorCode === ErrorCode.NONE) {
        this.topics.set(name, { meta, at: now });
        if (t.topicId !== ZERO_UUID) this.topicNamesById.set(t.topicId, name);
      } else {
        this.topics.delete(name);
      }
    }
    return { clusterId: res.clusterId, controllerId: res.controllerId, brokers: this.brokers(), topics };
  }

  /** Metadata of one topic, from the cache when fresh. Throws UNKNOWN_TOPIC_OR_PARTITION (or the topic's error). */
  async topic(name: string, opts: { refresh?: boolean } = {}): Promise<TopicMetadata> {
    const cached = this.topics.get(name);
    if (cached && !opts.refresh && Date.now() - cached.at < this.metadataMaxAgeMs) return cached.meta;
    const md = await this.metadata([name]);
    const t = md.topics.find((x) => x.name === name);
    if (!t) throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${name}'`);
    throwIfError(t.errorCode, `topic '${name}'`);
    return t;
  }

  /** Forgets cached metadata of a topic (after a routing error). */
  invalidateTopic(name: string): void {
    this.topics.delete(name);
  }

  /** The leader node of a partition; throws LEADER_NOT_AVAILABLE when it has none. */
  async leaderFor(topic: string, partition: number, opts: { refresh?: boolean } = {}): Promise<number> {
    const t = await this.topic(topic, opts);
    const p = t.partitions.find((x) => x.partition === partition);
    if (!p) throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `partition ${topic}-${partition}`);
    if (p.leader < 0) throw kafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `partition ${topic}-${partition}`);
    return p.leader;
  }

  /** The node to send admin requests to: the controller Metadata names if it is a known broker, else any. */
  private async adminNode(): Promise<number | undefined> {
    if (this.nodes.size === 0) await this.metadata([]);
    return this.nodes.has(this.controllerIdValue) ? this.controllerIdValue : undefined;
  }

  // ---- topics and configs ----------------------------------------------------------------------------------

  async createTopics(specs: readonly CreateTopicSpec[], opts: { timeoutMs?: number; validateOnly?: boolean } = {}): Promise<CreateTopicResult[]> {
    const res = await this.request(
      ApiKey.CreateTopics,
      {
        topics: specs.map((s) => ({
          name: s.name,
          numPartitions: s.numPartitions ?? -1,
          replicationFactor: s.replicationFactor ?? -1,
          assignments: [],
          configs: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
        timeoutMs: opts.timeoutMs ?? this.requestTimeoutMs,
        validateOnly: opts.validateOnly ?? false,
      },
      { node: await this.adminNode() },
    );
    for (const s of specs) this.invalidateTopic(s.name);
    return res.topics.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      errorCode: t.errorCode,
      errorMessage: t.errorMessage,
      numPartitions: t.numPartitions,
      replicationFactor: t.replicationFactor,
    }));
  }

  async deleteTopics(names: readonly string[], opts: { timeoutMs?: number } = {}): Promise<TopicResult[]> {
    const res = await this.request(
      ApiKey.DeleteTopics,
      {
        // v0-5 carry names, v6+ carry {name, topicId}; fill both, the codec writes the one the version has
        topicNames: [...names],
        topics: names.map((name) => ({ name, topicId: ZERO_UUID })),
        timeoutMs: opts.timeoutMs ?? this.requestTimeoutMs,
      },
      { node: await this.adminNode() },
    );
    for (const n of names) this.invalidateTopic(n);
    return res.responses.map((r) => ({ name: r.name ?? this.topicNamesById.get(r.topicId) ?? '', errorCode: r.errorCode, errorMessage: r.errorMessage }));
  }

  /** Raises partition counts: `count` is the new total. */
  async createPartitions(
    specs: readonly { topic: string; count: number }[],
    opts: { timeoutMs?: number; validateOnly?: boolean } = {},
  ): Promise<TopicResult[]> {
    const res = await this.request(
      ApiKey.CreatePartitions,
      {
        topics: specs.map((s) => ({ name: s.topic, count: s.count, assignments: null })),
        timeoutMs: opts.timeoutMs ?? this.requestTimeoutMs,
        validateOnly: opts.validateOnly ?? false,
      },
      { node: await this.adminNode() },
    );
    for (const s of specs) this.invalidateTopic(s.topic);
    return res.results.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage }));
  }

  async describeConfigs(
    resources: readonly ConfigResource[],
    opts: { includeSynonyms?: boolean; includeDocumentation?: boolean } = {},
  ): Promise<ConfigResourceResult[]> {
    // a BROKER resource must go to that broker; topics can go anywhere
    const brokerTarget = resources.find((r) => r.type === ConfigResourceType.BROKER);
    const node = brokerTarget && /^\d+$/.test(brokerTarget.name) ? Number(brokerTarget.name) : undefined;
    const res = await this.withRetries('DescribeConfigs', () =>
      this.request(
        ApiKey.DescribeConfigs,
        {
          resources: resources.map((r) => ({ resourceType: r.type, resourceName: r.name, configurationKeys: r.keys ?? null })),
          includeSynonyms: opts.includeSynonyms ?? false,
          includeDocumentation: opts.includeDocumentation ?? false,
        },
        node === undefined ? {} : { node },
      ),
    );
    return res.results.map((r) => ({
      type: r.resourceType,
      name: r.resourceName,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      configs: r.configs.map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        source: c.configSource,
        isSensitive: c.isSensitive,
        configType: c.configType,
        synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })),
        documentation: c.documentation,
      })),
    }));
  }

  async incrementalAlterConfigs(resources: readonly AlterConfigResource[], opts: { validateOnly?: boolean } = {}): Promise<ConfigAlterResult[]> {
    const res = await this.request(
      ApiKey.IncrementalAlterConfigs,
      {
        resources: resources.map((r) => ({
          resourceType: r.type,
          resourceName: r.name,
          configs: r.ops.map((o) => ({ name: o.name, configOperation: o.op, value: o.value ?? null })),
        })),
        validateOnly: opts.validateOnly ?? false,
      },
      { node: await this.adminNode() },
    );
    return res.responses.map((r) => ({ type: r.resourceType, name: r.resourceName, errorCode: r.errorCode, errorMessage: r.errorMessage }));
  }

  // ---- offsets, produce, fetch -----------------------------------------------------------------------------

  /** Groups partitions by their leader node (refreshing metadata for unknown topics). */
  private async byLeader<T extends { topic: string; partition: number }>(items: readonly T[]): Promise<Map<number, T[]>> {
    const out = new Map<number, T[]>();
    for (const it of items) {
      const leader = await this.leaderFor(it.topic, it.partition);
      let list = out.get(leader);
      if (!list) out.set(leader, (list = []));
      list.push(it);
    }
    return out;
  }

  /** The offset of one partition at a timestamp (or OffsetSpec.EARLIEST/LATEST/MAX_TIMESTAMP). */
  async listOffsets(topic: string, partition: number, timestamp: number, opts: { isolationLevel?: number } = {}): Promise<ListOffsetsResult> {
    return this.withRetries(
      'ListOffsets',
      async () => {
        const [r] = await this.listOffsetsMany([{ topic, partition, timestamp }], opts);
        throwIfError(r!.errorCode, `ListOffsets ${topic}-${partition}`);
        return r!;
      },
      () => this.invalidateTopic(topic),
    );
  }

  /** ListOffsets for many partitions, one request per leader; one result (with its error code) per spec. */
  async listOffsetsMany(specs: readonly ListOffsetsSpec[], opts: { isolationLevel?: number } = {}): Promise<ListOffsetsResult[]> {
    const groups = await this.byLeader(specs);
    const results = new Map<string, ListOffsetsResult>();
    await Promise.all(
      [...groups].map(async ([node, list]) => {
        const topics = new Map<string, ListOffsetsSpec[]>();
        for (const s of list) {
          const l = topics.get(s.topic);
          if (l) l.push(s);
          else topics.set(s.topic, [s]);
        }
        const res = await this.request(
          ApiKey.ListOffsets,
          {
            replicaId: -1,
            isolationLevel: opts.isolationLevel ?? IsolationLevel.READ_UNCOMMITTED,
            topics: [...topics].map(([name, ps]) => ({
              name,
              partitions: ps.map((p) => ({ partitionIndex: p.partition, currentLeaderEpoch: -1, timestamp: p.timestamp })),
            })),
            timeoutMs: this.requestTimeoutMs,
          },
          { node },
        );
        for (const t of res.topics) {
          for (const p of t.partitions) {
            if (REFRESH_METADATA_ERRORS.has(p.errorCode)) this.invalidateTopic(t.name);
            results.set(`${t.name}\0${p.partitionIndex}`, {
              topic: t.name,
              partition: p.partitionIndex,
              errorCode: p.errorCode,
              offset: p.offset,
              timestamp: p.timestamp,
              leaderEpoch: p.leaderEpoch,
            });
          }
        }
      }),
    );
    return specs.map(
      (s) =>
        results.get(`${s.topic}\0${s.partition}`) ?? {
          topic: s.topic,
          partition: s.partition,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          offset: -1,
          timestamp: -1,
          leaderEpoch: -1,
        },
    );
  }

  /**
   * Produces raw RecordBatch bytes (one or more batches) to one partition. acks: -1 (all), 1, or 0 (no response:
   * resolves once written, baseOffset -1). Retries routing errors after refreshing metadata.
   */
  async produce(
    topic: string,
    partition: number,
    records: Buffer,
    opts: { acks?: number; timeoutMs?: number; transactionalId?: string | null } = {},
  ): Promise<ProduceResult> {
    const acks = opts.acks ?? -1;
    return this.withRetries(
      'Produce',
      async () => {
        const t = await this.topic(topic);
        const node = await this.leaderFor(topic, partition);
        const conn = await this.connection(node);
        // Produce v13 names topics by id: only possible when the broker gave us one
        const maxVersion = t.topicId === ZERO_UUID ? 12 : undefined;
        const body: RequestOf<typeof ApiKey.Produce> = {
          transactionalId: opts.transactionalId ?? null,
          acks,
          timeoutMs: opts.timeoutMs ?? this.requestTimeoutMs,
          topicData: [{ name: topic, topicId: t.topicId, partitionData: [{ index: partition, records }] }],
        };
        if (acks === 0) {
          await conn.sendWithoutResponse(ApiKey.Produce, body, { ...(maxVersion !== undefined ? { maxVersion } : {}) });
          return { baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
        }
        const res = await conn.request(ApiKey.Produce, body, {
          ...(maxVersion !== undefined ? { maxVersion } : {}),
          timeoutMs: (opts.timeoutMs ?? this.requestTimeoutMs) + this.requestTimeoutMs,
        });
        const p = res.responses[0]?.partitionResponses[0];
        if (!p) throw kafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `empty Produce response for ${topic}-${partition}`);
        if (p.errorCode !== ErrorCode.NONE) {
          if (REFRESH_METADATA_ERRORS.has(p.errorCode)) this.invalidateTopic(topic);
          const detail = p.recordErrors.map((e) => `batch ${e.batchIndex}: ${e.batchIndexErrorMessage ?? ''}`).join('; ');
          throw kafkaError(p.errorCode, `produce to ${topic}-${partition}`, [p.errorMessage, detail].filter(Boolean).join('; ') || null);
        }
        return { baseOffset: p.baseOffset, logAppendTimeMs: p.logAppendTimeMs, logStartOffset: p.logStartOffset };
      },
      () => this.invalidateTopic(topic),
    );
  }

  /**
   * Fetches from many partitions: one Fetch per leader, sent in parallel. Returns one result per partition that
   * the brokers answered, each with its raw record bytes. Partitions whose leader is unknown come back with
   * LEADER_NOT_AVAILABLE; routing errors also invalidate the cached topic so the next call re-routes.
   */
  async fetch(specs: readonly FetchSpec[], opts: FetchOptions = {}): Promise<FetchPartitionResult[]> {
    const byNode = new Map<number, FetchSpec[]>();
    const out: FetchPartitionResult[] = [];
    for (const s of specs) {
      let leader: number;
      try {
        leader = await this.leaderFor(s.topic, s.partition);
      } catch (err) {
        out.push(this.emptyFetchResult(s, err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR));
        continue;
      }
      const l = byNode.get(leader);
      if (l) l.push(s);
      else byNode.set(leader, [s]);
    }
    const perNode = await Promise.all(
      [...byNode].map(([node, list]) =>
        this.fetchFromNode(node, list, opts).catch((err: unknown) => {
          // the whole request failed (connection lost, timeout): report it on each partition
          const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
          return list.map((s) => this.emptyFetchResult(s, code));
        }),
      ),
    );
    for (const l of perNode) out.push(...l);
    return out;
  }

  private emptyFetchResult(s: FetchSpec, errorCode: number): FetchPartitionResult {
    return {
      topic: s.topic,
      partition: s.partition,
      errorCode,
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      abortedTransactions: null,
      records: EMPTY_RECORDS,
    };
  }

  /** One Fetch request to one node (the caller routes). No fetch session: every request is a full fetch. */
  async fetchFromNode(node: number, specs: readonly FetchSpec[], opts: FetchOptions = {}): Promise<FetchPartitionResult[]> {
    const conn = await this.connection(node);
    const topicIds = new Map<string, string>();
    let allIds = true;
    for (const s of specs) {
      if (topicIds.has(s.topic)) continue;
      const id = this.topics.get(s.topic)?.meta.topicId ?? ZERO_UUID;
      topicIds.set(s.topic, id);
      if (id === ZERO_UUID) allIds = false;
    }
    const maxWaitMs = opts.maxWaitMs ?? 500;
    const partitionMaxBytes = opts.partitionMaxBytes ?? 1024 * 1024;
    const byTopic = new Map<string, FetchSpec[]>();
    for (const s of specs) {
      const l = byTopic.get(s.topic);
      if (l) l.push(s);
      else byTopic.set(s.topic, [s]);
    }
    const res: FetchResponse = await conn.request(
      ApiKey.Fetch,
      {
        clusterId: null,
        replicaId: -1,
        replicaState: { replicaId: -1, replicaEpoch: -1 },
        maxWaitMs,
        minBytes: opts.minBytes ?? 1,
        maxBytes: opts.maxBytes ?? 50 * 1024 * 1024,
        isolationLevel: opts.isolationLevel ?? IsolationLevel.READ_UNCOMMITTED,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, list]) => ({
          topic,
          topicId: topicIds.get(topic)!,
          partitions: list.map((s) => ({
            partition: s.partition,
            currentLeaderEpoch: s.currentLeaderEpoch ?? -1,
            fetchOffset: s.fetchOffset,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: s.partitionMaxBytes ?? partitionMaxBytes,
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      // Fetch v13+ names topics by id; without ids for every topic stay at 12, as the Java consumer does
      { ...(allIds ? {} : { maxVersion: 12 }), timeoutMs: this.requestTimeoutMs + maxWaitMs },
    );
    throwIfError(res.errorCode, `Fetch from node ${node}`);
    const out: FetchPartitionResult[] = [];
    for (const t of res.responses) {
      const name = t.topic !== '' ? t.topic : (this.topicNamesById.get(t.topicId) ?? '');
      for (const p of t.partitions) {
        if (REFRESH_METADATA_ERRORS.has(p.errorCode)) this.invalidateTopic(name);
        out.push({
          topic: name,
          partition: p.partitionIndex,
          errorCode: p.errorCode,
          highWatermark: p.highWatermark,
          lastStableOffset: p.lastStableOffset,
          logStartOffset: p.logStartOffset,
          abortedTransactions: p.abortedTransactions,
          records: p.records ?? EMPTY_RECORDS,
        });
      }
    }
    return out;
  }

  // ---- groups ----------------------------------------------------------------------------------------------

  /** The coordinator of a group (keyType 0) or transactional id (1). Cached until a coordinator error. */
  async findCoordinator(key: string, keyType = 0, opts: { refresh?: boolean } = {}): Promise<BrokerNode> {
    const cacheKey = `${keyType}\0${key}`;
    const cached = this.coordinators.get(cacheKey);
    if (cached !== undefined && !opts.refresh) {
      const b = this.nodes.get(cached);
      if (b) return b;
    }
    return this.withRetries('FindCoordinator', async () => {
      const conn = await this.connection();
      const version = conn.versionFor(ApiKey.FindCoordinator);
      const res = await conn.request(ApiKey.FindCoordinator, { key, keyType, coordinatorKeys: [key] }, { version });
      // v4+ is batched: the answer is in coordinators[]
      const c =
        version >= 4
          ? res.coordinators.find((x) => x.key === key)
          : { key, nodeId: res.nodeId, host: res.host, port: res.port, errorCode: res.errorCode, errorMessage: res.errorMessage };
      if (!c) throw kafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `no coordinator for '${key}' in the response`);
      throwIfError(c.errorCode, `FindCoordinator '${key}'`, c.errorMessage);
      const node: BrokerNode = { nodeId: c.nodeId, host: c.host, port: c.port, rack: this.nodes.get(c.nodeId)?.rack ?? null };
      this.nodes.set(c.nodeId, node);
      this.coordinators.set(cacheKey, c.nodeId);
      return node;
    }, undefined, this.requestTimeoutMs);
  }

  /**
   * Sends a group request to the group's coordinator, re-finding the coordinator and retrying on NOT_COORDINATOR /
   * COORDINATOR_NOT_AVAILABLE / COORDINATOR_LOAD_IN_PROGRESS and on lost connections. `errorOf` extracts the
   * response's top-level error code; any other error is the caller's to handle.
   */
  async groupRequest<K extends ClientApiKey>(
    groupId: string,
    apiKey: K,
    body: RequestOf<K>,
    errorOf: (res: ResponseOf<K>) => number,
    opts: RequestOptions = {},
  ): Promise<ResponseOf<K>> {
    let refresh = false;
    return this.withRetries(
      `group request ${apiKey}`,
      async () => {
        const coordinator = await this.findCoordinator(groupId, 0, { refresh });
        refresh = false;
        const res = await this.request(apiKey, body, { ...opts, node: coordinator.nodeId });
        const code = errorOf(res);
        if (COORDINATOR_ERRORS.has(code)) throw kafkaError(code, `group '${groupId}'`);
        return res;
      },
      (err) => {
        if (COORDINATOR_ERRORS.has(err.code) || err.code === ErrorCode.NETWORK_EXCEPTION) {
          this.coordinators.delete(`0\0${groupId}`);
          refresh = true;
        }
      },
      // a new group's coordinator may take seconds to load (__consumer_offsets being created)
      this.requestTimeoutMs,
    );
  }

  joinGroup(body: RequestOf<typeof ApiKey.JoinGroup>, opts: RequestOptions = {}): Promise<ResponseOf<typeof ApiKey.JoinGroup>> {
    // JoinGroup blocks until the rebalance completes: allow the rebalance timeout on top of the request timeout
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs + (body.rebalanceTimeoutMs ?? 0);
    return this.groupRequest(body.groupId ?? '', ApiKey.JoinGroup, body, (r) => r.errorCode, { ...opts, timeoutMs });
  }

  syncGroup(body: RequestOf<typeof ApiKey.SyncGroup>, opts: RequestOptions = {}): Promise<ResponseOf<typeof ApiKey.SyncGroup>> {
    return this.groupRequest(body.groupId ?? '', ApiKey.SyncGroup, body, (r) => r.errorCode, opts);
  }

  heartbeat(body: RequestOf<typeof ApiKey.Heartbeat>, opts: RequestOptions = {}): Promise<ResponseOf<typeof ApiKey.Heartbeat>> {
    return this.groupRequest(body.groupId ?? '', ApiKey.Heartbeat, body, (r) => r.errorCode, opts);
  }

  leaveGroup(groupId: string, memberId: string, reason: string | null = null): Promise<ResponseOf<typeof ApiKey.LeaveGroup>> {
    return this.groupRequest(
      groupId,
      ApiKey.LeaveGroup,
      // v0-2 carry one memberId, v3+ a members list; fill both
      { groupId, memberId, members: [{ memberId, groupInstanceId: null, reason }] },
      (r) => r.errorCode,
    );
  }

  /** Commits offsets; returns one result per partition (error code NONE on success). */
  async offsetCommit(
    groupId: string,
    offsets: readonly { topic: string; partition: number; offset: number; leaderEpoch?: number; metadata?: string | null }[],
    member: { generationId?: number; memberId?: string; groupInstanceId?: string | null } = {},
  ): Promise<{ topic: string; partition: number; errorCode: number }[]> {
    const byTopic = new Map<string, typeof offsets[number][]>();
    for (const o of offsets) {
      const l = byTopic.get(o.topic);
      if (l) l.push(o);
      else byTopic.set(o.topic, [o]);
    }
    const res = await this.groupRequest(
      groupId,
      ApiKey.OffsetCommit,
      {
        groupId,
        generationIdOrMemberEpoch: member.generationId ?? -1,
        memberId: member.memberId ?? '',
        groupInstanceId: member.groupInstanceId ?? null,
        retentionTimeMs: -1,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          topicId: this.topics.get(name)?.meta.topicId ?? ZERO_UUID,
          partitions: list.map((o) => ({
            partitionIndex: o.partition,
            committedOffset: o.offset,
            committedLeaderEpoch: o.leaderEpoch ?? -1,
            committedMetadata: o.metadata ?? null,
          })),
        })),
      },
      (r) => r.topics[0]?.partitions[0]?.errorCode ?? ErrorCode.NONE,
    );
    return res.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode })));
  }

  /** Committed offsets of a group; `partitions` null = every partition the group has offsets for. */
  async offsetFetch(
    groupId: string,
    partitions: readonly { topic: string; partition: number }[] | null,
    opts: { requireStable?: boolean } = {},
  ): Promise<CommittedOffset[]> {
    let topics: { name: string; partitionIndexes: number[] }[] | null = null;
    if (partitions) {
      const m = new Map<string, number[]>();
      for (const p of partitions) {
        const l = m.get(p.topic);
        if (l) l.push(p.partition);
        else m.set(p.topic, [p.partition]);
      }
      topics = [...m].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    }
    const res = await this.groupRequest(
      groupId,
      ApiKey.OffsetFetch,
      {
        // v0-7 ask for one group at top level, v8+ in groups[]; fill both
        groupId,
        topics,
        groups: [{ groupId, memberId: null, memberEpoch: -1, topics: topics?.map((t) => ({ ...t, topicId: ZERO_UUID })) ?? null }],
        requireStable: opts.requireStable ?? false,
      },
      (r) => (r.groups.length > 0 ? r.groups[0]!.errorCode : r.errorCode),
    );
    const group = res.groups.find((g) => g.groupId === groupId);
    const errorCode = group ? group.errorCode : res.errorCode;
    throwIfError(errorCode, `OffsetFetch group '${groupId}'`);
    const list = group
      ? group.topics.map((t) => ({ name: t.name !== '' ? t.name : (this.topicNamesById.get(t.topicId) ?? ''), partitions: t.partitions }))
      : res.topics;
    return list.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.metadata,
        errorCode: p.errorCode,
      })),
    );
  }

  /** Groups known to every broker (ListGroups is answered per coordinator, so every broker is asked). */
  async listGroups(): Promise<{ groupId: string; protocolType: string; groupState: string; coordinator: number }[]> {
    if (this.nodes.size === 0) await this.metadata([]);
    const out: { groupId: string; protocolType: string; groupState: string; coordinator: number }[] = [];
    await Promise.all(
      this.brokers().map(async (b) => {
        const res = await this.request(ApiKey.ListGroups, { statesFilter: [], typesFilter: [] }, { node: b.nodeId });
        throwIfError(res.errorCode, `ListGroups on node ${b.nodeId}`);
        for (const g of res.groups) out.push({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.groupState, coordinator: b.nodeId });
      }),
    );
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  async describeGroup(groupId: string): Promise<ResponseOf<typeof ApiKey.DescribeGroups>['groups'][number]> {
    const res = await this.groupRequest(
      groupId,
      ApiKey.DescribeGroups,
      { groups: [groupId], includeAuthorizedOperations: false },
      (r) => r.groups[0]?.errorCode ?? ErrorCode.NONE,
    );
    const g = res.groups[0];
    if (!g) throw kafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `empty DescribeGroups response for '${groupId}'`);
    throwIfError(g.errorCode, `DescribeGroups '${groupId}'`, g.errorMessage);
    return g;
  }
}
