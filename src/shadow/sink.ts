// The replication sink of one shadow partition: its log, written with 'preserve' appends (batches keep the base
// offsets, epochs, timestamps and producer ids the source gave them). Fetches waiting on the partition are woken
// after each append, and the broker's producer-id allocator is raised above every replicated producer id, so a
// producer created after failover never collides with replicated idempotence state (SPEC §2.1).
import type { PartitionManager } from '../broker/partitions.js';
import type { ProducerIdManager } from '../broker/producer-ids.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { PartitionLog } from '../storage/types.js';
import type { ReplicationSink } from './replication/types.js';

export class LogSink implements ReplicationSink {
  private raisedProducerId = -1;

  constructor(
    private readonly topic: string,
    private readonly partition: number,
    private readonly partitions: PartitionManager,
    private readonly producerIds: ProducerIdManager,
  ) {}

  private get log(): PartitionLog {
    const log = this.partitions.log(this.topic, this.partition);
    if (!log) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `shadow partition ${this.topic}-${this.partition} has no log`);
    return log;
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }
  get logEndOffset(): number {
    return this.log.logEndOffset;
  }
  get highWatermark(): number {
    return this.log.highWatermark;
  }

  async append(batches: Buffer): Promise<void> {
    const log = this.log;
    this.partitions.append(log, batches, { leaderEpoch: 0, offsets: 'preserve' });
    const maxProducerId = log.producerIds().maxProducerId;
    if (maxProducerId > this.raisedProducerId) {
      await this.producerIds.raiseAbove(maxProducerId);
      this.raisedProducerId = maxProducerId;
    }
  }

  async prefixTruncate(newLogStart: number): Promise<void> {
    const log = this.log;
    if (newLogStart > log.logEndOffset) log.truncateFullyAndStartAt(newLogStart);
    else log.deleteRecordsBefore(newLogStart);
    this.partitions.wake(log);
  }
}
