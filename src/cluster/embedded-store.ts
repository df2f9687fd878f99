// The embedded metadata store of a single node: everything in memory for reads, every change made durable in an
// append-only journal before the caller's promise resolves.
//
// Layout, under <dataDir>/__cluster_metadata/:
//   meta.properties   identity (cluster.id, node.id), written once, atomically, before anything else
//   snapshot          the whole key space as of journal sequence N (one framed record)
//   journal           framed records, each one atomic group of changes with sequence > N
//   .lock             pid of the process that has the store open
// A framed record is [u32 length][u32 CRC32C of payload][payload: JSON], big-endian.
//
// Crash safety: a record is appended and fsynced before it is applied in memory and acknowledged. A crash mid-append
// leaves a torn tail (short or CRC-failing record), which loading ignores and truncates: that change was never
// acknowledged. Compaction writes the snapshot to a temp file, fsyncs it, renames it over the old one and fsyncs the
// directory, and only then empties the journal; a crash in between leaves journal records the snapshot already
// covers, which loading skips by sequence number.
import { crc32c } from '../protocol/crc32c.js';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { MetadataStore } from './types.js';

export const METADATA_DIR_NAME = '__cluster_metadata';

export interface EmbeddedStoreOptions {
  nodeId: number;
  /** the journal is folded into a new snapshot once it grows past this many bytes (default 1 MiB) */
  compactAfterBytes?: number;
  /** told about recovered torn tails and compactions */
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** the journal fsync; injectable so tests can make it fail */
  fsync?: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;
}

type Op = { op: 'put'; key: string; value: unknown } | { op: 'delete'; key: string };

interface JournalRecord {
  seq: number;
  ops: { op: 'put' | 'delete'; key: string; value?: unknown }[];
}

interface SnapshotRecord {
  version: 1;
  seq: number;
  entries: [string, unknown][];
}

const HEADER_BYTES = 8;
const META_VERSION = '1';

/** Kafka-style id: the 16 bytes of a random UUID as 22 characters of URL-safe base64, never starting with '-'. */
export function generateClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    // Kafka avoids a leading '-' so the id is never mistaken for a command-line flag
    if (!id.startsWith('-')) return id;
  }
}

function frame(payload: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const buf = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  buf.writeUInt32BE(body.length, 0);
  buf.writeUInt32BE(crc32c(body), 4);
  body.copy(buf, HEADER_BYTES);
  return buf;
}

/** Reads the record at `pos`; null when the bytes there are not a whole, intact record. */
function readFrame(buf: Buffer, pos: number): { value: unknown; end: number } | null {
  if (pos + HEADER_BYTES > buf.length) return null;
  const len = buf.readUInt32BE(pos);
  const end = pos + HEADER_BYTES + len;
  if (end > buf.length) return null;
  const body = buf.subarray(pos + HEADER_BYTES, end);
  if (crc32c(body) !== buf.readUInt32BE(pos + 4)) return null;
  try {
    return { value: JSON.parse(body.toString('utf8')), end };
  } catch {
    return null;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** What a reader gets is exactly what a restart would load: a frozen copy that went through JSON. */
function durableCopy(key: string, value: unknown): unknown {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`metadata value for key '${key}' is not JSON-serializable`);
  return deepFreeze(JSON.parse(json));
}

function fsyncAsync(fd: number, fsync: NonNullable<EmbeddedStoreOptions['fsync']>): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeFileDurably(dir: string, name: string, data: Buffer | string): void {
  const tmp = join(dir, `${name}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, join(dir, name));
  fsyncDir(dir);
}

// ---- identity (meta.properties) ----

interface Identity {
  clusterId: string;
  nodeId: number;
}

function readIdentity(path: string): Identity {
  const props = new Map<string, string>();
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq > 0) props.set(t.slice(0, eq), t.slice(eq + 1));
  }
  const version = props.get('version');
  const clusterId = props.get('cluster.id');
  const nodeId = Number(props.get('node.id'));
  if (version !== META_VERSION || !clusterId || !Number.isInteger(nodeId)) {
    throw new Error(`${path} is not a valid Umbra meta.properties (version ${META_VERSION} with cluster.id and node.id)`);
  }
  return { clusterId, nodeId };
}

// ---- single-opener lock ----

/** directories open in this process: a second open is a bug even though the pid in the lock file is ours */
const openInProcess = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function acquireLock(dir: string): void {
  if (openInProcess.has(dir)) throw new Error(`metadata store ${dir} is already open in this process`);
  const lock = join(dir, '.lock');
  try {
    const fd = fs.openSync(lock, 'wx');
    fs.writeSync(fd, String(process.pid));
    fs.closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const pid = Number(fs.readFileSync(lock, 'utf8').trim());
    // A lock left by a process that died (kill -9) is stale; one held by a live other process is not.
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
      throw new Error(`metadata store ${dir} is in use by process ${pid} (another broker on the same data_dir?); remove ${lock} if that is wrong`);
    }
    fs.writeFileSync(lock, String(process.pid));
  }
  openInProcess.add(dir);
}

function releaseLock(dir: string): void {
  openInProcess.delete(dir);
  try {
    fs.rmSync(join(dir, '.lock'), { force: true });
  } catch {
    // a leftover lock of a dead pid is harmless: the next open takes it over
  }
}

class EmbeddedStore implements MetadataStore {
  readonly clusterId: string;
  readonly nodeId: number;
  private readonly entries = new Map<string, unknown>();
  private sortedKeys: string[] | null = null;
  private journalFd: number;
  private journalBytes: number;
  private seq: number;
  /** writes run one at a time, in call order */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;
  /** after a failed write or fsync the on-disk state is unknown (fsync errors are not retryable): refuse writes */
  private failure: Error | null = null;

  constructor(
    private readonly dir: string,
    identity: Identity,
    state: { entries: Map<string, unknown>; seq: number; journalFd: number; journalBytes: number },
    private readonly compactAfterBytes: number,
    private readonly logger: EmbeddedStoreOptions['logger'],
    private readonly fsync: NonNullable<EmbeddedStoreOptions['fsync']>,
  ) {
    this.clusterId = identity.clusterId;
    this.nodeId = identity.nodeId;
    this.entries = state.entries;
    this.seq = state.seq;
    this.journalFd = state.journalFd;
    this.journalBytes = state.journalBytes;
  }

  get<T>(key: string): T | undefined {
    return this.entries.get(key) as T | undefined;
  }

  list<T>(prefix: string): [string, T][] {
    if (!this.sortedKeys) this.sortedKeys = [...this.entries.keys()].sort();
    const out: [string, T][] = [];
    for (const k of this.sortedKeys) if (k.startsWith(prefix)) out.push([k, this.entries.get(k) as T]);
    return out;
  }

  put(key: string, value: unknown): Promise<void> {
    return this.batch([{ op: 'put', key, value }]);
  }

  delete(key: string): Promise<void> {
    return this.batch([{ op: 'delete', key }]);
  }

  batch(ops: Op[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('metadata store is closed'));
    // Serialize (and validate) now, so a bad value fails this call alone and later mutation by the caller is harmless.
    let prepared: { op: 'put' | 'delete'; key: string; value?: unknown }[];
    try {
      prepared = ops.map((o) => (o.op === 'put' ? { op: 'put', key: o.key, value: durableCopy(o.key, o.value) } : { op: 'delete', key: o.key }));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(() => this.append(prepared));
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.tail.then(task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async append(ops: JournalRecord['ops']): Promise<void> {
    if (this.failure) throw new Error(`metadata store is unusable after an earlier write failure: ${this.failure.message}`);
    if (ops.length === 0) return;
    const record: JournalRecord = { seq: this.seq + 1, ops };
    const buf = frame(record);
    try {
      fs.writeSync(this.journalFd, buf, 0, buf.length, this.journalBytes);
      await fsyncAsync(this.journalFd, this.fsync);
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
    this.journalBytes += buf.length;
    this.seq = record.seq;
    this.apply(ops);
    if (this.journalBytes >= this.compactAfterBytes) this.compact();
  }

  private apply(ops: JournalRecord['ops']): void {
    for (const o of ops) {
      if (o.op === 'put') this.entries.set(o.key, o.value);
      else this.entries.delete(o.key);
    }
    this.sortedKeys = null;
  }

  /** Folds the journal into a new snapshot. Runs inside the write queue, so nothing appends meanwhile. */
  private compact(): void {
    try {
      const snapshot: SnapshotRecord = { version: 1, seq: this.seq, entries: [...this.entries] };
      writeFileDurably(this.dir, 'snapshot', frame(snapshot));
      fs.ftruncateSync(this.journalFd, 0);
      fs.fsyncSync(this.journalFd);
      const before = this.journalBytes;
      this.journalBytes = 0;
      this.logger?.info({ seq: this.seq, journalBytes: before, keys: this.entries.size }, 'metadata journal compacted into snapshot');
    } catch (err) {
      // The change that triggered compaction is durable in the journal; a failed compaction only means a longer
      // journal. But a failed truncate leaves the journal length unknown, so stop writing.
      this.failure = err as Error;
      this.logger?.warn({ err }, 'metadata snapshot failed; further metadata writes are refused');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    fs.closeSync(this.journalFd);
    releaseLock(this.dir);
  }
}

function loadSnapshot(path: string): { entries: Map<string, unknown>; seq: number } {
  if (!fs.existsSync(path)) return { entries: new Map(), seq: 0 };
  const buf = fs.readFileSync(path);
  const rec = readFrame(buf, 0);
  // A snapshot is only ever renamed into place complete and fsynced: a bad one is real corruption, not a torn write.
  if (!rec || rec.end !== buf.length) throw new Error(`metadata snapshot ${path} is corrupt (bad length or CRC); refusing to start`);
  const snap = rec.value as SnapshotRecord;
  if (snap.version !== 1 || !Array.isArray(snap.entries)) throw new Error(`metadata snapshot ${path} has an unknown format`);
  const entries = new Map<string, unknown>();
  for (const [k, v] of snap.entries) entries.set(k, deepFreeze(v));
  return { entries, seq: snap.seq };
}

/**
 * Opens (creating on first start) the metadata store of the broker whose data directory is `dataDir`.
 * Refuses to open a directory that belongs to another node id, or one another live process has open.
 */
export async function openEmbeddedStore(dataDir: string, opts: EmbeddedStoreOptions): Promise<MetadataStore> {
  const dir = join(dataDir, METADATA_DIR_NAME);
  fs.mkdirSync(dir, { recursive: true });
  acquireLock(dir);
  let journalFd: number | undefined;
  try {
    const metaPath = join(dir, 'meta.properties');
    const snapshotPath = join(dir, 'snapshot');
    const journalPath = join(dir, 'journal');
    let identity: Identity;
    if (fs.existsSync(metaPath)) {
      identity = readIdentity(metaPath);
      if (identity.nodeId !== opts.nodeId) {
        throw new Error(
          `data directory ${dataDir} belongs to node ${identity.nodeId} of cluster ${identity.clusterId}, but this broker is configured ` +
            `with node id ${opts.nodeId}; set node_id to ${identity.nodeId} or use another data_dir`,
        );
      }
    } else {
      if (fs.existsSync(snapshotPath) || (fs.existsSync(journalPath) && fs.statSync(journalPath).size > 0)) {
        throw new Error(`${metaPath} is missing but ${dir} holds metadata; refusing to start with a new cluster identity`);
      }
      identity = { clusterId: generateClusterId(), nodeId: opts.nodeId };
      writeFileDurably(dir, 'meta.properties', `# Umbra node identity; do not edit\nversion=${META_VERSION}\ncluster.id=${identity.clusterId}\nnode.id=${identity.nodeId}\n`);
    }
    fs.rmSync(`${snapshotPath}.tmp`, { force: true });

    const { entries, seq: snapshotSeq } = loadSnapshot(snapshotPath);
    let seq = snapshotSeq;
    journalFd = fs.openSync(journalPath, fs.existsSync(journalPath) ? 'r+' : 'w+');
    const journal = fs.readFileSync(journalPath);
    let pos = 0;
    for (;;) {
      const rec = readFrame(journal, pos);
      if (!rec) break;
      const r = rec.value as JournalRecord;
      // records at or below the snapshot's sequence were already folded into it (crash before the journal was emptied)
      if (r.seq > seq) {
        for (const o of r.ops) {
          if (o.op === 'put') entries.set(o.key, deepFreeze(o.value));
          else entries.delete(o.key);
        }
        seq = r.seq;
      }
      pos = rec.end;
    }
    if (pos < journal.length) {
      // a torn tail: the last append never completed, so it was never acknowledged
      opts.logger?.warn({ journal: journalPath, validBytes: pos, droppedBytes: journal.length - pos }, 'metadata journal had a torn tail; truncated');
      fs.ftruncateSync(journalFd, pos);
      fs.fsyncSync(journalFd);
    }
    return new EmbeddedStore(dir, identity, { entries, seq, journalFd, journalBytes: pos }, opts.compactAfterBytes ?? 1 << 20, opts.logger, opts.fsync ?? fs.fsync);
  } catch (err) {
    if (journalFd !== undefined) fs.closeSync(journalFd);
    releaseLock(dir);
    throw err;
  }
}
