// The log of one partition: append (validate, assign offsets, check producer sequences, one write), group-commit
// flush, reads served from the tail cache or the segments, timestamp and epoch lookups, retention, DeleteRecords,
// truncation and compaction. See types.ts for the contract; recovery.ts for how a log is opened.
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/primitives.js';
import {
  computeBatchCrc,
  decodeRecords,
  frameSizeAt,
  framingErrorText,
  LOG_OVERHEAD,
  MAGIC_V2,
  RecordBatch,
  RECORD_BATCH_OVERHEAD,
} from '../protocol/record-batch.js';
import {
  CLEAN_SHUTDOWN_FILE,
  CLEANER_OFFSET_CHECKPOINT_FILE,
  LEADER_EPOCH_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  offsetCheckpointText,
  PARTITION_METADATA_FILE,
  readOffsetCheckpoint,
  RECOVERY_POINT_CHECKPOINT_FILE,
  topicIdText,
  writeOffsetCheckpoint,
} from './checkpoints.js';
import { compactSegments } from './compaction.js';
import { BackgroundFileWriter, storageError, writeFileAtomic, writeFileAtomicAsync, type RetiredPath } from './fs.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { ProducerStateManager, type ProducerStateEntry } from './producer-state.js';
import { loadLog, snapshotFileName, type LoadedLog } from './recovery.js';
import { checkKeys, checkTimestamps, checkTimestampType, recompressBatches } from './produce-policy.js';
import { DELETED_SUFFIX, LOG_SUFFIX, LogSegment, segmentFileName, type SpareFile } from './segment.js';
import { TailCache, type TailRing } from './tail-cache.js';
import type {
  AppendOptions,
  AppendResult,
  LogConfig,
  PartitionLog,
  ProducerIdRange,
  ReadOptions,
  ReadResult,
  StartedRead,
  StorageFs,
  StreamedPart,
  TimestampLookup,
} from './types.js';

const INT32_MAX = 0x7fffffff;

export interface LogDeps {
  fs: StorageFs;
  /** shared chunk buffer for segment scans (recovery, compaction, lookups); all users are synchronous */
  scanScratch: Buffer;
  /** shared buffer for finding a fetch position; results are copied out of it */
  readScratch: Buffer;
  tailCacheBytes: number;
  /** memory shared by every log's tail cache (bounds them all together) */
  tailRing: TailRing;
  /**
   * removes the files of deleted segments after file.delete.delay.ms; `claim(path)`, asked when the delay is over:
   * true when the log took the file over (then it is not removed)
   */
  scheduleDelete(paths: RetiredPath[], delayMs: number, claim?: (path: string) => boolean): void;
  /** checkpoints and index files written off the event loop (see BackgroundFileWriter) */
  background: BackgroundFileWriter;
  /** active segments get their next pages made ahead of the appends (LogSegment.prefill) */
  prefill: boolean;
}

interface FlushRound {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
  /** writes up to this sequence number are durable when the round completes */
  targetSeq: number;
  /** the segments this round fsyncs */
  segments: LogSegment[];
  /** log end offset when the round started */
  endOffset: number;
}

function newRound(): FlushRound {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, targetSeq: 0, segments: [], endOffset: 0 };
}

/** reads up to this size are served through readScratch in one read (header walk and data together) */
const SMALL_READ_BYTES = 64 * 1024;
/**
 * Streamed reads (ReadOptions.stream) go to the threadpool in pieces of this size, so sending can start before the
 * whole range is read. Not smaller: every threadpool job costs a thread wake-up, which on this kind of VM is tens of
 * microseconds of the event loop's time (1 MiB pieces cost a shadow link's source ~0.2 core more at 270 MiB/s).
 */
const STREAM_PIECE_BYTES = 4 * 1024 * 1024;

/** numbers the spare segment files of this process (their names only need to differ from one another) */
let spareSeq = 0;

/** preserve (shadow) appends larger than this skip the tail cache (see append) */
const PRESERVE_TAIL_CACHE_MAX = 64 * 1024;

/**
 * How far ahead of its appends a log has the page-cache pages of its active segment made (LogSegment.prefill): this
 * many appends of the size just seen, within [MIN, MAX] bytes. Kept short: the zeros are dirty pages, an fsync
 * (acks=all) writes them out with the batches before them, and every partition that took an append keeps up to
 * this much past its data in memory and on disk (64 KiB for one trickling small batches).
 */
const PREFILL_APPENDS = 4;
const PREFILL_MIN_BYTES = 64 * 1024;
const PREFILL_MAX_BYTES = 4 * 1024 * 1024;
/**
 * A log whose appends are followed by fsyncs (acks=all, flush.messages) is prefilled differently: one append ahead,
 * and only once the fsync round has finished. An fsync writes every dirty page of the file, zeros past the batches
 * too, so zeros made before it doubled what it wrote; made after it, the next append overwrites them before the next
 * fsync. A log counts as such while flush() was called within this many milliseconds.
 */
const FSYNCED_LOG_MS = 1000;
/** Appends smaller than a page gain nothing from a prefill after an fsync round. */
const PREFILL_AFTER_ROUND_MIN_BYTES = 4096;
/** Smaller segments are not prefilled: a roll (and its cut of the zero tail) would come every few appends. */
const PREFILL_MIN_SEGMENT_BYTES = 1024 * 1024;

export class DiskPartitionLog implements PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly topicId: string;
  readonly dir: string;
  config: LogConfig;

  private readonly fs: StorageFs;
  private readonly deps: LogDeps;
  private segments: LogSegment[];
  private startOffset: number;
  private endOffset: number;
  private recoveryPoint: number;
  /** when the last fsync round started (flush.ms counts from here) */
  private lastFlushStartMs = Date.now();
  private persistedRecoveryPoint = -1;
  /** the epoch checkpoint's content known synced on disk (by the last clean close), null when unknown */
  private durableEpochs: string | null = null;
  /** the log start the checkpoint holds synced on disk (by the last clean close), -1 when unknown */
  private durableLogStart = -1;
  private readonly producers: ProducerStateManager;
  private readonly epochs: LeaderEpochCache;
  private readonly tailCache: TailCache;
  private readonly view = new RecordBatch(Buffer.alloc(0));

  /** set when a write or fsync failed: the log refuses everything until reopened (Kafka takes the dir offline) */
  private failure: KafkaError | null = null;
  private closed = false;

  // group commit
  private writeSeq = 0;
  private durableSeq = 0;
  private readonly unsynced = new Set<LogSegment>();
  /** segments whose index files are being written in the background: writes not landed yet */
  private readonly indexesInBackground = new Map<LogSegment, number>();
  /** rolled segments whose index files wait for an fsync to cover them */
  private readonly indexesAwaitingFlush = new Set<LogSegment>();
  private running: FlushRound | null = null;
  private queued: FlushRound | null = null;
  /** when flush() was last called (see FSYNCED_LOG_MS) */
  private lastFlushCallMs = -Infinity;
  /** bytes of the largest append since the last fsync round, to prefill once it finishes (see FSYNCED_LOG_MS) */
  private prefillAfterRound = 0;

  /** the file of the next segment, created ahead of the roll (prepareSpare); null when there is none (yet) */
  private spare: SpareFile | null = null;
  /** the creation of a spare in flight, settled when its callback has run */
  private spareOpening: Promise<void> | null = null;
  /** creating a spare failed: not tried again before the next segment (the roll creates its file itself) */
  private spareFailed = false;

  // compaction
  private cleanedUpTo = -1;
  private nextTombstoneDueMs = Infinity;

  private constructor(
    deps: LogDeps,
    topic: string,
    partition: number,
    dir: string,
    config: LogConfig,
    loaded: LoadedLog,
  ) {
    this.deps = deps;
    this.fs = deps.fs;
    this.topic = topic;
    this.partition = partition;
    this.dir = dir;
    this.config = config;
    this.topicId = loaded.topicId;
    this.segments = loaded.segments;
    this.startOffset = loaded.logStartOffset;
    this.endOffset = loaded.logEndOffset;
    this.recoveryPoint = loaded.recoveryPoint;
    this.producers = loaded.producers;
    this.epochs = loaded.epochs;
    this.tailCache = new TailCache(deps.tailCacheBytes, deps.tailRing);
  }

  /** Opens (recovering) or creates the log in `dir`. */
  static open(deps: LogDeps, topic: string, partition: number, dir: string, topicId: string, config: LogConfig): DiskPartitionLog {
    const loaded = loadLog(deps.fs, dir, topicId, config, deps.scanScratch);
    const log = new DiskPartitionLog(deps, topic, partition, dir, config, loaded);
    // Each checkpoint is written only when it would change: a restart of a broker with 1,000 partitions wrote 2,000
    // files for nothing, milliseconds each on this machine.
    if (loaded.stored.logStartOffset !== log.startOffset) {
      deps.background.supersede(join(dir, LOG_START_OFFSET_CHECKPOINT_FILE));
      writeOffsetCheckpoint(deps.fs, dir, LOG_START_OFFSET_CHECKPOINT_FILE, log.startOffset, false);
    }
    log.persistedRecoveryPoint = loaded.stored.recoveryPoint ?? -1;
    log.persistRecoveryPoint();
    if (loaded.cleanShutdown) {
      // synced by that close: the next close need not write them again while they stay the same
      log.durableEpochs = loaded.stored.epochs;
      log.durableLogStart = loaded.stored.logStartOffset ?? -1;
    }
    // a restart does not make compacted segments dirty again (a mark past the log end: a crash cut the log)
    const cleaned = readOffsetCheckpoint(deps.fs, dir, CLEANER_OFFSET_CHECKPOINT_FILE);
    if (cleaned !== null) log.cleanedUpTo = Math.min(cleaned, log.endOffset);
    return log;
  }

  /**
   * Makes the directory of a partition that has none yet on the threadpool: the directory, its partition.metadata
   * (synced) and the file of its first segment, both under their own names: nothing is there to replace, and a
   * crash halfway leaves what recovery handles (no or a torn partition.metadata is written again from the topic's
   * id; an empty segment is an empty log). Creating files took milliseconds each on this machine's ext4 (no journal: the inode
   * allocator reads past every recently deleted inode), and the synchronous open of a new log made three files
   * and two fsyncs: a 1,000-partition CreateTopics held the event loop, and every other client, for seconds.
   * Resolves to null when the directory exists (open() it instead: it may hold data), or when `fs` has no
   * asynchronous mkdir, open or writeFile. Rejects with a storage error; what it made is then left to recovery or
   * to the caller's removal of the directory.
   */
  static async prepareNewDir(fs: StorageFs, dir: string, topicId: string): Promise<SpareFile | null> {
    const { mkdir, open, writeFile } = fs;
    if (mkdir === undefined || open === undefined || writeFile === undefined) return null;
    try {
      await new Promise<void>((resolve, reject) => mkdir.call(fs, dir, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
      throw storageError(`creating ${dir} failed`, err);
    }
    try {
      if (topicId !== '' && topicId !== ZERO_UUID) {
        const path = join(dir, PARTITION_METADATA_FILE);
        await new Promise<void>((resolve, reject) => writeFile.call(fs, path, topicIdText(topicId), (err) => (err ? reject(err) : resolve()), { sync: true }));
      }
      const path = join(dir, segmentFileName(0, LOG_SUFFIX));
      const fd = await new Promise<number>((resolve, reject) => open.call(fs, path, 'w+', (err, fd) => (err ? reject(err) : resolve(fd))));
      return { path, fd };
    } catch (err) {
      throw storageError(`creating the files of ${dir} failed`, err);
    }
  }

  /**
   * The empty log of a directory prepareNewDir made: nothing to read or recover, and no checkpoint to write yet
   * (a missing one reads as offset 0, which is what each would say).
   */
  static createPrepared(deps: LogDeps, topic: string, partition: number, dir: string, topicId: string, config: LogConfig, spare: SpareFile): DiskPartitionLog {
    const loaded: LoadedLog = {
      topicId: topicId === '' ? ZERO_UUID : topicId,
      segments: [LogSegment.create(deps.fs, dir, 0, spare)],
      logStartOffset: 0,
      logEndOffset: 0,
      recoveryPoint: 0,
      stored: { logStartOffset: null, recoveryPoint: null, epochs: null },
      producers: new ProducerStateManager(),
      epochs: new LeaderEpochCache(),
      cleanShutdown: false,
      truncatedBytes: 0,
    };
    return new DiskPartitionLog(deps, topic, partition, dir, config, loaded);
  }

  get logStartOffset(): number {
    return this.startOffset;
  }
  get logEndOffset(): number {
    return this.endOffset;
  }
  get highWatermark(): number {
    return this.endOffset;
  }
  get lastStableOffset(): number {
    return this.endOffset;
  }
  get sizeInBytes(): number {
    let size = 0;
    for (const seg of this.segments) size += seg.size;
    return size;
  }
  get isOffline(): boolean {
    return this.failure !== null;
  }
  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  // ---- append ----------------------------------------------------------------------------------------------

  append(input: Buffer, opts: AppendOptions): AppendResult {
    this.checkUsable();
    const preserve = opts.offsets === 'preserve';
    const nowMs = opts.nowMs ?? Date.now();
    const config = this.config;
    let records = input;
    let end = records.length;
    if (end === 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'no record batches');
    const view = this.view;

    // 1. Validate every batch before anything changes: framing, size, CRC, offsets/counts, keys.
    const compacted = config.cleanupPolicy.includes('compact');
    let expectedMin = this.endOffset;
    let hasProducerBatch = false;
    let recompress = false;
    for (let pos = 0; pos < end; ) {
      const size = frameSizeAt(records, pos, end);
      if (size < 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${framingErrorText(size)} at byte ${pos}`);
      view.moveTo(records, pos);
      // A follower (preserve) stores what the source accepted; max.message.bytes is the producer-facing limit.
      if (!preserve && size > config.maxMessageBytes) {
        throw new KafkaError(
          ErrorCode.MESSAGE_TOO_LARGE,
          `batch of ${size} bytes exceeds max.message.bytes ${config.maxMessageBytes}`,
        );
      }
      if (computeBatchCrc(records, pos, size) !== view.crc) {
        throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `CRC mismatch in the batch at byte ${pos}`);
      }
      const lastOffsetDelta = view.lastOffsetDelta;
      if (preserve) {
        const base = view.baseOffset;
        if (base < expectedMin) {
          throw new KafkaError(
            pos === 0 ? ErrorCode.OFFSET_OUT_OF_RANGE : ErrorCode.INVALID_RECORD,
            `batch base offset ${base} is below ${pos === 0 ? 'the log end offset' : 'the previous batch end'} ${expectedMin}`,
          );
        }
        if (lastOffsetDelta < 0) throw new KafkaError(ErrorCode.INVALID_RECORD, `negative lastOffsetDelta ${lastOffsetDelta}`);
        expectedMin = base + lastOffsetDelta + 1;
      } else {
        const count = view.recordCount;
        if (count <= 0 || lastOffsetDelta !== count - 1) {
          throw new KafkaError(
            ErrorCode.INVALID_RECORD,
            `batch has ${count} records but lastOffsetDelta ${lastOffsetDelta}`,
          );
        }
        if (view.isControl) throw new KafkaError(ErrorCode.INVALID_RECORD, 'clients may not write control batches');
        if (view.producerId >= 0 && view.baseSequence < 0) {
          throw new KafkaError(ErrorCode.INVALID_RECORD, `invalid sequence number ${view.baseSequence} in a batch of producer id ${view.producerId}`);
        }
        checkTimestampType(view, config);
        if (config.messageTimestampType === 'CreateTime') checkTimestamps(view, nowMs, config);
        if (config.compression !== null && view.compression !== config.compression) recompress = true;
        // Only compacted topics pay for this: the records have to be decompressed to see their keys.
        if (compacted) checkKeys(view);
      }
      if (view.producerId >= 0) hasProducerBatch = true;
      pos += size;
    }

    // 1b. compression.type names a codec some batch does not use: store a recompressed copy (Kafka's LogValidator
    // does the same; it then merges the batches into one, which a v2 producer sends anyway).
    if (recompress) {
      records = recompressBatches(records, view, config);
      end = records.length;
    }

    // 2. Offsets, and producer sequence checks against the state plus earlier batches of this append.
    let pending: Map<number, ProducerStateEntry> | null = null;
    let firstOffset = -1;
    let next = this.endOffset;
    for (let pos = 0; pos < end; ) {
      view.moveTo(records, pos);
      const base = preserve ? view.baseOffset : next;
      const last = base + view.lastOffsetDelta;
      if (firstOffset < 0) firstOffset = base;
      if (hasProducerBatch && view.producerId >= 0) {
        pending ??= new Map();
        const batch = {
          producerId: view.producerId,
          producerEpoch: view.producerEpoch,
          firstSeq: view.baseSequence,
          lastSeq: view.lastSequence,
          firstOffset: base,
          lastOffset: last,
        };
        if (!preserve && batch.firstSeq >= 0) {
          const duplicate = this.producers.check(batch, pending);
          if (duplicate !== null) {
            return {
              baseOffset: duplicate.firstOffset,
              lastOffset: duplicate.lastOffset,
              logAppendTimeMs: -1,
              logStartOffset: this.startOffset,
              duplicate: true,
              flushDue: false,
            };
          }
        }
        this.producers.update(batch, pending);
      }
      next = last + 1;
      pos += LOG_OVERHEAD + view.batchLength;
    }
    const lastOffset = next - 1;

    // 3-5 touch files: an I/O failure from here on takes the log offline (Kafka takes the log dir offline).
    const logAppendTime = !preserve && config.messageTimestampType === 'LogAppendTime';
    let seg = this.active;
    let position = 0;
    try {
      // 3. Roll first if this append does not belong in the active segment.
      if (this.shouldRoll(seg, end, lastOffset, nowMs)) seg = this.roll(firstOffset);

      // 4. Assign offsets and the leader epoch in place (not covered by the CRC); LogAppendTime needs a new CRC.
      if (!preserve) {
        let offset = this.endOffset;
        for (let pos = 0; pos < end; ) {
          view.moveTo(records, pos);
          view.baseOffset = offset;
          view.partitionLeaderEpoch = opts.leaderEpoch;
          if (logAppendTime) view.setLogAppendTime(nowMs);
          else if (view.timestampType === 'LogAppendTime') view.setCreateTime(); // a CreateTime topic (checkTimestampType)
          offset += view.lastOffsetDelta + 1;
          pos += LOG_OVERHEAD + view.batchLength;
        }
      }

      // 5. Into the page cache (in write() calls of at most 128 KiB: LogSegment.write says why).
      position = seg.size;
      try {
        seg.write(records);
      } catch (err) {
        try {
          seg.truncate(position); // do not leave a partial batch behind (recovery would cut it anyway)
        } catch {
          // offline regardless
        }
        throw err;
      }
    } catch (err) {
      throw this.goOffline(`append to ${seg.logPath} failed`, err);
    }

    // 6. Bookkeeping: indexes, epochs (in memory: see closeFiles), producer state, tail cache.
    for (let pos = 0; pos < end; ) {
      view.moveTo(records, pos);
      const size = LOG_OVERHEAD + view.batchLength;
      const base = view.baseOffset;
      seg.onBatchAppended(base, base + view.lastOffsetDelta, view.maxTimestamp, position + pos, size, config.indexIntervalBytes);
      if (preserve) this.epochs.assign(view.partitionLeaderEpoch, base);
      pos += size;
    }
    if (!preserve) this.epochs.assign(opts.leaderEpoch, firstOffset);
    if (pending !== null) this.producers.commit(pending);
    if (seg.rollBaseMs < 0) seg.rollBaseMs = nowMs;
    const wasEmpty = this.startOffset === this.endOffset;
    this.endOffset = lastOffset + 1;
    this.writeSeq++;
    this.unsynced.add(seg);
    if (this.spare === null && this.spareOpening === null && !this.spareFailed && seg.size * 2 >= config.segmentBytes) {
      this.prepareSpare();
    }
    // Not for a shadow's replicated appends (preserve): they are large and nobody waits on their write the way a
    // producer does, so moving the page-cache cost off the event loop gained nothing there, while the zeros cost
    // the shadow ~18 % more CPU per GiB (0.28-0.30 against 0.24-0.25 cores at 170 MiB/s, bench/RESULTS.md).
    if (this.deps.prefill && !preserve && config.segmentBytes >= PREFILL_MIN_SEGMENT_BYTES) {
      if (nowMs - this.lastFlushCallMs < FSYNCED_LOG_MS) this.prefillAfterRound = Math.max(this.prefillAfterRound, records.length);
      else seg.prefill(Math.min(PREFILL_MAX_BYTES, Math.max(PREFILL_MIN_BYTES, PREFILL_APPENDS * records.length)), config.segmentBytes);
    }
    // A shadow's bulk replication is not kept in the tail cache (a Kafka follower has none either): copying
    // every replicated byte into it was a tenth of the shadow's CPU, for readers a shadow seldom has before
    // failover. Small preserve appends (a partition trickling records) are kept, so tail reads of those stay in
    // memory; clearing on a large one keeps the cache contiguous with the log end.
    if (preserve && records.length > PRESERVE_TAIL_CACHE_MAX) this.tailCache.clear();
    else this.tailCache.append(records);
    this.guarded('checkpoint', () => {
      // A shadow that starts replicating mid-log (start at latest/timestamp, or after the source's retention)
      // begins where the source's data begins, as a Kafka follower does with truncateFullyAndStartAt.
      if (preserve && wasEmpty && firstOffset > this.startOffset) this.advanceLogStart(firstOffset);
    });

    // flush.messages and flush.ms (both off by default: acks=all and the maintenance pass flush instead)
    const flushDue = this.endOffset - this.recoveryPoint >= config.flushMessages;
    if (flushDue || nowMs - this.lastFlushStartMs >= config.flushMs) this.flush().catch(() => undefined);

    return {
      baseOffset: firstOffset,
      lastOffset,
      logAppendTimeMs: logAppendTime ? nowMs : -1,
      logStartOffset: this.startOffset,
      duplicate: false,
      flushDue,
    };
  }

  private shouldRoll(seg: LogSegment, bytes: number, lastOffset: number, nowMs: number): boolean {
    // relative offsets in the index are int32
    if (lastOffset - seg.baseOffset > INT32_MAX) return true;
    if (seg.size === 0) return false;
    if (seg.size + bytes > this.config.segmentBytes) return true;
    if (this.indexFull(seg)) return true;
    return this.rollTimeDue(seg, nowMs);
  }

  /** segment.index.bytes bounds each index file (offset entries 8 bytes, time entries 12), as in Kafka */
  private indexFull(seg: LogSegment): boolean {
    const bytes = this.config.segmentIndexBytes;
    return seg.offsetIndex.entries >= Math.floor(bytes / 8) || seg.timeIndex.entries >= Math.floor(bytes / 12);
  }

  /**
   * segment.ms (for compacted topics at most max.compaction.lag.ms, as Kafka) since the segment's first append,
   * less this segment's share of segment.jitter.ms: a random amount below min(jitter, segment.ms), drawn once per
   * segment, so partitions created together do not all roll at once.
   */
  private rollTimeDue(seg: LogSegment, nowMs: number): boolean {
    if (seg.rollBaseMs < 0) return false;
    const { segmentJitterMs, cleanupPolicy, maxCompactionLagMs } = this.config;
    // a compacted topic's active segment rolls within max.compaction.lag.ms, so that its records can be cleaned
    const segmentMs = cleanupPolicy.includes('compact') ? Math.min(this.config.segmentMs, maxCompactionLagMs) : this.config.segmentMs;
    if (seg.rollJitterMs < 0) {
      seg.rollJitterMs = segmentJitterMs > 0 ? Math.floor(Math.random() * Math.min(segmentJitterMs, segmentMs)) : 0;
    }
    return nowMs - seg.rollBaseMs > segmentMs - seg.rollJitterMs;
  }

  /**
   * Closes the active segment and starts a new one at `baseOffset`; the closed one's index files are written once
   * an fsync covers it (persistFlushedIndexes).
   */
  private roll(baseOffset: number): LogSegment {
    const old = this.active;
    if (old.baseOffset === baseOffset) return old; // nothing written since it started
    if (old.size === 0 && old.baseOffset !== baseOffset) {
      // An empty active segment at the wrong base (offset gap, int32 overflow) is replaced rather than kept.
      this.segments.pop();
      this.unsynced.delete(old);
      this.removeSegment(old, 0);
    } else {
      old.timeIndex.maybeAppend(old.maxTimestamp, old.offsetOfMaxTimestamp); // its final entry, as Kafka adds at a roll
      this.indexesAwaitingFlush.add(old);
      if (old.hasStaleTail) this.endStaleTail(old);
    }
    const seg = this.newSegment(baseOffset);
    this.segments.push(seg);
    return seg;
  }

  /**
   * A rolled segment in a recycled file: END_MARKER after its batches (made durable by the next fsync, like its
   * last batches), then the file cut to them off the event loop. Its index files are written only once the cut
   * landed (persistFlushedIndexes), so a segment recovery trusts by its index files never has a stale tail; one
   * without them is scanned, and the scan stops at the marker.
   */
  private endStaleTail(seg: LogSegment): void {
    this.guarded('roll', () => seg.markEnd());
    this.unsynced.add(seg);
    this.writeSeq++;
    seg.cutTail((ok) => {
      if (ok && !seg.closing && !this.closed && this.failure === null) this.persistFlushedIndexes();
    });
  }

  // ---- flush (group commit) --------------------------------------------------------------------------------

  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve();
    this.lastFlushCallMs = Date.now();
    if (this.durableSeq === this.writeSeq && this.running === null) return Promise.resolve();
    if (this.running !== null) {
      // The fsync in flight covers only writes made before it started; later callers share the next one.
      if (this.running.targetSeq >= this.writeSeq) return this.running.promise;
      this.queued ??= newRound();
      return this.queued.promise;
    }
    const round = newRound();
    this.startRound(round);
    return round.promise;
  }

  private startRound(round: FlushRound): void {
    this.running = round;
    this.lastFlushStartMs = Date.now();
    round.targetSeq = this.writeSeq;
    round.endOffset = this.endOffset;
    const segments = [...this.unsynced];
    round.segments = segments;
    this.unsynced.clear();
    let remaining = segments.length;
    let error: NodeJS.ErrnoException | null = null;
    if (remaining === 0) {
      queueMicrotask(() => this.finishRound(round, null));
      return;
    }
    for (const seg of segments) {
      seg.beginSync();
      this.fs.fsync(seg.fd, (err) => {
        seg.endSync();
        if (err && !error) error = err;
        if (--remaining === 0) this.finishRound(round, error);
      });
    }
  }

  private finishRound(round: FlushRound, err: NodeJS.ErrnoException | null): void {
    this.running = null;
    if (err) {
      // After a failed fsync the page cache may have dropped the data: nothing written may be called durable.
      this.goOffline(`fsync in ${this.dir} failed`, err);
    }
    if (this.failure) {
      round.reject(this.failure);
      this.queued?.reject(this.failure);
      this.queued = null;
      return;
    }
    this.durableSeq = Math.max(this.durableSeq, round.targetSeq);
    this.recoveryPoint = Math.max(this.recoveryPoint, round.endOffset);
    this.persistFlushedIndexes();
    round.resolve();
    if (this.prefillAfterRound >= PREFILL_AFTER_ROUND_MIN_BYTES && !this.closed) {
      this.active.prefill(Math.min(PREFILL_MAX_BYTES, this.prefillAfterRound), this.config.segmentBytes);
    }
    this.prefillAfterRound = 0;
    const queued = this.queued;
    this.queued = null;
    if (queued === null) return;
    if (this.closed) queued.resolve(); // close() fsynced everything synchronously
    else this.startRound(queued);
  }

  // ---- read ------------------------------------------------------------------------------------------------

  read(fetchOffset: number, opts: ReadOptions): ReadResult {
    const prepared = this.prepareRead(fetchOffset, opts);
    if (prepared.ready) return prepared.ready;
    const { seg, buf, position } = prepared.pending;
    return prepared.pending.finish(seg.read(buf, 0, buf.length, position));
  }

  startRead(fetchOffset: number, opts: ReadOptions): StartedRead {
    const prepared = this.prepareRead(fetchOffset, opts);
    if (prepared.ready) return { plannedBytes: prepared.ready.bytes, result: Promise.resolve(prepared.ready) };
    const { seg, buf, position, finish, streamed } = prepared.pending;
    if (streamed !== null) {
      // In pieces, so the caller can send the first while the threadpool reads the rest (pieces are queued in
      // order, and the last absorbs the remainder, so none is small). The caller sends the pieces as they stand:
      // every byte has to arrive (the file only shrinks when the log is truncated, and the fd stays open while
      // a read is in flight).
      const count = Math.max(1, Math.floor(buf.length / STREAM_PIECE_BYTES));
      const streaming: StreamedPart[] = [];
      for (let i = 0; i < count; i++) {
        const from = i * STREAM_PIECE_BYTES;
        const to = i === count - 1 ? buf.length : from + STREAM_PIECE_BYTES;
        const filled = seg.readAsync(buf, from, to - from, position + from).then(
          (have) => {
            if (have !== to - from) {
              const why = `short read: ${have} of ${to - from} bytes at position ${position + from}`;
              throw storageError(`reading ${seg.logPath}`, new Error(why));
            }
          },
          (err: unknown) => {
            throw storageError(`reading ${seg.logPath}`, err);
          },
        );
        const part = count === 1 ? buf : buf.subarray(from, to);
        streaming.push({ part, filled });
        streamed.batches.push(part);
      }
      return { plannedBytes: buf.length, result: Promise.resolve(streamed), streaming };
    }
    const result = seg.readAsync(buf, 0, buf.length, position).then(finish, (err: unknown) => {
      throw storageError(`reading ${seg.logPath}`, err);
    });
    return { plannedBytes: buf.length, result };
  }

  /**
   * Everything a read decides before copying bytes out of a segment file: the range check, the limit (HWM or LSO),
   * the tail cache, and which file range lands in which buffer. What is left (`pending`) is one read of
   * `buf.length` bytes at `position`, done synchronously by read() or on the threadpool by startRead().
   */
  private prepareRead(
    fetchOffset: number,
    opts: ReadOptions,
  ):
    | { ready: ReadResult; pending?: undefined }
    | {
        ready?: undefined;
        /** `streamed`: with opts.stream, the result to hand out before the read (buf holds whole batches) */
        pending: { seg: LogSegment; buf: Buffer; position: number; finish(have: number): ReadResult; streamed: ReadResult | null };
      } {
    this.checkUsable();
    const highWatermark = this.endOffset;
    const lastStableOffset = this.endOffset;
    if (fetchOffset < this.startOffset || fetchOffset > highWatermark) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `fetch offset ${fetchOffset} is outside [${this.startOffset}, ${highWatermark}] of ${this.topic}-${this.partition}`,
      );
    }
    const logStartOffset = this.startOffset;
    const limit = opts.isolation === 'read_committed' ? lastStableOffset : highWatermark;
    const batches: Buffer[] = [];
    const result = (bytes: number): ReadResult => ({ batches, bytes, highWatermark, lastStableOffset, logStartOffset, abortedTransactions: [] });
    if (fetchOffset >= limit) return { ready: result(0) };
    if (opts.bypassCache !== true) {
      const cached = this.tailCache.read(fetchOffset, opts.maxBytes, opts.minOneBatch, limit, batches, opts.alloc, opts.hold);
      if (cached >= 0) return { ready: result(cached) };
    }

    for (let i = this.segmentIndexFor(fetchOffset); i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (seg.size === 0) continue;
      const found = this.locate(seg, fetchOffset, opts.maxBytes);
      if (found === null) continue;
      let want = this.plannedSize(seg, found.position, found.size, opts.maxBytes, opts.minOneBatch);
      if (want === 0) break;
      // Streaming sends the buffer unexamined, so it must end on a batch boundary and hold nothing above the
      // limit (everything in the files is below it unless read_committed stops short of the log end).
      const stream = opts.stream === true && limit >= this.endOffset;
      if (stream) want = this.wholeBatches(seg, found.position, found.size, want);
      // results are handed to sockets, so they never live in storage's scratch: the caller's allocator, or new memory
      const buf = opts.alloc ? opts.alloc(want) : Buffer.allocUnsafe(want);
      const finish = (have: number): ReadResult => result(this.sliceBatches(buf, have, opts.maxBytes, opts.minOneBatch, limit, batches));
      const copied = this.copyFromWindow(seg, found.position, buf);
      if (copied !== null) return { ready: finish(copied) };
      const streamed = stream ? result(want) : null; // startRead adds the pieces
      return { pending: { seg, buf, position: found.position, finish, streamed } };
    }
    return { ready: result(0) };
  }

  /** Index of the segment holding `offset`: the last one whose base is <= offset (the first when none). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  // The window of readScratch filled by the last locate(): file bytes [windowPos, windowPos + windowLen) of windowSeg.
  private windowSeg: LogSegment | null = null;
  private windowPos = 0;
  private windowLen = 0;

  /**
   * Position and size of the first batch in `seg` whose last offset is >= `offset`, or null when the segment ends
   * before it. Starts at the offset index's hint and walks headers through readScratch (one read, usually).
   */
  private locate(seg: LogSegment, offset: number, maxBytes: number): { position: number; size: number } | null {
    // Read enough to cover the walk from the index entry and, for small reads, the result too (then it is copied,
    // not re-read). Large reads go straight from the file into their destination instead of through the scratch.
    const readAhead = Math.min(
      this.deps.readScratch.length,
      this.config.indexIntervalBytes + Math.min(maxBytes, SMALL_READ_BYTES) + RECORD_BATCH_OVERHEAD,
    );
    for (let attempt = 0; ; attempt++) {
      const slot = seg.offsetIndex.lookup(offset);
      const start = slot < 0 ? 0 : seg.offsetIndex.positionAt(slot);
      const expectedBase = slot < 0 ? -1 : seg.offsetIndex.offsetAt(slot);
      const found = this.walkHeaders(seg, start, offset, expectedBase, readAhead);
      if (found !== 'bad-index') return found;
      if (attempt > 0) {
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${seg.logPath} is corrupt at position ${start}`);
      }
      // The index pointed somewhere that is not the batch it names (a stale or damaged file): rebuild it.
      seg.rebuild(false, this.config.indexIntervalBytes, this.deps.scanScratch);
    }
  }

  private walkHeaders(
    seg: LogSegment,
    start: number,
    offset: number,
    expectedBase: number,
    readAhead: number,
  ): { position: number; size: number } | null | 'bad-index' {
    const buf = this.deps.readScratch;
    let filePos = start;
    this.windowSeg = null;
    let winPos = start;
    let winLen = 0;
    let first = true;
    while (filePos < seg.size) {
      if (filePos + RECORD_BATCH_OVERHEAD > winPos + winLen) {
        winPos = filePos;
        winLen = seg.read(buf, 0, Math.min(Math.max(readAhead, RECORD_BATCH_OVERHEAD), seg.size - filePos), filePos);
        if (winLen < RECORD_BATCH_OVERHEAD) break;
      }
      const p = filePos - winPos;
      const batchLength = buf.readInt32BE(p + 8);
      const size = LOG_OVERHEAD + batchLength;
      const base = this.view.moveTo(buf, p).baseOffset;
      const sane = buf[p + 16] === MAGIC_V2 && size >= RECORD_BATCH_OVERHEAD && filePos + size <= seg.size;
      if (first && expectedBase >= 0 && (!sane || base !== expectedBase)) return 'bad-index';
      if (!sane) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${seg.logPath} is corrupt at position ${filePos}`);
      first = false;
      if (base + this.view.lastOffsetDelta >= offset) {
        this.windowSeg = seg;
        this.windowPos = winPos;
        this.windowLen = winLen;
        return { position: filePos, size };
      }
      filePos += size;
    }
    return null;
  }

  /** How many bytes to read from `position` (whole batches up to maxBytes, or the first batch alone); 0 = none. */
  private plannedSize(seg: LogSegment, position: number, firstSize: number, maxBytes: number, minOneBatch: boolean): number {
    if (firstSize > maxBytes && !minOneBatch) return 0;
    return Math.min(seg.size - position, Math.max(maxBytes, firstSize));
  }

  /**
   * `want` bytes from `position` cut back to whole batches: to the last offset-index entry (entries point at batch
   * starts) at or before the end, or to the first batch alone. The segment's end is a boundary as well.
   */
  private wholeBatches(seg: LogSegment, position: number, firstSize: number, want: number): number {
    const end = position + want;
    if (end >= seg.size || want <= firstSize) return want;
    const slot = seg.offsetIndex.lookupPosition(end);
    const boundary = slot < 0 ? -1 : seg.offsetIndex.positionAt(slot);
    return boundary >= position + firstSize ? boundary - position : firstSize;
  }

  /** Fills `buf` from readScratch when the last header walk already read that range; null when it did not. */
  private copyFromWindow(seg: LogSegment, position: number, buf: Buffer): number | null {
    if (this.windowSeg !== seg || position < this.windowPos || position + buf.length > this.windowPos + this.windowLen) return null;
    const from = position - this.windowPos;
    return this.deps.readScratch.copy(buf, 0, from, from + buf.length);
  }

  /** Slices whole batches below `limit` out of the `have` bytes read, within maxBytes (KIP-74: first one always). */
  private sliceBatches(buf: Buffer, have: number, maxBytes: number, minOneBatch: boolean, limit: number, out: Buffer[]): number {
    let total = 0;
    for (let p = 0; p < have; ) {
      const size = frameSizeAt(buf, p, have);
      if (size < 0) break; // the batch that did not fit in maxBytes
      if (this.view.moveTo(buf, p).baseOffset >= limit) break;
      if (total + size > maxBytes && !(minOneBatch && out.length === 0)) break;
      out.push(buf.subarray(p, p + size));
      total += size;
      p += size;
    }
    return total;
  }

  // ---- lookups ---------------------------------------------------------------------------------------------

  offsetForTimestamp(ts: number): TimestampLookup | null {
    this.checkUsable();
    for (let i = this.segmentIndexFor(this.startOffset); i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (seg.size === 0 || seg.maxTimestamp < ts) continue;
      const from = Math.max(seg.timeIndex.offsetFor(ts), this.startOffset);
      const hit: { found: TimestampLookup | null } = { found: null };
      seg.scan(seg.offsetIndex.positionFor(from), false, this.deps.scanScratch, (batch) => {
        if (batch.baseOffset + batch.lastOffsetDelta < this.startOffset || batch.maxTimestamp < ts) return true;
        // Only this batch is decoded: the first record at or after the timestamp is in it.
        for (const rec of decodeRecords(batch)) {
          if (rec.offset >= this.startOffset && rec.timestamp >= ts) {
            hit.found = { offset: rec.offset, timestamp: rec.timestamp, leaderEpoch: batch.partitionLeaderEpoch };
            return false;
          }
        }
        return true;
      });
      if (hit.found !== null) return hit.found;
    }
    return null;
  }

  offsetOfMaxTimestamp(): TimestampLookup | null {
    this.checkUsable();
    let best: LogSegment | null = null;
    for (const seg of this.segments) {
      if (seg.size > 0 && seg.maxTimestamp >= 0 && (best === null || seg.maxTimestamp > best.maxTimestamp)) best = seg;
    }
    if (best === null) return null;
    const maxTs = best.maxTimestamp;
    const hit: { found: TimestampLookup | null } = { found: null };
    best.scan(best.offsetIndex.positionFor(best.offsetOfMaxTimestamp), false, this.deps.scanScratch, (batch) => {
      if (batch.maxTimestamp !== maxTs) return true;
      for (const rec of decodeRecords(batch)) {
        if (rec.timestamp === maxTs) {
          hit.found = { offset: rec.offset, timestamp: maxTs, leaderEpoch: batch.partitionLeaderEpoch };
          return false;
        }
      }
      return true;
    });
    return hit.found;
  }

  endOffsetForEpoch(leaderEpoch: number): { leaderEpoch: number; endOffset: number } {
    this.checkUsable();
    return this.epochs.endOffsetFor(leaderEpoch, this.endOffset);
  }

  producerIds(): ProducerIdRange {
    return { maxProducerId: this.producers.maxProducerId };
  }

  // ---- deleting and truncating -----------------------------------------------------------------------------

  deleteRecordsBefore(offset: number): number {
    this.checkUsable();
    if (offset > this.highWatermark) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `cannot delete records before ${offset}: the high watermark is ${this.highWatermark}`,
      );
    }
    if (offset <= this.startOffset) return this.startOffset;
    this.guarded('DeleteRecords', () => {
      this.advanceLogStart(offset);
      this.deleteSegmentsBelowLogStart();
    });
    return this.startOffset;
  }

  private advanceLogStart(offset: number): void {
    if (offset <= this.startOffset) return;
    this.startOffset = offset;
    // Replaced atomically (a process crash keeps it) but not fsynced: DeleteRecords, retention and a shadow
    // following its source's log start move it many times a second, and an fsync on the event loop each time was
    // a stall of up to tens of ms. After a power loss the log start may go back to an earlier checkpoint (never
    // below the first segment left), as with Kafka's periodic log-start checkpoint; a clean close fsyncs it.
    this.deps.background.write(join(this.dir, LOG_START_OFFSET_CHECKPOINT_FILE), offsetCheckpointText(offset));
    this.producers.removeBefore(offset);
    // The epoch cache drops what lies below the new log start in memory only: opening the log cuts the checkpointed
    // epochs at the checkpointed log start again (recovery.ts), and the next write of the epochs (a new epoch, a
    // truncation, a clean close) carries the cut. Writing it here too was one more background write and sync per
    // log-start move (Kafka made this write asynchronous, KAFKA-15046); at 256 partitions following a source's
    // DeleteRecords, half of a shadow's checkpoint writes.
    this.epochs.truncateFromStart(offset);
    this.tailCache.dropBefore(offset);
  }

  /** Deletes whole segments whose every offset is below the log start (rolling the active one when it is). */
  private deleteSegmentsBelowLogStart(): void {
    const active = this.active;
    if (active.size > 0 && active.nextOffset <= this.startOffset) this.roll(this.endOffset);
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= this.startOffset) this.deleteOldestSegment();
  }

  private deleteOldestSegment(): void {
    const seg = this.segments.shift()!;
    this.unsynced.delete(seg);
    const delayMs = this.config.fileDeleteDelayMs;
    if (delayMs > 0) this.removeThenReuse(seg, delayMs);
    else if (!this.recycle(seg)) this.removeSegment(seg, 0);
    const newStart = this.segments[0]!.baseOffset;
    if (newStart > this.startOffset) this.advanceLogStart(newStart);
  }

  truncateTo(offset: number): void {
    this.checkUsable();
    if (offset >= this.endOffset) return;
    if (offset < 0) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `cannot truncate to ${offset}`);
    this.tailCache.clear();
    const scratch = this.deps.scanScratch;
    try {
      if (offset < this.startOffset || offset <= this.segments[0]!.baseOffset) {
        // Nothing below the target survives: start over with an empty log at `offset`.
        for (const seg of this.segments.splice(0)) {
          this.unsynced.delete(seg);
          this.removeSegment(seg, 0);
        }
        this.segments.push(this.newSegment(offset));
        this.startOffset = offset;
        this.writeLogStartNow(offset);
      } else {
        while (this.active.baseOffset >= offset) {
          const seg = this.segments.pop()!;
          this.unsynced.delete(seg);
          this.removeSegment(seg, 0);
        }
        const seg = this.active;
        // Cut before the first batch that reaches `offset` (a batch is never split).
        let cut = -1;
        seg.scan(seg.offsetIndex.positionFor(offset), false, scratch, (batch, position) => {
          if (batch.baseOffset + batch.lastOffsetDelta >= offset) {
            cut = position;
            return false;
          }
          return true;
        });
        if (cut >= 0) seg.truncate(cut);
        seg.rebuild(false, this.config.indexIntervalBytes, scratch);
        this.unsynced.add(seg);
        // Keep the log end at `offset` across a restart, as Kafka does, when the cut batch ended beyond it.
        if (seg.nextOffset < offset) this.roll(offset);
      }
      this.endOffset = offset;
      this.recoveryPoint = Math.min(this.recoveryPoint, offset);
      this.afterTruncation(offset);
      this.writeSeq++;
      this.epochs.truncateFromEnd(offset);
      this.epochs.truncateFromStart(this.startOffset);
      this.rebuildProducerState();
    } catch (err) {
      if (err instanceof KafkaError) throw err;
      throw this.goOffline(`truncation of ${this.dir} failed`, err);
    }
  }

  truncateFullyAndStartAt(offset: number): void {
    this.checkUsable();
    if (offset < 0) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `cannot start the log at ${offset}`);
    this.tailCache.clear();
    this.guarded('truncateFullyAndStartAt', () => {
      for (const seg of this.segments.splice(0)) {
        this.unsynced.delete(seg);
        this.removeSegment(seg, 0);
      }
      this.segments.push(this.newSegment(offset));
      this.startOffset = offset;
      this.endOffset = offset;
      this.recoveryPoint = offset;
      this.afterTruncation(offset);
      this.writeLogStartNow(offset);
      this.persistRecoveryPoint();
      this.writeSeq++;
      this.epochs.truncateFromEnd(offset);
      this.epochs.truncateFromStart(offset);
      // no batch is left, but the id allocator must stay above every id ever seen
      const maxProducerId = this.producers.maxProducerId;
      this.producers.clear();
      this.producers.maxProducerId = maxProducerId;
    });
  }

  /**
   * After a truncation to `offset`: an fsync round in flight covers at most what is left of the log, and
   * compaction's clean mark (cleanedUpTo) lies no further either (Kafka truncates its cleaner checkpoint too).
   */
  private afterTruncation(offset: number): void {
    if (this.running !== null) this.running.endOffset = Math.min(this.running.endOffset, offset);
    if (this.cleanedUpTo > offset) this.setCleanedUpTo(offset);
  }

  private setCleanedUpTo(offset: number): void {
    this.cleanedUpTo = offset;
    this.deps.background.write(join(this.dir, CLEANER_OFFSET_CHECKPOINT_FILE), offsetCheckpointText(offset));
  }

  private rebuildProducerState(): void {
    const maxProducerId = this.producers.maxProducerId;
    this.producers.clear();
    for (const seg of this.segments) {
      seg.scan(0, false, this.deps.scanScratch, (batch) => {
        if (batch.producerId < 0) return;
        this.producers.update({
          producerId: batch.producerId,
          producerEpoch: batch.producerEpoch,
          firstSeq: batch.baseSequence,
          lastSeq: batch.lastSequence,
          firstOffset: batch.baseOffset,
          lastOffset: batch.baseOffset + batch.lastOffsetDelta,
        });
      });
    }
    // The id allocator must stay above every id ever seen, truncated or not.
    this.producers.maxProducerId = Math.max(this.producers.maxProducerId, maxProducerId);
  }

  // ---- maintenance -----------------------------------------------------------------------------------------

  updateConfig(config: LogConfig): void {
    this.config = config;
  }

  maintain(nowMs: number): void {
    if (this.closed || this.failure) return;
    try {
      const config = this.config;
      const active = this.active;
      if (active.size > 0 && this.rollTimeDue(active, nowMs)) this.roll(this.endOffset);
      if (config.cleanupPolicy.includes('delete')) this.applyRetention(nowMs);
      if (config.cleanupPolicy.includes('compact')) this.compact(nowMs);
      this.persistRecoveryPoint();
    } catch (err) {
      if (err instanceof KafkaError) throw err;
      throw this.goOffline(`maintenance of ${this.dir} failed`, err);
    }
    // Bound what a crash can make recovery scan, even when nobody asks for durability.
    if (this.writeSeq !== this.durableSeq) this.flush().catch(() => undefined);
  }

  private applyRetention(nowMs: number): void {
    const { retentionMs, retentionBytes } = this.config;
    if (retentionMs >= 0) {
      const cutoff = nowMs - retentionMs;
      const active = this.active;
      // An expired active segment is rolled so that it can go too (Kafka does the same).
      if (active.size > 0 && active.maxTimestamp < cutoff && this.segments.every((s) => s.maxTimestamp < cutoff)) {
        this.roll(this.endOffset);
      }
      while (this.segments.length > 1 && this.segments[0]!.maxTimestamp < cutoff) this.deleteOldestSegment();
    }
    if (retentionBytes >= 0) {
      let excess = this.sizeInBytes - retentionBytes;
      while (this.segments.length > 1 && excess - this.segments[0]!.size >= 0) {
        excess -= this.segments[0]!.size;
        this.deleteOldestSegment();
      }
    }
  }

  private compact(nowMs: number): void {
    const lagCutoff = nowMs - this.config.minCompactionLagMs;
    let count = 0;
    while (count < this.segments.length - 1 && this.segments[count]!.maxTimestamp <= lagCutoff) count++;
    if (count === 0) return;
    const firstUncleanable = this.segments[count]!.baseOffset;
    if (nowMs < this.nextTombstoneDueMs && !this.compactionDue(count, firstUncleanable, nowMs)) return;

    const cleanable = this.segments.slice(0, count);
    // compaction rewrites these segments' index files itself
    for (const seg of cleanable) this.supersedeIndexes(seg);
    const swap = (original: LogSegment, replacement: LogSegment | null): void => {
      const i = this.segments.indexOf(original);
      this.unsynced.delete(original);
      original.close(); // its file was renamed over; the fd closes once no fsync in flight uses it
      if (replacement === null) {
        this.segments.splice(i, 1);
        this.removeSegment(original, 0);
      } else {
        this.segments[i] = replacement;
      }
    };
    const result = compactSegments(
      {
        fs: this.fs,
        dir: this.dir,
        segments: cleanable,
        nowMs,
        deleteRetentionMs: this.config.deleteRetentionMs,
        indexIntervalBytes: this.config.indexIntervalBytes,
        scratch: this.deps.scanScratch,
        isLastBatchOfProducer: (producerId, lastOffset) => {
          const entry = this.producers.get(producerId);
          const last = entry?.batches[entry.batches.length - 1];
          return last !== undefined && last.lastOffset === lastOffset;
        },
      },
      swap,
    );
    this.setCleanedUpTo(firstUncleanable);
    this.nextTombstoneDueMs = result.nextTombstoneDueMs;
    // Cached batches of rewritten segments would still show the records compaction removed.
    this.tailCache.dropBefore(firstUncleanable);
  }

  /**
   * Kafka's cleaner choice for one log: compact when the dirty part (closed segments past the last compaction, up
   * to `firstUncleanable`) is at least min.cleanable.dirty.ratio of the cleanable bytes, or when its oldest record
   * (by its segment's first record time) is older than max.compaction.lag.ms. Rewriting a large clean log for a
   * sliver of new data on every maintenance pass is what the ratio prevents. The clean mark survives a restart
   * (CLEANER_OFFSET_CHECKPOINT_FILE).
   */
  private compactionDue(count: number, firstUncleanable: number, nowMs: number): boolean {
    if (firstUncleanable <= this.cleanedUpTo) return false;
    let clean = 0;
    let dirty = 0;
    let oldestDirtyMs = Infinity;
    for (let i = 0; i < count; i++) {
      const seg = this.segments[i]!;
      if (seg.baseOffset < this.cleanedUpTo) {
        clean += seg.size;
      } else {
        dirty += seg.size;
        // the segment's first record time, bounded by its roll clock (first append, or first batch when
        // reopened) and its newest record; Kafka too leaves out segments without timestamps
        for (const first of [seg.rollBaseMs, seg.maxTimestamp]) if (first > 0 && first < oldestDirtyMs) oldestDirtyMs = first;
      }
    }
    if (dirty === 0) return false;
    if (oldestDirtyMs !== Infinity && nowMs - oldestDirtyMs > this.config.maxCompactionLagMs) return true;
    return dirty / (clean + dirty) >= this.config.minCleanableDirtyRatio;
  }

  // ---- persistence helpers ---------------------------------------------------------------------------------

  /** Retires a segment: its files are renamed now and removed after `delayMs` (no pending index write lands). */
  private removeSegment(seg: LogSegment, delayMs: number): void {
    this.supersedeIndexes(seg);
    this.deps.scheduleDelete(seg.markDeleted(), delayMs);
  }

  /**
   * Keeps the file of a segment leaving the log under retention (or below a raised log start) as the spare of the
   * next segment, when nothing waits to look at it (file.delete.delay.ms 0) and the log has no recycled spare yet
   * (a new, empty one is given up for it). See LogSegment.recycle; false: remove it the usual way.
   */
  private recycle(seg: LogSegment): boolean {
    if (this.config.fileDeleteDelayMs !== 0 || !this.wantsReusedFile() || seg.size === 0) return false;
    this.supersedeIndexes(seg);
    const recycled = seg.recycle(join(this.dir, `next-${++spareSeq}.log.tmp`));
    if (recycled === null) return false;
    this.takeReusedFile(recycled.spare);
    this.deps.scheduleDelete(recycled.retired, 0);
    return true;
  }

  /** Whether a removed segment's file would be taken as the spare: the log is open and has no such spare yet. */
  private wantsReusedFile(): boolean {
    return !this.closed && this.failure === null && (this.spare?.staleBytes ?? 0) === 0;
  }

  /** Makes a removed segment's file the spare, giving up a new, empty one. */
  private takeReusedFile(spare: SpareFile): void {
    if (this.spare !== null) this.discardSpare(this.spare);
    this.spare = spare;
    this.spareFailed = false;
  }

  /**
   * removeSegment for file.delete.delay.ms; then, instead of removing its log file, the log may take it over as the
   * file of its next segment (adoptRetired), as recycle() does at once when there is no delay. Its pages are then
   * likely still in the page cache, unless memory ran short meanwhile.
   */
  private removeThenReuse(seg: LogSegment, delayMs: number): void {
    this.supersedeIndexes(seg);
    const staleBytes = seg.fileEnd;
    const staleNextOffset = seg.offsetsHeldEnd;
    const logFile = seg.logPath + DELETED_SUFFIX;
    const retired = seg.markDeleted();
    const reusable = seg.size > 0 && retired.some((r) => r.path === logFile);
    // not while a read still holds the old fd: it would see the next segment's bytes
    const claim = (path: string): boolean => path === logFile && seg.fdClosed && this.adoptRetired(path, staleBytes, staleNextOffset);
    this.deps.scheduleDelete(retired, delayMs, reusable ? claim : undefined);
  }

  /** Takes a retired segment file over as the spare (see removeThenReuse); false leaves it to be removed. */
  private adoptRetired(path: string, staleBytes: number, staleNextOffset: number): boolean {
    if (!this.wantsReusedFile()) return false;
    const spare = join(this.dir, `next-${++spareSeq}.log.tmp`);
    try {
      this.fs.renameSync(path, spare);
    } catch {
      return false;
    }
    let fd: number;
    try {
      fd = this.fs.openSync(spare, 'r+'); // an existing file: no inode to allocate
    } catch {
      this.deps.scheduleDelete([{ path: spare, fileBytes: staleBytes }], 0);
      return true;
    }
    this.takeReusedFile({ path: spare, fd, staleBytes, staleNextOffset });
    return true;
  }

  /** A new, empty segment at `baseOffset` (an index write of an earlier segment at that base does not land). */
  private newSegment(baseOffset: number): LogSegment {
    let spare = this.spare ?? undefined;
    this.spare = null;
    // A recycled file holding offsets at or above the new base (after a truncation) could pass them off as this
    // segment's in a recovery scan: it is given up.
    if (spare !== undefined && (spare.staleNextOffset ?? 0) > baseOffset) {
      this.discardSpare(spare);
      spare = undefined;
    }
    this.spareFailed = false;
    const seg = LogSegment.create(this.fs, this.dir, baseOffset, spare);
    this.supersedeIndexes(seg);
    return seg;
  }

  /**
   * Creates the file of the next segment on the threadpool once the active segment is half full, so that the roll
   * only renames it. Creating a file took ~1 ms of the event loop at every roll on this machine's ext4 (no journal:
   * the inode allocator reads past every inode deleted in the last minutes, and a log under retention or trimming
   * deletes segments all the time), and partitions filled evenly roll together: at 256 partitions with small
   * segments, tens of milliseconds at a time. A spare left by a crash ends in .tmp and is removed at the next open.
   */
  private prepareSpare(): void {
    const open = this.fs.open;
    if (open === undefined || this.closed || this.failure) return;
    const path = join(this.dir, `next-${++spareSeq}.log.tmp`);
    this.spareOpening = new Promise<void>((resolve) => {
      open.call(this.fs, path, 'w+', (err, fd) => {
        this.spareOpening = null;
        resolve();
        if (err) {
          this.spareFailed = true;
          return;
        }
        const spare = { path, fd };
        if (this.closed || this.failure || this.spare !== null) this.discardSpare(spare); // a recycled one came first
        else this.spare = spare;
      });
    });
  }

  /** Settles once no spare segment file is being created (Storage.close waits for it: nothing is left behind). */
  async sparesSettled(): Promise<void> {
    await this.spareOpening;
  }

  private discardSpare(spare: SpareFile): void {
    try {
      this.fs.closeSync(spare.fd);
      this.fs.rmSync(spare.path);
    } catch {
      // a temporary name: the next open removes it
    }
  }

  private supersedeIndexes(seg: LogSegment): void {
    this.deps.background.supersede(seg.indexPath);
    this.deps.background.supersede(seg.timeIndexPath);
  }

  /**
   * The index files of rolled segments an fsync now covers. Not at the roll itself: recovery after a crash rebuilds
   * the indexes of every segment past the recovery point whatever files it finds, so until an fsync covers a
   * segment its index files would be written for nothing — and a segment removed before that (retention,
   * DeleteRecords, a shadow following its source's log start) never costs index files at all: two file creations,
   * renames and removals fewer per roll, which at many partitions with small segments rolled tens of times a
   * second was a large part of both brokers' event loops. close() writes whatever is still waiting.
   */
  private persistFlushedIndexes(): void {
    // a copy: a write that fails puts its segment back into the set
    for (const seg of [...this.indexesAwaitingFlush]) {
      if (seg.closing) {
        this.indexesAwaitingFlush.delete(seg); // removed, truncated away or replaced by compaction
        continue;
      }
      if (seg.nextOffset > this.recoveryPoint || seg.hasStaleTail) continue;
      this.indexesAwaitingFlush.delete(seg);
      if (seg.indexesDirty) this.persistIndexesInBackground(seg);
    }
  }

  /**
   * The index files of a rolled segment, written off the event loop (creating two files was a stall of tens of ms
   * at every roll under load). Until both land, close() writes them itself; if a crash comes first, recovery
   * rebuilds missing indexes.
   */
  private persistIndexesInBackground(seg: LogSegment): void {
    const [offsetIndex, timeIndex] = seg.serializeIndexes();
    this.indexesInBackground.set(seg, 2);
    const landed = (ok: boolean): void => {
      if (!ok) {
        seg.indexesDirty = true;
        if (!seg.closing) this.indexesAwaitingFlush.add(seg); // tried again after the next fsync
      }
      const left = (this.indexesInBackground.get(seg) ?? 1) - 1;
      if (left <= 0) this.indexesInBackground.delete(seg);
      else this.indexesInBackground.set(seg, left);
    };
    const fresh = !seg.indexFilesMayExist;
    seg.indexFilesMayExist = true;
    this.deps.background.write(seg.indexPath, offsetIndex, landed, fresh);
    this.deps.background.write(seg.timeIndexPath, timeIndex, landed, fresh);
  }

  private writeLogStartNow(offset: number): void {
    this.deps.background.supersede(join(this.dir, LOG_START_OFFSET_CHECKPOINT_FILE));
    writeOffsetCheckpoint(this.fs, this.dir, LOG_START_OFFSET_CHECKPOINT_FILE, offset, true);
  }

  /**
   * Recovery trusts the index files of segments below the checkpointed recovery point. A closed segment whose
   * index files on disk may be older than its indexes (a write not landed or failed: e.g. the segment that was
   * active at the last clean close, grown and rolled since) must therefore stay above it, so that a crash has its
   * indexes rebuilt rather than trusted.
   */
  private persistRecoveryPoint(): void {
    let point = this.recoveryPoint;
    const active = this.active;
    for (const seg of this.segments) {
      if (seg === active || seg.baseOffset >= point) break;
      if (seg.indexFilesMayExist && (seg.indexesDirty || this.indexesInBackground.has(seg))) {
        point = seg.baseOffset;
        break;
      }
    }
    if (point === this.persistedRecoveryPoint) return;
    writeOffsetCheckpoint(this.fs, this.dir, RECOVERY_POINT_CHECKPOINT_FILE, point, false);
    this.persistedRecoveryPoint = point;
  }

  /** Records the first storage failure; from then on the log refuses everything until reopened. */
  private goOffline(what: string, err: unknown): KafkaError {
    this.failure ??= err instanceof KafkaError && err.code === ErrorCode.KAFKA_STORAGE_ERROR ? err : storageError(what, err);
    return this.failure;
  }

  /** Runs file work whose plain I/O errors mean the log can no longer be trusted. */
  private guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof KafkaError && err.code !== ErrorCode.KAFKA_STORAGE_ERROR) throw err;
      throw this.goOffline(`${what} in ${this.dir} failed`, err);
    }
  }

  private checkUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.topic}-${this.partition} is closed`);
  }

  /**
   * Clean close: fsync, write the active segment's indexes, a producer snapshot and the checkpoints, then the
   * clean-shutdown marker, last. A log that failed (or fails here) closes without the marker, so the next open
   * recovers it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failure === null) {
      try {
        for (const seg of this.segments.filter((x) => x.hasStaleTail)) {
          seg.cutTailSync();
          this.unsynced.add(seg); // the new length too must be on disk before the marker
        }
        for (const seg of this.segmentsToSyncAtClose()) this.fs.fsyncSync(seg.fd);
        for (const f of this.closeFiles()) writeFileAtomic(this.fs, f.path, f.data, f.durable);
        // Zeros still in flight (LogSegment.prefill) could lengthen a file after its cut, and a clean open trusts
        // file sizes: then the next open recovers instead (closeCleanly waits for them).
        if (!this.segments.some((seg) => seg.prefillInFlight)) writeFileAtomic(this.fs, join(this.dir, CLEAN_SHUTDOWN_FILE), '', true);
      } catch (err) {
        this.failure = storageError(`clean close of ${this.dir} failed`, err);
      }
    }
    this.release();
  }

  /**
   * close(), with its fsyncs and files on the threadpool, all at once, and the clean-shutdown marker last
   * (Storage.close closes many logs so). Done synchronously, a broker with 1,000 partitions took ~10 s to stop on
   * this machine: seven file creations and five fsyncs a partition, one after another on the event loop.
   */
  async closeCleanly(): Promise<void> {
    const fs = this.fs;
    if (this.closed || this.failure !== null || fs.writeFile === undefined) return this.close();
    this.closed = true;
    try {
      // recycled files cut to their segments (a clean open trusts the file sizes), then everything fsynced
      const stale = this.segments.filter((seg) => seg.hasStaleTail);
      await Promise.all(
        stale.map((seg) => new Promise<void>((resolve, reject) => seg.cutTail((ok) => (ok ? resolve() : reject(new Error(`cutting ${seg.logPath} to ${seg.size} bytes failed`)))))),
      );
      for (const seg of stale) this.unsynced.add(seg);
      const segments = this.segmentsToSyncAtClose();
      await Promise.all(segments.map((seg) => new Promise<void>((resolve, reject) => fs.fsync(seg.fd, (err) => (err ? reject(err) : resolve())))));
      // every write settles before the marker, or before giving up without it
      const written = await Promise.allSettled(this.closeFiles().map((f) => writeFileAtomicAsync(fs, f.path, f.data, f.durable)));
      const failed = written.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      await writeFileAtomicAsync(fs, join(this.dir, CLEAN_SHUTDOWN_FILE), '', true);
    } catch (err) {
      this.failure = storageError(`clean close of ${this.dir} failed`, err);
    }
    this.release();
  }

  /** The segments a clean close fsyncs, also those of an fsync still in flight: the marker must not get ahead of the data. */
  private segmentsToSyncAtClose(): LogSegment[] {
    const segments = [...new Set([...this.unsynced, ...(this.running?.segments ?? [])])];
    this.unsynced.clear();
    this.durableSeq = this.writeSeq;
    this.indexesAwaitingFlush.clear();
    return segments;
  }

  /**
   * What a clean close writes before its marker (background writes of the same paths superseded): the index files
   * that are not on disk yet, the producer snapshot, and each checkpoint that differs from what the last clean
   * close synced (a restart of many idle partitions wrote them all again). The epoch checkpoint is written here
   * only: it is read only after a clean close (recovery.ts: after a crash the epochs come from the batch headers).
   * It used to be written and fsynced on the event loop at every new epoch, the first append to each new partition
   * included: the first produce to a new 1,000-partition topic held every client for a second on this machine. The
   * recovery point is not synced: after a clean close the next open ignores it (and writes its own), and an older
   * one that a power loss brings back only makes a later recovery scan more.
   */
  private closeFiles(): { path: string; data: Buffer | string; durable: boolean }[] {
    const files: { path: string; data: Buffer | string; durable: boolean }[] = [];
    for (const seg of this.segments) {
      if (!seg.indexesDirty && !this.indexesInBackground.has(seg)) continue;
      this.supersedeIndexes(seg);
      const [offsetIndex, timeIndex] = seg.serializeIndexes();
      files.push({ path: seg.indexPath, data: offsetIndex, durable: false }, { path: seg.timeIndexPath, data: timeIndex, durable: false });
    }
    files.push({ path: join(this.dir, snapshotFileName(this.endOffset)), data: this.producers.serialize(this.endOffset), durable: true });
    const epochs = this.epochs.serialize();
    if (epochs !== this.durableEpochs) {
      const path = join(this.dir, LEADER_EPOCH_CHECKPOINT_FILE);
      this.deps.background.supersede(path);
      files.push({ path, data: epochs, durable: true });
    }
    if (this.startOffset !== this.durableLogStart) {
      const path = join(this.dir, LOG_START_OFFSET_CHECKPOINT_FILE);
      this.deps.background.supersede(path);
      files.push({ path, data: offsetCheckpointText(this.startOffset), durable: true });
    }
    this.recoveryPoint = this.endOffset;
    if (this.persistedRecoveryPoint !== this.recoveryPoint) {
      files.push({ path: join(this.dir, RECOVERY_POINT_CHECKPOINT_FILE), data: offsetCheckpointText(this.recoveryPoint), durable: false });
    }
    return files;
  }

  /** What every close ends with: waiters answered, files closed, memory let go. */
  private release(): void {
    if (this.running === null && this.queued !== null) {
      if (this.failure) this.queued.reject(this.failure);
      else this.queued.resolve();
      this.queued = null;
    }
    for (const seg of this.segments) seg.close();
    if (this.spare !== null) this.discardSpare(this.spare);
    this.spare = null;
    this.tailCache.clear();
  }
}
