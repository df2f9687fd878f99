// The shadow link's client of its source cluster (SourceCluster in types.ts), over src/client with the link's TLS
// and SASL settings. The source needs no configuration: it sees a Kafka client sending Metadata, ListOffsets,
// Fetch (read_committed), DescribeConfigs, ListGroups, OffsetFetch and DescribeAcls.
//
// Connections per source node: one shared admin connection (KafkaClient: metadata, offsets, configs, groups, ACLs)
// and up to `fetch_connections_per_node` fetch connections, which carry the Fetch requests of every replicated
// partition led by that node (fetcher.ts says how partitions share them).
//
// Routing. A small routing table (topic → topic id and the leader of each partition) is filled from Metadata for
// the topics being replicated, refreshed in the background after metadata_max_age_ms, and forgotten for a topic
// when the source says its leader moved (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_TOPIC...) or a
// connection failed; the partition's next fetch then waits for fresh metadata. The error itself goes back to the
// replicator, which retries with its backoff. Concurrent refreshes are merged into one Metadata request.
//
// Degrading. An admin API the source does not advertise, or refuses for the whole cluster, is a
// SourceUnsupportedError with the reason, so the task that needs it reports that instead of failing the link.
import type { Logger } from 'pino';
import { ApiKey } from '../../protocol/generated/api.js';
import { ZERO_UUID } from '../../protocol/primitives.js';
import { BrokerConnection, type Authenticator, type SocketFactory } from '../../client/connection.js';
import { ConfigResourceType, IsolationLevel, KafkaClient, type ClusterMetadata, type TopicMetadata } from '../../client/client.js';
import { ErrorCode, KafkaError, errorName, kafkaError, networkError } from '../../client/errors.js';
import { bindingKey, compareBindings, type AclBinding, type AclBindingFilter } from '../../security/acl.js';
import type { SourceClientOptions } from '../types.js';
import type { OffsetSpec, ReplicationSource, SourceFetch } from '../replication/types.js';
import { FetchWaiter, NodeFetcher, PartitionFetchState, ROUTING_ERRORS, errorAnswer, type FetchCounters, type FetcherHost, type FetchSettings } from './fetcher.js';
import { FramePool, pooledSocketFactory } from './frame-pool.js';
import { AUTHENTICATION_ERRORS, TlsHandshakeError, sourceAuthenticator, tlsSocketFactory } from './transport.js';
import {
  SourceConnectError,
  SourceUnsupportedError,
  type SourceCluster,
  type SourceCommittedOffset,
  type SourcePartitionOptions,
  type SourceStats,
  type SourceTopic,
} from './types.js';

export interface SourceClusterDeps {
  logger?: Logger;
  /** fetch connections per source node instead of the link's fetch_connections_per_node (fetcher.ts) */
  fetchConnectionsPerNode?: number;
  /** how long a request may go unanswered (default 30 s; a Fetch gets its maxWaitMs on top) */
  requestTimeoutMs?: number;
  /** an idle partition's fetch is answered empty after this long at the latest (default 10 s, at least fetch_wait_max_ms) */
  idleAnswerMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * An idle partition's fetch is answered (empty) after this long at the latest, even when nothing moved at the
 * source: a backstop beat for the replicator. Liveness does not depend on it (the replicator asks
 * lastHeardAtMs, which every long-poll answer updates), and each beat costs: the partition leaves the long polls
 * for the replicator's idle pause and comes back on a short poll. At 10 s, 1,000 idle partitions made 100 beats/s,
 * about 3.5 % of a core of the shadow's 5-9 % (bench:shadow --idle-only).
 */
const DEFAULT_IDLE_ANSWER_MS = 60_000;
/** a topic no partition has asked about for this long leaves the routing table (and the Metadata requests) */
const ROUTE_IDLE_MS = 10 * 60_000;
/** topics per DescribeConfigs request */
const DESCRIBE_CONFIGS_CHUNK = 100;

interface TopicRoute {
  topicId: string;
  /** leader node by partition index, -1 when leaderless */
  leaders: number[];
  fetchedAt: number;
  usedAt: number;
}

interface OffsetQuery {
  topic: string;
  partition: number;
  /** -2 earliest, -1 latest, else a timestamp */
  timestamp: number;
}

interface OffsetAnswer {
  errorCode: number;
  offset: number;
  /** the request failed as a whole with this */
  error?: unknown;
}

interface PendingOffset extends OffsetQuery {
  settled: boolean;
  resolve(offset: number): void;
  reject(err: unknown): void;
}

function formatHostPort(h: { host: string; port: number }): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

function describeError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^NETWORK_EXCEPTION: /, '');
}

export function createSourceCluster(opts: SourceClientOptions, deps: SourceClusterDeps = {}): SourceCluster {
  return new KafkaSourceCluster(opts, deps);
}

export class KafkaSourceCluster implements SourceCluster, FetcherHost {
  readonly settings: FetchSettings;
  readonly counters: FetchCounters & { metadataRefreshes: number } = { fetchRequests: 0, bytesFetched: 0, errors: 0, metadataRefreshes: 0 };
  readonly logger: Logger | undefined;
  private readonly client: KafkaClient;
  private readonly servers: string;
  private readonly socketFactory: SocketFactory | undefined;
  /** fetch connections: TLS when configured, else plain TCP read into pooled frames (frame-pool.ts) */
  private readonly fetchSocketFactory: SocketFactory;
  private readonly framePool = new FramePool();
  private readonly authenticate: Authenticator | undefined;
  private clusterIdValue: string | null = null;
  private closed = false;

  private readonly partitionStates = new Map<string, PartitionFetchState>();
  private readonly fetchers = new Map<number, NodeFetcher>();
  private readonly abortFn = (w: FetchWaiter): void => this.abort(w);
  private readonly idleAnswerMs: number;

  private readonly routes = new Map<string, TopicRoute>();
  /** when a refresh last came back without the topic (a missing topic is asked again after retry_backoff_ms) */
  private readonly missingTopics = new Map<string, number>();
  private readonly wantedTopics = new Set<string>();
  private refreshing: Promise<void> | null = null;
  private refreshCovers: ReadonlySet<string> = new Set();
  private followUpRefresh: Promise<void> | null = null;

  private offsetBatches: Map<string, PendingOffset>[] = [];
  private offsetFlushScheduled = false;

  /** the last TLS / SASL refusal, to tell "refused" from "unreachable" when connect() fails */
  private lastTlsError: Error | undefined;
  private lastAuthError: Error | undefined;

  constructor(
    private readonly opts: SourceClientOptions,
    deps: SourceClusterDeps = {},
  ) {
    this.logger = deps.logger;
    this.servers = opts.bootstrapServers.map(formatHostPort).join(', ');
    const requestTimeoutMs = deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.idleAnswerMs = Math.max(deps.idleAnswerMs ?? DEFAULT_IDLE_ANSWER_MS, opts.fetchWaitMaxMs);
    this.settings = {
      fetchWaitMaxMs: opts.fetchWaitMaxMs,
      fetchMinBytes: opts.fetchMinBytes,
      fetchMaxBytes: opts.fetchMaxBytes,
      fetchPartitionMaxBytes: opts.fetchPartitionMaxBytes,
      requestTimeoutMs,
      connectionsPerNode: deps.fetchConnectionsPerNode ?? opts.fetchConnectionsPerNode,
    };
    if (opts.tls.enabled) {
      const tls = tlsSocketFactory(opts.tls);
      this.socketFactory = async (host, port, timeoutMs) => {
        try {
          return await tls(host, port, timeoutMs);
        } catch (err) {
          if (err instanceof TlsHandshakeError) this.lastTlsError = err;
          throw err;
        }
      };
    }
    this.fetchSocketFactory = this.socketFactory ?? pooledSocketFactory(this.framePool);
    if (opts.authentication) {
      const sasl = sourceAuthenticator(opts.authentication);
      this.authenticate = async (conn) => {
        try {
          await sasl(conn);
        } catch (err) {
          if (err instanceof KafkaError && AUTHENTICATION_ERRORS.has(err.code)) this.lastAuthError = err;
          throw err;
        }
      };
    }
    this.client = new KafkaClient({
      brokers: opts.bootstrapServers.map(formatHostPort),
      clientId: opts.clientId,
      connectTimeoutMs: opts.connectionTimeoutMs,
      requestTimeoutMs,
      metadataMaxAgeMs: opts.metadataMaxAgeMs,
      retryBackoffMs: opts.retryBackoffMs,
      // callers retry on their own schedule (replicators, periodic tasks); a couple of quick retries is enough
      retries: 2,
      ...(this.socketFactory ? { socketFactory: this.socketFactory } : {}),
      ...(this.authenticate ? { authenticate: this.authenticate } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
  }

  get clusterId(): string | null {
    return this.clusterIdValue;
  }

  // ---- connect / close ----------------------------------------------------------------------------------

  async connect(): Promise<void> {
    if (this.closed) throw networkError('source client closed');
    this.lastTlsError = undefined;
    this.lastAuthError = undefined;
    let md: ClusterMetadata;
    try {
      this.counters.metadataRefreshes++;
      md = await this.client.metadata([]);
    } catch (err) {
      throw this.connectError(err);
    }
    const id = md.clusterId ?? '';
    this.checkClusterId(id);
    this.clusterIdValue = id;
  }

  private connectError(err: unknown): SourceConnectError {
    const auth = this.opts.authentication;
    if (this.lastAuthError !== undefined && auth !== undefined) {
      return new SourceConnectError(
        'authentication',
        `the source cluster (${this.servers}) refused SASL ${auth.mechanism} authentication as '${auth.username}': ${this.lastAuthError.message}`,
      );
    }
    if (this.lastTlsError !== undefined) {
      return new SourceConnectError('tls', `TLS to the source cluster (${this.servers}) failed: ${describeError(this.lastTlsError)}`);
    }
    return new SourceConnectError('unreachable', `cannot reach the source cluster (bootstrap servers ${this.servers}): ${describeError(err)}`);
  }

  private checkClusterId(actual: string): void {
    const expected = this.opts.sourceClusterId;
    if (expected !== undefined && expected !== '' && actual !== expected) {
      throw new SourceConnectError(
        'cluster_id_mismatch',
        `the source cluster at ${this.servers} has cluster id '${actual}', but the link's source_cluster_id is '${expected}': refusing to shadow another cluster`,
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = networkError('source client closed');
    for (const f of this.fetchers.values()) f.close(err);
    for (const st of this.partitionStates.values()) {
      const waiting = st.waiting.splice(0);
      for (const w of waiting) w.reject(err);
      if (st.active !== null && (st.active.phase === 'waiting' || st.active.phase === 'routing')) st.active.reject(err);
    }
    const batches = this.offsetBatches;
    this.offsetBatches = [];
    for (const b of batches) for (const q of b.values()) this.settleOffset(q, err);
    await this.client.close();
  }

  stats(): SourceStats {
    let fetchConnections = 0;
    for (const f of this.fetchers.values()) fetchConnections += f.openConnections;
    return {
      fetchRequests: this.counters.fetchRequests,
      bytesFetched: this.counters.bytesFetched,
      errors: this.counters.errors,
      fetchConnections,
      metadataRefreshes: this.counters.metadataRefreshes,
    };
  }

  // ---- topics, configs, groups, ACLs ----------------------------------------------------------------------

  async topics(): Promise<SourceTopic[]> {
    this.counters.metadataRefreshes++;
    const md = await this.client.metadata(null);
    this.absorbMetadata(md, null);
    const out: SourceTopic[] = [];
    for (const t of md.topics) {
      // a topic without a leader right now still exists; topics we may not see or that vanished are left out
      if (t.errorCode !== ErrorCode.NONE && t.errorCode !== ErrorCode.LEADER_NOT_AVAILABLE) continue;
      out.push({
        name: t.name,
        topicId: t.topicId,
        internal: t.isInternal,
        partitions: t.partitions.map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas })),
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async describeTopicConfigs(topics: readonly string[]): Promise<Map<string, Record<string, string | null>>> {
    const out = new Map<string, Record<string, string | null>>();
    await this.requireApi(ApiKey.DescribeConfigs, 'DescribeConfigs', 'topic properties cannot be synced');
    for (let i = 0; i < topics.length; i += DESCRIBE_CONFIGS_CHUNK) {
      const chunk = topics.slice(i, i + DESCRIBE_CONFIGS_CHUNK);
      const results = await this.client.describeConfigs(chunk.map((name) => ({ type: ConfigResourceType.TOPIC, name })));
      for (const r of results) {
        if (r.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED) {
          throw new SourceUnsupportedError('DescribeConfigs', `the source cluster refused DescribeConfigs (CLUSTER_AUTHORIZATION_FAILED${r.errorMessage ? `: ${r.errorMessage}` : ''})`);
        }
        if (r.errorCode !== ErrorCode.NONE) {
          this.logger?.debug({ topic: r.name, error: errorName(r.errorCode), message: r.errorMessage }, 'source DescribeConfigs: topic left out');
          continue;
        }
        const configs: Record<string, string | null> = {};
        for (const c of r.configs) configs[c.name] = c.value;
        out.set(r.name, configs);
      }
    }
    return out;
  }

  async listGroups(): Promise<string[]> {
    await this.requireApi(ApiKey.ListGroups, 'ListGroups', 'consumer offsets cannot be synced');
    let groups: { groupId: string }[];
    try {
      groups = await this.client.listGroups();
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.CLUSTER_AUTHORIZATION_FAILED) {
        throw new SourceUnsupportedError('ListGroups', `the source cluster refused ListGroups (${err.message})`);
      }
      throw err;
    }
    return [...new Set(groups.map((g) => g.groupId))].sort();
  }

  async committedOffsets(groupId: string, topics: readonly string[]): Promise<SourceCommittedOffset[]> {
    await this.requireApi(ApiKey.OffsetFetch, 'OffsetFetch', 'consumer offsets cannot be synced');
    const wanted = new Set(topics);
    const offsets = await this.client.offsetFetch(groupId, null);
    const out: SourceCommittedOffset[] = [];
    for (const o of offsets) {
      if (!wanted.has(o.topic) || o.errorCode !== ErrorCode.NONE || o.offset < 0) continue;
      out.push({ topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata });
    }
    return out;
  }

  async describeAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[]> {
    await this.requireApi(ApiKey.DescribeAcls, 'DescribeAcls', 'ACLs cannot be synced');
    const byKey = new Map<string, AclBinding>();
    for (const f of filters) {
      const res = await this.client.request(ApiKey.DescribeAcls, {
        resourceTypeFilter: f.resourceType,
        resourceNameFilter: f.resourceName,
        patternTypeFilter: f.patternType,
        principalFilter: f.principal,
        hostFilter: f.host,
        operation: f.operation,
        permissionType: f.permissionType,
      });
      if (res.errorCode === ErrorCode.SECURITY_DISABLED) {
        throw new SourceUnsupportedError(
          'DescribeAcls',
          `the source cluster has no authorizer configured, so it has no ACLs to sync (DescribeAcls: SECURITY_DISABLED${res.errorMessage ? `: ${res.errorMessage}` : ''})`,
        );
      }
      if (res.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED) {
        throw new SourceUnsupportedError(
          'DescribeAcls',
          `the source cluster does not let this link describe ACLs: its principal needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED${res.errorMessage ? `: ${res.errorMessage}` : ''})`,
        );
      }
      if (res.errorCode !== ErrorCode.NONE) throw kafkaError(res.errorCode, 'DescribeAcls on the source cluster', res.errorMessage);
      for (const r of res.resources) {
        for (const a of r.acls) {
          const b: AclBinding = {
            resourceType: r.resourceType,
            resourceName: r.resourceName,
            patternType: r.patternType,
            principal: a.principal,
            host: a.host,
            operation: a.operation,
            permissionType: a.permissionType,
          };
          byKey.set(bindingKey(b), b);
        }
      }
    }
    return [...byKey.values()].sort(compareBindings);
  }

  /** Throws SourceUnsupportedError when the source does not offer the API at a version we speak. */
  private async requireApi(apiKey: number, name: string, consequence: string): Promise<void> {
    const conn = await this.client.connection();
    if (conn.brokerRange(apiKey) === undefined) {
      throw new SourceUnsupportedError(name, `the source cluster does not offer ${name} (it is not in its ApiVersions): ${consequence}`);
    }
    try {
      conn.versionFor(apiKey);
    } catch (err) {
      throw new SourceUnsupportedError(name, `the source cluster offers no ${name} version this client speaks (${(err as Error).message}): ${consequence}`);
    }
  }

  // ---- offsets --------------------------------------------------------------------------------------------

  async offsets(
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<Map<string, { logStartOffset: number; lastStableOffset: number; highWatermark: number }>> {
    const out = new Map<string, { logStartOffset: number; lastStableOffset: number; highWatermark: number }>();
    if (partitions.length === 0) return out;
    const at = (timestamp: number): OffsetQuery[] => partitions.map((p) => ({ topic: p.topic, partition: p.partition, timestamp }));
    // one partition may appear once per ListOffsets request, so the three questions are three requests per node
    const [earliest, latest, stable] = await Promise.all([
      this.listOffsetsRaw(at(-2), IsolationLevel.READ_UNCOMMITTED),
      this.listOffsetsRaw(at(-1), IsolationLevel.READ_UNCOMMITTED),
      this.listOffsetsRaw(at(-1), IsolationLevel.READ_COMMITTED),
    ]);
    const failure = earliest.failure ?? latest.failure ?? stable.failure;
    if (failure !== undefined) throw failure;
    partitions.forEach((p, i) => {
      const e = earliest.answers[i]!;
      const l = latest.answers[i]!;
      const s = stable.answers[i]!;
      if (e.errorCode !== ErrorCode.NONE || l.errorCode !== ErrorCode.NONE || s.errorCode !== ErrorCode.NONE) return;
      out.set(`${p.topic}/${p.partition}`, { logStartOffset: e.offset, lastStableOffset: s.offset, highWatermark: l.offset });
    });
    return out;
  }

  /** One ListOffsets per leader; an answer per query. `failure` is set when a request failed as a whole. */
  private async listOffsetsRaw(queries: readonly OffsetQuery[], isolationLevel: number): Promise<{ answers: OffsetAnswer[]; failure: unknown }> {
    const answers: OffsetAnswer[] = queries.map(() => ({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, offset: -1 }));
    const byNode = new Map<number, number[]>();
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i]!;
      const route = this.routeNow(q.topic) ?? (await this.routeAsync(q.topic));
      const leader = this.leaderIn(route, q.topic, q.partition);
      if (leader < 0) {
        answers[i]!.errorCode = -leader;
        continue;
      }
      let list = byNode.get(leader);
      if (list === undefined) byNode.set(leader, (list = []));
      list.push(i);
    }
    let failure: unknown;
    await Promise.all(
      [...byNode].map(async ([node, indexes]) => {
        const byTopic = new Map<string, { partitionIndex: number; currentLeaderEpoch: number; timestamp: number }[]>();
        for (const i of indexes) {
          const q = queries[i]!;
          let l = byTopic.get(q.topic);
          if (l === undefined) byTopic.set(q.topic, (l = []));
          l.push({ partitionIndex: q.partition, currentLeaderEpoch: -1, timestamp: q.timestamp });
        }
        try {
          const res = await this.client.request(
            ApiKey.ListOffsets,
            {
              replicaId: -1,
              isolationLevel,
              topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
              timeoutMs: this.settings.requestTimeoutMs,
            },
            { node },
          );
          const found = new Map<string, OffsetAnswer>();
          for (const t of res.topics) {
            for (const p of t.partitions) {
              if (ROUTING_ERRORS.has(p.errorCode)) this.invalidateRoute(t.name);
              found.set(`${t.name}\0${p.partitionIndex}`, { errorCode: p.errorCode, offset: p.offset });
            }
          }
          for (const i of indexes) {
            const q = queries[i]!;
            const a = found.get(`${q.topic}\0${q.partition}`);
            if (a !== undefined) answers[i] = a;
          }
        } catch (err) {
          this.counters.errors++;
          failure ??= err;
          const errorCode = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
          for (const i of indexes) {
            answers[i] = { errorCode, offset: -1, error: err };
            this.invalidateRoute(queries[i]!.topic);
          }
        }
      }),
    );
    return { answers, failure };
  }

  /** ListOffsets of one partition for a replicator: calls in the same tick share requests. */
  private listOffsetsOf(topic: string, partition: number, spec: OffsetSpec, signal: AbortSignal): Promise<number> {
    if (this.closed) return Promise.reject(networkError('source client closed'));
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const timestamp = spec === 'earliest' ? -2 : spec === 'latest' ? -1 : spec;
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => this.settleOffset(q, abortReason(signal));
      const q: PendingOffset = {
        topic,
        partition,
        timestamp,
        settled: false,
        resolve: (offset) => {
          signal.removeEventListener('abort', onAbort);
          resolve(offset);
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // a partition may appear once per request: a second question about it goes into the next batch
      const key = `${topic}\0${partition}`;
      let batch = this.offsetBatches.find((b) => !b.has(key));
      if (batch === undefined) this.offsetBatches.push((batch = new Map()));
      batch.set(key, q);
      if (!this.offsetFlushScheduled) {
        this.offsetFlushScheduled = true;
        setImmediate(() => this.flushOffsets());
      }
    });
  }

  private flushOffsets(): void {
    this.offsetFlushScheduled = false;
    const batches = this.offsetBatches;
    this.offsetBatches = [];
    for (const b of batches) {
      const queries = [...b.values()];
      this.listOffsetsRaw(queries, IsolationLevel.READ_UNCOMMITTED).then(
        ({ answers }) => {
          queries.forEach((q, i) => {
            const a = answers[i]!;
            if (a.errorCode === ErrorCode.NONE) this.settleOffset(q, a.offset);
            else this.settleOffset(q, a.error ?? kafkaError(a.errorCode, `ListOffsets ${q.topic}/${q.partition} on the source cluster`));
          });
        },
        (err: unknown) => {
          for (const q of queries) this.settleOffset(q, err);
        },
      );
    }
  }

  private settleOffset(q: PendingOffset, result: number | unknown): void {
    if (q.settled) return;
    q.settled = true;
    if (typeof result === 'number') q.resolve(result);
    else q.reject(result);
  }

  // ---- replication sources --------------------------------------------------------------------------------

  partition(topic: string, partition: number, opts: SourcePartitionOptions = {}): ReplicationSource {
    const key = `${topic}/${partition}`;
    let st = this.partitionStates.get(key);
    if (st === undefined) this.partitionStates.set(key, (st = new PartitionFetchState(topic, partition)));
    const state = st;
    const expectedTopicId = opts.topicId !== undefined && opts.topicId !== '' && opts.topicId !== ZERO_UUID ? opts.topicId : undefined;
    return {
      fetch: (fromOffset, maxBytes, signal) => this.fetch(state, fromOffset, maxBytes, signal, expectedTopicId),
      listOffsets: (spec, signal) => this.listOffsetsOf(topic, partition, spec, signal),
      lastHeardAtMs: () => state.heardAt(),
    };
  }

  private fetch(st: PartitionFetchState, fromOffset: number, maxBytes: number, signal: AbortSignal, expectedTopicId: string | undefined): Promise<SourceFetch> {
    if (this.closed) return Promise.reject(networkError('source client closed'));
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise<SourceFetch>((resolve, reject) => {
      const w = new FetchWaiter(st, fromOffset, maxBytes, signal, expectedTopicId, Date.now() + this.idleAnswerMs, resolve, reject, this.abortFn);
      // caught up as far as the last answer tells: no use asking without waiting
      w.cold = st.lastStableOffset >= 0 && fromOffset >= st.lastStableOffset;
      st.waiting.push(w);
      if (st.active === null) this.dispatchNext(st);
    });
  }

  /** Sends the partition's oldest waiting fetch on its way when none is active. */
  private dispatchNext(st: PartitionFetchState): void {
    if (st.active !== null) return;
    let w: FetchWaiter | undefined;
    while ((w = st.waiting.shift()) !== undefined && w.settled);
    if (w === undefined) return;
    if (this.closed) {
      w.reject(networkError('source client closed'));
      return;
    }
    st.active = w;
    const route = this.routeNow(st.topic);
    if (route !== undefined) {
      this.place(w, route);
      return;
    }
    w.phase = 'routing';
    const waiter = w;
    this.routeAsync(st.topic).then(
      (r) => this.place(waiter, r),
      (err: unknown) => {
        waiter.phase = 'done';
        this.reject(waiter, err);
      },
    );
  }

  /** Hands a fetch to its leader's fetcher, or answers the routing error. */
  private place(w: FetchWaiter, route: TopicRoute | undefined): void {
    const st = w.state;
    if (w.settled) {
      w.phase = 'done';
      this.release(w);
      return;
    }
    if (this.closed) {
      w.phase = 'done';
      this.reject(w, networkError('source client closed'));
      return;
    }
    const leader = this.leaderIn(route, st.topic, st.partition);
    if (leader < 0) {
      w.phase = 'done';
      this.counters.errors++;
      const code = -leader;
      this.resolve(w, errorAnswer(code, code === ErrorCode.LEADER_NOT_AVAILABLE ? `source partition ${st.key} has no leader` : `source partition ${st.key} is not in the source cluster's metadata`));
      return;
    }
    const topicId = route!.topicId;
    if (w.expectedTopicId !== undefined && topicId !== ZERO_UUID && topicId !== w.expectedTopicId) {
      w.phase = 'done';
      this.counters.errors++;
      this.resolve(
        w,
        errorAnswer(
          ErrorCode.INCONSISTENT_TOPIC_ID,
          `source topic '${st.topic}' now has topic id ${topicId}, not ${w.expectedTopicId}: it was deleted and recreated`,
        ),
      );
      return;
    }
    w.topicId = topicId;
    let f = this.fetchers.get(leader);
    if (f === undefined) this.fetchers.set(leader, (f = new NodeFetcher(leader, this)));
    f.enqueue(w);
  }

  private abort(w: FetchWaiter): void {
    if (w.settled) return;
    w.reject(abortReason(w.signal));
    const st = w.state;
    switch (w.phase) {
      case 'waiting': {
        const i = st.waiting.indexOf(w);
        if (i >= 0) st.waiting.splice(i, 1);
        break;
      }
      case 'queued':
      case 'sent':
        // queued, or parked in a lane between its requests: out now; in a request in flight: its answer releases it
        if (w.node?.remove(w)) {
          w.phase = 'done';
          this.release(w);
        }
        break;
      default:
        // routing: place() releases it
        break;
    }
  }

  // FetcherHost

  resolve(w: FetchWaiter, answer: SourceFetch): void {
    const st = w.state;
    if (!w.settled) {
      st.answeredHighWatermark = answer.highWatermark;
      st.answeredLastStableOffset = answer.lastStableOffset;
      st.answeredLogStartOffset = answer.logStartOffset;
      w.resolve(answer);
    } else {
      answer.release?.(); // aborted meanwhile: nobody will read these records
    }
    this.release(w);
  }

  reject(w: FetchWaiter, err: unknown): void {
    if (!w.settled) {
      // The replicator saw a failure: its next good answer goes back to it at once (it may be waiting to leave
      // LINK_UNAVAILABLE), not only once the source's offsets move or the idle beat is due.
      const st = w.state;
      st.answeredHighWatermark = -1;
      st.answeredLastStableOffset = -1;
      st.answeredLogStartOffset = -1;
    }
    w.reject(err);
    this.release(w);
  }

  release(w: FetchWaiter): void {
    const st = w.state;
    if (st.active !== w) return;
    st.active = null;
    if (st.waiting.length > 0) this.dispatchNext(st);
  }

  async openConnection(nodeId: number): Promise<BrokerConnection> {
    if (this.closed) throw networkError('source client closed');
    let b = this.client.brokers().find((x) => x.nodeId === nodeId);
    if (b === undefined) {
      await this.refresh();
      b = this.client.brokers().find((x) => x.nodeId === nodeId);
    }
    if (b === undefined) throw kafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `source node ${nodeId} is not in the source cluster's metadata`);
    return BrokerConnection.connect({
      host: b.host,
      port: b.port,
      clientId: this.opts.clientId,
      connectTimeoutMs: this.opts.connectionTimeoutMs,
      requestTimeoutMs: this.settings.requestTimeoutMs,
      socketFactory: this.fetchSocketFactory,
      ...(this.authenticate ? { authenticate: this.authenticate } : {}),
    });
  }

  invalidateRoute(topic: string): void {
    this.routes.delete(topic);
  }

  // ---- routing table --------------------------------------------------------------------------------------

  /** The cached route of a topic, or undefined when it must be fetched; an old one is refreshed in the background. */
  private routeNow(topic: string): TopicRoute | undefined {
    const r = this.routes.get(topic);
    if (r === undefined) return undefined;
    const now = Date.now();
    r.usedAt = now;
    if (now - r.fetchedAt > this.opts.metadataMaxAgeMs && this.refreshing === null) {
      this.refresh().catch((err: unknown) => this.logger?.debug({ err: describeError(err) }, 'source metadata refresh failed'));
    }
    return r;
  }

  /** The route after a Metadata request (undefined: the source has no such topic). */
  private async routeAsync(topic: string): Promise<TopicRoute | undefined> {
    let asked = false;
    if (!this.routes.has(topic)) {
      const missingSince = this.missingTopics.get(topic);
      // a topic the source did not know a moment ago is not asked about again before retry_backoff_ms
      if (missingSince === undefined || Date.now() - missingSince >= this.opts.retryBackoffMs) {
        await this.refresh(topic);
        asked = true;
      }
    }
    const r = this.routes.get(topic);
    if (r !== undefined) {
      this.missingTopics.delete(topic);
      r.usedAt = Date.now();
    } else if (asked) {
      this.missingTopics.set(topic, Date.now());
    }
    return r;
  }

  /** The leader of a partition in a route, or −(error code) when there is none. */
  private leaderIn(route: TopicRoute | undefined, topic: string, partition: number): number {
    if (route === undefined) return -ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const leader = route.leaders[partition];
    if (leader === undefined) {
      // a partition added since the last refresh: look again next time
      this.invalidateRoute(topic);
      return -ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (leader < 0) {
      this.invalidateRoute(topic);
      return -ErrorCode.LEADER_NOT_AVAILABLE;
    }
    return leader;
  }

  /** One Metadata request for every routed topic (plus `topic`); concurrent calls share it. */
  private refresh(topic?: string): Promise<void> {
    if (topic !== undefined) this.wantedTopics.add(topic);
    if (this.refreshing === null) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
      return this.refreshing;
    }
    if (topic === undefined || this.refreshCovers.has(topic)) return this.refreshing;
    this.followUpRefresh ??= this.refreshing
      .catch(() => undefined)
      .then(() => {
        this.followUpRefresh = null;
        return this.refresh();
      });
    return this.followUpRefresh;
  }

  private async doRefresh(): Promise<void> {
    const now = Date.now();
    for (const [t, r] of this.routes) if (now - r.usedAt > ROUTE_IDLE_MS) this.routes.delete(t);
    const topics = new Set([...this.routes.keys(), ...this.wantedTopics]);
    this.wantedTopics.clear();
    this.refreshCovers = topics;
    this.counters.metadataRefreshes++;
    const md = await this.client.metadata([...topics]);
    this.absorbMetadata(md, topics);
  }

  /** Updates routes from a Metadata answer: `asked` topics missing from it are dropped; null = update known ones. */
  private absorbMetadata(md: ClusterMetadata, asked: ReadonlySet<string> | null): void {
    if (md.clusterId !== null) this.checkClusterId(md.clusterId);
    const now = Date.now();
    const seen = new Set<string>();
    for (const t of md.topics) {
      seen.add(t.name);
      if (asked === null && !this.routes.has(t.name)) continue;
      if (t.errorCode !== ErrorCode.NONE && t.errorCode !== ErrorCode.LEADER_NOT_AVAILABLE) {
        this.routes.delete(t.name);
        continue;
      }
      this.routes.set(t.name, { topicId: t.topicId, leaders: leadersOf(t), fetchedAt: now, usedAt: this.routes.get(t.name)?.usedAt ?? now });
    }
    if (asked !== null) for (const t of asked) if (!seen.has(t)) this.routes.delete(t);
  }
}

function leadersOf(t: TopicMetadata): number[] {
  let n = 0;
  for (const p of t.partitions) if (p.partition + 1 > n) n = p.partition + 1;
  const leaders = new Array<number>(n).fill(-1);
  for (const p of t.partitions) leaders[p.partition] = p.leader;
  return leaders;
}
