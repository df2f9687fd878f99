// Incremental fetch sessions (KIP-227): the broker remembers the partitions a client fetches, so each next request
// carries only what changed (new fetch offsets, added and forgotten partitions) and each response only the
// partitions with something to tell (records, moved offsets, errors). For a consumer or shadow link polling many
// idle partitions this turns requests and responses of every partition into near-empty ones.
//
// Request metadata (sessionId, sessionEpoch), as in Kafka's FetchMetadata:
//   - epoch -1 (FINAL): no session; a nonzero sessionId closes that session first.
//   - epoch 0 (INITIAL): a full fetch that asks for a new session (a nonzero sessionId closes that one first); the
//     response carries the new session's id, or 0 when the cache has no room.
//   - epoch > 0: an incremental fetch of session `sessionId`, whose expected epoch it must be
//     (FETCH_SESSION_ID_NOT_FOUND / INVALID_FETCH_SESSION_EPOCH otherwise, and the client starts over).
// Sessions are not tied to a connection. The cache holds at most `max.incremental.fetch.session.cache.slots`
// sessions; a new one may take the slot of one unused for EVICTION_MS, else of a smaller one (Kafka's rule for
// non-follower sessions), else it is not created and the client goes on with full fetches.

import type { TopicRecord } from '../cluster/types.js';
import type { PartitionLog } from '../storage/types.js';
import { wokenOrTimedOut } from './partitions.js';

/** A session unused this long may lose its slot to a new session (Kafka's min.incremental.fetch.session.eviction.ms). */
export const EVICTION_MS = 120_000;

/** What a request asks of one partition (and a session remembers of it). */
export interface PartitionRequest {
  /** topic name (the client's, before v13) or '' */
  topic: string;
  /** topic id (v13+) or the zero UUID */
  topicId: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
}

/** One partition of a session: what the client asked for last, and what the last response told it. */
export interface SessionPartition extends PartitionRequest {
  /** -1 until a response carried the partition without an error: then the partition must be in the next one */
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** the session's key of the partition */
  readonly key: string;
  /**
   * The topic and log the partition resolves to, as the Fetch handler last found them (attachSession in
   * handlers/01-fetch.ts); the session listens for appends to `log` while it holds the partition.
   */
  record: TopicRecord | undefined;
  log: PartitionLog | undefined;
}

/** What keeps a session's partitions resolved to logs and listened to (the Fetch handler's attachSession). */
export interface SessionAttachment {
  /** the partition left the session (forgotten, or the session left the cache) */
  detach(p: SessionPartition): void;
}

export class FetchSession {
  /** fetch order: partitions that returned records move to the end, so no partition is always last in line */
  readonly partitions = new Map<string, SessionPartition>();
  /** the epoch the next request must carry */
  epoch = 1;
  /** partitions added since the handler last resolved the session's logs */
  readonly added: SessionPartition[] = [];
  /** the broker's topic generation the partitions were resolved at (-1: never) */
  resolvedGeneration = -1;
  /** the distinct topic names of the partitions, as resolved (authorization checks them per request) */
  topicNames: string[] = [];
  attachment: SessionAttachment | null = null;
  /** counts appends to the session's logs (onAppend): a request compares it across its reads */
  dataSeq = 0;
  /** the session left the cache */
  disposed = false;
  private waiters: (() => void)[] = [];

  /** Called on every append to a log of the session (and when a log's readable end moves otherwise). */
  readonly onAppend = (): void => {
    this.dataSeq++;
    if (this.waiters.length > 0) this.wakeWaiters();
  };

  constructor(
    readonly id: number,
    /** the session names topics by id (created by a v13+ request); requests must stay on that side of v13 */
    readonly usesTopicIds: boolean,
    public lastUsedMs: number,
  ) {}

  /** Adds or updates a partition the request names; returns the session's entry for it. */
  upsert(p: PartitionRequest): SessionPartition {
    const key = partitionKey(this.usesTopicIds, p.topic, p.topicId, p.partition);
    const cached = this.partitions.get(key);
    if (cached === undefined) {
      const added: SessionPartition = {
        topic: p.topic,
        topicId: p.topicId,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        key,
        record: undefined,
        log: undefined,
      };
      this.partitions.set(key, added);
      this.added.push(added);
      return added;
    }
    cached.fetchOffset = p.fetchOffset;
    cached.partitionMaxBytes = p.partitionMaxBytes;
    cached.currentLeaderEpoch = p.currentLeaderEpoch;
    return cached;
  }

  forget(topic: string, topicId: string, partition: number): void {
    const key = partitionKey(this.usesTopicIds, topic, topicId, partition);
    const p = this.partitions.get(key);
    if (p === undefined) return;
    this.partitions.delete(key);
    this.attachment?.detach(p);
    // the distinct topic names stay as they are until the next resolution: one too many only widens a check
  }

  /** Resolves when a log of the session gets an append, after `timeoutMs`, or when the session leaves the cache. */
  waitForData(timeoutMs: number): Promise<void> {
    if (this.disposed) return wokenOrTimedOut(timeoutMs, () => () => {});
    return wokenOrTimedOut(timeoutMs, (wake) => {
      this.waiters.push(wake);
      return () => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
      };
    });
  }

  private wakeWaiters(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }

  /** The session left the cache: its partitions are detached and a request waiting on it goes on. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.attachment !== null) for (const p of this.partitions.values()) this.attachment.detach(p);
    this.wakeWaiters();
  }

  /**
   * Whether the partition goes into this session's response, given what the fetch found: always with records or
   * an error, else when an offset the client tracks moved since the last response. Records what it tells.
   */
  mustRespond(p: SessionPartition, errorCode: number, recordBytes: number, highWatermark: number, lastStableOffset: number, logStartOffset: number): boolean {
    if (errorCode !== 0) {
      // forget what was told, so the partition is sent again once the error is gone
      p.highWatermark = -1;
      return true;
    }
    const moved = p.highWatermark !== highWatermark || p.lastStableOffset !== lastStableOffset || p.logStartOffset !== logStartOffset;
    p.highWatermark = highWatermark;
    p.lastStableOffset = lastStableOffset;
    p.logStartOffset = logStartOffset;
    return moved || recordBytes > 0;
  }

  /** Moves a partition behind all others in the fetch order (it just returned records). */
  moveToEnd(p: SessionPartition): void {
    this.partitions.delete(p.key);
    this.partitions.set(p.key, p);
  }

  /** Kafka's FetchMetadata.nextEpoch: wraps to 1 after 2^31 - 1. */
  advanceEpoch(): void {
    this.epoch = this.epoch === 0x7fffffff ? 1 : this.epoch + 1;
  }
}

function partitionKey(usesTopicIds: boolean, topic: string, topicId: string, partition: number): string {
  return `${usesTopicIds ? topicId : topic}:${partition}`;
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();

  constructor(
    /** max.incremental.fetch.session.cache.slots; 0 turns sessions off */
    private readonly maxSlots: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** partitions held by all sessions */
  get partitionCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.partitions.size;
    return n;
  }

  /** The session, marked as used now; undefined when there is none with this id. */
  get(id: number): FetchSession | undefined {
    const s = this.sessions.get(id);
    if (s !== undefined) s.lastUsedMs = this.now();
    return s;
  }

  remove(id: number): void {
    this.sessions.get(id)?.dispose();
    this.sessions.delete(id);
  }

  /** A new session for `size` partitions, or undefined when no slot is free or can be taken. */
  create(usesTopicIds: boolean, size: number): FetchSession | undefined {
    const now = this.now();
    if (this.sessions.size >= this.maxSlots && !this.evictFor(size, now)) return undefined;
    let id: number;
    do id = 1 + Math.floor(Math.random() * 0x7ffffffe);
    while (this.sessions.has(id));
    const s = new FetchSession(id, usesTopicIds, now);
    this.sessions.set(id, s);
    return s;
  }

  /** Frees a slot: the least recently used session if stale, else the smallest one if smaller than `size`. */
  private evictFor(size: number, now: number): boolean {
    if (this.maxSlots === 0) return false;
    let lru: FetchSession | undefined;
    let smallest: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      if (lru === undefined || s.lastUsedMs < lru.lastUsedMs) lru = s;
      if (smallest === undefined || s.partitions.size < smallest.partitions.size) smallest = s;
    }
    const victim = lru !== undefined && now - lru.lastUsedMs >= EVICTION_MS ? lru : smallest !== undefined && smallest.partitions.size < size ? smallest : undefined;
    if (victim === undefined) return false;
    this.remove(victim.id);
    return true;
  }
}
