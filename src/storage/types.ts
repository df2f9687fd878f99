// The storage seam: what the rest of the broker (produce/fetch handlers, group coordinator, shadow replicators)
// may ask of a partition log. Implementations live beside this file; nothing outside src/storage imports them
// except through `openStorage`.
//
// A log holds RecordBatch v2 bytes exactly as produced; the only bytes the log rewrites are baseOffset and
// partitionLeaderEpoch (not covered by the CRC), and for LogAppendTime topics the timestamp fields (CRC recomputed).
// Errors are KafkaError with the Kafka error code the client should see (CORRUPT_MESSAGE, MESSAGE_TOO_LARGE,
// INVALID_RECORD, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, OFFSET_OUT_OF_RANGE, KAFKA_STORAGE_ERROR, ...).

import type { CompressionCodec } from '../protocol/compression.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/** Topic-level settings the log obeys; defaults come from the broker config. Changeable at runtime. */
export interface LogConfig {
  segmentBytes: number; // segment.bytes
  segmentMs: number; // segment.ms
  retentionMs: number; // retention.ms (-1 = forever)
  retentionBytes: number; // retention.bytes (-1 = unlimited), per partition
  cleanupPolicy: CleanupPolicy; // cleanup.policy
  deleteRetentionMs: number; // delete.retention.ms (how long tombstones survive compaction)
  minCompactionLagMs: number; // min.compaction.lag.ms
  maxCompactionLagMs: number; // max.compaction.lag.ms
  minCleanableDirtyRatio: number; // min.cleanable.dirty.ratio
  maxMessageBytes: number; // max.message.bytes (largest batch accepted)
  messageTimestampType: 'CreateTime' | 'LogAppendTime'; // message.timestamp.type
  indexIntervalBytes: number; // index.interval.bytes
  fileDeleteDelayMs: number; // file.delete.delay.ms
  /** compression.type: the codec produced batches are stored with (recompressed when they differ); null = 'producer' */
  compression: CompressionCodec | null;
  /** the level for `compression` (compression.gzip.level / compression.zstd.level; lz4 has one level here) */
  compressionLevel: number;
  /** message.timestamp.before.max.ms / after.max.ms: CreateTime records further from the broker clock are refused */
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  segmentJitterMs: number; // segment.jitter.ms
  segmentIndexBytes: number; // segment.index.bytes (a full offset or time index rolls the segment)
  flushMessages: number; // flush.messages: fsync after this many unflushed messages
  flushMs: number; // flush.ms: fsync when the oldest unflushed write is this old
}

export interface AppendOptions {
  /** leader epoch written into each batch's partitionLeaderEpoch */
  leaderEpoch: number;
  /** wall clock used for LogAppendTime and segment.ms; injectable for tests */
  nowMs?: number;
  /**
   * 'assign' (produce): the log assigns offsets from its log end offset and checks producer sequences.
   * 'preserve' (shadow replication): batches keep the base offsets they carry, which must be >= the log end
   * offset; gaps between them are kept; no sequence checks; no timestamp rewrite.
   */
  offsets?: 'assign' | 'preserve';
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** broker time written into the batches for LogAppendTime topics, else -1 */
  logAppendTimeMs: number;
  logStartOffset: number;
  /** true when every batch was a duplicate of an already-appended idempotent batch (nothing was written) */
  duplicate: boolean;
  /**
   * flush.messages was reached and the log started an fsync: a producer's acknowledgement waits for flush(), as
   * Kafka flushes before it answers
   */
  flushDue: boolean;
}

export interface ReadOptions {
  maxBytes: number;
  /** return the first batch even when it alone exceeds maxBytes (KIP-74: true for the first partition of a fetch) */
  minOneBatch: boolean;
  /** read_committed stops at the last stable offset, read_uncommitted at the high watermark */
  isolation: 'read_uncommitted' | 'read_committed';
  /**
   * Where the returned bytes go (default: a new buffer), whether read from segment files or copied from the tail
   * cache. The fetch path leases reusable buffers here and returns them once the response has been written to the
   * socket.
   */
  alloc?: (size: number) => Buffer;
  /**
   * Lets a read served from the tail cache return views of the cache's memory instead of copies: for each viewed
   * range, `hold` gets the function that releases it, which the caller must call once nothing reads the views any
   * more (the fetch path: once its response is on the socket). Until then appends do not write over those bytes.
   * Reads from segment files still go into `alloc`'s buffers.
   */
  hold?: (release: () => void) => void;
  /**
   * Read from the segment files even when the tail cache holds the range (`umbra shadow verify` must see the bytes
   * on disk: a batch corrupted on disk would otherwise hide behind its clean copy in memory). Default false.
   */
  bypassCache?: boolean;
  /**
   * startRead only: a range that has to come from a segment file on the threadpool is answered at once, as parts
   * holding whole batches together, whose bytes arrive as each part's read finishes (StartedRead.streaming; the
   * fetch path starts writing its response meanwhile). Default false: the result resolves once the bytes are in.
   */
  stream?: boolean;
}

/** One part of a streamed read: a view of the result's buffer, and when its bytes are in. */
export interface StreamedPart {
  part: Buffer;
  /** resolves once `part` holds its bytes; rejects (KAFKA_STORAGE_ERROR) if the read fails or comes back short */
  filled: Promise<void>;
}

/** What startRead returns: see PartitionLog.startRead. */
export interface StartedRead {
  plannedBytes: number;
  result: Promise<ReadResult>;
  /**
   * With ReadOptions.stream, when the bytes are still being read: the result has already resolved, its batch
   * buffers being these parts in order (together whole batches, sizes final). Absent when the result's bytes are
   * complete.
   */
  streaming?: StreamedPart[];
}

export interface ReadResult {
  /**
   * whole batches, in offset order, starting with the batch that contains the fetch offset; slices of buffers from
   * `alloc` (or new ones), or with ReadOptions.hold views of tail-cache memory kept unchanged until released; never
   * of memory storage reuses meanwhile
   */
  batches: Buffer[];
  bytes: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** READ_COMMITTED: aborted transactions overlapping the returned range (empty until transactions exist) */
  abortedTransactions: { producerId: number; firstOffset: number }[];
}

export interface TimestampLookup {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

export interface ProducerIdRange {
  /** highest producer id seen in this log (from batches), -1 if none */
  maxProducerId: number;
}

export interface PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly topicId: string;
  readonly dir: string;

  readonly logStartOffset: number;
  /** next offset to be assigned */
  readonly logEndOffset: number;
  /** single node: everything written is replicated, so HWM = log end offset */
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  /** bytes on disk over all segments */
  readonly sizeInBytes: number;
  readonly config: LogConfig;

  /**
   * Validates (magic 2, sizes, CRC32C, max.message.bytes) and appends a concatenation of record batches.
   * The log patches header fields of `records` in place (baseOffset, partitionLeaderEpoch, LogAppendTime) but
   * does not keep it: the bytes are written and copied into the tail cache before append() returns, so the caller
   * may reuse that memory as soon as it returns (the broker assembles Produce requests in a reused buffer).
   */
  append(records: Buffer, opts: AppendOptions): AppendResult;
  /** Resolves once everything appended before the call is fsynced; concurrent callers share one fsync. */
  flush(): Promise<void>;
  read(fetchOffset: number, opts: ReadOptions): ReadResult;
  /**
   * The same read, with the copy out of segment files done on the threadpool, so a fetch can read several
   * partitions at once. `plannedBytes` (known at once) bounds what the result will hold, for a fetch's
   * response-size budget. Errors known up front (OFFSET_OUT_OF_RANGE) are thrown, not returned in the promise.
   */
  startRead?(fetchOffset: number, opts: ReadOptions): StartedRead;

  /** ListOffsets: first offset whose record timestamp >= ts; null when none */
  offsetForTimestamp(ts: number): TimestampLookup | null;
  /** ListOffsets -3 (max timestamp): offset and timestamp of the record with the largest timestamp */
  offsetOfMaxTimestamp(): TimestampLookup | null;
  /** OffsetForLeaderEpoch: end offset of the requested epoch (the start offset of the next larger epoch, or LEO) */
  endOffsetForEpoch(leaderEpoch: number): { leaderEpoch: number; endOffset: number };
  /** DeleteRecords / retention: moves the log start offset forward (never backwards), deleting whole segments below it */
  deleteRecordsBefore(offset: number): number;
  /** Shadow/failback: drop everything at or above `offset` */
  truncateTo(offset: number): void;
  /**
   * Empties the log and continues at `offset`: log start = log end = offset (Kafka's truncateFullyAndStartAt). A
   * shadow partition uses it when the source's log start moved past everything the shadow has.
   */
  truncateFullyAndStartAt(offset: number): void;

  updateConfig(config: LogConfig): void;
  producerIds(): ProducerIdRange;
  /** One pass of retention, segment.ms roll and (for compacted topics) compaction. Called by the storage scheduler. */
  maintain(nowMs: number): void;
  close(): void;
}

/** Filesystem operations storage needs; injectable so tests can fail a write or an fsync. */
export interface StorageFs {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buf: Buffer, offset: number, length: number, position: number | null): number;
  readSync(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
  /** Asynchronous read on the threadpool (fetches of large ranges); without it storage reads synchronously. */
  read?(fd: number, buf: Buffer, offset: number, length: number, position: number, cb: (err: NodeJS.ErrnoException | null, bytesRead: number) => void): void;
  /** Asynchronous write on the threadpool (`position` null: an append-mode fd's end); without it no prefill. */
  write?(fd: number, buf: Buffer, offset: number, length: number, position: number | null, cb: (err: NodeJS.ErrnoException | null, written: number) => void): void;
  fsync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, len: number): void;
  /** Asynchronous ftruncate on the threadpool (a recycled segment file cut to its segment's end); else synchronous. */
  ftruncate?(fd: number, len: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  fstatSize(fd: number): number;
  closeSync(fd: number): void;
  mkdirSync(path: string): void;
  /**
   * Asynchronous mkdir on the threadpool, not recursive: fails with EEXIST when the directory is there (a new
   * partition's directory is made with it, see DiskPartitionLog.prepareNewDir); without it new logs are created
   * synchronously.
   */
  mkdir?(path: string, cb: (err: NodeJS.ErrnoException | null) => void): void;
  readdirSync(path: string): string[];
  renameSync(from: string, to: string): void;
  rmSync(path: string): void;
  /**
   * Asynchronous recursive remove on the threadpool (deleted segments and topic directories: unlinking a large file
   * frees its page cache, milliseconds the event loop should not wait for); without it storage removes synchronously.
   */
  rm?(path: string, cb: (err: NodeJS.ErrnoException | null) => void): void;
  /**
   * Like rm, in short steps on the threadpool (a large file cut down from its end before the unlink; a directory
   * entry by entry), for removals nobody waits for: retired segments and deleted topics (see FileRemover).
   * `fileBytes`: the path is a plain file of about this size (no lstat needed).
   */
  removeGradually?(path: string, cb: (err: NodeJS.ErrnoException | null) => void, fileBytes?: number): void;
  /**
   * Asynchronous whole-file write on the threadpool, its data synced before the callback (the temporary file of a
   * checkpoint or an index written in the background, renamed over the real one afterwards: creating a file is a
   * journal operation that can wait behind writeback, and renaming over a file whose data is not yet on disk
   * makes ext4 write it out inside the rename); without it storage writes those files synchronously.
   * `sync: false` skips the sync (a file renamed to a name that has no file yet: ext4 forces nothing out then).
   */
  writeFile?(path: string, data: Buffer | string, cb: (err: NodeJS.ErrnoException | null) => void, opts?: { sync?: boolean }): void;
  /**
   * Asynchronous open on the threadpool: the file of a log's next segment is created ahead of its roll (a spare),
   * because creating a file can take milliseconds (ext4 looks for a free inode, on a journal-less filesystem past
   * every recently deleted one); without it a roll creates its segment file synchronously.
   */
  open?(path: string, flags: string, cb: (err: NodeJS.ErrnoException | null, fd: number) => void): void;
  /** Asynchronous hard link on the threadpool (BackgroundFileWriter keeps a replaced file's old content alive with it). */
  link?(existing: string, newPath: string, cb: (err: NodeJS.ErrnoException | null) => void): void;
  existsSync(path: string): boolean;
  readFileSync(path: string): Buffer;
  writeFileSync(path: string, data: Buffer | string): void;
}

export interface StorageOptions {
  dataDir: string;
  defaultConfig: LogConfig;
  fs?: StorageFs;
  /** how often maintain() runs over all logs; 0 disables the scheduler (tests drive it) */
  maintenanceIntervalMs?: number;
  /** bytes of the most recent batches kept in memory per partition for tail reads (default 4 MiB; 0 disables) */
  tailCacheBytes?: number;
  /**
   * memory shared by the tail caches of all partitions, allocated on the first append (default 32 MiB; 0
   * disables); when it is full the oldest cached batches of any partition make room
   */
  tailCacheTotalBytes?: number;
  /**
   * Zeros written ahead of each active segment's appends on the threadpool, so appends land in page-cache pages that
   * exist already (LogSegment.prefill). Default on; the environment variable UMBRA_PREFILL=0 turns it off (for A/B
   * measurements).
   */
  prefillSegments?: boolean;
  /** told when a scheduled maintain() of a log fails; the scheduler keeps running */
  onMaintenanceError?: (tp: TopicPartition, err: unknown) => void;
}

export interface Storage {
  getLog(tp: TopicPartition): PartitionLog | undefined;
  /** Opens the log (recovering it if it exists on disk) or creates it. */
  openLog(tp: TopicPartition, topicId: string, config: LogConfig): PartitionLog;
  /**
   * Creates the log of a partition while the broker serves: a new directory is made off the event loop (an
   * existing one is opened as openLog does). Rejects when the topic is deleted meanwhile, or on a storage error.
   */
  createLog(tp: TopicPartition, topicId: string, config: LogConfig): Promise<PartitionLog>;
  /** Removes every partition directory of a topic (asynchronously deleted after renaming). */
  deleteTopic(topic: string): void;
  logs(): Iterable<PartitionLog>;
  /** Flushes and closes everything (graceful shutdown). */
  close(): Promise<void>;
}
