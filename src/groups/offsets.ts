// Committed offsets per group, in memory, mirroring the OffsetCommit records of __consumer_offsets.
//
// A commit is visible only once its record is durable (Kafka reads offsets at the last committed log offset).
// Between append and fsync it is *pending*: OffsetFetch still returns the previous offset, or UNSTABLE_OFFSET_COMMIT
// when the client asks for stable offsets. Each pending write carries a sequence number; when two commits of one
// partition overlap only the newest is applied, and a tombstone (OffsetDelete, DeleteGroups, expiry) cancels the
// pending commits it overtakes, since it follows them in the log too.
import type { OffsetAndMetadata } from './records.js';

type TopicOffsets = Map<number, OffsetAndMetadata>;

function pendingKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class OffsetStore {
  private readonly committed = new Map<string, Map<string, TopicOffsets>>();
  /** group -> partition key -> the newest write not yet durable */
  private readonly pending = new Map<string, Map<string, { topic: string; partition: number; seq: number }>>();

  get(group: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.committed.get(group)?.get(topic)?.get(partition);
  }

  put(group: string, topic: string, partition: number, om: OffsetAndMetadata): void {
    let byTopic = this.committed.get(group);
    if (!byTopic) this.committed.set(group, (byTopic = new Map()));
    let byPartition = byTopic.get(topic);
    if (!byPartition) byTopic.set(topic, (byPartition = new Map()));
    byPartition.set(partition, om);
  }

  /** Removes a committed offset and cancels a pending commit of it. True if an offset was committed. */
  delete(group: string, topic: string, partition: number): boolean {
    const pendingOfGroup = this.pending.get(group);
    if (pendingOfGroup?.delete(pendingKey(topic, partition)) && pendingOfGroup.size === 0) this.pending.delete(group);
    const byTopic = this.committed.get(group);
    const byPartition = byTopic?.get(topic);
    if (!byTopic || !byPartition) return false;
    const had = byPartition.delete(partition);
    if (byPartition.size === 0) byTopic.delete(topic);
    if (byTopic.size === 0) this.committed.delete(group);
    return had;
  }

  deleteGroup(group: string): void {
    this.committed.delete(group);
    this.pending.delete(group);
  }

  hasOffsets(group: string): boolean {
    return this.committed.has(group);
  }

  /** Every committed offset of the group: [topic, partition, offset], topics in commit order. */
  *entries(group: string): Generator<[string, number, OffsetAndMetadata]> {
    const byTopic = this.committed.get(group);
    if (!byTopic) return;
    for (const [topic, byPartition] of byTopic) for (const [partition, om] of byPartition) yield [topic, partition, om];
  }

  topics(group: string): string[] {
    return [...(this.committed.get(group)?.keys() ?? [])];
  }

  groups(): string[] {
    return [...this.committed.keys()];
  }

  markPending(group: string, topic: string, partition: number, seq: number): void {
    let byKey = this.pending.get(group);
    if (!byKey) this.pending.set(group, (byKey = new Map()));
    byKey.set(pendingKey(topic, partition), { topic, partition, seq });
  }

  isPending(group: string, topic: string, partition: number): boolean {
    return this.pending.get(group)?.has(pendingKey(topic, partition)) ?? false;
  }

  /**
   * The write `seq` is durable (om) or failed (null). Applies the offset if no newer write or tombstone of the
   * partition came after it.
   */
  completePending(group: string, topic: string, partition: number, seq: number, om: OffsetAndMetadata | null): void {
    const byKey = this.pending.get(group);
    const key = pendingKey(topic, partition);
    if (byKey?.get(key)?.seq !== seq) return;
    byKey.delete(key);
    if (byKey.size === 0) this.pending.delete(group);
    if (om) this.put(group, topic, partition, om);
  }

  hasPending(group: string): boolean {
    return this.pending.has(group);
  }

  /** Partitions with a commit in flight: [topic, partition]. */
  pendingPartitions(group: string): [string, number][] {
    return [...(this.pending.get(group)?.values() ?? [])].map((p) => [p.topic, p.partition]);
  }
}
