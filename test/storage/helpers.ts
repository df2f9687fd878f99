// Shared fixtures of the storage tests: temp directories, configs, batch builders and a filesystem that fails or
// holds fsyncs on demand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Compression, type CompressionCodec } from '../../src/protocol/compression.js';
import { buildRecordBatch, decodeRecords, type DecodedRecord } from '../../src/protocol/record-batch.js';
import { defaultStorageFs, openStorage } from '../../src/storage/index.js';
import type { LogConfig, PartitionLog, Storage, StorageFs, StorageOptions } from '../../src/storage/types.js';

export const TOPIC_ID = '3f2a1c9e-7b4d-4e8a-9c1f-2d3e4f5a6b7c';

export const baseConfig: LogConfig = {
  segmentBytes: 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  retentionMs: -1,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 24 * 3600 * 1000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  minCleanableDirtyRatio: 0.5,
  maxMessageBytes: 1024 * 1024,
  messageTimestampType: 'CreateTime',
  indexIntervalBytes: 4096,
  fileDeleteDelayMs: 0,
  compression: null,
  compressionLevel: 0,
  timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER,
  timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
  segmentJitterMs: 0,
  segmentIndexBytes: 10 * 1024 * 1024,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
};

export function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...baseConfig, ...overrides };
}

/** storages open() opened, by data directory (tempDir's cleanup closes them before removing it) */
const openedIn = new Map<string, Storage[]>();

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-storage-'));
  t.after(async () => {
    // Storages opened on it close first: hooks run in the order they were added, and a storage still open may be
    // finishing a background write (an index, a checkpoint) in the directory.
    for (const storage of openedIn.get(dir) ?? []) await storage.close();
    openedIn.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Polls `cond` every 10 ms (background work of storage: removals, index and checkpoint writes). */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface BatchSpec {
  values: (string | null)[];
  keys?: (string | null)[];
  timestamps?: number[];
  timestamp?: number;
  compression?: CompressionCodec;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

/** A producer-side batch (baseOffset 0, no leader epoch), as a client would send it. */
export function batch(spec: BatchSpec | string[]): Buffer {
  const s: BatchSpec = Array.isArray(spec) ? { values: spec } : spec;
  return buildRecordBatch({
    records: s.values.map((value, i) => ({
      key: s.keys ? s.keys[i] : null,
      value,
      timestamp: s.timestamps ? s.timestamps[i] : (s.timestamp ?? 1_000_000),
    })),
    compression: s.compression ?? Compression.none,
    producerId: s.producerId,
    producerEpoch: s.producerEpoch,
    baseSequence: s.baseSequence,
  });
}

/** All records of the returned batches. */
export function recordsOf(batches: Buffer[]): DecodedRecord[] {
  return batches.flatMap((b) => decodeRecords(b));
}

export function valuesOf(batches: Buffer[]): (string | null)[] {
  return recordsOf(batches).map((r) => (r.value === null ? null : r.value.toString()));
}

/** Everything from `from` to the log end, fetched as a consumer would (several reads). */
export function readAll(log: PartitionLog, from = log.logStartOffset): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const res = log.read(offset, { maxBytes: 64 * 1024, minOneBatch: true, isolation: 'read_uncommitted' });
    if (res.batches.length === 0) break;
    for (const b of res.batches) {
      for (const r of decodeRecords(b)) if (r.offset >= offset) out.push(r);
      offset = Math.max(offset, b.readInt32BE(0) * 2 ** 32 + b.readUInt32BE(4) + b.readInt32BE(23) + 1);
    }
  }
  return out;
}

export async function open(t: TestContext, dataDir: string, opts: Partial<StorageOptions> = {}): Promise<Storage> {
  const storage = await openStorage({ dataDir, defaultConfig: baseConfig, maintenanceIntervalMs: 0, ...opts });
  t.after(() => storage.close());
  const list = openedIn.get(dataDir) ?? [];
  list.push(storage);
  openedIn.set(dataDir, list);
  return storage;
}

/**
 * A filesystem that can fail writes or fsyncs, and hold fsync callbacks until released (to test group commit).
 */
export class FaultyFs implements StorageFs {
  failWrites: NodeJS.ErrnoException | null = null;
  /** write only half of the next write, then fail the rest */
  tornWrite = false;
  failFsync: NodeJS.ErrnoException | null = null;
  holdFsync = false;
  fsyncCalls = 0;
  private held: (() => void)[] = [];
  private readonly base: StorageFs = defaultStorageFs;

  releaseFsyncs(): void {
    const held = this.held;
    this.held = [];
    for (const release of held) release();
  }
  get heldFsyncs(): number {
    return this.held.length;
  }

  openSync(path: string, flags: string): number {
    return this.base.openSync(path, flags);
  }
  writeSync(fd: number, buf: Buffer, offset: number, length: number, position: number | null): number {
    if (this.tornWrite && length > 1) {
      this.tornWrite = false;
      this.failWrites = ioError('ENOSPC');
      return this.base.writeSync(fd, buf, offset, length >> 1, position);
    }
    if (this.failWrites) throw this.failWrites;
    return this.base.writeSync(fd, buf, offset, length, position);
  }
  readSync(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    return this.base.readSync(fd, buf, offset, length, position);
  }
  fsync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    this.fsyncCalls++;
    // Completes on the next setImmediate, not on the threadpool: tests that release held fsyncs and then wait
    // a tick must not depend on how long a real fsync takes on a loaded machine.
    const run = (): void => {
      if (this.failFsync) {
        const err = this.failFsync;
        setImmediate(() => cb(err));
        return;
      }
      try {
        this.base.fsyncSync(fd);
        setImmediate(() => cb(null));
      } catch (err) {
        setImmediate(() => cb(err as NodeJS.ErrnoException));
      }
    };
    if (this.holdFsync) this.held.push(run);
    else run();
  }
  fsyncSync(fd: number): void {
    if (this.failFsync) throw this.failFsync;
    this.base.fsyncSync(fd);
  }
  ftruncateSync(fd: number, len: number): void {
    this.base.ftruncateSync(fd, len);
  }
  fstatSize(fd: number): number {
    return this.base.fstatSize(fd);
  }
  closeSync(fd: number): void {
    this.base.closeSync(fd);
  }
  mkdirSync(path: string): void {
    this.base.mkdirSync(path);
  }
  readdirSync(path: string): string[] {
    return this.base.readdirSync(path);
  }
  renameSync(from: string, to: string): void {
    this.base.renameSync(from, to);
  }
  rmSync(path: string): void {
    this.base.rmSync(path);
  }
  existsSync(path: string): boolean {
    return this.base.existsSync(path);
  }
  readFileSync(path: string): Buffer {
    return this.base.readFileSync(path);
  }
  writeFileSync(path: string, data: Buffer | string): void {
    this.base.writeFileSync(path, data);
  }
}

export function ioError(code: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected failure`);
  err.code = code;
  return err;
}

/** Lets timers of 0 ms (scheduled file deletions) run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}
