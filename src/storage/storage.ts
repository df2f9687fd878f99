// Storage: the partition logs under `<dataDir>/logs/<topic>-<partition>/`, their maintenance scheduler, topic
// deletion, and shutdown. The broker's only entry point into src/storage (see index.ts).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { initCompression } from '../protocol/compression.js';
import { BackgroundFileWriter, defaultStorageFs, FileRemover, type RetiredPath } from './fs.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { DiskPartitionLog, type LogDeps } from './partition-log.js';
import type { SpareFile } from './segment.js';
import { TailRing } from './tail-cache.js';
import type { LogConfig, PartitionLog, Storage, StorageFs, StorageOptions, TopicPartition } from './types.js';

export const DEFAULT_TAIL_CACHE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_TAIL_CACHE_TOTAL_BYTES = 32 * 1024 * 1024;
const SCAN_SCRATCH_BYTES = 1024 * 1024;
const READ_SCRATCH_BYTES = 64 * 1024;
const DELETE_DIR_SUFFIX = '-delete';
/** new partition directories made at a time (createLog) */
const CONCURRENT_CREATIONS = 8;
/** logs closed at a time by close(): each writes ~7 small files on the threadpool, most of them synced */
const CONCURRENT_CLOSES = 8;

/** Opens the storage under `opts.dataDir` (loading the zstd codec first; logs are opened one by one with openLog). */
export async function openStorage(opts: StorageOptions): Promise<Storage> {
  await initCompression();
  return new LogStorage(opts);
}

export function partitionDirName(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

class LogStorage implements Storage {
  private readonly fs: StorageFs;
  private readonly logsDir: string;
  private readonly opened = new Map<string, DiskPartitionLog>();
  private readonly deps: LogDeps;
  private readonly timer: NodeJS.Timeout | null = null;
  private readonly pendingDeletes = new Set<{ timer: NodeJS.Timeout; paths: RetiredPath[] }>();
  /** logs being created (createLog), by directory name: the latest creation of each */
  private readonly creating = new Map<string, Creation>();
  private creationsRunning = 0;
  private readonly creationsWaiting: (() => void)[] = [];
  /** removes retired files one at a time, gradually (close hurries it and waits) */
  private readonly remover: FileRemover;
  private readonly onMaintenanceError: StorageOptions['onMaintenanceError'];

  constructor(opts: StorageOptions) {
    this.fs = opts.fs ?? defaultStorageFs;
    this.remover = new FileRemover(this.fs);
    this.logsDir = join(opts.dataDir, 'logs');
    this.fs.mkdirSync(this.logsDir);
    this.onMaintenanceError = opts.onMaintenanceError;
    this.deps = {
      fs: this.fs,
      // Allocated once: first-touching fresh memory is slow on this machine (PERF-NOTES).
      scanScratch: Buffer.allocUnsafeSlow(SCAN_SCRATCH_BYTES),
      readScratch: Buffer.allocUnsafeSlow(READ_SCRATCH_BYTES),
      tailCacheBytes: opts.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BYTES,
      // allocated on the first append (see TailRing)
      tailRing: new TailRing(opts.tailCacheTotalBytes ?? DEFAULT_TAIL_CACHE_TOTAL_BYTES),
      scheduleDelete: (paths, delayMs, claim) => this.scheduleDelete(paths, delayMs, claim),
      background: new BackgroundFileWriter(this.fs, (path, fileBytes) => this.remover.remove(path, fileBytes)),
      prefill: opts.prefillSegments ?? process.env.UMBRA_PREFILL !== '0',
    };
    // Directories of topics deleted before a restart.
    const leftovers = this.fs.readdirSync(this.logsDir).filter((n) => n.endsWith(DELETE_DIR_SUFFIX));
    if (leftovers.length > 0) this.scheduleDelete(leftovers.map((n) => ({ path: join(this.logsDir, n) })), 0);
    const interval = opts.maintenanceIntervalMs ?? 30_000;
    if (interval > 0) {
      this.timer = setInterval(() => this.maintainAll(Date.now()), interval);
      this.timer.unref();
    }
  }

  getLog(tp: TopicPartition): PartitionLog | undefined {
    return this.opened.get(partitionDirName(tp));
  }

  openLog(tp: TopicPartition, topicId: string, config: LogConfig): PartitionLog {
    const name = partitionDirName(tp);
    const existing = this.opened.get(name);
    if (existing !== undefined) {
      if (!existing.isOffline) return existing;
      // Reopening is how a failed log comes back: recovery decides what on disk can be trusted.
      existing.close();
      this.opened.delete(name);
    }
    const log = DiskPartitionLog.open(this.deps, tp.topic, tp.partition, join(this.logsDir, name), topicId, config);
    this.opened.set(name, log);
    return log;
  }

  /**
   * The log of a partition created while the broker runs: a new directory's files are made on the threadpool
   * (DiskPartitionLog.prepareNewDir), so the event loop, and every other client, does not wait for them. A directory
   * that exists already is opened (and recovered) as openLog does. Creations of one directory run one after
   * another; deleteTopic cancels those of its topic (the promise rejects, and what was made is removed).
   */
  createLog(tp: TopicPartition, topicId: string, config: LogConfig): Promise<PartitionLog> {
    const name = partitionDirName(tp);
    const before = this.creating.get(name);
    const job: Creation = { topic: tp.topic, cancelled: false, settled: Promise.resolve() };
    const created = (before?.settled ?? Promise.resolve()).then(() => this.create(name, tp, topicId, config, job));
    job.settled = created.then(
      () => undefined,
      () => undefined,
    );
    this.creating.set(name, job);
    void job.settled.then(() => {
      if (this.creating.get(name) === job) this.creating.delete(name);
    });
    return created;
  }

  private async create(name: string, tp: TopicPartition, topicId: string, config: LogConfig, job: Creation): Promise<PartitionLog> {
    const dir = join(this.logsDir, name);
    // Cancelled: whatever is in the directory, made now or there before, is the deleted topic's (deleteTopic left
    // the directory of a creation to it).
    const cancel = (): KafkaError => {
      this.retireDir(dir);
      return new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${name} was deleted while it was being created`);
    };
    if (job.cancelled) throw cancel();
    const existing = this.opened.get(name);
    if (existing !== undefined && !existing.isOffline) return existing;
    let spare: SpareFile | null;
    await this.creationSlot();
    try {
      if (job.cancelled) throw cancel();
      spare = await DiskPartitionLog.prepareNewDir(this.fs, dir, topicId);
    } catch (err) {
      if (job.cancelled) throw cancel();
      throw err;
    } finally {
      this.releaseCreationSlot();
    }
    if (job.cancelled) {
      if (spare !== null) this.fs.closeSync(spare.fd);
      throw cancel();
    }
    if (spare === null) return this.openLog(tp, topicId, config);
    const log = DiskPartitionLog.createPrepared(this.deps, tp.topic, tp.partition, dir, topicId, config, spare);
    this.opened.set(name, log);
    return log;
  }

  /**
   * At most CONCURRENT_CREATIONS directories are made at a time: a 1,000-partition topic submitted every mkdir at
   * once, ~0.3 ms of the event loop each on this machine, and their completions came back together as well.
   */
  private creationSlot(): Promise<void> {
    if (this.creationsRunning < CONCURRENT_CREATIONS) {
      this.creationsRunning++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.creationsWaiting.push(resolve));
  }

  private releaseCreationSlot(): void {
    const next = this.creationsWaiting.shift();
    if (next !== undefined) next(); // the slot passes on
    else this.creationsRunning--;
  }

  /** Renames a partition directory away and removes it in the background (a cancelled creation's). */
  private retireDir(dir: string): void {
    const target = `${dir}.${randomUUID().replace(/-/g, '')}${DELETE_DIR_SUFFIX}`;
    try {
      this.fs.renameSync(dir, target);
    } catch {
      return; // never made, or already gone
    }
    this.scheduleDelete([{ path: target }], 0);
  }

  deleteTopic(topic: string): void {
    const pattern = new RegExp(`^${escapeRegExp(topic)}-(\\d+)$`);
    for (const [name, log] of this.opened) {
      if (log.topic === topic) {
        log.close();
        this.opened.delete(name);
      }
    }
    // a directory being created is the creation's to remove once its files are made (renaming it now would leave
    // them landing in a directory on its way out)
    for (const job of this.creating.values()) if (job.topic === topic) job.cancelled = true;
    const renamed: string[] = [];
    for (const name of this.fs.readdirSync(this.logsDir)) {
      if (!pattern.test(name) || this.creating.has(name)) continue;
      // Renamed first so a new topic of the same name starts clean; removed in the background.
      const target = join(this.logsDir, `${name}.${randomUUID().replace(/-/g, '')}${DELETE_DIR_SUFFIX}`);
      this.fs.renameSync(join(this.logsDir, name), target);
      renamed.push(target);
    }
    if (renamed.length > 0) this.scheduleDelete(renamed.map((path) => ({ path })), 0);
  }

  logs(): Iterable<PartitionLog> {
    return this.opened.values();
  }

  maintainAll(nowMs: number): void {
    for (const log of this.opened.values()) {
      try {
        log.maintain(nowMs);
      } catch (err) {
        this.onMaintenanceError?.({ topic: log.topic, partition: log.partition }, err);
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // logs still being created land in `opened` and are closed with the others
    await Promise.all([...this.creating.values()].map((job) => job.settled));
    await Promise.allSettled([...this.opened.values()].map((log) => log.flush()));
    await this.deps.background.idle();
    await Promise.all([...this.opened.values()].map((log) => log.sparesSettled()));
    // CONCURRENT_CLOSES logs at a time, each writing its files on the threadpool
    const logs = [...this.opened.values()];
    let next = 0;
    const closer = async (): Promise<void> => {
      while (next < logs.length) await logs[next++]!.closeCleanly();
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_CLOSES, logs.length) }, closer));
    this.opened.clear();
    for (const pending of this.pendingDeletes) {
      clearTimeout(pending.timer);
      this.removeNow(pending.paths);
    }
    this.pendingDeletes.clear();
    await this.remover.hurry();
  }

  /** Removes `paths` after `delayMs`, but those `claim` takes over then (a log reusing a retired segment's file). */
  private scheduleDelete(paths: RetiredPath[], delayMs: number, claim?: (path: string) => boolean): void {
    if (paths.length === 0) return;
    const pending = {
      paths,
      timer: setTimeout(() => {
        this.pendingDeletes.delete(pending);
        this.removeNow(claim === undefined ? paths : paths.filter((p) => !claim(p.path)));
      }, Math.max(0, delayMs)),
    };
    pending.timer.unref();
    this.pendingDeletes.add(pending);
  }

  /**
   * Removes files and directories off the event loop (unlinking a segment frees its page cache, which took
   * milliseconds of the event loop per segment under load), one at a time and in short steps (FileRemover).
   */
  private removeNow(paths: RetiredPath[]): void {
    for (const p of paths) this.remover.remove(p.path, p.fileBytes);
  }
}

interface Creation {
  topic: string;
  /** the topic was deleted meanwhile: the creation removes what it made */
  cancelled: boolean;
  /** settles (never rejects) when the creation has finished, whatever its outcome */
  settled: Promise<void>;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
