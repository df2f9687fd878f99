// A simple consumer: the CLI's `umbra consume`, demos and tests. Not a hot path: records are decoded.
//
// Two modes:
// - assign(): fixed partitions, positions from an explicit offset or the reset policy; no group, no commits.
// - subscribe(): joins a classic consumer group ("consumer" protocol) so it can share a group with Java,
//   librdkafka or kafkajs members. JoinGroup handles MEMBER_ID_REQUIRED (KIP-394); when elected leader it runs the
//   range or round-robin assignor over every member's subscription and hands the result out in SyncGroup.
//   Heartbeats run on a timer while joined; a REBALANCE_IN_PROGRESS answer makes the next poll() rejoin.
//   Positions start at the committed offset, else the reset policy; commit() (and auto-commit) write them back.
//
// poll() fetches from each partition's leader, skips what lies before the position (a fetch returns whole
// batches, which may start earlier), skips control batches, and ignores a truncated batch at the end of a
// response (the broker cut it at partitionMaxBytes; the next fetch starts there).
import type { Logger } from 'pino';
import { Compression, initCompression } from '../protocol/compression.js';
import { Framing, RecordBatch, decodeRecords, frameSizeAt, framingErrorText, type RecordHeader } from '../protocol/record-batch.js';
import { IsolationLevel, OffsetSpec, type FetchSpec, type KafkaClient } from './client.js';
import {
  ASSIGNORS,
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type Assignor,
  type MemberSubscription,
  type TopicPartitions,
} from './assignors.js';
import { ErrorCode, KafkaError, isRetriable, kafkaError, throwIfError } from './errors.js';

export type ResetPolicy = 'earliest' | 'latest';

export interface ConsumerOptions {
  /** join this consumer group (needed for subscribe() and commits) */
  groupId?: string;
  /** where to start without a committed offset; default 'latest' (as the Java consumer) */
  resetPolicy?: ResetPolicy;
  /** commit positions every autoCommitIntervalMs and on close; default true when in a group */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** protocol names offered in JoinGroup, preferred first; default ['range', 'roundrobin'] */
  assignors?: string[];
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  partitionMaxBytes?: number;
  isolationLevel?: number;
  logger?: Logger;
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export type StartOffset = number | 'earliest' | 'latest' | 'committed';

interface PartitionState {
  topic: string;
  partition: number;
  /** next offset to return; null until resolved */
  position: number | null;
  start: StartOffset;
  /** position at the last commit, to skip empty commits */
  committed: number | null;
}

function key(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class Consumer {
  private readonly client: KafkaClient;
  private readonly opts: ConsumerOptions;
  private readonly assignors: Assignor[];
  private readonly partitions = new Map<string, PartitionState>();
  private subscription: string[] | null = null;
  // group state
  private memberId = '';
  private generationId = -1;
  private joined = false;
  private rejoinNeeded = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatInFlight = false;
  private lastCommitAt = Date.now();
  private fatal: Error | null = null;
  private closed = false;
  private compressionReady: Promise<void> | null = null;

  constructor(client: KafkaClient, opts: ConsumerOptions = {}) {
    this.client = client;
    this.opts = opts;
    const names = opts.assignors ?? ['range', 'roundrobin'];
    this.assignors = names.map((n) => {
      const a = ASSIGNORS.get(n);
      if (!a) throw new Error(`unknown assignor '${n}' (known: ${[...ASSIGNORS.keys()].join(', ')})`);
      return a;
    });
  }

  private get inGroup(): boolean {
    return this.opts.groupId !== undefined;
  }

  private get autoCommit(): boolean {
    return this.inGroup && (this.opts.autoCommit ?? true);
  }

  /** Consumes fixed partitions. `offset` defaults to the committed offset in a group, else the reset policy. */
  assign(partitions: readonly (TopicPartition & { offset?: StartOffset })[]): void {
    if (this.subscription) throw new Error('assign() after subscribe()');
    this.partitions.clear();
    for (const p of partitions) {
      const start = p.offset ?? (this.inGroup ? 'committed' : (this.opts.resetPolicy ?? 'latest'));
      this.partitions.set(key(p.topic, p.partition), {
        topic: p.topic,
        partition: p.partition,
        position: typeof start === 'number' ? start : null,
        start,
        committed: null,
      });
    }
  }

  /** Joins the group for these topics; partitions are assigned by the group's leader on the next poll(). */
  subscribe(topics: readonly string[]): void {
    if (!this.inGroup) throw new Error('subscribe() needs a groupId');
    if (topics.length === 0) throw new Error('subscribe() needs at least one topic');
    this.subscription = [...new Set(topics)];
    this.rejoinNeeded = true;
  }

  /** The partitions currently consumed. */
  assignment(): TopicPartition[] {
    return [...this.partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
  }

  /** The next offset poll() returns for a partition (null until resolved). */
  position(topic: string, partition: number): number | null {
    return this.partitions.get(key(topic, partition))?.position ?? null;
  }

  seek(topic: string, partition: number, offset: StartOffset): void {
    const p = this.partitions.get(key(topic, partition));
    if (!p) throw new Error(`${topic}-${partition} is not assigned`);
    p.start = offset;
    p.position = typeof offset === 'number' ? offset : null;
  }

  /** member id and generation while in a group (for tests and status) */
  get groupMember(): { memberId: string; generationId: number } | null {
    return this.joined ? { memberId: this.memberId, generationId: this.generationId } : null;
  }

  /**
   * Returns the next records, waiting up to timeoutMs (default maxWaitMs) for some to arrive. May return an
   * empty list. Joins or rejoins the group first when needed.
   */
  async poll(timeoutMs?: number): Promise<ConsumerRecord[]> {
    if (this.closed) throw new Error('consumer is closed');
    if (this.fatal) throw this.fatal;
    const deadline = Date.now() + (timeoutMs ?? this.opts.maxWaitMs ?? 500);
    for (;;) {
      if (this.subscription && (this.rejoinNeeded || !this.joined)) await this.join();
      await this.resolvePositions();
      if (this.autoCommit && Date.now() - this.lastCommitAt >= (this.opts.autoCommitIntervalMs ?? 5000)) {
        await this.commit().catch((err: unknown) => this.opts.logger?.warn({ err }, 'auto-commit failed'));
      }
      const remaining = deadline - Date.now();
      const records = await this.fetchOnce(Math.max(0, Math.min(remaining, this.opts.maxWaitMs ?? 500)));
      if (records.length > 0 || Date.now() >= deadline || this.closed) return records;
      if (this.fatal) throw this.fatal;
    }
  }

  private async fetchOnce(maxWaitMs: number): Promise<ConsumerRecord[]> {
    const specs: FetchSpec[] = [];
    for (const p of this.partitions.values()) {
      if (p.position !== null) specs.push({ topic: p.topic, partition: p.partition, fetchOffset: p.position });
    }
    if (specs.length === 0) {
      await sleep(Math.min(maxWaitMs, 100));
      return [];
    }
    const results = await this.client.fetch(specs, {
      maxWaitMs,
      minBytes: this.opts.minBytes ?? 1,
      ...(this.opts.maxBytes !== undefined ? { maxBytes: this.opts.maxBytes } : {}),
      ...(this.opts.partitionMaxBytes !== undefined ? { partitionMaxBytes: this.opts.partitionMaxBytes } : {}),
      isolationLevel: this.opts.isolationLevel ?? IsolationLevel.READ_UNCOMMITTED,
    });
    const out: ConsumerRecord[] = [];
    let backoff = false;
    for (const r of results) {
      const p = this.partitions.get(key(r.topic, r.partition));
      if (!p || p.position === null) continue; // revoked or reset meanwhile
      if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        this.opts.logger?.info({ topic: r.topic, partition: r.partition, offset: p.position }, 'offset out of range; resetting');
        p.position = null;
        p.start = this.opts.resetPolicy ?? 'latest';
        continue;
      }
      if (r.errorCode !== ErrorCode.NONE) {
        if (!isRetriable(r.errorCode)) throw kafkaError(r.errorCode, `fetch ${r.topic}-${r.partition}`);
        backoff = true;
        continue;
      }
      await this.decodeInto(r.records, p, out);
    }
    if (backoff && out.length === 0) await sleep(100);
    return out;
  }

  private async decodeInto(records: Buffer, p: PartitionState, out: ConsumerRecord[]): Promise<void> {
    const view = new RecordBatch(records, 0);
    let pos = 0;
    while (pos < records.length) {
      const size = frameSizeAt(records, pos);
      if (size === Framing.TRUNCATED) break; // cut at partitionMaxBytes: fetched again from here next time
      if (size < 0) throw kafkaError(ErrorCode.CORRUPT_MESSAGE, `${p.topic}-${p.partition} at fetch byte ${pos}: ${framingErrorText(size)}`);
      view.moveTo(records, pos);
      pos += size;
      if (view.lastOffset < p.position!) continue;
      if (!view.isControl) {
        if (view.compression === Compression.zstd) await (this.compressionReady ??= initCompression());
        for (const rec of decodeRecords(view)) {
          if (rec.offset < p.position!) continue;
          out.push({
            topic: p.topic,
            partition: p.partition,
            offset: rec.offset,
            timestamp: rec.timestamp,
            key: rec.key,
            value: rec.value,
            headers: rec.headers,
          });
        }
      }
      p.position = view.nextOffset;
    }
  }

  /** Fills in positions that are not yet known: committed offsets (in a group), then the reset policy. */
  private async resolvePositions(): Promise<void> {
    const pending = [...this.partitions.values()].filter((p) => p.position === null);
    if (pending.length === 0) return;
    if (this.inGroup) {
      const wantCommitted = pending.filter((p) => p.start === 'committed');
      if (wantCommitted.length > 0) {
        const committed = await this.client.offsetFetch(this.opts.groupId!, wantCommitted);
        for (const c of committed) {
          const p = this.partitions.get(key(c.topic, c.partition));
          if (!p || p.position !== null) continue;
          if (c.errorCode === ErrorCode.NONE && c.offset >= 0) {
            p.position = c.offset;
            p.committed = c.offset;
          }
        }
      }
    }
    const reset = [...this.partitions.values()].filter((p) => p.position === null);
    if (reset.length === 0) return;
    const policy = this.opts.resetPolicy ?? 'latest';
    const results = await this.client.listOffsetsMany(
      reset.map((p) => {
        const how = p.start === 'committed' || typeof p.start === 'number' ? policy : p.start;
        return { topic: p.topic, partition: p.partition, timestamp: how === 'earliest' ? OffsetSpec.EARLIEST : OffsetSpec.LATEST };
      }),
      { isolationLevel: this.opts.isolationLevel ?? IsolationLevel.READ_UNCOMMITTED },
    );
    for (const r of results) {
      const p = this.partitions.get(key(r.topic, r.partition));
      if (!p) continue;
      if (r.errorCode === ErrorCode.NONE) p.position = r.offset;
      else if (!isRetriable(r.errorCode)) throw kafkaError(r.errorCode, `ListOffsets ${r.topic}-${r.partition}`);
    }
  }

  /**
   * Commits the current positions (or the given offsets) to the group. Only positions that moved since the last
   * commit are sent.
   */
  async commit(offsets?: readonly (TopicPartition & { offset: number })[]): Promise<void> {
    if (!this.inGroup) throw new Error('commit() needs a groupId');
    const list =
      offsets ??
      [...this.partitions.values()]
        .filter((p) => p.position !== null && p.position !== p.committed)
        .map((p) => ({ topic: p.topic, partition: p.partition, offset: p.position! }));
    this.lastCommitAt = Date.now();
    if (list.length === 0) return;
    const member = this.subscription && this.joined ? { generationId: this.generationId, memberId: this.memberId } : {};
    const results = await this.client.offsetCommit(this.opts.groupId!, list, member);
    for (const r of results) {
      if (r.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || r.errorCode === ErrorCode.ILLEGAL_GENERATION || r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.rejoinNeeded = true;
      }
      throwIfError(r.errorCode, `commit ${r.topic}-${r.partition}`);
    }
    for (const o of list) {
      const p = this.partitions.get(key(o.topic, o.partition));
      if (p) p.committed = o.offset;
    }
  }

  /** Commits (with auto-commit), leaves the group and stops heartbeats. The client stays open (the caller owns it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stopHeartbeats();
    try {
      if (this.autoCommit && this.partitions.size > 0) await this.commit();
    } catch (err) {
      this.opts.logger?.warn({ err }, 'final commit failed');
    }
    this.closed = true;
    if (this.subscription && this.joined && this.memberId) {
      await this.client.leaveGroup(this.opts.groupId!, this.memberId, 'consumer closed').catch(() => undefined);
    }
    this.joined = false;
  }

  // ---- group membership ------------------------------------------------------------------------------------

  private async join(): Promise<void> {
    const groupId = this.opts.groupId!;
    const topics = this.subscription!;
    this.stopHeartbeats();
    if (this.joined && this.autoCommit) await this.commit().catch(() => undefined);
    this.joined = false;
    const sessionTimeoutMs = this.opts.sessionTimeoutMs ?? 30_000;
    const rebalanceTimeoutMs = this.opts.rebalanceTimeoutMs ?? 60_000;
    const owned = new Map<string, number[]>();
    for (const p of this.partitions.values()) owned.set(p.topic, [...(owned.get(p.topic) ?? []), p.partition]);
    const metadata = encodeSubscription({
      topics,
      userData: null,
      ownedPartitions: [...owned].map(([topic, partitions]) => ({ topic, partitions })),
    });

    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error('consumer is closed');
      if (attempt > 50) throw kafkaError(ErrorCode.REBALANCE_IN_PROGRESS, `could not join group '${groupId}'`);
      const res = await this.client.joinGroup({
        groupId,
        sessionTimeoutMs,
        rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols: this.assignors.map((a) => ({ name: a.name, metadata })),
        reason: null,
      });
      if (res.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        // KIP-394: the coordinator gave us an id; join again with it
        this.memberId = res.memberId;
        continue;
      }
      if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || res.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        this.memberId = '';
        continue;
      }
      if (res.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) {
        await sleep(100);
        continue;
      }
      throwIfError(res.errorCode, `JoinGroup '${groupId}'`);
      this.memberId = res.memberId;
      this.generationId = res.generationId;
      const protocolName = res.protocolName;

      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (res.leader === res.memberId) {
        assignments = await this.leaderAssign(protocolName ?? '', res.members);
      }
      const sync = await this.client.syncGroup({
        groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName,
        assignments,
      });
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) continue;
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      throwIfError(sync.errorCode, `SyncGroup '${groupId}'`);
      this.applyAssignment(decodeAssignment(sync.assignment));
      this.joined = true;
      this.rejoinNeeded = false;
      this.opts.logger?.debug(
        { groupId, memberId: this.memberId, generationId: this.generationId, assignment: this.assignment() },
        'joined group',
      );
      this.startHeartbeats();
      return;
    }
  }

  private async leaderAssign(
    protocolName: string,
    members: readonly { memberId: string; groupInstanceId: string | null; metadata: Buffer }[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.assignors.find((a) => a.name === protocolName);
    if (!assignor) throw kafkaError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `group chose protocol '${protocolName}', which we do not have`);
    const subs: MemberSubscription[] = members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      ...decodeSubscription(m.metadata),
    }));
    const allTopics = [...new Set(subs.flatMap((s) => s.topics))];
    const md = await this.client.metadata(allTopics);
    const partitionsPerTopic = new Map<string, number>();
    for (const t of md.topics) if (t.errorCode === ErrorCode.NONE) partitionsPerTopic.set(t.name, t.partitions.length);
    const result = assignor.assign(subs, partitionsPerTopic);
    return subs.map((s) => ({ memberId: s.memberId, assignment: encodeAssignment(result.get(s.memberId) ?? new Map()) }));
  }

  private applyAssignment(assigned: TopicPartitions): void {
    const next = new Map<string, PartitionState>();
    for (const [topic, parts] of assigned) {
      for (const partition of parts) {
        const k = key(topic, partition);
        // a partition we keep keeps its position; new ones start from the committed offset
        next.set(k, this.partitions.get(k) ?? { topic, partition, position: null, start: 'committed', committed: null });
      }
    }
    this.partitions.clear();
    for (const [k, v] of next) this.partitions.set(k, v);
  }

  private startHeartbeats(): void {
    this.stopHeartbeats();
    const interval = this.opts.heartbeatIntervalMs ?? 3000;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), interval);
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeatInFlight || !this.joined || this.rejoinNeeded) return;
    this.heartbeatInFlight = true;
    try {
      const res = await this.client.heartbeat({
        groupId: this.opts.groupId!,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
      });
      switch (res.errorCode) {
        case ErrorCode.NONE:
          break;
        case ErrorCode.REBALANCE_IN_PROGRESS:
          this.rejoinNeeded = true;
          break;
        case ErrorCode.UNKNOWN_MEMBER_ID:
          this.memberId = '';
          this.rejoinNeeded = true;
          break;
        case ErrorCode.ILLEGAL_GENERATION:
          this.rejoinNeeded = true;
          break;
        case ErrorCode.FENCED_INSTANCE_ID:
          this.fatal = kafkaError(res.errorCode, `group '${this.opts.groupId}'`);
          this.stopHeartbeats();
          break;
        default:
          this.opts.logger?.warn({ error: res.errorCode }, 'heartbeat failed');
      }
    } catch (err) {
      // a lost connection or timeout: the next heartbeat (or the session timeout) decides
      if (!(err instanceof KafkaError)) this.opts.logger?.warn({ err }, 'heartbeat failed');
    } finally {
      this.heartbeatInFlight = false;
    }
  }
}
