// One shadow link at run time: its source client, its tasks (topic sync, replication, consumer offset sync, ACL
// sync), its shadow topics with their states, and the failover / promote / pause / resume transitions of SPEC §2.2.
//
// Topic states drive replication (reconcile()):
//   ACTIVE, PROMOTING   a replicator per partition runs (paused while the link is PAUSED)
//   PAUSED              replicators paused; the topic stays read-only
//   FAULTED             replicators stopped (source topic deleted or recreated, or the logs diverged); data kept
//   FAILING_OVER, FAILED_OVER, PROMOTED   replication stopped for good; FAILED_OVER / PROMOTED topics are writable
import type { Logger } from 'pino';
import type { PartitionManager } from '../broker/partitions.js';
import type { ProducerIdManager } from '../broker/producer-ids.js';
import type { TopicRegistry } from '../cluster/topics.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { Authorizer } from '../security/authorizer.js';
import { PartitionReplicator } from './replication/replicator.js';
import type { ReplicatorStatus } from './replication/types.js';
import type { LinkActionResult, LinkState, LinkStatus, PartitionStatus, TaskState, TaskStatus, TopicState, TopicStatus } from './service.js';
import { ShadowLinkError } from './service.js';
import { LogSink } from './sink.js';
import type { ShadowLinkStore, StoredShadowTopic } from './store.js';
import type { SourceCluster } from './source/types.js';
import { AclSyncTask, OffsetSyncTask, TopicSyncTask } from './tasks.js';
import type { PeriodicTask } from './task.js';
import type { ShadowLinkConfig, SourceClientOptions } from './types.js';

export interface ShadowDeps {
  topics: TopicRegistry;
  partitions: PartitionManager;
  groups: GroupCoordinator;
  producerIds: ProducerIdManager;
  authorizer?: Authorizer;
  logger: Logger;
  linkStore: ShadowLinkStore;
  createSource(opts: SourceClientOptions, linkName: string): SourceCluster;
  /** the link that shadows (or shadowed) this topic, if any */
  topicOwner(topic: string): string | undefined;
  /** called whenever a topic's state changes (the manager keeps its read-only index) */
  onTopicsChanged(): void;
}

/** States in which replication of a topic runs (or is paused). */
const REPLICATING: ReadonlySet<TopicState> = new Set(['ACTIVE', 'PAUSED', 'PROMOTING']);
/** States a delete without force refuses (SPEC §2.2). */
const BLOCKS_DELETE: ReadonlySet<TopicState> = new Set(['ACTIVE', 'PAUSED', 'FAILING_OVER', 'PROMOTING']);
/** how long a failover waits for its last consumer-offset sync when the source answers slowly */
const FINAL_OFFSET_SYNC_TIMEOUT_MS = 5_000;
const DEFAULT_PROMOTE_TIMEOUT_MS = 60_000;
/** gaps kept per topic (status, store); the per-link gap counter keeps counting beyond */
const MAX_GAPS_KEPT = 100;

export type LinkTotals = Totals & { gaps: number };

/** Counters of replicators that no longer exist (failed over, stopped), so per-link totals never go down. */
interface Totals {
  bytesFetched: number;
  bytesWritten: number;
  recordsWritten: number;
  errors: number;
}

export class ShadowLink {
  config: ShadowLinkConfig;
  state: LinkState;
  readonly createdAtMs: number;
  updatedAtMs: number;
  readonly topics = new Map<string, StoredShadowTopic>();
  private readonly replicators = new Map<string, PartitionReplicator[]>();
  /** the last status of each partition whose replicator was stopped (failover, promote): what status shows then */
  private readonly lastKnown = new Map<string, ReplicatorStatus[]>();
  /**
   * Source offsets polled by topic sync (ListOffsets), by `topic/partition`: while a topic is paused or its
   * replicator waits, the fetch answers are old, and lag must still be measured against the source's real HWM.
   */
  private polled = new Map<string, { logStartOffset: number; lastStableOffset: number; highWatermark: number }>();
  /** replicators being stopped, by topic: a second stop waits for the first */
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly retired: Totals = { bytesFetched: 0, bytesWritten: 0, recordsWritten: 0, errors: 0 };
  source: SourceCluster;
  private connecting: Promise<void> | undefined;
  readonly topicSync: TopicSyncTask;
  readonly offsetSync: OffsetSyncTask;
  readonly aclSync: AclSyncTask;
  private readonly logger: Logger;
  private stopped = false;
  /** set once an update or delete takes over: transitions queued after that are refused */
  private retiring = false;
  /** serializes state transitions (failover, promote, pause, resume, topic sync's creations) */
  private chain: Promise<unknown> = Promise.resolve();
  /** topics whose failover or promotion is finishing: reconcile() never starts replicators for them */
  private readonly finalizing = new Set<string>();
  private pollTimer: NodeJS.Timeout | undefined;
  /** gaps recorded by this link since it was loaded (plus those already stored): a counter, never lowered */
  private gapsRecorded = 0;

  constructor(
    readonly deps: ShadowDeps,
    init: {
      config: ShadowLinkConfig;
      state: LinkState;
      createdAtMs: number;
      updatedAtMs: number;
      topics: StoredShadowTopic[];
      /** counters of the link this one replaces (update), so per-link totals never go down */
      totals?: Totals;
      gapsRecorded?: number;
    },
  ) {
    this.config = init.config;
    this.state = init.state;
    this.createdAtMs = init.createdAtMs;
    this.updatedAtMs = init.updatedAtMs;
    // stored records may be frozen: the link keeps its own copies and replaces them on every change
    for (const t of init.topics) this.topics.set(t.name, { ...t, gaps: [...t.gaps] });
    if (init.totals) Object.assign(this.retired, init.totals);
    this.gapsRecorded = init.gapsRecorded ?? init.topics.reduce((n, t) => n + t.gaps.length, 0);
    this.logger = deps.logger.child({ link: init.config.name });
    this.source = deps.createSource(this.config.clientOptions, this.name);
    const backoff = (): number => this.config.clientOptions.retryBackoffMs;
    this.topicSync = new TopicSyncTask(this, () => this.config.topicMetadataSync.intervalMs, () => this.paused || this.config.topicMetadataSync.paused, this.logger, backoff);
    this.offsetSync = new OffsetSyncTask(this, () => this.config.consumerOffsetSync.intervalMs, () => this.paused || this.config.consumerOffsetSync.paused, this.logger, backoff);
    this.aclSync = new AclSyncTask(this, () => this.config.securitySync.intervalMs, () => this.paused || this.config.securitySync.paused, this.logger, backoff);
  }

  get name(): string {
    return this.config.name;
  }

  get paused(): boolean {
    return this.state === 'PAUSED';
  }

  private get tasks(): PeriodicTask[] {
    return [this.topicSync, this.offsetSync, this.aclSync];
  }

  start(): void {
    // states a crash interrupted: a promotion starts over as ACTIVE, a failover is finished
    const interrupted = [...this.topics.values()].filter((t) => t.state === 'PROMOTING' || t.state === 'FAILING_OVER');
    for (const t of interrupted) {
      if (t.state === 'PROMOTING') void this.serialize(() => this.setTopicState(t.name, 'ACTIVE', 'a promotion was interrupted by a restart; run it again'));
      else void this.serialize(() => this.failOver([this.topics.get(t.name)!], 'FAILED_OVER', 'failed over (finished after a restart)'));
    }
    this.reconcile();
    for (const t of this.tasks) t.start();
    // lag is measured against the source's HWM even while the link or a topic is paused
    const poll = (): void => {
      this.pollTimer = setTimeout(() => {
        void this.pollSourceOffsets(this.config.topicMetadataSync.intervalMs)
          .catch(() => {})
          .finally(() => {
            if (!this.stopped) poll();
          });
      }, this.config.topicMetadataSync.intervalMs);
      this.pollTimer.unref();
    };
    poll();
  }

  /** Stops tasks and replication; transitions still queued finish first, new ones are refused. */
  async stop(): Promise<void> {
    this.retiring = true;
    this.stopped = true;
    clearTimeout(this.pollTimer);
    await Promise.all(this.tasks.map((t) => t.stop()));
    await this.chain;
    await Promise.all([...this.replicators.keys()].map((t) => this.stopReplicators(t)));
    await Promise.all([...this.stopping.values()]);
    await this.source.close().catch(() => {});
  }

  /** Waits for queued transitions and refuses new ones (an update or delete takes over the link's topics). */
  async retire(): Promise<void> {
    await this.serialize(async () => {
      this.retiring = true;
    });
  }

  /** Connects once; a failed attempt is forgotten so the next call retries. */
  connected(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.source.connect().catch((err: unknown) => {
        this.connecting = undefined;
        throw err;
      });
    }
    return this.connecting;
  }

  /** Runs transitions one at a time. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    if (this.retiring) return Promise.reject(new ShadowLinkError('CONFLICT', `link '${this.name}' was just updated or deleted; retry`));
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  // ---- topics and replication ----------------------------------------------------------------------------

  async setTopicState(name: string, state: TopicState, reason: string): Promise<void> {
    const t = this.topics.get(name);
    if (!t) return;
    if (t.state === state && t.reason === reason) return;
    if (t.state !== state) this.logger.info({ topic: name, from: t.state, to: state, reason }, 'shadow topic state');
    const next: StoredShadowTopic = { ...t, state, reason, updatedAtMs: Date.now() };
    this.topics.set(name, next);
    await this.deps.linkStore.putTopic(next);
    this.deps.onTopicsChanged();
    this.reconcile();
  }

  /** Claims a topic: read-only from this call on (before the topic exists), then persisted. */
  async addTopic(t: StoredShadowTopic): Promise<void> {
    this.topics.set(t.name, { ...t, gaps: [...t.gaps] });
    this.deps.onTopicsChanged();
    await this.deps.linkStore.putTopic(t);
  }

  /** Drops a claim whose topic could not be created. */
  async removeTopic(name: string): Promise<void> {
    this.topics.delete(name);
    this.deps.onTopicsChanged();
    await this.deps.linkStore.deleteTopic(this.name, name);
  }

  /** Brings replicators in line with the link and topic states and partition counts. */
  reconcile(): void {
    if (this.stopped) return;
    for (const t of this.topics.values()) {
      if (this.finalizing.has(t.name)) continue;
      if (!REPLICATING.has(t.state)) {
        if (this.replicators.has(t.name)) void this.stopReplicators(t.name);
        continue;
      }
      const record = this.deps.topics.get(t.name);
      if (!record) continue;
      const stopping = this.stopping.get(t.name);
      if (stopping && !this.replicators.has(t.name)) {
        // the old replicators still finish an append: start the new ones after them, never alongside
        void stopping.then(() => this.reconcile());
        continue;
      }
      let list = this.replicators.get(t.name);
      if (!list) this.replicators.set(t.name, (list = []));
      for (let p = list.length; p < record.partitions; p++) {
        if (!this.deps.partitions.log(t.name, p)) break;
        list.push(this.newReplicator(t.name, p));
      }
      const pause = t.state === 'PAUSED' || (this.paused && t.state !== 'PROMOTING');
      for (const r of list) {
        if (pause) r.pause(t.state === 'PAUSED' ? 'topic paused' : 'link paused');
        else if (r.state === 'PAUSED') r.resume();
      }
    }
  }

  private newReplicator(topic: string, partition: number): PartitionReplicator {
    const co = this.config.clientOptions;
    const t = this.topics.get(topic)!;
    // The configured start applies once per partition, to partitions the topic had when the link created it;
    // a partition that already chose its start, or was added on the source later, starts at the source's log start.
    const fresh = partition < (t.initialPartitions ?? Number.MAX_SAFE_INTEGER) && !(t.startedPartitions ?? []).includes(partition);
    const startAt = fresh ? this.config.topicMetadataSync.startAt : ({ kind: 'earliest' } as const);
    // pinned to the source topic id: a topic deleted and recreated under the same name is refused, not read
    const source = this.source.partition(topic, partition, t.sourceTopicId ? { topicId: t.sourceTopicId } : undefined);
    const persistedGaps = t.gaps.filter((g) => g.partition === partition);
    const r = new PartitionReplicator(source, new LogSink(topic, partition, this.deps.partitions, this.deps.producerIds), {
      name: `${topic}/${partition}`,
      startAt,
      maxBytes: co.fetchPartitionMaxBytes,
      backoffBaseMs: co.retryBackoffMs,
      logger: this.logger,
      onStartChosen: () => void this.markStarted(topic, partition),
    });
    let lastGaps = '[]';
    r.onChange((s) => {
      // the replicator may still narrow a gap it reported (the batch at the new log start begins lower): persist
      // its current list, not increments
      const gaps = JSON.stringify(s.gaps);
      if (gaps !== lastGaps) {
        lastGaps = gaps;
        void this.recordGaps(topic, partition, [...persistedGaps, ...s.gaps.map((g) => ({ partition, from: g.from, to: g.to, detectedAtMs: g.detectedAtMs }))]);
      }
      if (s.state === 'FAULTED') {
        const cur = this.topics.get(topic);
        if (cur && (cur.state === 'ACTIVE' || cur.state === 'PAUSED')) void this.setTopicState(topic, 'FAULTED', `partition ${partition}: ${s.reason}`).catch(() => {});
      }
    });
    r.start();
    return r;
  }

  private async markStarted(topic: string, partition: number): Promise<void> {
    const t = this.topics.get(topic);
    if (!t || (t.startedPartitions ?? []).includes(partition)) return;
    const next: StoredShadowTopic = { ...t, startedPartitions: [...(t.startedPartitions ?? []), partition].sort((a, b) => a - b) };
    this.topics.set(topic, next);
    await this.deps.linkStore.putTopic(next).catch((err: unknown) => this.logger.warn({ err }, 'could not persist a start position'));
  }

  /** Replaces the recorded gaps of one partition. */
  private async recordGaps(topic: string, partition: number, gaps: StoredShadowTopic['gaps']): Promise<void> {
    const t = this.topics.get(topic);
    if (!t) return;
    const before = t.gaps.filter((g) => g.partition === partition).length;
    const others = t.gaps.filter((g) => g.partition !== partition);
    const next: StoredShadowTopic = { ...t, gaps: [...others, ...gaps].slice(-MAX_GAPS_KEPT) };
    this.topics.set(topic, next);
    if (gaps.length > before) this.gapsRecorded += gaps.length - before;
    if (gaps.length > before) this.logger.warn({ topic, partition, gaps: gaps.slice(before) }, 'the source deleted data before it was replicated: gap recorded');
    await this.deps.linkStore.putTopic(next).catch((err: unknown) => this.logger.warn({ err }, 'could not persist a gap'));
  }

  private stopReplicators(topic: string): Promise<void> {
    const list = this.replicators.get(topic);
    if (!list) return this.stopping.get(topic) ?? Promise.resolve();
    this.replicators.delete(topic);
    const done = (async () => {
      await Promise.all(list.map((r) => r.stop('replication stopped')));
      this.lastKnown.set(topic, list.map((r) => r.status()));
      for (const r of list) {
        const s = r.status();
        this.retired.bytesFetched += s.bytesFetched;
        this.retired.bytesWritten += s.bytesWritten;
        this.retired.recordsWritten += s.recordsWritten;
        this.retired.errors += s.errors;
      }
    })().finally(() => this.stopping.delete(topic));
    this.stopping.set(topic, done);
    return done;
  }

  /**
   * Polls the source's offsets of the replicating partitions (each topic sync interval, and after a resume). The
   * periodic poll (`freshAfterMs`) leaves out partitions whose replicator heard the source within that time: their
   * fetch answers already carry the source's offsets, and a link over many idle partitions would otherwise send
   * three ListOffsets naming every one of them each interval.
   */
  async pollSourceOffsets(freshAfterMs?: number): Promise<void> {
    const wanted: { topic: string; partition: number }[] = [];
    for (const t of this.topics.values()) {
      if (!REPLICATING.has(t.state)) continue;
      const n = this.deps.topics.get(t.name)?.partitions ?? 0;
      const running = this.replicators.get(t.name);
      for (let p = 0; p < n; p++) {
        if (freshAfterMs !== undefined && running?.[p]?.heardWithin(freshAfterMs) === true) continue;
        wanted.push({ topic: t.name, partition: p });
      }
    }
    this.polled = wanted.length > 0 ? await this.source.offsets(wanted) : new Map();
  }

  replicatorStatuses(topic: string): ReplicatorStatus[] {
    return (this.replicators.get(topic) ?? []).map((r) => r.status());
  }

  /** Per-link totals for metrics: live replicators plus retired ones. */
  totals(): LinkTotals {
    const t = { ...this.retired, gaps: 0 };
    for (const list of this.replicators.values()) {
      for (const r of list) {
        const s = r.status();
        t.bytesFetched += s.bytesFetched;
        t.bytesWritten += s.bytesWritten;
        t.recordsWritten += s.recordsWritten;
        t.errors += s.errors;
      }
    }
    t.gaps = this.gapsRecorded;
    return t;
  }

  /** Topics whose state still makes them read-only. */
  shadowedTopicNames(): string[] {
    return [...this.topics.values()].filter((t) => t.state !== 'FAILED_OVER' && t.state !== 'PROMOTED').map((t) => t.name);
  }

  blockingDelete(): string[] {
    return [...this.topics.values()].filter((t) => BLOCKS_DELETE.has(t.state)).map((t) => t.name).sort();
  }

  // ---- status -------------------------------------------------------------------------------------------

  private replicationTask(): TaskStatus {
    const all = [...this.replicators.values()].flat();
    if (this.paused) return { name: 'replication', state: 'PAUSED', reason: 'link paused' };
    if (all.length === 0) return { name: 'replication', state: 'NOT_RUNNING', reason: this.topics.size === 0 ? 'no shadow topics yet' : 'no topic is replicating' };
    const pick = (state: string): PartitionReplicator[] => all.filter((r) => r.state === state);
    const faulted = pick('FAULTED');
    if (faulted.length > 0) return { name: 'replication', state: 'FAULTED', reason: `${faulted.length} partition(s) faulted; ${faulted[0]!.name}: ${faulted[0]!.reason}` };
    const unavailable = pick('LINK_UNAVAILABLE');
    if (unavailable.length > 0) {
      return { name: 'replication', state: 'LINK_UNAVAILABLE', reason: `${unavailable.length} partition(s) cannot reach the source; ${unavailable[0]!.name}: ${unavailable[0]!.reason}` };
    }
    if (pick('ACTIVE').length === 0) return { name: 'replication', state: 'PAUSED', reason: 'every shadow topic is paused' };
    return { name: 'replication', state: 'ACTIVE', reason: '' };
  }

  private schemaTask(): TaskStatus {
    if (!this.config.schemaRegistrySync.shadowSchemaRegistryTopic) {
      return { name: 'schema_registry_sync', state: 'NOT_RUNNING', reason: 'schema_registry_sync_options.shadow_schema_registry_topic is not set' };
    }
    const t = this.topics.get('_schemas');
    if (!t) return { name: 'schema_registry_sync', state: this.paused ? 'PAUSED' : 'ACTIVE', reason: 'the source has no _schemas topic yet' };
    const state: TaskState = t.state === 'ACTIVE' ? (this.paused ? 'PAUSED' : 'ACTIVE') : t.state === 'PAUSED' ? 'PAUSED' : t.state === 'FAULTED' ? 'FAULTED' : 'NOT_RUNNING';
    return { name: 'schema_registry_sync', state, reason: state === 'ACTIVE' ? '' : `_schemas is ${t.state}${t.reason ? `: ${t.reason}` : ''}` };
  }

  taskStatuses(): TaskStatus[] {
    return [this.topicSync.status(), this.replicationTask(), this.offsetSync.status(), this.aclSync.status(), this.schemaTask()].map((s) => ({
      ...s,
      name: s.name,
    }));
  }

  topicStatus(name: string): TopicStatus | undefined {
    const t = this.topics.get(name);
    if (!t) return undefined;
    const running = this.replicatorStatuses(name);
    const live = running.length > 0 ? running : (this.lastKnown.get(name) ?? []);
    const count = this.deps.topics.get(name)?.partitions ?? live.length;
    const partitions: PartitionStatus[] = [];
    for (let p = 0; p < count; p++) {
      const s = live[p];
      const log = this.deps.partitions.log(name, p);
      const hwm = log?.highWatermark ?? 0;
      const gaps = t.gaps.filter((g) => g.partition === p).map((g) => ({ from: g.from, to: g.to }));
      if (s) {
        // a newer poll of the source than the last fetch answer (paused, waiting): measure against it
        const polled = running.length > 0 ? this.polled.get(`${name}/${p}`) : undefined;
        const fresher = polled !== undefined && polled.highWatermark > s.sourceHighWatermark;
        const sourceHighWatermark = fresher ? polled.highWatermark : s.sourceHighWatermark;
        const highWatermark = running.length > 0 ? hwm : s.highWatermark;
        partitions.push({
          partition: p,
          sourceLogStartOffset: fresher ? Math.max(polled.logStartOffset, s.sourceLogStartOffset) : s.sourceLogStartOffset,
          sourceLastStableOffset: fresher ? polled.lastStableOffset : s.sourceLastStableOffset,
          sourceHighWatermark,
          highWatermark,
          lag: sourceHighWatermark < 0 ? 0 : Math.max(0, sourceHighWatermark - highWatermark),
          rpoSeconds: Math.round(s.rpoMs / 100) / 10,
          state: s.state,
          lastError: s.lastError ?? '',
          gaps,
        });
      } else {
        partitions.push({
          partition: p,
          sourceLogStartOffset: -1,
          sourceLastStableOffset: -1,
          sourceHighWatermark: -1,
          highWatermark: hwm,
          lag: 0,
          rpoSeconds: 0,
          state: 'STOPPED',
          lastError: '',
          gaps,
        });
      }
    }
    return { name, state: t.state, reason: t.reason, sourceTopicId: t.sourceTopicId, partitions };
  }

  status(): LinkStatus {
    const topics = [...this.topics.keys()].sort().map((n) => this.topicStatus(n)!);
    return { name: this.name, state: this.state, tasks: this.taskStatuses(), topics };
  }

  private actionResult(names: readonly string[]): LinkActionResult {
    return {
      name: this.name,
      state: this.state,
      topics: names.map((n) => {
        const t = this.topics.get(n)!;
        return { name: n, state: t.state, reason: t.reason };
      }),
    };
  }

  private requireTopic(topic: string): StoredShadowTopic {
    const t = this.topics.get(topic);
    if (!t) throw new ShadowLinkError('NOT_FOUND', `link '${this.name}' does not shadow topic '${topic}'`);
    return t;
  }

  // ---- transitions --------------------------------------------------------------------------------------

  /** Failover: immediate. One topic, or every still-shadowed topic (re-runnable: picks up topics created since). */
  failover(topic?: string): Promise<LinkActionResult> {
    return this.serialize(async () => {
      let targets: StoredShadowTopic[];
      if (topic !== undefined) {
        const t = this.requireTopic(topic);
        if (t.state === 'FAILED_OVER' || t.state === 'PROMOTED') return this.actionResult([t.name]);
        targets = [t];
      } else {
        targets = [...this.topics.values()].filter((t) => t.state !== 'FAILED_OVER' && t.state !== 'PROMOTED');
      }
      await this.failOver(targets, 'FAILED_OVER', 'failed over');
      return this.actionResult(topic !== undefined ? [topic] : [...this.topics.keys()].sort());
    });
  }

  /** FAILING_OVER → stop replication → a last offset sync if the source answers → `final`. */
  private async failOver(targets: StoredShadowTopic[], final: 'FAILED_OVER' | 'PROMOTED', verb: string): Promise<void> {
    if (targets.length === 0) return;
    // from here no replicator may start for these topics, whatever calls reconcile()
    for (const t of targets) this.finalizing.add(t.name);
    try {
      for (const t of targets) if (final === 'FAILED_OVER') await this.setTopicState(t.name, 'FAILING_OVER', 'stopping replication');
      // every replicator (and any append it had started) is gone before a topic becomes writable
      await Promise.all(targets.map((t) => this.stopReplicators(t.name)));
      await this.offsetSync.finalSync(targets.map((t) => t.name), FINAL_OFFSET_SYNC_TIMEOUT_MS);
      const at = new Date().toISOString();
      for (const t of targets) await this.setTopicState(t.name, final, `${verb} at ${at}`);
    } finally {
      for (const t of targets) this.finalizing.delete(t.name);
    }
  }

  /**
   * Promote: waits until the shadow has everything the source had at the moment of the call (lag 0 against the
   * source HWM), runs a final offset sync, then fails over.
   */
  promote(topic: string | undefined, timeoutMs = DEFAULT_PROMOTE_TIMEOUT_MS): Promise<LinkActionResult> {
    return this.serialize(async () => {
      let targets: StoredShadowTopic[];
      if (topic !== undefined) {
        const t = this.requireTopic(topic);
        if (t.state === 'PROMOTED' || t.state === 'FAILED_OVER') return this.actionResult([t.name]);
        if (t.state === 'FAULTED') throw new ShadowLinkError('CONFLICT', `topic '${topic}' is FAULTED (${t.reason}); promote needs a replicating topic — use failover`);
        targets = [t];
      } else {
        targets = [...this.topics.values()].filter((t) => t.state === 'ACTIVE' || t.state === 'PAUSED');
      }
      if (targets.length === 0) return this.actionResult([]);
      const previous = new Map(targets.map((t) => [t.name, t.state]));
      for (const t of targets) await this.setTopicState(t.name, 'PROMOTING', 'catching up with the source');
      try {
        const wanted: { topic: string; partition: number }[] = [];
        for (const t of targets) {
          const n = this.deps.topics.get(t.name)?.partitions ?? 0;
          for (let p = 0; p < n; p++) wanted.push({ topic: t.name, partition: p });
        }
        // Replication reads committed data (read_committed), so "everything the source had" is its last stable
        // offset: equal to the high watermark unless a transaction is open on the source.
        let marks: Map<string, { lastStableOffset: number; highWatermark: number }>;
        try {
          await this.connected();
          marks = await this.source.offsets(wanted);
        } catch (err) {
          throw new ShadowLinkError('SOURCE_UNAVAILABLE', `cannot promote: the source did not answer (${(err as Error).message}); use failover instead`);
        }
        const unanswered = wanted.filter((w) => !marks.has(`${w.topic}/${w.partition}`));
        if (unanswered.length > 0) {
          const u = unanswered[0]!;
          throw new ShadowLinkError('SOURCE_UNAVAILABLE', `cannot promote: the source did not answer for ${unanswered.length} partition(s), e.g. ${u.topic}/${u.partition}; retry, or use failover`);
        }
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          if (this.stopped) throw new ShadowLinkError('CONFLICT', `link '${this.name}' is stopping; promote abandoned`);
          const behind = wanted.filter(({ topic: tn, partition }) => {
            const target = marks.get(`${tn}/${partition}`)!.lastStableOffset;
            return (this.deps.partitions.log(tn, partition)?.highWatermark ?? 0) < target;
          });
          if (behind.length === 0) break;
          if (Date.now() > deadline) {
            const b = behind[0]!;
            throw new ShadowLinkError(
              'TIMEOUT',
              `promote did not catch up within ${timeoutMs} ms: ${behind.length} partition(s) behind, e.g. ${b.topic}/${b.partition} at ${this.deps.partitions.log(b.topic, b.partition)?.highWatermark} of the source's ${marks.get(`${b.topic}/${b.partition}`)!.lastStableOffset} (last stable offset)`,
            );
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      } catch (err) {
        for (const [name, state] of previous) {
          // a partition that faulted meanwhile faults the topic, as it would have outside a promotion
          const faulted = this.replicatorStatuses(name).find((r) => r.state === 'FAULTED');
          if (faulted) await this.setTopicState(name, 'FAULTED', faulted.reason);
          else await this.setTopicState(name, state, state === 'PAUSED' ? 'topic paused' : '');
        }
        throw err;
      }
      await this.failOver(targets, 'PROMOTED', 'promoted');
      return this.actionResult(targets.map((t) => t.name));
    });
  }

  pause(topic?: string): Promise<LinkActionResult> {
    return this.serialize(async () => {
      if (topic === undefined) {
        await this.setLinkState('PAUSED');
        return this.actionResult([...this.topics.keys()].sort());
      }
      const t = this.requireTopic(topic);
      if (t.state === 'ACTIVE') await this.setTopicState(topic, 'PAUSED', 'topic paused');
      else if (t.state !== 'PAUSED') throw new ShadowLinkError('CONFLICT', `topic '${topic}' is ${t.state}; only an ACTIVE topic can be paused`);
      return this.actionResult([topic]);
    });
  }

  resume(topic?: string): Promise<LinkActionResult> {
    return this.serialize(async () => {
      // After a resume the status must not show a partition caught up at the source offsets of its last answer
      // before the pause (the source moved on meanwhile): the source's offsets are polled before answering, best
      // effort (an unreachable source shows in the status anyway).
      if (topic === undefined) {
        await this.setLinkState('ACTIVE');
        await this.pollSourceOffsets().catch(() => {});
        return this.actionResult([...this.topics.keys()].sort());
      }
      const t = this.requireTopic(topic);
      // a FAULTED topic is retried: if the cause remains (source topic gone or recreated, logs diverged), the next
      // topic sync or fetch faults it again with the reason
      if (t.state === 'PAUSED' || t.state === 'FAULTED') await this.setTopicState(topic, 'ACTIVE', t.state === 'FAULTED' ? `resumed after a fault (${t.reason})` : '');
      else if (t.state !== 'ACTIVE') throw new ShadowLinkError('CONFLICT', `topic '${topic}' is ${t.state}; only a PAUSED or FAULTED topic can be resumed`);
      await this.pollSourceOffsets().catch(() => {});
      return this.actionResult([topic]);
    });
  }

  private async setLinkState(state: LinkState): Promise<void> {
    if (this.state === state) return;
    this.state = state;
    this.updatedAtMs = Date.now();
    await this.deps.linkStore.putLink(this.config, state, this.createdAtMs);
    this.reconcile();
    for (const t of this.tasks) t.trigger();
  }
}
