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
  fsync: (fd, cb) => nodeFs.fsync(fd, cb),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  ftruncateSync: (fd, len) => nodeFs.ftruncateSync(fd, len),
  fstatSize: (fd) => nodeFs.fstatSync(fd).size,
  closeSync: (fd) => nodeFs.closeSync(fd),
  mkdirSync: (path) => {
    nodeFs.mkdirSync(path, { recursive: true });
  },
  readdirSync: (path) => nodeFs.readdirSync(path),
  renameSync: (from, to) => nodeFs.renameSync(from, to),
  rmSync: (path) => nodeFs.rmSync(path, { recursive: true, force: true }),
  rm: (path, cb) => nodeFs.rm(path, { recursive: true, force: true }, cb),
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

/** Reads a file, or null when it does not exist or cannot be read. */
export function readFileOrNull(fs: StorageFs, path: string): Buffer | null {
  if (!fs.existsSync(path)) return null;
  try {
    return fs.readFileSync(path);
  } catch {
    return null;
  }
}
