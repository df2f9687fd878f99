// Opening a partition directory: load segments and indexes, recover after a crash, rebuild producer state and the
// leader epoch cache.
//
// After a clean close (the `.clean-shutdown` marker exists) the index files, the producer snapshot and the epoch
// checkpoint are trusted; only the tail of the last segment after its last index entry is re-read (cheap) to find
// the log end offset.
// After a crash, every segment that may hold data written after the recovery point (the last offset known to be
// fsynced) is scanned batch by batch, checking framing, offsets and CRC32C; the first bad batch and everything
// after it is cut off (a torn tail is never served), and indexes are rebuilt from what remains. Producer state and
// epochs are then rebuilt from the batch headers of the whole log, in the same pass.
// A missing or implausible index file is rebuilt the same way, whatever the shutdown.
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/primitives.js';
import type { RecordBatch } from '../protocol/record-batch.js';
import {
  CLEAN_SHUTDOWN_FILE,
  LEADER_EPOCH_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  PRODUCER_SNAPSHOT_SUFFIX,
  readOffsetCheckpoint,
  readTopicId,
  RECOVERY_POINT_CHECKPOINT_FILE,
  writeTopicId,
} from './checkpoints.js';
import { readFileOrNull } from './fs.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { ProducerStateManager } from './producer-state.js';
import { CLEANED_SUFFIX, DELETED_SUFFIX, LogSegment, parseSegmentFileName, type ScanResult } from './segment.js';
import type { LogConfig, StorageFs } from './types.js';

export interface LoadedLog {
  topicId: string;
  segments: LogSegment[];
  logStartOffset: number;
  logEndOffset: number;
  recoveryPoint: number;
  /**
   * What the log-start and recovery-point checkpoint files hold (null: none, or unreadable), and after a clean
   * close, which synced all three, the epoch checkpoint's content as serialized (else null).
   */
  stored: { logStartOffset: number | null; recoveryPoint: number | null; epochs: string | null };
  producers: ProducerStateManager;
  epochs: LeaderEpochCache;
  /** true when the previous close was clean */
  cleanShutdown: boolean;
  /** bytes cut off torn or corrupt tails */
  truncatedBytes: number;
}

export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, '0')}${PRODUCER_SNAPSHOT_SUFFIX}`;
}

/** Opens (creating when new) and recovers the log in `dir`. */
export function loadLog(fs: StorageFs, dir: string, topicId: string, config: LogConfig, scratch: Buffer): LoadedLog {
  fs.mkdirSync(dir);
  const storedTopicId = readTopicId(fs, dir);
  const givenTopicId = topicId && topicId !== ZERO_UUID ? topicId : null;
  if (storedTopicId !== null && givenTopicId !== null && storedTopicId !== givenTopicId) {
    throw new KafkaError(
      ErrorCode.INCONSISTENT_TOPIC_ID,
      `${dir} belongs to topic id ${storedTopicId}, not ${givenTopicId}`,
    );
  }
  const resolvedTopicId = storedTopicId ?? givenTopicId ?? ZERO_UUID;
  if (storedTopicId === null && givenTopicId !== null) writeTopicId(fs, dir, givenTopicId);

  const cleanShutdown = fs.existsSync(join(dir, CLEAN_SHUTDOWN_FILE));
  const names = fs.readdirSync(dir);
  const bases: number[] = [];
  const snapshots: string[] = [];
  for (const name of names) {
    // Leftovers of interrupted work: a compaction output never swapped in, deleted segments awaiting removal,
    // temporary files of atomic replaces.
    if (name.endsWith(CLEANED_SUFFIX) || name.endsWith(DELETED_SUFFIX) || name.endsWith('.tmp')) {
      fs.rmSync(join(dir, name));
      continue;
    }
    if (name.endsWith(PRODUCER_SNAPSHOT_SUFFIX)) snapshots.push(name);
    const base = parseSegmentFileName(name);
    if (base !== null) bases.push(base);
  }
  bases.sort((a, b) => a - b);
  // Index files whose segment file is gone (a crash between removing the one and the other) must not outlive it:
  // a segment created later at the same base (after a truncation) would trust them (LogSegment.create).
  const baseSet = new Set(bases);
  for (const name of names) {
    const m = /^(\d{20})\.(index|timeindex)$/.exec(name);
    if (m && !baseSet.has(Number(m[1]))) fs.rmSync(join(dir, name));
  }

  const logStartCheckpoint = readOffsetCheckpoint(fs, dir, LOG_START_OFFSET_CHECKPOINT_FILE);
  const storedRecoveryPoint = readOffsetCheckpoint(fs, dir, RECOVERY_POINT_CHECKPOINT_FILE);
  const recoveryPoint = cleanShutdown ? Infinity : (storedRecoveryPoint ?? 0);

  const epochEntries = cleanShutdown ? parseEpochFile(fs, dir) : null;
  // Producer state and epochs come from the batch headers unless a clean close left both behind.
  let rebuildState = !cleanShutdown || epochEntries === null || snapshots.length === 0;
  const producers = new ProducerStateManager();
  const epochs = new LeaderEpochCache(rebuildState ? [] : epochEntries!);

  const segments: LogSegment[] =
    bases.length === 0
      ? [LogSegment.create(fs, dir, logStartCheckpoint ?? 0)]
      : bases.map((base) => LogSegment.open(fs, dir, base));

  const interval = config.indexIntervalBytes;
  let truncatedBytes = 0;
  const visitState = (batch: RecordBatch): void => {
    epochs.assign(batch.partitionLeaderEpoch, batch.baseOffset);
    const producerId = batch.producerId;
    if (producerId >= 0) {
      const firstOffset = batch.baseOffset;
      producers.update({
        producerId,
        producerEpoch: batch.producerEpoch,
        firstSeq: batch.baseSequence,
        lastSeq: batch.lastSequence,
        firstOffset,
        lastOffset: firstOffset + batch.lastOffsetDelta,
      });
    }
  };

  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const isLast = i === segments.length - 1;
    const next = segments[i + 1];
    const mayHoldUnsynced = !cleanShutdown && (isLast || next!.baseOffset > recoveryPoint);
    let result: ScanResult | undefined;
    if (mayHoldUnsynced || !seg.loadIndexes()) {
      result = seg.rebuild(true, interval, scratch, rebuildState ? visitState : undefined);
      if (result.zeroTail === true && isLast) {
        // The zeros an active segment keeps past its batches (LogSegment.prefill): where its data ends, not
        // a torn batch. The rebuild has indexed everything before it.
        seg.truncate(result.validEnd);
        result = { validEnd: result.validEnd, error: null };
      }
    } else {
      if (rebuildState) result = seg.scan(0, isLast, scratch, visitState);
      if (result === undefined || result.error === null) {
        if (isLast) result = scanTail(seg, interval, scratch);
        else seg.nextOffset = next!.baseOffset;
      }
    }
    if (result !== undefined && result.error === null && result.endMarker === true) {
      // a recycled file's older bytes after the segment's own (END_MARKER, see LogSegment.markEnd): cut off
      seg.truncate(result.validEnd);
    }
    if (result !== undefined && result.error !== null) {
      truncatedBytes += seg.size - result.validEnd;
      seg.truncate(result.validEnd);
      seg.rebuild(true, interval, scratch);
      // Nothing after a corrupt batch can be trusted to follow it: drop the later segments.
      for (const later of segments.splice(i + 1)) {
        truncatedBytes += later.size;
        later.close();
        for (const path of [later.logPath, later.indexPath, later.timeIndexPath]) fs.rmSync(path);
      }
      break;
    }
    // Rebuilt indexes of closed segments are written now, so the next crash does not rebuild them again.
    if (!isLast && seg.indexesDirty) seg.persistIndexes();
  }

  const active = segments[segments.length - 1]!;
  if (active.rollBaseMs < 0 && active.size > 0) active.rollBaseMs = firstBatchMaxTimestamp(active, scratch);
  const logEndOffset = Math.max(active.nextOffset, active.baseOffset);
  const logStartOffset = Math.min(Math.max(logStartCheckpoint ?? 0, segments[0]!.baseOffset), logEndOffset);

  if (!rebuildState) {
    const snap = snapshots.includes(snapshotFileName(logEndOffset))
      ? readFileOrNull(fs, join(dir, snapshotFileName(logEndOffset)))
      : null;
    if (snap === null || !producers.load(snap.toString('utf8'), logEndOffset)) {
      rebuildState = true;
      epochs.clear();
      for (const seg of segments) seg.scan(0, false, scratch, visitState);
    }
  }
  // Snapshots describe the log at a clean close; from now on the log moves on without them.
  for (const name of snapshots) fs.rmSync(join(dir, name));

  epochs.truncateFromEnd(logEndOffset);
  epochs.truncateFromStart(logStartOffset);
  producers.removeBefore(logStartOffset);

  fs.rmSync(join(dir, CLEAN_SHUTDOWN_FILE));
  return {
    topicId: resolvedTopicId,
    segments,
    logStartOffset,
    logEndOffset,
    recoveryPoint: Math.min(recoveryPoint, logEndOffset),
    stored: {
      logStartOffset: logStartCheckpoint,
      recoveryPoint: storedRecoveryPoint,
      epochs: epochEntries === null ? null : new LeaderEpochCache(epochEntries).serialize(),
    },
    producers,
    epochs,
    cleanShutdown,
    truncatedBytes,
  };
}

function parseEpochFile(fs: StorageFs, dir: string) {
  const buf = readFileOrNull(fs, join(dir, LEADER_EPOCH_CHECKPOINT_FILE));
  return buf === null ? null : LeaderEpochCache.parse(buf.toString('utf8'));
}

/**
 * The last segment after a clean close: its indexes are complete, so only the batches from the last index entry
 * on are read (with CRC), to find the log end offset.
 */
function scanTail(seg: LogSegment, interval: number, scratch: Buffer) {
  const from = seg.offsetIndex.lastPosition;
  seg.bytesSinceLastIndexEntry = 0;
  let expectedMin = seg.baseOffset;
  let offsetError: string | null = null;
  const res = seg.scan(from, true, scratch, (batch, position, size) => {
    const base = batch.baseOffset;
    const last = base + batch.lastOffsetDelta;
    if (base < expectedMin || last < base) {
      offsetError = `batch at position ${position} has offsets [${base}, ${last}] out of order`;
      return false;
    }
    expectedMin = last + 1;
    if (position === 0) seg.rollBaseMs = batch.maxTimestamp;
    seg.onBatchAppended(base, last, batch.maxTimestamp, position, size, interval);
    return true;
  });
  seg.indexesDirty = false;
  return offsetError ? { validEnd: res.validEnd, error: offsetError } : res;
}

function firstBatchMaxTimestamp(seg: LogSegment, scratch: Buffer): number {
  let ts = -1;
  seg.scan(0, false, scratch, (batch) => {
    ts = batch.maxTimestamp;
    return false;
  });
  return ts;
}
