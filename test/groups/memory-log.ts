// An in-memory PartitionLog for the group coordinator's tests: assigns offsets, keeps batches, reads them back.
// Flushes can be held (to observe commits that are appended but not yet durable) or made to fail.
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { recordBatches } from '../../src/protocol/record-batch.js';
import type { AppendOptions, AppendResult, LogConfig, PartitionLog, ReadOptions, ReadResult } from '../../src/storage/types.js';

interface StoredBatch {
  baseOffset: number;
  nextOffset: number;
  bytes: Buffer;
}

export class MemoryLog implements PartitionLog {
  readonly topic = '__consumer_offsets';
  readonly partition: number;
  readonly topicId = '00000000-0000-0000-0000-000000000001';
  readonly dir = '';
  readonly config = {} as LogConfig;
  logStartOffset = 0;
  readonly batches: StoredBatch[] = [];
  appends = 0;
  /** the next append throws this */
  failNextAppend: KafkaError | null = null;
  /** every flush rejects with this while set */
  failFlushes: KafkaError | null = null;
  private held: (() => void)[] | null = null;

  constructor(partition: number) {
    this.partition = partition;
  }

  get logEndOffset(): number {
    return this.batches.at(-1)?.nextOffset ?? this.logStartOffset;
  }
  get highWatermark(): number {
    return this.logEndOffset;
  }
  get lastStableOffset(): number {
    return this.logEndOffset;
  }
  get sizeInBytes(): number {
    return this.batches.reduce((n, b) => n + b.bytes.length, 0);
  }

  append(records: Buffer, _opts: AppendOptions): AppendResult {
    if (this.failNextAppend) {
      const err = this.failNextAppend;
      this.failNextAppend = null;
      throw err;
    }
    const baseOffset = this.logEndOffset;
    const copy = Buffer.from(records);
    for (const batch of recordBatches(copy)) {
      if (!batch.verifyCrc()) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'bad crc');
      batch.baseOffset = this.logEndOffset;
      this.batches.push({ baseOffset: batch.baseOffset, nextOffset: batch.nextOffset, bytes: Buffer.from(batch.bytes) });
    }
    this.appends++;
    return { baseOffset, lastOffset: this.logEndOffset - 1, logAppendTimeMs: -1, logStartOffset: this.logStartOffset, duplicate: false, flushDue: false };
  }

  flush(): Promise<void> {
    const fail = this.failFlushes;
    if (this.held) {
      return new Promise((resolve, reject) => this.held!.push(() => (fail ? reject(fail) : resolve())));
    }
    return fail ? Promise.reject(fail) : Promise.resolve();
  }

  /** Flushes wait until the returned function is called. */
  holdFlushes(): () => void {
    this.held = [];
    return () => {
      const waiting = this.held ?? [];
      this.held = null;
      for (const release of waiting) release();
    };
  }

  read(fetchOffset: number, opts: ReadOptions): ReadResult {
    const out: Buffer[] = [];
    let bytes = 0;
    for (const b of this.batches) {
      if (b.nextOffset <= fetchOffset) continue;
      if (out.length > 0 && bytes + b.bytes.length > opts.maxBytes) break;
      out.push(b.bytes);
      bytes += b.bytes.length;
    }
    return {
      batches: out,
      bytes,
      highWatermark: this.highWatermark,
      lastStableOffset: this.lastStableOffset,
      logStartOffset: this.logStartOffset,
      abortedTransactions: [],
    };
  }

  offsetForTimestamp(): null {
    return null;
  }
  offsetOfMaxTimestamp(): null {
    return null;
  }
  endOffsetForEpoch(leaderEpoch: number): { leaderEpoch: number; endOffset: number } {
    return { leaderEpoch, endOffset: this.logEndOffset };
  }
  deleteRecordsBefore(offset: number): number {
    this.logStartOffset = Math.max(this.logStartOffset, offset);
    return this.logStartOffset;
  }
  truncateTo(): void {
    throw new Error('not used by the group coordinator');
  }
  truncateFullyAndStartAt(): void {
    throw new Error('not used by the group coordinator');
  }
  updateConfig(): void {}
  producerIds(): { maxProducerId: number } {
    return { maxProducerId: -1 };
  }
  maintain(): void {}
  close(): void {}
}

/** `numPartitions` memory logs standing in for __consumer_offsets; survives a coordinator "restart". */
export class MemoryOffsetsTopic {
  readonly logs: MemoryLog[];
  constructor(readonly numPartitions: number) {
    this.logs = Array.from({ length: numPartitions }, (_, p) => new MemoryLog(p));
  }
  offsetsLog(partition: number): MemoryLog {
    const log = this.logs[partition];
    if (!log) throw new Error(`no partition ${partition}`);
    return log;
  }
}
