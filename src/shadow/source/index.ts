// The shadow link's source client: what link tasks and replicators know of the source cluster (types.ts) and its
// implementation over the Kafka protocol (source-cluster.ts; fetcher.ts multiplexes partition fetches per node).
export * from './types.js';
export { createSourceCluster, KafkaSourceCluster, type SourceClusterDeps } from './source-cluster.js';
