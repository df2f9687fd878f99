// The broker's view of its partitions: topic records from the metadata store joined with the partition logs in
// storage. It keeps the two in step (a created topic gets its logs, a config change reaches the logs, a deleted
// topic's logs go away) and wakes up long-polling fetches when data is appended.
import type { Logger } from 'pino';
import type { TopicRecord } from '../cluster/types.js';
import type { TopicRegistry } from '../cluster/topics.js';
import { resolveTopicConfig, toLogConfig } from '../cluster/topic-config.js';
import { ErrorCode } from '../protocol/errors.js';
import type { AppendOptions, AppendResult, LogConfig, PartitionLog, Storage } from '../storage/types.js';

interface TopicState {
  record: TopicRecord;
  /** by partition; a hole while the partition's log is being created */
  logs: PartitionLog[];
}

interface Creation {
  topicId: string;
  /** settles (never rejects) once the log is there, or its creation failed or was cancelled */
  done: Promise<void>;
}

/** Told of appends to a log (and of other moves of its readable end); see listen(). */
type Listener = () => void;

/** A failed creation of a new partition's log is tried again after this, doubling up to CREATE_RETRY_MAX_MS. */
export const CREATE_RETRY_FIRST_MS = 1000;
export const CREATE_RETRY_MAX_MS = 30_000;

export class PartitionManager {
  private readonly byName = new Map<string, TopicState>();
  private readonly byId = new Map<string, TopicState>();
  private readonly listeners = new Map<PartitionLog, Set<Listener>>();
  private generationValue = 0;
  /** false while start() opens what is on disk; new logs are created in the background after */
  private started = false;
  /** logs being created, by topic name and partition */
  private readonly creating = new Map<string, Map<number, Creation>>();
  /** creations that failed, waiting to be tried again (see create) */
  private readonly retries = new Set<NodeJS.Timeout>();
  private stopped = false;
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

  /**
   * Opens (and recovers) the logs of every known topic, synchronously: nothing is served before. From then on,
   * logs of new partitions are created in the background (see sync).
   */
  start(): void {
    for (const record of this.topics.list()) this.sync(record.name);
    this.started = true;
  }

  /** No new log is created from now on (the broker is stopping): failed creations are not tried again. */
  stop(): void {
    this.stopped = true;
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
  }

  /**
   * Settles once no log of `name` is being created. CreateTopics, CreatePartitions, Metadata's auto-creation and
   * a shadow link answer or go on after it, as before, while other clients were served meanwhile.
   */
  async ready(name: string): Promise<void> {
    for (;;) {
      const pending = this.creating.get(name);
      if (pending === undefined) return;
      await Promise.all([...pending.values()].map((c) => c.done));
    }
  }

  /**
   * What CreateTopics and CreatePartitions answer after: waits for the logs of the topics `results` report as done
   * (ready()), at most `timeoutMs` when it is above 0 (the request's); a topic whose logs are still being created
   * then is answered REQUEST_TIMED_OUT with `lateMessage`, and its creation goes on, as Kafka answers a creation
   * that did not complete within timeoutMs.
   */
  async answerWhenReady(
    results: readonly { name?: string; errorCode?: number; errorMessage?: string | null }[],
    timeoutMs: number,
    lateMessage: (name: string) => string,
  ): Promise<void> {
    const waiting = new Set(results.flatMap((r) => (r.errorCode === ErrorCode.NONE && r.name !== undefined && this.creating.has(r.name) ? [r.name] : [])));
    if (waiting.size === 0) return;
    const all = Promise.all(
      [...waiting].map(async (n) => {
        await this.ready(n);
        waiting.delete(n);
      }),
    );
    if (timeoutMs <= 0) await all;
    else {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    for (const r of results) {
      if (r.name === undefined || !waiting.has(r.name)) continue;
      r.errorCode = ErrorCode.REQUEST_TIMED_OUT;
      r.errorMessage = lateMessage(r.name);
    }
  }

  /** Changes whenever a topic or a log may have been added, replaced or removed (see sync): resolutions cached by
   * name or id are stale then. */
  get generation(): number {
    return this.generationValue;
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

  /**
   * The error for a partition that has no log here: NOT_LEADER_OR_FOLLOWER when the topic has it (its log is still
   * being created, or its creation failed), as Kafka answers for a partition in its metadata that the broker does
   * not host yet; UNKNOWN_TOPIC_OR_PARTITION otherwise.
   */
  missingLogError(topic: string, partition: number): number {
    const record = this.byName.get(topic)?.record;
    return record !== undefined && partition >= 0 && partition < record.partitions ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
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
    this.generationValue++;
    const record = this.topics.get(name);
    const state = this.byName.get(name);
    if (!record) {
      if (state) {
        this.byName.delete(name);
        this.byId.delete(state.record.topicId);
        this.forgetLogs(state.logs);
        this.storage.deleteTopic(name);
        this.logger.info({ topic: name }, 'deleted topic');
      }
      return;
    }
    if (state && state.record.topicId !== record.topicId) {
      // recreated under the same name: the old logs belong to another topic id
      this.byName.delete(name);
      this.byId.delete(state.record.topicId);
      this.forgetLogs(state.logs);
      this.storage.deleteTopic(name);
      return this.sync(name);
    }
    const config = this.logConfigFor(record);
    const logs = state?.logs ?? [];
    for (let p = 0; p < record.partitions; p++) {
      const existing = logs[p];
      if (existing) existing.updateConfig(config);
      else if (this.started) this.create(record, p, config);
      else logs[p] = this.storage.openLog({ topic: name, partition: p }, record.topicId, config);
    }
    const next: TopicState = { record, logs };
    this.byName.set(name, next);
    this.byId.set(record.topicId, next);
  }

  /**
   * Creates the log of a partition the broker did not have, off the event loop (Storage.createLog): until it is
   * there, the partition answers as one without a leader yet (Metadata: LEADER_NOT_AVAILABLE; Produce, Fetch and
   * the other partition APIs: NOT_LEADER_OR_FOLLOWER, see missingLogError), as a Kafka partition does until its
   * leader has its log. A creation that fails (a disk error, a full disk) is logged and tried again after
   * CREATE_RETRY_FIRST_MS, then twice as long each time up to CREATE_RETRY_MAX_MS, for as long as the topic has the
   * partition; a broker restart opens or creates it too. ready() does not wait for the retries: the partition stays
   * leaderless meanwhile.
   */
  private create(record: TopicRecord, p: number, config: LogConfig, retryMs = CREATE_RETRY_FIRST_MS): void {
    const name = record.name;
    let pending = this.creating.get(name);
    if (pending === undefined) this.creating.set(name, (pending = new Map()));
    if (pending.get(p)?.topicId === record.topicId) return; // on its way (sync runs more than once per change)
    const creation: Creation = { topicId: record.topicId, done: Promise.resolve() };
    const topics = pending;
    creation.done = this.storage
      .createLog({ topic: name, partition: p }, record.topicId, config)
      .then(
        (log) => {
          const state = this.byName.get(name);
          // deleted or recreated meanwhile: storage closed the log with the old topic's others
          if (state === undefined || state.record.topicId !== record.topicId || state.logs[p] !== undefined) return;
          state.logs[p] = log;
          if (state.record !== record) log.updateConfig(this.logConfigFor(state.record)); // changed meanwhile
          this.generationValue++;
        },
        (err: unknown) => {
          if (this.byName.get(name)?.record.topicId !== record.topicId) return; // cancelled by its deletion
          this.logger.error({ err, topic: name, partition: p, retryInMs: retryMs }, 'creating the log of a new partition failed; trying again');
          this.retryCreate(record.topicId, name, p, retryMs);
        },
      )
      .finally(() => {
        if (topics.get(p) === creation) topics.delete(p);
        if (topics.size === 0 && this.creating.get(name) === topics) this.creating.delete(name);
      });
    pending.set(p, creation);
  }

  private retryCreate(topicId: string, name: string, p: number, retryMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      const state = this.byName.get(name);
      // deleted, recreated, shrunk away, or there by now (an earlier sync's creation)
      if (this.stopped || state === undefined || state.record.topicId !== topicId || p >= state.record.partitions || state.logs[p] !== undefined) return;
      this.create(state.record, p, this.logConfigFor(state.record), Math.min(2 * retryMs, CREATE_RETRY_MAX_MS));
    }, retryMs);
    timer.unref();
    this.retries.add(timer);
  }

  /** Creates a topic with the broker defaults (Metadata auto-creation); the registry's change listener opens its logs. */
  async createTopic(req: { name: string; partitions?: number }): Promise<TopicRecord> {
    const record = await this.topics.create({ name: req.name, partitions: req.partitions });
    this.sync(record.name);
    await this.ready(record.name);
    return record;
  }

  /** Appends and wakes fetches waiting on this partition. */
  append(log: PartitionLog, records: Buffer, opts: AppendOptions): AppendResult {
    const result = log.append(records, opts);
    if (!result.duplicate) this.wake(log);
    return result;
  }

  /** Tells the listeners of a log whose readable end moved for another reason (truncation, deletion). */
  wake(log: PartitionLog): void {
    const set = this.listeners.get(log);
    if (set === undefined) return;
    if (set.size === 1) {
      for (const l of set) l();
      return;
    }
    // a listener may remove itself or others as it runs
    for (const l of [...set]) l();
  }

  /**
   * Logs going away: their listeners are told (a long poll answers with the error now) and dropped, so that a
   * fetch session that never comes back does not keep the closed logs reachable through this map.
   */
  private forgetLogs(logs: readonly (PartitionLog | undefined)[]): void {
    for (const log of logs) {
      if (log === undefined) continue; // still being created: storage cancels that
      this.wake(log);
      this.listeners.delete(log);
    }
  }

  /** Calls `listener` on every append to `log` until unlisten (fetch sessions listen to their logs throughout). */
  listen(log: PartitionLog, listener: Listener): void {
    let set = this.listeners.get(log);
    if (set === undefined) this.listeners.set(log, (set = new Set()));
    set.add(listener);
  }

  unlisten(log: PartitionLog, listener: Listener): void {
    const set = this.listeners.get(log);
    if (set === undefined) return;
    set.delete(listener);
    if (set.size === 0) this.listeners.delete(log);
  }

  /** Resolves when any of the logs gets new data, or after timeoutMs (a fetch without a session). */
  waitForData(logs: readonly PartitionLog[], timeoutMs: number): Promise<void> {
    return wokenOrTimedOut(timeoutMs, (wake) => {
      for (const log of logs) this.listen(log, wake);
      return () => {
        for (const log of logs) this.unlisten(log, wake);
      };
    });
  }
}

/**
 * Resolves at the first call of the `wake` that `subscribe` registers, or after `timeoutMs`, whichever comes first;
 * then undoes the registration (subscribe's return value) and the timer. The waits of long-polling fetches.
 */
export function wokenOrTimedOut(timeoutMs: number, subscribe: (wake: () => void) => () => void): Promise<void> {
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | null = null;
    let done = false;
    const wake = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe?.();
      resolve();
    };
    const timer = setTimeout(wake, Math.max(0, timeoutMs));
    unsubscribe = subscribe(wake);
    if (done) unsubscribe(); // woken during subscribe itself
  });
}
