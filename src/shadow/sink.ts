// The replication sink of one shadow partition: its log, written with 'preserve' appends (batches keep the base
// offsets, epochs, timestamps and producer ids the source gave them). Fetches waiting on the partition are woken
// after each append, and the broker's producer-id allocator is raised above every replicated producer id, so a
// producer created after failover never collides with replicated idempotence state (SPEC §2.1).
import type { PartitionManager } from '../broker/partitions.js';
import type { ProducerIdManager } from '../broker/producer-ids.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { PartitionLog } from '../storage/types.js';
import { frameSizeAt } from '../protocol/record-batch.js';
import type { ReplicationSink } from './replication/types.js';

/** bytes of whole batches per log append (one fetch answer may be megabytes) */
const APPEND_CHUNK = 512 * 1024;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** the shadow's log start follows the source's at most this often per partition (see prefixTruncate) */
const FOLLOW_INTERVAL_MS = 1000;

export class LogSink implements ReplicationSink {
  private raisedProducerId = -1;
  /** log start asked for by the replicator and not applied yet (-1: none), and when the last one was applied */
  private pendingLogStart = -1;
  private lastFollowAt = 0;
  private followTimer: NodeJS.Timeout | null = null;

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
    // One fetch answer can be megabytes; it is appended in pieces of whole batches of about APPEND_CHUNK bytes.
    // Each piece is checked (CRC) and written while it is still in the CPU cache, and stays small enough for the
    // partition's tail cache (which drops appends above half its size), so shadow consumers read from memory.
    // Between pieces the event loop gets a turn: the answers of one Fetch response are appended one after the
    // other, and without it a partition with a few bytes waited behind megabytes of the others (and so did every
    // other response and the shadow's own consumers), which made the tail of the replication latency.
    for (let pos = 0; pos < batches.length; ) {
      if (pos > 0) await yieldToEventLoop();
      let end = pos;
      while (end < batches.length) {
        const size = frameSizeAt(batches, end);
        if (size < 0) {
          end = batches.length; // malformed: let the log reject it with its own message
          break;
        }
        if (end > pos && end + size - pos > APPEND_CHUNK) break;
        end += size;
      }
      this.partitions.append(log, pos === 0 && end === batches.length ? batches : batches.subarray(pos, end), { leaderEpoch: 0, offsets: 'preserve' });
      pos = end;
    }
    const maxProducerId = log.producerIds().maxProducerId;
    if (maxProducerId > this.raisedProducerId) {
      await this.producerIds.raiseAbove(maxProducerId);
      this.raisedProducerId = maxProducerId;
    }
  }

  /**
   * Follows the source's log start. Moving it inside the log (retention or DeleteRecords on the source) is applied
   * at most once per FOLLOW_INTERVAL_MS: each move writes and fsyncs the partition's log-start and leader-epoch
   * checkpoints on the broker's main thread, and a source with small segments (or a DeleteRecords loop) moves its
   * log start on every fetch answer. A move asked for meanwhile is applied when the interval is over (the latest
   * one wins). Emptying the log (the source's start passed the shadow's end) is applied at once: the next append
   * depends on it.
   */
  async prefixTruncate(newLogStart: number): Promise<void> {
    const log = this.log;
    if (newLogStart > log.logEndOffset) {
      this.pendingLogStart = -1;
      this.lastFollowAt = Date.now();
      log.truncateFullyAndStartAt(newLogStart);
      this.partitions.wake(log);
      return;
    }
    this.pendingLogStart = Math.max(this.pendingLogStart, newLogStart);
    const wait = this.lastFollowAt + FOLLOW_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      this.followNow();
    } else if (this.followTimer === null) {
      this.followTimer = setTimeout(() => {
        this.followTimer = null;
        this.followNow();
      }, wait);
      this.followTimer.unref();
    }
  }

  private followNow(): void {
    const target = this.pendingLogStart;
    this.pendingLogStart = -1;
    const log = this.partitions.log(this.topic, this.partition);
    // the topic may be gone meanwhile; a start the log already passed needs nothing
    if (!log || target <= log.logStartOffset || target > log.logEndOffset) return;
    this.lastFollowAt = Date.now();
    log.deleteRecordsBefore(target);
    this.partitions.wake(log);
  }
}
