// What a shadow link needs from its source cluster, reached only over the Kafka protocol (SPEC §2.1): Metadata,
// ListOffsets, Fetch (read_committed, raw batches), DescribeConfigs, ListGroups, OffsetFetch, DescribeAcls.
// source-cluster.ts implements it over src/client with the link's TLS and SASL options.
import type { AclBinding, AclBindingFilter } from '../../security/acl.js';
import type { ReplicationSource } from '../replication/types.js';

export interface SourcePartition {
  partition: number;
  /** node id of the leader, -1 when the source has none right now */
  leader: number;
  replicas: number[];
}

export interface SourceTopic {
  name: string;
  /** the source's topic id as the client reports it; '' (or the all-zero id) when the source has no topic ids */
  topicId: string;
  internal: boolean;
  partitions: SourcePartition[];
}

export interface SourceCommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

/**
 * The source does not offer an API a task needs (no DescribeConfigs, no ListGroups, an authorization failure on the
 * cluster...). The task degrades with this reason in its status instead of failing the link.
 */
export class SourceUnsupportedError extends Error {
  override name = 'SourceUnsupportedError';
  constructor(
    readonly api: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SourceCluster {
  /** the source's cluster id after connect(); null before */
  readonly clusterId: string | null;
  /**
   * Bootstraps (TLS, SASL), reads the cluster id and checks it against `source_cluster_id` when configured
   * (throws a clear error on a mismatch). Rejects when no bootstrap server answers.
   */
  connect(): Promise<void>;
  /** every topic of the source (Metadata for all topics), internal ones flagged */
  topics(): Promise<SourceTopic[]>;
  /**
   * Effective topic configs (DescribeConfigs): name → value for the given topics; a topic that errors is left out.
   * Throws SourceUnsupportedError when the source lacks the API.
   */
  describeTopicConfigs(topics: readonly string[]): Promise<Map<string, Record<string, string | null>>>;
  /** ListGroups (every group id); throws SourceUnsupportedError when the source lacks the API */
  listGroups(): Promise<string[]>;
  /** OffsetFetch for one group, all its committed offsets (only those >= 0) on the given topics */
  committedOffsets(groupId: string, topics: readonly string[]): Promise<SourceCommittedOffset[]>;
  /** DescribeAcls for each filter, results merged and de-duplicated; throws SourceUnsupportedError when refused */
  describeAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[]>;
  /**
   * [logStart, lastStable, highWatermark] of many partitions, keyed `${topic}/${partition}` (ListOffsets earliest
   * and latest, and latest read_committed for the LSO; one request of each per leader). A partition the source
   * answers with an error (unknown, leaderless) is left out; rejects when a source node cannot be asked at all.
   */
  offsets(partitions: readonly { topic: string; partition: number }[]): Promise<Map<string, { logStartOffset: number; lastStableOffset: number; highWatermark: number }>>;
  /**
   * The replication source of one partition. Many partitions share connections: fetches of partitions with the
   * same leader travel in one Fetch request, and a partition waiting on the source never holds up another.
   * Leader changes are followed (NOT_LEADER / UNKNOWN_TOPIC refresh metadata and are retried by the replicator).
   */
  partition(topic: string, partition: number, opts?: SourcePartitionOptions): ReplicationSource;
  /** counters for metrics and status */
  stats(): SourceStats;
  close(): Promise<void>;
}

export interface SourcePartitionOptions {
  /**
   * The source topic id the shadow topic follows. When given (and not the all-zero id), a source topic of that
   * name with another id (deleted and recreated) is not fetched: fetches answer INCONSISTENT_TOPIC_ID, naming
   * both ids, so a recreated topic never gets mixed into the shadow's log.
   */
  topicId?: string;
}

export interface SourceStats {
  fetchRequests: number;
  /** bytes of record batches received */
  bytesFetched: number;
  /** request failures (transport or error codes) */
  errors: number;
  /** Fetch connections open now (all source nodes; the admin connection per node is not counted) */
  fetchConnections: number;
  /** Metadata requests sent to learn partition leaders */
  metadataRefreshes: number;
}

/**
 * connect() failed. `kind` says why: no bootstrap server answered, TLS or SASL refused us, or the cluster is not
 * the one `source_cluster_id` names. The message never contains a password.
 */
export class SourceConnectError extends Error {
  override name = 'SourceConnectError';
  constructor(
    readonly kind: 'unreachable' | 'tls' | 'authentication' | 'cluster_id_mismatch',
    message: string,
  ) {
    super(message);
  }
}
