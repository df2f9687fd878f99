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
/** how long the queued pieces of large appends may run before the event loop gets a turn */
const SLICE_MS = 2;

/** Work that takes turns in the AppendQueue: `step` runs one piece and says whether nothing is left. */
interface QueuedWork {
  step(): boolean;
  resolve(): void;
  reject(err: unknown): void;
}

/** The rest of one large append: its batches from `pos`, appended a piece at a time. */
interface PendingAppend extends QueuedWork {
  pos: number;
}

/**
 * The pieces of large appends, of every shadow partition of this process, in one round-robin queue that runs at
 * most SLICE_MS per event-loop turn. A fetch answer's first piece is appended at once; what is left of a large one
 * waits here, so a partition with a few new records (and the shadow's own consumers, and the next Fetch response)
 * is never behind more than one slice of another partition's megabytes. Before this, each partition yielded on
 * its own with setImmediate, and one turn ran every partition's piece back to back: 16 partitions × 512 KiB made
 * turns of 20-40 ms, the tail of the replication latency. A partition's log-start follow takes its turn here too.
 */
class AppendQueue {
  private readonly jobs: QueuedWork[] = [];
  private head = 0;
  private scheduled = false;

  add(job: QueuedWork): void {
    this.jobs.push(job);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const until = performance.now() + SLICE_MS;
    while (this.head < this.jobs.length) {
      const job = this.jobs[this.head++]!;
      let done: boolean;
      try {
        done = job.step();
      } catch (err) {
        job.reject(err);
        continue;
      }
      if (done) job.resolve();
      else this.jobs.push(job);
      if (performance.now() >= until) break;
    }
    if (this.head >= this.jobs.length) {
      this.jobs.length = 0;
      this.head = 0;
    } else {
      if (this.head > 1024) {
        this.jobs.splice(0, this.head);
        this.head = 0;
      }
      this.scheduled = true;
      setImmediate(this.drain);
    }
  };
}

const appendQueue = new AppendQueue();

/** the shadow's log start follows the source's at most this often per partition (see prefixTruncate) */
const FOLLOW_INTERVAL_MS = 1000;

export class LogSink implements ReplicationSink {
  private raisedProducerId = -1;
  /** log start asked for by the replicator and not applied yet (-1: none), and when the last one was applied */
  private pendingLogStart = -1;
  private lastFollowAt = 0;
  private followTimer: NodeJS.Timeout | null = null;
  /** a follow waits in the append queue */
  private followQueued = false;

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
    // Each piece is checked (CRC) and written while it is still in the CPU cache. The first piece goes at once;
    // the rest take turns with every other partition's in the AppendQueue.
    const pending: PendingAppend = {
      pos: 0,
      step: () => {
        const pos = pending.pos;
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
        pending.pos = end;
        return end >= batches.length;
      },
      resolve: () => undefined,
      reject: () => undefined,
    };
    if (!pending.step()) {
      await new Promise<void>((resolve, reject) => {
        pending.resolve = resolve;
        pending.reject = reject;
        appendQueue.add(pending);
      });
    }
    const maxProducerId = log.producerIds().maxProducerId;
    if (maxProducerId > this.raisedProducerId) {
      await this.producerIds.raiseAbove(maxProducerId);
      this.raisedProducerId = maxProducerId;
    }
  }

  /**
   * Follows the source's log start. Moving it inside the log (retention or DeleteRecords on the source) is applied
   * at most once per FOLLOW_INTERVAL_MS: each move writes the partition's log-start checkpoint and renames the
   * segments below it away, and a source with small segments (or a DeleteRecords loop) moves its log start on
   * every fetch answer. A move asked for meanwhile is applied when the interval is over (the latest
   * one wins). A move is applied from the append queue, taking turns with appends: retention or DeleteRecords at
   * the source moves the log start of many partitions at once, their answers arrive in one fetch response, and
   * following them in that turn (~1 ms each: checkpoint, segment files renamed away) stalled the shadow for 200-300
   * ms at 256 partitions. Emptying the log (the source's start passed the shadow's end) is applied at once: the
   * next append depends on it.
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
      this.queueFollow();
    } else if (this.followTimer === null) {
      this.followTimer = setTimeout(() => {
        this.followTimer = null;
        this.queueFollow();
      }, wait);
      this.followTimer.unref();
    }
  }

  private queueFollow(): void {
    if (this.followQueued) return;
    this.followQueued = true;
    appendQueue.add({
      step: () => {
        this.followQueued = false;
        this.followNow();
        return true;
      },
      resolve: () => undefined,
      // a log that cannot move its start has failed: its next append reports that to the replicator
      reject: () => undefined,
    });
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
