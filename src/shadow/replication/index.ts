// Shadow-link replication building blocks (not wired into the broker yet): the source/sink seams and the
// per-partition replicator.
export * from './types.js';
export { PartitionReplicator, frameFetchedBatches, type FramedBatches, type ReplicatorListener } from './replicator.js';
