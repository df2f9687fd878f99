// The seams of shadow-link replication: a replicator knows one data *source* (a source partition, reached over the
// Kafka protocol) and one data *sink* (the shadow partition's log), nothing else. Following Redpanda's
// cluster_link/replication/deps.h, this keeps the replicator unit-testable with a random in-memory source and an
// accounting sink; the real source (src/client Fetch/ListOffsets) and sink (PartitionLog 'preserve' appends) are
// adapters written when replication is wired into the broker (not yet).
//
// Record batches cross these seams as raw RecordBatch v2 bytes and are never decoded: the replicator reads only
// header fields (base offset, length, lastOffsetDelta, magic) to check framing and to position itself.
import type { StartAt } from '../types.js';

export type { StartAt };

/** One Fetch answer for one source partition (isolation read_committed). */
export interface SourceFetch {
  /** concatenated RecordBatch v2 bytes as the source sent them; may end with a partial batch (dropped) */
  records: Buffer;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /**
   * Kafka error code of the partition (0 or absent: none). OFFSET_OUT_OF_RANGE means the fetch offset is outside
   * [logStartOffset, highWatermark]; logStartOffset should still be filled in when the source reports it (Fetch v5+),
   * else -1 and the replicator asks listOffsets('earliest').
   */
  error?: number;
  /** the source's error message, if any (for the state reason) */
  errorMessage?: string;
  /**
   * When present, `records` is a view of a reused buffer: call release() once the records are appended or dropped,
   * and never read them afterwards. Not calling it is safe (the buffer is then not reused).
   */
  release?: () => void;
}

/** earliest = the source log start, latest = its high watermark, a number = a timestamp (ms) */
export type OffsetSpec = 'earliest' | 'latest' | number;

/**
 * One source partition. Transport failures reject (any Error; a KafkaError keeps its code); a partition-level
 * error is returned in SourceFetch.error. Both are retried by the replicator, except OFFSET_OUT_OF_RANGE, which
 * it resolves itself (skip to the source log start and record a gap, or fault when the shadow is ahead).
 */
export interface ReplicationSource {
  /**
   * Batches from `fromOffset` (the batch containing it first), up to about `maxBytes` but at least one whole
   * batch when there is one (KIP-74). A real source long-polls (Fetch maxWaitMs) when there is nothing new.
   * Must settle promptly (reject) when `signal` aborts.
   */
  fetch(fromOffset: number, maxBytes: number, signal: AbortSignal): Promise<SourceFetch>;
  /** ListOffsets: the offset for the spec; for a timestamp, -1 when no record is that recent. Rejects on errors. */
  listOffsets(spec: OffsetSpec, signal: AbortSignal): Promise<number>;
  /**
   * When the source last answered a fetch of this partition without an error (epoch ms; 0 before any), whether
   * or not that answer reached the replicator: a real source keeps an idle partition in its long polls and hands
   * back an empty answer only now and then. Optional: without it only the answers fetch() returns count.
   */
  lastHeardAtMs?(): number;
}

/**
 * One shadow partition. The replicator is its only writer.
 */
export interface ReplicationSink {
  readonly logStartOffset: number;
  /** next offset after the last appended batch (its lastOffsetDelta included) */
  readonly logEndOffset: number;
  /** what consumers of the shadow can read; lag is measured against it */
  readonly highWatermark: number;
  /**
   * Appends one or more whole batches, unchanged, at the base offsets they carry (storage's `offsets: 'preserve'`):
   * every base offset is >= logEndOffset and batches are in increasing order; gaps between them are kept.
   */
  append(batches: Buffer): Promise<void>;
  /**
   * Drops everything below `newLogStart` (never called with a value <= logStartOffset). When `newLogStart` is above
   * logEndOffset the log becomes empty and continues at `newLogStart` (log start = log end = newLogStart), as a
   * Kafka follower's truncateFullyAndStartAt does.
   */
  prefixTruncate(newLogStart: number): Promise<void>;
}

/** Offsets the shadow will never have because the source deleted them before they were replicated: [from, to). */
export interface ReplicationGap {
  from: number;
  to: number;
  detectedAtMs: number;
}

/**
 * Replicator states (a subset of SPEC §2.2 task states, per partition):
 *
 *   STOPPED ──start()──▶ ACTIVE ◀──────── success ──────── LINK_UNAVAILABLE
 *                          │  └── N consecutive failures ──▶  (keeps retrying with backoff)
 *                          ├── pause() ──▶ PAUSED ── resume() ──▶ ACTIVE
 *                          └── shadow ahead of source / sink failure ──▶ FAULTED ── resume() ──▶ ACTIVE
 *   any ──stop()──▶ STOPPED (final)
 */
export type ReplicatorState = 'ACTIVE' | 'PAUSED' | 'LINK_UNAVAILABLE' | 'FAULTED' | 'STOPPED';

export interface ReplicatorOptions {
  /** where an empty shadow partition starts (default earliest); a non-empty one always resumes at its log end */
  startAt?: StartAt;
  /** Fetch partition max bytes (default 1 MiB) */
  maxBytes?: number;
  /** fetch responses in flight (being fetched, queued or being appended); default 2, minimum 1 */
  maxInFlight?: number;
  /** retry backoff: base, doubled per consecutive failure up to max, with jitter (defaults 100 ms, 10 s) */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** consecutive failures before LINK_UNAVAILABLE (default 3) */
  unavailableAfterFailures?: number;
  /** or a failure when the source has not answered for this long (default 5 s) */
  unavailableAfterMs?: number;
  /**
   * A "caught up" answer older than this no longer counts for the RPO (default 15 s: above the source client's
   * hold time for empty answers of idle partitions).
   */
  answerStaleAfterMs?: number;
  /** pause after an empty fetch before the next (default 100 ms; a real source already long-polls) */
  idleWaitMs?: number;
  /** injectable clock and randomness (tests) */
  now?: () => number;
  random?: () => number;
  /**
   * Called once the start of an empty shadow partition is chosen (before anything is appended). The caller
   * persists it, so a restart before the first record resumes from the source's log start rather than choosing
   * 'latest' or a timestamp again (which would skip what arrived meanwhile).
   */
  onStartChosen?: (offset: number) => void;
  /** partition name for logs and reasons, e.g. "orders/3" */
  name?: string;
  /** called for gaps and state changes (a pino logger fits) */
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface ReplicatorStatus {
  state: ReplicatorState;
  reason: string;
  /** last values the source reported (-1 before the first answer) */
  sourceLogStartOffset: number;
  sourceLastStableOffset: number;
  sourceHighWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  /** source high watermark − shadow high watermark (0 before the first answer) */
  lag: number;
  /** time since the partition was last fully caught up; 0 while caught up */
  rpoMs: number;
  gaps: readonly ReplicationGap[];
  consecutiveFailures: number;
  lastError: string | undefined;
  fetches: number;
  bytesFetched: number;
  bytesWritten: number;
  batchesWritten: number;
  recordsWritten: number;
  errors: number;
}
