// Log compaction (cleanup.policy=compact): keep the latest record of every key in the cleanable segments.
//
// - Cleanable: closed segments whose newest record is older than min.compaction.lag.ms (the log passes that prefix).
// - Offsets are preserved: a rewritten batch keeps its baseOffset, lastOffsetDelta, producer id/epoch and base
//   sequence (so the producer's last sequence and the consumer's next offset still hold), and retained records keep
//   their offset deltas; removed records leave gaps.
// - Records without a key are dropped (Kafka counts them as invalid); control batches are kept as they are.
// - Tombstones (null value) follow KIP-534: the first cleaning that keeps a tombstone stamps its batch with a delete
//   horizon (now + delete.retention.ms, in baseTimestamp with attributes bit 6); a later cleaning past the horizon
//   drops it. So a tombstone lives at least delete.retention.ms after compaction first saw it.
// - A batch left with no records is dropped, unless it is its producer's last batch: then an empty batch keeps the
//   producer's sequence state rebuildable from the log. A segment left empty is deleted (the first one is kept,
//   empty, so the log start offset does not move).
// - Each segment is rewritten to `<base>.log.cleaned`, fsynced, and renamed over the `.log` (atomic); its old index
//   files are removed first, so a crash in between leaves a log whose indexes are rebuilt on open.
import { buildRecordBatch, decodeRecords, type RecordBatch, type RecordInput } from '../protocol/record-batch.js';
import { writeFully } from './fs.js';
import { CLEANED_SUFFIX, LogSegment } from './segment.js';
import type { StorageFs } from './types.js';

export interface CompactionInput {
  fs: StorageFs;
  dir: string;
  /** the cleanable segments, oldest first (never the active one) */
  segments: readonly LogSegment[];
  nowMs: number;
  deleteRetentionMs: number;
  indexIntervalBytes: number;
  scratch: Buffer;
  /** whether the batch ending at lastOffset is the newest one of its producer (empty batches kept for it) */
  isLastBatchOfProducer(producerId: number, lastOffset: number): boolean;
}

export interface CompactionResult {
  /** earliest delete horizon of a kept tombstone: when another cleaning would remove something */
  nextTombstoneDueMs: number;
  recordsRemoved: number;
  segmentsRewritten: number;
}

/**
 * Called as soon as a segment's cleaned file has been swapped in: `replacement` is the new segment over the same
 * base offset, or null when nothing was left (the caller deletes the original). The log updates its segment list
 * right away, so an error in a later segment leaves it consistent with the files.
 */
export type SegmentSwap = (original: LogSegment, replacement: LogSegment | null) => void;

const OUTPUT_CHUNK_BYTES = 1024 * 1024;

export function compactSegments(input: CompactionInput, swap: SegmentSwap): CompactionResult {
  const latest = buildOffsetMap(input);
  const result: CompactionResult = { nextTombstoneDueMs: Infinity, recordsRemoved: 0, segmentsRewritten: 0 };
  for (const seg of input.segments) {
    const replacement = cleanSegment(input, seg, latest, result);
    if (replacement === undefined) continue;
    result.segmentsRewritten++;
    swap(seg, replacement);
  }
  return result;
}

function keyOf(key: Buffer): string {
  return key.toString('latin1');
}

/** key → offset of its latest record in the cleanable range */
function buildOffsetMap(input: CompactionInput): Map<string, number> {
  const latest = new Map<string, number>();
  for (const seg of input.segments) {
    seg.scan(0, false, input.scratch, (batch) => {
      if (batch.isControl) return;
      for (const rec of decodeRecords(batch)) {
        if (rec.key !== null) latest.set(keyOf(rec.key), rec.offset);
      }
    });
  }
  return latest;
}

/** Rewrites one segment; undefined when nothing in it changes (the file is left alone). */
function cleanSegment(
  input: CompactionInput,
  seg: LogSegment,
  latest: Map<string, number>,
  result: CompactionResult,
): LogSegment | null | undefined {
  const { fs, nowMs } = input;
  const cleanedPath = `${seg.logPath}${CLEANED_SUFFIX}`;
  const fd = fs.openSync(cleanedPath, 'w');
  let changed = false;
  let written = 0;
  const out = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
  let outLen = 0;
  const emit = (bytes: Buffer): void => {
    if (outLen + bytes.length > out.length) {
      writeFully(fs, fd, out.subarray(0, outLen), written);
      written += outLen;
      outLen = 0;
    }
    if (bytes.length > out.length) {
      writeFully(fs, fd, bytes, written);
      written += bytes.length;
      return;
    }
    bytes.copy(out, outLen);
    outLen += bytes.length;
  };

  try {
    seg.scan(0, false, input.scratch, (batch) => {
      const rebuilt = cleanBatch(input, batch, latest, result);
      if (rebuilt === undefined) emit(batch.bytes);
      else {
        changed = true;
        if (rebuilt !== null) emit(rebuilt);
      }
    });
    if (outLen > 0) {
      writeFully(fs, fd, out.subarray(0, outLen), written);
      written += outLen;
    }
    if (changed) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }

  if (!changed) {
    fs.rmSync(cleanedPath);
    return undefined;
  }
  // An emptied segment goes, except the first: it keeps the log start offset where it is across restarts.
  if (written === 0 && seg !== input.segments[0]) {
    fs.rmSync(cleanedPath);
    return null;
  }
  // Index files first: if we crash after the rename, the new log must not be paired with the old indexes.
  fs.rmSync(seg.indexPath);
  fs.rmSync(seg.timeIndexPath);
  fs.renameSync(cleanedPath, seg.logPath);
  const cleaned = LogSegment.open(fs, input.dir, seg.baseOffset);
  cleaned.rebuild(false, input.indexIntervalBytes, input.scratch);
  cleaned.rollBaseMs = seg.rollBaseMs;
  cleaned.persistIndexes();
  return cleaned;
}

/** The cleaned bytes of a batch: undefined = keep as is, null = drop, else the rebuilt batch. */
function cleanBatch(
  input: CompactionInput,
  batch: RecordBatch,
  latest: Map<string, number>,
  result: CompactionResult,
): Buffer | null | undefined {
  if (batch.isControl) return undefined;
  const records = decodeRecords(batch);
  const horizon = batch.deleteHorizonMs;
  const kept: RecordInput[] = [];
  let tombstones = 0;
  for (const rec of records) {
    if (rec.key === null || latest.get(keyOf(rec.key)) !== rec.offset) continue;
    if (rec.value === null) {
      if (horizon >= 0 && horizon <= input.nowMs) continue;
      tombstones++;
    }
    kept.push({
      key: rec.key,
      value: rec.value,
      headers: rec.headers,
      timestamp: rec.timestamp,
      offsetDelta: rec.offset - batch.baseOffset,
    });
  }
  const needsHorizon = tombstones > 0 && horizon < 0;
  const newHorizon = tombstones > 0 ? (horizon >= 0 ? horizon : input.nowMs + input.deleteRetentionMs) : undefined;
  if (newHorizon !== undefined) result.nextTombstoneDueMs = Math.min(result.nextTombstoneDueMs, newHorizon);
  if (kept.length === records.length && !needsHorizon) return undefined;
  result.recordsRemoved += records.length - kept.length;

  const common = {
    baseOffset: batch.baseOffset,
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
    timestampType: batch.timestampType,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    isTransactional: batch.isTransactional,
    lastOffsetDelta: batch.lastOffsetDelta,
  };
  if (kept.length === 0) {
    if (batch.producerId < 0 || !input.isLastBatchOfProducer(batch.producerId, batch.lastOffset)) return null;
    return buildRecordBatch({ ...common, records: [], baseTimestamp: batch.maxTimestamp, maxTimestamp: batch.maxTimestamp });
  }
  return buildRecordBatch({
    ...common,
    records: kept,
    compression: batch.compression,
    // LogAppendTime batches carry the append time in maxTimestamp; CreateTime ones take the max of what is kept.
    maxTimestamp: batch.timestampType === 'LogAppendTime' ? batch.maxTimestamp : undefined,
    deleteHorizonMs: newHorizon,
  });
}
