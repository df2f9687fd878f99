// One log segment: `<20-digit baseOffset>.log` holding RecordBatch v2 bytes exactly as appended, with its sparse
// offset index (`.index`) and time index (`.timeindex`) kept in memory and written whole on roll and clean close.
import { join } from 'node:path';
import {
  computeBatchCrc,
  Framing,
  frameSizeAt,
  framingErrorText,
  LOG_OVERHEAD,
  RecordBatch,
  RECORD_BATCH_OVERHEAD,
} from '../protocol/record-batch.js';
import { readFileOrNull, readFully, writeFileAtomic, writeFully, type RetiredPath } from './fs.js';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';
import type { StorageFs } from './types.js';

export const LOG_SUFFIX = '.log';
/** largest single write() into a segment file (see LogSegment.write) */
export const WRITE_PIECE = 128 * 1024;
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** compaction output, renamed over the `.log` when complete; a leftover one is an interrupted cleaning */
export const CLEANED_SUFFIX = '.cleaned';
/** files of a deleted segment waiting for file.delete.delay.ms */
export const DELETED_SUFFIX = '.deleted';

export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/** baseOffset of a `<20 digits>.log` name, else null */
export function parseSegmentFileName(name: string): number | null {
  const m = /^(\d{20})\.log$/.exec(name);
  return m ? Number(m[1]) : null;
}

export interface ScanResult {
  /** file position after the last whole, valid batch visited */
  validEnd: number;
  /** why the scan stopped before the end of the file, or null */
  error: string | null;
  /** the scan stopped at an END_MARKER: the segment's batches end at validEnd, what follows is not the segment's */
  endMarker?: boolean;
  /** the scan stopped at zeros where a batch header would be (a prefilled tail, see LogSegment.prefill) */
  zeroTail?: boolean;
}

/** Visitor of a scan: the batch view is only valid during the call (it points into a reused read buffer). */
export type BatchVisitor = (batch: RecordBatch, position: number, size: number) => boolean | void;

/**
 * Written right after the last batch of a rolled segment whose file is longer than its batches (a recycled file,
 * see LogSegment.recycle): baseOffset -1 and batchLength 0, which no batch has. A scan stops there as at the end of
 * the file (recovery then cuts the file there), so what follows, bytes of an older segment, is never taken for a
 * torn write of this one.
 */
export const END_MARKER = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/**
 * What the zeros past an active segment's batches read as (see LogSegment.prefill): no batch has batchLength 0. A
 * scan stops there; recovery treats it as the end of the last segment's data, not as a torn batch.
 */
const ZERO_HEADER = Buffer.alloc(END_MARKER.length);

/**
 * A prefill writes its zeros in pieces of a quarter of how far ahead it goes, within these bounds (the zeros are one
 * shared, never-written buffer of the largest size). Not larger: a write holds the inode's lock throughout, and an
 * append to the same file waits for it. Not smaller: each piece is a threadpool job, tens of microseconds of the
 * event loop's time on this kind of VM.
 */
const PREFILL_PIECE_MIN = 64 * 1024;
const PREFILL_PIECE_MAX = 1024 * 1024;
let zeros: Buffer | null = null;

/**
 * A file, open, in a log's directory under a temporary name: the file of its next segment. Either new and empty,
 * or a removed segment's file kept for reuse (LogSegment.recycle): its pages are still in the page cache, and
 * overwriting them costs far less than filling new ones (see recycle).
 */
export interface SpareFile {
  path: string;
  fd: number;
  /** bytes of a removed segment the file still holds (0 or absent: a new, empty file) */
  staleBytes?: number;
  /** one past the last offset in those bytes: a segment may reuse the file only from this offset on */
  staleNextOffset?: number;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly dir: string;
  fd: number;
  /** bytes of the log file that hold whole batches */
  size: number;
  offsetIndex: OffsetIndex;
  timeIndex: TimeIndex;
  /** largest batch maxTimestamp in the segment, -1 when empty */
  maxTimestamp = -1;
  /** base offset of the (first) batch carrying maxTimestamp */
  offsetOfMaxTimestamp = -1;
  /** one past the last offset of the last batch; the base offset when empty */
  nextOffset: number;
  /** segment.ms counts from here: the wall clock of the first append, or the first batch's maxTimestamp on reopen */
  rollBaseMs = -1;
  /** this segment's share of segment.jitter.ms, drawn at the first time-roll check; -1 until then */
  rollJitterMs = -1;
  /** bytes appended since the last offset index entry */
  bytesSinceLastIndexEntry = 0;
  /** in-memory indexes differ from the index files */
  indexesDirty = false;
  /**
   * index files may exist on disk: false for a segment this process created (no stale ones can exist, see create())
   * until its indexes are first written, so that write can go to fresh names (BackgroundFileWriter.write) and a
   * removal need not look for them
   */
  indexFilesMayExist = true;
  /**
   * length of the file as far as this process knows: above `size` while the file holds an older segment's bytes
   * past this one's (a recycled file), until cutTail() lands
   */
  fileEnd: number;
  /** one past the last offset of those older bytes (they are all below this segment's base), 0 when none */
  staleNextOffset = 0;
  /** the bytes past `size` up to fileEnd are zeros prefill() wrote (not a recycled file's older batches) */
  private zeroTail = false;
  /** the segment's file opened again in append mode, for prefill's writes; -1 until opened */
  private appendFd = -1;
  /** a prefill (or the opening of appendFd) is in flight */
  private prefilling = false;
  /** a prefill failed once: no more for this segment */
  private prefillOff = false;
  /** cutTail() asked while a prefill was in flight: run once it has landed */
  private cutAfterPrefill: (() => void) | null = null;

  private readonly fs: StorageFs;
  private pendingSyncs = 0;
  private closeRequested = false;
  private closed = false;

  private constructor(fs: StorageFs, dir: string, baseOffset: number, fd: number, size: number) {
    this.fs = fs;
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.fd = fd;
    this.size = size;
    this.fileEnd = size;
    this.nextOffset = baseOffset;
    this.offsetIndex = new OffsetIndex(baseOffset);
    this.timeIndex = new TimeIndex(baseOffset);
  }

  /**
   * A new, empty segment. No index files of an earlier segment at the same base can be there to mislead it: a
   * removed segment's are renamed away with it (markDeleted), background writes of them are superseded, and
   * recovery removes index files whose segment file is gone (a crash between the two) before anything is created.
   */
  static create(fs: StorageFs, dir: string, baseOffset: number, spare?: SpareFile): LogSegment {
    const seg = new LogSegment(fs, dir, baseOffset, -1, 0);
    if (spare !== undefined) {
      // An empty file created ahead of time in this directory (PartitionLog's spare): renamed to the segment's
      // name, its open fd kept. A rename costs no inode allocation; should it fail, the file is created here.
      // A new log's first segment file is made under its own name (DiskPartitionLog.prepareNewDir).
      try {
        if (spare.path !== seg.logPath) fs.renameSync(spare.path, seg.logPath);
        seg.fd = spare.fd;
        seg.fileEnd = spare.staleBytes ?? 0;
        seg.staleNextOffset = spare.staleNextOffset ?? 0;
      } catch {
        fs.closeSync(spare.fd);
      }
    }
    if (seg.fd < 0) seg.fd = fs.openSync(seg.logPath, 'w+');
    seg.indexFilesMayExist = false;
    return seg;
  }

  static open(fs: StorageFs, dir: string, baseOffset: number): LogSegment {
    const path = join(dir, segmentFileName(baseOffset, LOG_SUFFIX));
    const fd = fs.openSync(path, 'r+');
    return new LogSegment(fs, dir, baseOffset, fd, fs.fstatSize(fd));
  }

  get logPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, LOG_SUFFIX));
  }
  get indexPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, INDEX_SUFFIX));
  }
  get timeIndexPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, TIME_INDEX_SUFFIX));
  }
  /**
   * Appends at the end of the file, in write() calls of at most WRITE_PIECE bytes. The kernel sizes the page-cache
   * folios it allocates by the length of the write: a multi-megabyte write gets high-order folios, which on this
   * kind of VM come from memory the host has to fault in again (12 µs per 4 KiB, PERF-NOTES), and measured 1.5-2.3
   * s per GB of CPU against ~0.2 s per GB for the same bytes in 64-256 KiB writes (bench/RESULTS.md, "Shadow
   * replication"). Shadow appends are whole fetch answers, so this is where it mattered.
   */
  write(buf: Buffer): void {
    if (buf.length <= WRITE_PIECE) {
      writeFully(this.fs, this.fd, buf, this.size);
    } else {
      for (let off = 0; off < buf.length; off += WRITE_PIECE) {
        writeFully(this.fs, this.fd, buf.subarray(off, Math.min(off + WRITE_PIECE, buf.length)), this.size + off);
      }
    }
    this.size += buf.length;
    if (this.size > this.fileEnd) this.fileEnd = this.size;
  }

  /**
   * Has the page-cache pages the next appends will write made ahead of them, on the threadpool: zeros are appended to
   * the file (through a second fd in append mode) until it reaches `ahead` bytes past the batches, never past
   * `limit`. An append into such pages only copies; into pages the kernel must first allocate it costs ~10x more on
   * this kind of VM, where the host faults freed memory in again at its first touch (150 µs instead of 16 for a 64
   * KiB write once a few GB went through the page cache, bench/RESULTS.md), and on ext4 a write into blocks not yet
   * reserved takes the inode's extent lock, which the filesystem's writeback can hold for tens of milliseconds. Both
   * costs now fall on a threadpool thread instead of the event loop and the request waiting for the append.
   *
   * Append mode is what makes this safe beside the appends, which write at `size` through the main fd: the kernel
   * puts each zero write at the end of the file as it is at that moment, so zeros never land on batches, whatever
   * the order. Written, not read: a read of a hole would start the disk's readahead (8 MiB here). The zero
   * tail is a stale tail (hasStaleTail): a roll marks the segment's end and cuts it, a clean close cuts it, and
   * recovery after a crash stops at its zeros. A recycled file's older bytes are left alone (their pages are likely
   * cached). Best effort: a failure ends prefilling for the segment.
   */
  prefill(ahead: number, limit: number, more = false): void {
    if (this.prefilling || this.prefillOff || this.closing) return;
    const { write, open } = this.fs;
    if (write === undefined || open === undefined) return;
    if (this.fileEnd > this.size && !this.zeroTail) return; // a recycled file's older bytes lie ahead
    const have = this.fileEnd - this.size;
    const bytes = Math.min(limit - this.fileEnd, ahead - have, Math.max(PREFILL_PIECE_MIN, Math.min(PREFILL_PIECE_MAX, ahead >> 2)));
    // started when less than half of `ahead` is left, then continued piece by piece up to `ahead`
    if ((!more && have >= ahead / 2) || bytes <= 0) return;
    this.prefilling = true;
    this.beginSync();
    const buf = (zeros ??= Buffer.alloc(PREFILL_PIECE_MAX));
    const landed = (err: NodeJS.ErrnoException | null): void => {
      this.prefilling = false;
      if (err !== null) this.prefillOff = true;
      else if (!this.closed) {
        try {
          const end = this.fs.fstatSize(this.fd);
          if (end > this.size) {
            this.fileEnd = end;
            this.zeroTail = true;
          }
        } catch {
          this.prefillOff = true;
        }
      }
      const cut = this.cutAfterPrefill;
      this.cutAfterPrefill = null;
      cut?.();
      this.endSync();
      if (err === null && cut === null) this.prefill(ahead, limit, true);
    };
    const go = (fd: number): void => write.call(this.fs, fd, buf, 0, bytes, null, (err) => landed(err));
    if (this.appendFd >= 0) return go(this.appendFd);
    open.call(this.fs, this.logPath, 'a', (err, fd) => {
      if (err !== null) return landed(err);
      this.appendFd = fd;
      if (this.closing) return landed(null);
      go(fd);
    });
  }

  private closeAppendFd(): void {
    if (this.appendFd < 0) return;
    try {
      this.fs.closeSync(this.appendFd);
    } catch {
      // nothing to do
    }
    this.appendFd = -1;
  }

  /** a prefill's zero write is in flight: it may still make the file longer */
  get prefillInFlight(): boolean {
    return this.prefilling;
  }

  /** The file now ends at the batches: nothing past them. */
  private endsAtBatches(): void {
    this.fileEnd = this.size;
    this.zeroTail = false;
  }

  /** The file holds bytes past this segment's batches (an older segment's, see recycle) not cut off yet. */
  get hasStaleTail(): boolean {
    return this.fileEnd > this.size || this.prefilling;
  }

  /**
   * At the roll of a segment with a stale tail: END_MARKER after the last batch, so that a recovery scan stops
   * there (the caller makes an fsync cover it), before cutTail() shortens the file off the event loop.
   */
  markEnd(): void {
    writeFully(this.fs, this.fd, END_MARKER, this.size);
    if (this.size + END_MARKER.length > this.fileEnd) this.fileEnd = this.size + END_MARKER.length;
  }

  /** cutTail(), synchronously (a clean close). */
  cutTailSync(): void {
    this.fs.ftruncateSync(this.fd, this.size);
    this.endsAtBatches();
  }

  /**
   * Cuts the file to its batches, on the threadpool when the filesystem can (ext4 with `discard` can take long to
   * free blocks). `done(ok)` follows; until then the fd stays open.
   */
  cutTail(done: (ok: boolean) => void): void {
    if (this.closed) return done(false);
    if (this.prefilling) {
      // the zeros in flight may land past the cut: cut once they have
      const before = this.cutAfterPrefill;
      this.cutAfterPrefill = () => {
        before?.();
        this.cutTail(done);
      };
      return;
    }
    const ftruncate = this.fs.ftruncate;
    if (ftruncate === undefined) {
      try {
        this.cutTailSync();
      } catch {
        return done(false);
      }
      return done(true);
    }
    const size = this.size;
    this.beginSync();
    ftruncate.call(this.fs, this.fd, size, (err) => {
      this.endSync();
      if (err === null && this.size === size) this.endsAtBatches();
      done(err === null);
    });
  }

  read(buf: Buffer, offset: number, length: number, position: number): number {
    return readFully(this.fs, this.fd, buf, offset, length, position);
  }

  /**
   * Reads on the threadpool (or synchronously when the filesystem has no async read). The fd stays open until
   * the read returns even if the segment is closed meanwhile (retention, deletion): a closed and reused fd
   * number would read another file's bytes.
   */
  readAsync(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    const read = this.fs.read;
    if (!read || this.closed) {
      try {
        return Promise.resolve(this.read(buf, offset, length, position));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    this.beginSync();
    return new Promise<number>((resolve, reject) => {
      let done = 0;
      const step = (): void => {
        read.call(this.fs, this.fd, buf, offset + done, length - done, position + done, (err, n) => {
          if (err) {
            this.endSync();
            return reject(err);
          }
          done += n;
          if (n === 0 || done >= length) {
            this.endSync();
            return resolve(done);
          }
          step();
        });
      };
      step();
    });
  }

  /** Index and metadata bookkeeping for a batch now stored at `position`. */
  onBatchAppended(
    baseOffset: number,
    lastOffset: number,
    maxTimestamp: number,
    position: number,
    size: number,
    indexIntervalBytes: number,
  ): void {
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = baseOffset;
    }
    if (this.bytesSinceLastIndexEntry > indexIntervalBytes) {
      this.offsetIndex.append(baseOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = lastOffset + 1;
    this.indexesDirty = true;
  }

  /** Clears indexes and metadata before a rebuild scan. */
  resetIndexes(): void {
    this.offsetIndex.clear();
    this.timeIndex.clear();
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.nextOffset = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.indexesDirty = true;
  }

  /**
   * Loads the index files. Returns false when either is missing or fails its checks, or when the time index has no
   * entry for a non-empty segment (its last entry is the segment's max timestamp, which retention relies on).
   */
  loadIndexes(): boolean {
    const idx = readFileOrNull(this.fs, this.indexPath);
    const tidx = readFileOrNull(this.fs, this.timeIndexPath);
    if (idx === null || tidx === null) return false;
    const offsetIndex = OffsetIndex.parse(this.baseOffset, idx, this.size);
    const timeIndex = TimeIndex.parse(this.baseOffset, tidx);
    if (offsetIndex === null || timeIndex === null) return false;
    if (this.size > 0 && timeIndex.entries === 0) return false;
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    this.maxTimestamp = timeIndex.lastTimestamp;
    this.offsetOfMaxTimestamp = timeIndex.lastOffset;
    return true;
  }

  /** Writes both index files (atomically), first adding the final max-timestamp entry to the time index. */
  persistIndexes(): void {
    const [offsetIndex, timeIndex] = this.serializeIndexes();
    this.indexFilesMayExist = true;
    writeFileAtomic(this.fs, this.indexPath, offsetIndex, false);
    writeFileAtomic(this.fs, this.timeIndexPath, timeIndex, false);
  }

  /**
   * Both index files' contents, first adding the final max-timestamp entry to the time index; the indexes count as
   * written from here (the caller writes them, or sets indexesDirty again when it could not).
   */
  serializeIndexes(): [Buffer, Buffer] {
    this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    const out: [Buffer, Buffer] = [this.offsetIndex.serialize(), this.timeIndex.serialize()];
    this.indexesDirty = false;
    return out;
  }

  /** Cuts the log file at `position` (a batch boundary); the caller rescans to rebuild the indexes. */
  truncate(position: number): void {
    this.fs.ftruncateSync(this.fd, position);
    this.size = position;
    this.endsAtBatches();
    this.offsetIndex.truncateToPosition(position);
    this.indexesDirty = true;
  }

  /**
   * Walks the batches from `from` to the end of the file, reading in chunks into `scratch`, checking framing and
   * (when asked) the CRC, and stops at the first bad batch or when the visitor returns false.
   */
  scan(from: number, verifyCrc: boolean, scratch: Buffer, visit: BatchVisitor): ScanResult {
    const view = new RecordBatch(scratch, 0);
    let buf = scratch;
    let bufFilePos = from;
    let bufLen = 0;
    let filePos = from;
    while (filePos < this.size) {
      let rel = filePos - bufFilePos;
      if (rel + RECORD_BATCH_OVERHEAD > bufLen && bufFilePos + bufLen < this.size) {
        buf = scratch;
        bufLen = this.read(buf, 0, Math.min(buf.length, this.size - filePos), filePos);
        bufFilePos = filePos;
        rel = 0;
      }
      if (rel + END_MARKER.length <= bufLen && END_MARKER.compare(buf, rel, rel + END_MARKER.length) === 0) {
        return { validEnd: filePos, error: null, endMarker: true };
      }
      if (rel + ZERO_HEADER.length <= bufLen && ZERO_HEADER.compare(buf, rel, rel + ZERO_HEADER.length) === 0) {
        return { validEnd: filePos, error: 'no batch header (never written) at position ' + filePos, zeroTail: true };
      }
      let frame = frameSizeAt(buf, rel, bufLen);
      if (frame === Framing.TRUNCATED && bufFilePos + bufLen < this.size && rel + LOG_OVERHEAD <= bufLen) {
        // A batch that does not fit in what was read: read it whole (into a larger buffer if it must).
        const want = LOG_OVERHEAD + buf.readInt32BE(rel + 8);
        if (want > RECORD_BATCH_OVERHEAD && want <= this.size - filePos) {
          buf = want > scratch.length ? Buffer.allocUnsafe(want) : scratch;
          bufLen = this.read(buf, 0, Math.min(buf.length, this.size - filePos), filePos);
          bufFilePos = filePos;
          rel = 0;
          frame = frameSizeAt(buf, rel, bufLen);
        }
      }
      if (frame < 0) return { validEnd: filePos, error: `${framingErrorText(frame)} at position ${filePos}` };
      view.moveTo(buf, rel);
      if (verifyCrc && computeBatchCrc(buf, rel, frame) !== view.crc) {
        return { validEnd: filePos, error: `CRC mismatch in batch at position ${filePos}` };
      }
      if (visit(view, filePos, frame) === false) return { validEnd: filePos, error: null };
      filePos += frame;
    }
    return { validEnd: filePos, error: null };
  }

  /**
   * Rebuilds indexes and metadata by scanning the whole file. Batches must have increasing offsets at or above the
   * segment base; the scan stops at the first batch that breaks that, or framing, or the CRC when asked.
   */
  rebuild(verifyCrc: boolean, indexIntervalBytes: number, scratch: Buffer, onBatch?: BatchVisitor): ScanResult {
    this.resetIndexes();
    let expectedMin = this.baseOffset;
    let offsetError: string | null = null;
    const res = this.scan(0, verifyCrc, scratch, (batch, position, size) => {
      const base = batch.baseOffset;
      const last = base + batch.lastOffsetDelta;
      if (base < expectedMin || last < base || last - this.baseOffset > 0x7fffffff) {
        offsetError = `batch at position ${position} has offsets [${base}, ${last}] out of order`;
        return false;
      }
      expectedMin = last + 1;
      if (position === 0) this.rollBaseMs = batch.maxTimestamp;
      this.onBatchAppended(base, last, batch.maxTimestamp, position, size, indexIntervalBytes);
      if (onBatch) onBatch(batch, position, size);
      return true;
    });
    return offsetError ? { validEnd: res.validEnd, error: offsetError } : res;
  }

  // beginSync/endSync pin the fd for any operation in flight on the threadpool (fsync, async reads).
  beginSync(): void {
    this.pendingSyncs++;
  }
  endSync(): void {
    this.pendingSyncs--;
    if (this.closeRequested && this.pendingSyncs === 0) this.closeNow();
  }

  /** the fd is closed: no read or fsync of it is in flight any more */
  get fdClosed(): boolean {
    return this.closed;
  }

  /** close() was called: the segment left its log (removed, truncated away, replaced) or the log closed */
  get closing(): boolean {
    return this.closed || this.closeRequested;
  }

  /** Closes the file, or defers that until an fsync in flight on it has returned (its fd must stay valid). */
  close(): void {
    if (this.closed) return;
    if (this.pendingSyncs > 0) this.closeRequested = true;
    else this.closeNow();
  }

  private closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeAppendFd();
    try {
      this.fs.closeSync(this.fd);
    } catch {
      // nothing to do: the segment is gone or being dropped
    }
  }

  /**
   * Hands this removed segment's file over as the next segment's (renamed to `path`, its fd kept open) instead of
   * deleting it, or returns null when it cannot: a read or fsync holds its fd, or it is closing. Its index files
   * are renamed to `*.deleted` and returned for removal. Writing a segment fills page-cache pages; deleting a file
   * frees them, and on this kind of VM the host takes freed memory back and faults it in again at the next write
   * (about 0.5 GB/s through write() against 2.4-3.2 GB/s into reused pages, bench/RESULTS.md): a log under
   * retention that reuses its removed segments' files writes into pages it already has.
   */
  recycle(path: string): { spare: SpareFile; retired: RetiredPath[] } | null {
    if (this.closing || this.pendingSyncs > 0) return null;
    try {
      this.fs.renameSync(this.logPath, path);
    } catch {
      return null; // removed the usual way
    }
    this.closed = true; // the fd now belongs to the spare
    this.closeAppendFd();
    const spare = { path, fd: this.fd, staleBytes: this.fileEnd, staleNextOffset: this.offsetsHeldEnd };
    return { spare, retired: this.renameToDeleted([]) };
  }

  /** One past the last offset any byte of the file holds: its batches', or an older segment's still past them. */
  get offsetsHeldEnd(): number {
    return Math.max(this.nextOffset, this.staleNextOffset);
  }

  /**
   * Renames the segment's files to `*.deleted` (after closing) and returns the new paths with their sizes (the index
   * files count as small: a removal unlinks them in one step). An index file that was never written is skipped.
   */
  markDeleted(): RetiredPath[] {
    this.close();
    return this.renameToDeleted([[this.logPath, this.size]]);
  }

  /** Renames `files` and, when they may exist, the index files to `*.deleted`; returns those renamed. */
  private renameToDeleted(files: Array<[string, number]>): RetiredPath[] {
    const renamed: RetiredPath[] = [];
    // A segment this process created has index files only once their first write started (often never: they wait
    // for an fsync to cover the segment, see PartitionLog.persistFlushedIndexes).
    if (this.indexFilesMayExist) files.push([this.indexPath, 0], [this.timeIndexPath, 0]);
    for (const [path, fileBytes] of files) {
      try {
        this.fs.renameSync(path, path + DELETED_SUFFIX);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      renamed.push({ path: path + DELETED_SUFFIX, fileBytes });
    }
    return renamed;
  }
}
