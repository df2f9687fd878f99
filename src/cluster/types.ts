// The cluster-metadata seam. A single node keeps its metadata in an embedded, crash-safe store in its data
// directory; a multi-node cluster will keep it in etcd behind the same interface. Everything the cluster must
// remember (identity, topics, later users, ACLs and shadow links) is a JSON value under a string key.

export interface MetadataStore {
  /** generated once at first start and kept forever */
  readonly clusterId: string;
  readonly nodeId: number;

  get<T>(key: string): T | undefined;
  /** entries whose key starts with prefix, in key order */
  list<T>(prefix: string): [string, T][];
  /** Durable when the promise resolves. */
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Atomic group of changes: all or none survive a crash. */
  batch(ops: ({ op: 'put'; key: string; value: unknown } | { op: 'delete'; key: string })[]): Promise<void>;
  close(): Promise<void>;
}

/** A topic as the cluster knows it. Stored under `topics/<name>`. */
export interface TopicRecord {
  name: string;
  /** canonical UUID text */
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** topic-level overrides only (DescribeConfigs source TOPIC_CONFIG); defaults come from the broker config */
  configs: Record<string, string>;
  createdAtMs: number;
  internal: boolean;
}
