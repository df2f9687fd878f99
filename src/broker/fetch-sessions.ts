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
}

export class FetchSession {
  /** fetch order: partitions that returned records move to the end, so no partition is always last in line */
  readonly partitions = new Map<string, SessionPartition>();
  /** the epoch the next request must carry */
  epoch = 1;

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
      const added = { ...p, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1 };
      this.partitions.set(key, added);
      return added;
    }
    cached.fetchOffset = p.fetchOffset;
    cached.partitionMaxBytes = p.partitionMaxBytes;
    cached.currentLeaderEpoch = p.currentLeaderEpoch;
    return cached;
  }

  forget(topic: string, topicId: string, partition: number): void {
    this.partitions.delete(partitionKey(this.usesTopicIds, topic, topicId, partition));
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
    const key = partitionKey(this.usesTopicIds, p.topic, p.topicId, p.partition);
    this.partitions.delete(key);
    this.partitions.set(key, p);
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
    this.sessions.delete(victim.id);
    return true;
  }
}
