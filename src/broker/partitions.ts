// The broker's view of its partitions: topic records from the metadata store joined with the partition logs in
// storage. It keeps the two in step (a created topic gets its logs, a config change reaches the logs, a deleted
// topic's logs go away) and wakes up long-polling fetches when data is appended.
import type { Logger } from 'pino';
import type { TopicRecord } from '../cluster/types.js';
import type { TopicRegistry } from '../cluster/topics.js';
import { resolveTopicConfig, toLogConfig } from '../cluster/topic-config.js';
import type { AppendOptions, AppendResult, LogConfig, PartitionLog, Storage } from '../storage/types.js';

interface TopicState {
  record: TopicRecord;
  logs: PartitionLog[];
}

type Waiter = () => void;

export class PartitionManager {
  private readonly byName = new Map<string, TopicState>();
  private readonly byId = new Map<string, TopicState>();
  private readonly waiters = new Map<PartitionLog, Set<Waiter>>();
  private readonly storage: Storage;
  private readonly topics: TopicRegistry;
  private readonly brokerConfigs: Readonly<Record<string, string>>;
  private readonly logger: Logger;

  constructor(opts: { storage: Storage; topics: TopicRegistry; brokerConfigs: Readonly<Record<string, string>>; logger: Logger }) {
    this.storage = opts.storage;
    this.topics = opts.topics;
    this.brokerConfigs = opts.brokerConfigs;
    this.logger = opts.logger;
  }

  /** Opens (and recovers) the logs of every known topic. */
  start(): void {
    for (const record of this.topics.list()) this.sync(record.name);
  }

  topic(name: string): TopicRecord | undefined {
    return this.byName.get(name)?.record;
  }

  topicById(id: string): TopicRecord | undefined {
    return this.byId.get(id)?.record;
  }

  list(): TopicRecord[] {
    return [...this.byName.values()].map((s) => s.record);
  }

  log(topic: string, partition: number): PartitionLog | undefined {
    return this.byName.get(topic)?.logs[partition];
  }

  logs(topic: string): readonly PartitionLog[] {
    return this.byName.get(topic)?.logs ?? [];
  }

  logConfigFor(record: TopicRecord): LogConfig {
    return toLogConfig(resolveTopicConfig(record.configs, this.brokerConfigs));
  }

  /**
   * Brings storage in line with the registry's record of `name`: opens missing partitions, pushes config
   * changes, or (when the topic is gone) deletes its logs. Call after every topic change.
   */
  sync(name: string): void {
    const record = this.topics.get(name);
    const state = this.byName.get(name);
    if (!record) {
      if (state) {
        this.byName.delete(name);
        this.byId.delete(state.record.topicId);
        for (const log of state.logs) this.wake(log);
        this.storage.deleteTopic(name);
        this.logger.info({ topic: name }, 'deleted topic');
      }
      return;
    }
    if (state && state.record.topicId !== record.topicId) {
      // recreated under the same name: the old logs belong to another topic id
      this.byName.delete(name);
      this.byId.delete(state.record.topicId);
      this.storage.deleteTopic(name);
      return this.sync(name);
    }
    const config = this.logConfigFor(record);
    const logs = state?.logs ?? [];
    for (let p = 0; p < record.partitions; p++) {
      const existing = logs[p];
      if (existing) existing.updateConfig(config);
      else logs[p] = this.storage.openLog({ topic: name, partition: p }, record.topicId, config);
    }
    const next: TopicState = { record, logs };
    this.byName.set(name, next);
    this.byId.set(record.topicId, next);
  }

  /** Creates a topic with the broker defaults (Metadata auto-creation); the registry's change listener opens its logs. */
  async createTopic(req: { name: string; partitions?: number }): Promise<TopicRecord> {
    const record = await this.topics.create({ name: req.name, partitions: req.partitions });
    this.sync(record.name);
    return record;
  }

  /** Appends and wakes fetches waiting on this partition. */
  append(log: PartitionLog, records: Buffer, opts: AppendOptions): AppendResult {
    const result = log.append(records, opts);
    if (!result.duplicate) this.wake(log);
    return result;
  }

  /** Wakes waiters of a log whose readable end moved for another reason (truncation, deletion). */
  wake(log: PartitionLog): void {
    const set = this.waiters.get(log);
    if (!set) return;
    this.waiters.delete(log);
    for (const w of set) w();
  }

  /**
   * Starts listening for new data on the logs. A fetch watches before it reads: an append that lands while its
   * reads are in flight (reads of older data wait for the disk, and a long poll over many partitions reads them
   * all) must end the wait that follows, not be missed until the long poll's timeout.
   */
  watch(logs: readonly PartitionLog[]): DataWatch {
    const watch = new DataWatch(logs, (log, cb) => {
      let set = this.waiters.get(log);
      if (!set) this.waiters.set(log, (set = new Set()));
      set.add(cb);
    }, (log, cb) => this.waiters.get(log)?.delete(cb));
    return watch;
  }
}

/** New data on any of a set of logs since the watch began (PartitionManager.watch). */
export class DataWatch {
  /** an append (or truncation, deletion) reached one of the logs since the watch began */
  woken = false;
  private resolveWait: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly onWake = (): void => {
    this.woken = true;
    this.finish();
  };

  constructor(
    private readonly logs: readonly PartitionLog[],
    add: (log: PartitionLog, cb: () => void) => void,
    private readonly remove: (log: PartitionLog, cb: () => void) => void,
  ) {
    for (const log of logs) add(log, this.onWake);
  }

  /** Resolves at once if woken already, else at the next wake or after timeoutMs; the watch ends either way. */
  wait(timeoutMs: number): Promise<void> {
    if (this.woken) {
      this.cancel();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.resolveWait = resolve;
      this.timer = setTimeout(() => this.finish(), Math.max(0, timeoutMs));
    });
  }

  /** Stops listening. */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const log of this.logs) this.remove(log, this.onWake);
  }

  private finish(): void {
    const resolve = this.resolveWait;
    if (resolve === null) return; // woken while the fetch is still reading: wait() returns at once
    this.resolveWait = null;
    this.cancel();
    resolve();
  }
}
