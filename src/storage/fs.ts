// The filesystem seam of storage: the default implementation on node:fs, and the few helpers every module shares.
// Everything under src/storage touches files only through a StorageFs, so tests can fail a write or an fsync.
import * as nodeFs from 'node:fs';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { StorageFs } from './types.js';

export const defaultStorageFs: StorageFs = {
  openSync: (path, flags) => nodeFs.openSync(path, flags),
  writeSync: (fd, buf, offset, length, position) => nodeFs.writeSync(fd, buf, offset, length, position),
  readSync: (fd, buf, offset, length, position) => nodeFs.readSync(fd, buf, offset, length, position),
  read: (fd, buf, offset, length, position, cb) => nodeFs.read(fd, buf, offset, length, position, cb),
  write: (fd, buf, offset, length, position, cb) => nodeFs.write(fd, buf, offset, length, position, cb),
  fsync: (fd, cb) => nodeFs.fsync(fd, cb),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  ftruncateSync: (fd, len) => nodeFs.ftruncateSync(fd, len),
  ftruncate: (fd, len, cb) => nodeFs.ftruncate(fd, len, cb),
  fstatSize: (fd) => nodeFs.fstatSync(fd).size,
  closeSync: (fd) => nodeFs.closeSync(fd),
  mkdirSync: (path) => {
    nodeFs.mkdirSync(path, { recursive: true });
  },
  mkdir: (path, cb) => nodeFs.mkdir(path, (err) => cb(err)),
  readdirSync: (path) => nodeFs.readdirSync(path),
  renameSync: (from, to) => nodeFs.renameSync(from, to),
  rmSync: (path) => nodeFs.rmSync(path, { recursive: true, force: true }),
  // retried: a background write may be creating a file in a directory being removed (ENOTEMPTY)
  rm: (path, cb) => nodeFs.rm(path, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 }, cb),
  removeGradually: (path, cb, fileBytes) => removeGradually(path, REMOVE_STEP_BYTES, cb, nodeFs, fileBytes),
  // synced before the callback: the temporary file of a background write is renamed over another next (see
  // BackgroundFileWriter), and the rename must find no unwritten data to flush
  writeFile: (path, data, cb, opts) => nodeFs.writeFile(path, data, { flush: opts?.sync !== false }, cb),
  open: (path, flags, cb) => nodeFs.open(path, flags, cb),
  link: (existing, newPath, cb) => nodeFs.link(existing, newPath, cb),
  existsSync: (path) => nodeFs.existsSync(path),
  readFileSync: (path) => nodeFs.readFileSync(path),
  writeFileSync: (path, data) => nodeFs.writeFileSync(path, data),
};

export function storageError(what: string, err: unknown): KafkaError {
  const detail = err instanceof Error ? err.message : String(err);
  return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${what}: ${detail}`);
}

/** Writes all of `buf` at `position` (or at the end for an append-mode fd), looping over short writes. */
export function writeFully(fs: StorageFs, fd: number, buf: Buffer, position: number | null): void {
  let done = 0;
  while (done < buf.length) {
    const n = fs.writeSync(fd, buf, done, buf.length - done, position === null ? null : position + done);
    if (n <= 0) throw new Error(`write made no progress (${done} of ${buf.length} bytes)`);
    done += n;
  }
}

/** Reads up to `length` bytes at `position` into buf[offset..]; returns the bytes read (short only at end of file). */
export function readFully(fs: StorageFs, fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, offset + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/**
 * Replaces a small file atomically: write a temporary file, optionally fsync it, rename it over the target.
 * A crash leaves either the old or the new content, never a torn one (checkpoints, index files, snapshots).
 */
export function writeFileAtomic(fs: StorageFs, path: string, data: Buffer | string, durable: boolean): void {
  const tmp = `${path}.tmp`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = fs.openSync(tmp, 'w');
  try {
    writeFully(fs, fd, bytes, 0);
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}

/**
 * writeFileAtomic on the threadpool (StorageFs.writeFile), the rename on the event loop; without an asynchronous
 * writeFile in `fs`, synchronously.
 */
export function writeFileAtomicAsync(fs: StorageFs, path: string, data: Buffer | string, durable: boolean): Promise<void> {
  const writeFile = fs.writeFile;
  if (writeFile === undefined) return Promise.resolve().then(() => writeFileAtomic(fs, path, data, durable));
  const tmp = `${path}.tmp`;
  return new Promise((resolve, reject) =>
    writeFile.call(
      fs,
      tmp,
      data,
      (err) => {
        if (err) return reject(err);
        try {
          fs.renameSync(tmp, path);
          resolve();
        } catch (err2) {
          reject(err2 as Error);
        }
      },
      { sync: durable },
    ),
  );
}

/** Reads a file, or null when it does not exist or cannot be read. */
export function readFileOrNull(fs: StorageFs, path: string): Buffer | null {
  if (!fs.existsSync(path)) return null;
  try {
    return fs.readFileSync(path);
  } catch {
    return null;
  }
}

/** the background writes of one path (BackgroundFileWriter.paths) */
interface PathWrites {
  gen: number;
  running: boolean;
  waiting: { gen: number; data: Buffer | string; landed?: (ok: boolean) => void } | null;
}

/**
 * Small files replaced atomically with their slow part off the event loop: checkpoints that move many times a second
 * (the log start under retention, DeleteRecords or a shadow following its source) and the index files of a segment
 * that just rolled. Creating and writing the temporary file runs on the threadpool; the rename over the real name
 * runs back on the event loop, in order with every synchronous write of the same file, so a background write never
 * lands over a newer one: a synchronous write, a removal or a later background write of the path first calls
 * supersede() (write() does it itself), and a superseded write's temporary file is removed instead of renamed.
 * One write of a path runs at a time; writes made meanwhile wait, and only the newest of them follows.
 * The temporary file's data is on disk before the rename (StorageFs.writeFile syncs it on the threadpool): ext4
 * would otherwise write it out inside rename() itself, on the event loop (renaming over an existing file forces
 * the new one's delayed blocks out; 50-200 ms stalls under a replication load). A crash keeps the old or the new
 * content; the rename itself is not synced, so after a power loss the old content may come back.
 */
export class BackgroundFileWriter {
  /**
   * paths with background writes in flight: the generation allowed to land, whether one is on the threadpool, and
   * the newest write waiting for it (one write of a path at a time: a checkpoint that moves many times a second
   * costs one threadpool write and sync per landing, not one per move)
   */
  private readonly paths = new Map<string, PathWrites>();
  private generation = 0;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  /**
   * `retire(path)` removes a file nobody needs any more, off the event loop (Storage passes its FileRemover): the
   * extra name a replaced file's old content keeps until then (see start()). Without it the writer removes that
   * name itself, and idle() waits for it.
   */
  constructor(
    private readonly fs: StorageFs,
    private readonly retire?: (path: string, fileBytes?: number) => void,
  ) {}

  /**
   * Replaces `path` with `data` in the background. `landed(ok)` is told whether this content reached the file
   * (false: it failed, or was superseded, also by a later write() of the path made while this one waited).
   * `fresh`: the caller knows `path` has no file yet (the first index files of a segment this process created:
   * none can exist, see LogSegment.create). Then the temporary file is not synced and the current file gets no
   * second name: renaming to a new name frees no blocks and makes ext4 force nothing out, so both would be
   * threadpool work for nothing. A wrong `fresh` costs a stall in the rename, not correctness. A write that waits
   * behind another one of the path is never fresh.
   */
  write(path: string, data: Buffer | string, landed?: (ok: boolean) => void, fresh = false): void {
    const fs = this.fs;
    const gen = ++this.generation;
    if (fs.writeFile === undefined) {
      this.supersede(path);
      let ok = true;
      try {
        writeFileAtomic(fs, path, data, false);
      } catch {
        ok = false;
      }
      landed?.(ok);
      return;
    }
    let entry = this.paths.get(path);
    if (entry === undefined) {
      entry = { gen, running: false, waiting: null };
      this.paths.set(path, entry);
    }
    entry.gen = gen;
    this.inFlight++;
    if (entry.running) {
      const replaced = entry.waiting;
      entry.waiting = { gen, data, landed };
      if (replaced !== null) {
        replaced.landed?.(false);
        this.settled();
      }
      return;
    }
    this.start(path, entry, gen, data, landed, fresh);
  }

  /**
   * Writes and syncs the temporary file on the threadpool, gives the current file a second name there too
   * (StorageFs.link), and renames the temporary file over the real one on the event loop. The second name keeps the
   * old content's inode alive through the rename: renaming over the last name of a file frees its blocks inside
   * rename(), with the directory locked, and on this machine's ext4 (mounted with discard) freeing blocks waits for
   * the disk to discard them — the largest event-loop stall left in a loaded link (perf sched_switch stacks: rename
   * → evict → ext4_free_blocks → blkdev_issue_discard), and lookups in the same directory queued behind it. The old
   * content is then unlinked by `retire`, on the threadpool.
   */
  private start(path: string, entry: PathWrites, gen: number, data: Buffer | string, landed?: (ok: boolean) => void, fresh = false): void {
    const fs = this.fs;
    entry.running = true;
    const tmp = `${path}.${gen}.tmp`;
    const written = (err: NodeJS.ErrnoException | null): void => {
      if (err !== null || entry.gen !== gen || fs.link === undefined || fresh) return this.land(path, entry, gen, tmp, null, err === null, landed);
      // ends in .tmp: a leftover from a crash is removed at the next start with the other temporary files
      const old = `${path}.${gen}.old.tmp`;
      // ENOENT: the first write of the path, no old content; another failure: the rename frees the old blocks itself
      fs.link(path, old, (err2) => this.land(path, entry, gen, tmp, err2 === null ? old : null, true, landed));
    };
    fs.writeFile!(tmp, data, written, { sync: !fresh });
  }

  private land(path: string, entry: PathWrites, gen: number, tmp: string, old: string | null, written: boolean, landed?: (ok: boolean) => void): void {
    const fs = this.fs;
    let ok = false;
    try {
      if (written && entry.gen === gen) {
        fs.renameSync(tmp, path);
        ok = true;
      }
    } catch {
      // the directory went away (topic deleted), or the disk failed: the content did not land
    }
    if (old !== null) {
      // a plain file this writer wrote: small (checkpoints, indexes, snapshots), so it goes in one unlink
      if (this.retire !== undefined) this.retire(old, 0);
      else {
        this.inFlight++;
        this.discard(old, this.settled);
      }
    }
    entry.running = false;
    const next = entry.waiting;
    entry.waiting = null;
    if (next !== null && next.gen === entry.gen) this.start(path, entry, next.gen, next.data, next.landed);
    else {
      if (next !== null) {
        next.landed?.(false); // superseded while it waited
        this.settled();
      }
      if (this.paths.get(path) === entry) this.paths.delete(path);
    }
    landed?.(ok);
    if (ok) this.settled();
    else this.discard(tmp, this.settled);
  }

  private readonly settled = (): void => {
    if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  };

  /** Background writes of `path` begun before this call will not land. */
  supersede(path: string): void {
    const entry = this.paths.get(path);
    if (entry !== undefined) entry.gen = ++this.generation;
  }

  /** Resolves when no background write (or removal of a superseded one's temporary file) is in flight. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Removes a temporary file that will not be renamed, or an old content's extra name (a leftover is removed at the next start: *.tmp). */
  private discard(tmp: string, done: () => void): void {
    removeOffLoop(this.fs, tmp, done);
  }
}

/**
 * Removes a path on the threadpool when the filesystem seam can (StorageFs.rm), else at once; `done` follows either
 * way. A failure leaves the path for the next start, which removes `*.tmp`, `*.deleted` and `*-delete` leftovers.
 */
function removeOffLoop(fs: StorageFs, path: string, done: () => void): void {
  if (fs.rm !== undefined) {
    fs.rm(path, () => done());
    return;
  }
  try {
    fs.rmSync(path);
  } catch {
    // left for the next start
  }
  done();
}

/** What a large file loses per truncation when it is removed gradually (removeGradually). */
export const REMOVE_STEP_BYTES = 16 * 1024 * 1024;

/**
 * Removes a file or a directory tree on the threadpool in short steps: a file larger than `stepBytes` is first cut
 * down from its end, `stepBytes` per ftruncate, then unlinked; a directory's entries go one at a time before the
 * directory. On ext4 (and worse with the `discard` mount option) unlinking a 128 MiB segment frees all its extents in
 * one operation: measured here under a replication load, 100-700 ms on a threadpool thread, and several such
 * unlinks at once held all four threads, so fetch reads queued behind them and a link stood still for half a
 * second. Each step here is one short operation, and whatever else waits for the threadpool runs between them.
 * A path that is already gone counts as removed.
 */
export function removeGradually(
  path: string,
  stepBytes: number,
  cb: (err: NodeJS.ErrnoException | null) => void,
  ops: RemoveOps = nodeFs,
  fileBytes?: number,
): void {
  const gone = (err: NodeJS.ErrnoException | null): boolean => err !== null && err.code === 'ENOENT';
  const unlink = (): void => ops.unlink(path, (err) => cb(err === null || gone(err) ? null : err));
  const removeFile = (size: number): void => {
    if (size <= stepBytes) return unlink();
    ops.open(path, 'r+', (err, fd) => {
      if (err) return gone(err) ? cb(null) : unlink(); // not writable by us: unlink it whole
      let left = size;
      const step = (err2: NodeJS.ErrnoException | null): void => {
        if (err2 !== null || left <= stepBytes) {
          ops.close(fd, () => unlink());
          return;
        }
        left -= stepBytes;
        ops.ftruncate(fd, left, step);
      };
      step(null);
    });
  };
  // a caller that knows the path is a plain file (a retired segment file) saves the lstat
  if (fileBytes !== undefined) return removeFile(fileBytes);
  ops.lstat(path, (err, st) => {
    if (err) return cb(gone(err) ? null : err);
    if (st.isDirectory()) {
      ops.readdir(path, (err2, names) => {
        if (err2) return cb(gone(err2) ? null : err2);
        let i = 0;
        const next = (err3: NodeJS.ErrnoException | null): void => {
          if (err3) return cb(err3);
          if (i < names.length) return removeGradually(`${path}/${names[i++]!}`, stepBytes, next, ops);
          ops.rmdir(path, (err4) => cb(err4 === null || gone(err4) ? null : err4));
        };
        next(null);
      });
      return;
    }
    removeFile(st.isFile() ? st.size : 0);
  });
}

/** The node:fs calls removeGradually makes (a test counts them). */
export interface RemoveOps {
  lstat(path: string, cb: (err: NodeJS.ErrnoException | null, st: nodeFs.Stats) => void): void;
  readdir(path: string, cb: (err: NodeJS.ErrnoException | null, names: string[]) => void): void;
  rmdir(path: string, cb: (err: NodeJS.ErrnoException | null) => void): void;
  unlink(path: string, cb: (err: NodeJS.ErrnoException | null) => void): void;
  open(path: string, flags: string, cb: (err: NodeJS.ErrnoException | null, fd: number) => void): void;
  ftruncate(fd: number, len: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  close(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
}

/**
 * A path to remove; `fileBytes` when the caller knows it is a plain file of about that size (a retired segment's
 * files, a replaced checkpoint's old content), so removal skips the lstat that tells a file from a directory: at
 * 256 partitions with small segments those lstats were a third of a broker's threadpool requests.
 */
export interface RetiredPath {
  path: string;
  fileBytes?: number;
}

/**
 * Removes retired files (deleted segments, directories of deleted topics) one path at a time, gradually where the
 * filesystem seam can (StorageFs.removeGradually), so removal never holds more than one threadpool thread and never
 * for long (see removeGradually). `hurry()` (shutdown) removes what is still queued at once, concurrently.
 * A removal that fails is left for the next start, which removes `*.deleted` files and `*-delete` directories.
 */
export class FileRemover {
  private readonly queue: RetiredPath[] = [];
  private running = false;
  private hurried = false;
  /** removals started by hurry() (or after it) and not finished */
  private others = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly fs: StorageFs) {}

  /** paths queued or being removed */
  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0) + this.others;
  }

  /** `fileBytes`: the path is known to be a plain file of about this size (no lstat needed; see RetiredPath). */
  remove(path: string, fileBytes?: number): void {
    if (this.hurried) return this.removeNow(path);
    this.queue.push(fileBytes === undefined ? { path } : { path, fileBytes });
    if (!this.running) this.next();
  }

  /** From now on every path is removed at once; what is queued starts now. Resolves when nothing is left. */
  hurry(): Promise<void> {
    this.hurried = true;
    for (const { path } of this.queue.splice(0)) this.removeNow(path);
    return this.idle();
  }

  idle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    const item = this.queue.shift();
    if (item === undefined) {
      this.running = false;
      this.checkIdle();
      return;
    }
    this.running = true;
    if (this.fs.removeGradually !== undefined) this.fs.removeGradually(item.path, () => this.next(), item.fileBytes);
    else removeOffLoop(this.fs, item.path, () => this.next());
  }

  private removeNow(path: string): void {
    this.others++;
    removeOffLoop(this.fs, path, () => {
      this.others--;
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
