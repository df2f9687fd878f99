// Multiplexed fetching from one source node: the partitions of every replicator whose source leader is that node
// share a few connections, and all partitions waiting at a moment travel in one Fetch request.
//
// Why more than one connection. A Kafka Fetch cannot be amended once sent: a long poll (maxWaitMs) ends when one of
// *its* partitions gets data or the wait runs out. On a single connection, a partition that becomes ready while a
// long poll is in flight would wait up to fetch_wait_max_ms behind it, however much data it has. So a node gets up
// to `connectionsPerNode` fetch connections ("lanes", 2 by default, opened when needed):
//   - at most lanes − 1 long polls (maxWaitMs = fetch_wait_max_ms) at once, each carrying every fetch waiting when
//     it was sent;
//   - the last lane never long-polls. When every long-poll slot is taken it carries everything waiting: with
//     maxWaitMs 0 when some fetch may have data now (the source reported data past its offset, or we know nothing
//     yet), else with a short poll (SHORT_POLL_MS), so a partition that missed the long poll in flight still sees
//     its next record within that time.
//   - a free long-poll slot waits for a quick fetch in flight (a few ms) when only "cold" fetches are waiting, so
//     the two groups merge into one long poll instead of the second one short-polling for as long as all is idle.
//
// Long polls are the fetcher's business, not the replicator's. An empty answer is handed back only when the
// source's offsets moved (log start, LSO, high watermark: the replicator wants them for lag and retention) or after
// `idleAnswerMs` as a backstop beat; meanwhile the partition rides the lane's next request, and every answer it gets
// there counts as the source being alive (PartitionFetchState.heardAt, ReplicationSource.lastHeardAtMs). So an
// idle partition stays inside a long poll almost all the time, and its first new record ends that poll at once. An
// answer that is empty although the source has data past the offset (the response was full) makes the lane's next
// request go without waiting.
//
// A fetch rides its lane until it is answered (Lane): between requests it stays parked there, and each lane keeps
// an incremental fetch session (KIP-227) at the source when it offers them (Fetch v7+), so a request names only the
// partitions whose fetch changed (joined, new offset) and those whose fetch left (forgotten), the answer only the
// partitions with news, and dispatching it touches only those: at 256 busy partitions an answer with records for
// a few of them costs a few, not 256. A long poll answered with nothing at all goes out again as it is
// (NodeFetcher.pollAgain), so 1,000 idle partitions cost two near-empty requests a second.
//
// One partition is never in two requests at once (an aborted fetch still occupies its partition until its request
// answers, at most fetch_wait_max_ms; a fetch issued after it waits in PartitionFetchState.waiting).
//
// Answers are dispatched straight from the decoded response: `records` is a view of the response frame, so nothing
// is copied or decoded on the way to the sink. On plain TCP the frame is a pooled buffer (frame-pool.ts): each
// answer carries a reference to it (SourceFetch.release), and the buffer is reused once every answer of the
// response has been appended or dropped.
import type { Logger } from 'pino';
import { ApiKey } from '../../protocol/generated/api.js';
import { ZERO_UUID, type Input } from '../../protocol/primitives.js';
import type { FetchPartition, FetchTopic, ForgottenTopic } from '../../protocol/generated/messages/FetchRequest.js';
import { Framing, frameSizeAt } from '../../protocol/record-batch.js';
import type { FetchResponse, PartitionData } from '../../protocol/generated/messages/FetchResponse.js';
import type { BrokerConnection } from '../../client/connection.js';
import { ErrorCode, KafkaError, networkError } from '../../client/errors.js';
import type { SourceFetch } from '../replication/types.js';
import { pooledFrameOf, type PooledFrame } from './frame-pool.js';

const READ_COMMITTED = 1;
const EMPTY = Buffer.alloc(0);
/** times in a row a partition comes back empty although the source has data for it (the response was full) */
const MAX_STARVED = 3;
/** how long the last lane waits at the source for fetches that found every long-poll slot taken */
const SHORT_POLL_MS = 50;

/** Partition errors after which the leader we route to is stale. */
export const ROUTING_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
]);

export interface FetchSettings {
  fetchWaitMaxMs: number;
  fetchMinBytes: number;
  fetchMaxBytes: number;
  fetchPartitionMaxBytes: number;
  requestTimeoutMs: number;
  connectionsPerNode: number;
}

export interface FetchCounters {
  fetchRequests: number;
  bytesFetched: number;
  errors: number;
}

/** What a NodeFetcher needs from the source cluster client. */
export interface FetcherHost {
  readonly settings: FetchSettings;
  readonly counters: FetchCounters;
  readonly logger: Logger | undefined;
  openConnection(nodeId: number): Promise<BrokerConnection>;
  /** hands an answer to the replicator and lets the partition's next fetch go */
  resolve(w: FetchWaiter, answer: SourceFetch): void;
  /** fails the fetch (transport error) and lets the partition's next fetch go */
  reject(w: FetchWaiter, err: unknown): void;
  /** an aborted fetch's request is over: the partition's next fetch may go */
  release(w: FetchWaiter): void;
  /** the leader of this topic's partitions may have moved: forget the route */
  invalidateRoute(topic: string): void;
}

/** Fetch state of one source partition, shared by every ReplicationSource handle of it. */
export class PartitionFetchState {
  readonly key: string;
  /** fetches behind the active one, oldest first */
  readonly waiting: FetchWaiter[] = [];
  /** the fetch being routed, queued at a node, or in a request; null when none */
  active: FetchWaiter | null = null;
  /** the source's last stable offset in the last answer (-1 before any) */
  lastStableOffset = -1;
  /** fetch offset whose last answer held only part of one batch (a source without KIP-74), else -1 */
  partialAt = -1;
  /** when the source last answered this partition without an error (epoch ms; 0 before any); see heardAt() */
  heardAtMs = 0;
  /** the lane the partition's fetch rides now: its answers count too, even those that leave the partition out */
  via: { readonly heardAtMs: number } | null = null;
  /** source offsets in the last answer handed to the replicator */
  answeredHighWatermark = -1;
  answeredLastStableOffset = -1;
  answeredLogStartOffset = -1;

  /** the abort signals this partition's fetches were given, each with its listener */
  private readonly watched = new Map<AbortSignal, () => void>();

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    this.key = `${topic}/${partition}`;
  }

  /** When the source last answered this partition: itself, or in an empty answer to the long poll it rides now. */
  heardAt(): number {
    const via = this.via;
    return via !== null && via.heardAtMs > this.heardAtMs ? via.heardAtMs : this.heardAtMs;
  }

  /**
   * Makes `signal` abort the partition's unsettled fetches that carry it (`abort` each). A replicator passes the
   * same signal to every fetch of a run, so the listener is added once per run, not once per fetch (adding and
   * removing one per fetch was ~2 % of a busy shadow's event loop at 256 partitions). A signal no fetch of the
   * partition carries any more stops being watched when another one comes.
   */
  watch(signal: AbortSignal, abort: (w: FetchWaiter) => void): void {
    if (this.watched.has(signal)) return;
    for (const [s, listener] of this.watched) {
      if (this.carries(s)) continue;
      s.removeEventListener('abort', listener);
      this.watched.delete(s);
    }
    const listener = (): void => {
      this.watched.delete(signal);
      const hit: FetchWaiter[] = [];
      if (this.active !== null && this.active.signal === signal) hit.push(this.active);
      for (const w of this.waiting) if (w.signal === signal) hit.push(w);
      for (const w of hit) if (!w.settled) abort(w);
    };
    signal.addEventListener('abort', listener, { once: true });
    this.watched.set(signal, listener);
  }

  private carries(signal: AbortSignal): boolean {
    if (this.active !== null && this.active.signal === signal && !this.active.settled) return true;
    return this.waiting.some((w) => w.signal === signal && !w.settled);
  }
}

export type WaiterPhase = 'waiting' | 'routing' | 'queued' | 'sent' | 'done';

/** One replicator fetch call, from the call until its promise settles (and its request, if any, answers). */
export class FetchWaiter {
  phase: WaiterPhase = 'waiting';
  /** the promise has settled (answered, failed or aborted) */
  settled = false;
  /** caught up as far as the source last told (or came back empty): polls rather than asks without waiting */
  cold = false;
  /** times it came back empty although the source had data past its offset */
  starved = 0;
  node: NodeFetcher | null = null;
  /** the lane it rides while 'sent' (in the lane's request in flight, or parked for its next one) */
  lane: Lane | null = null;
  /** the topic id the request names (v13+), from the route */
  topicId = ZERO_UUID;

  constructor(
    readonly state: PartitionFetchState,
    readonly fromOffset: number,
    readonly maxBytes: number,
    readonly signal: AbortSignal,
    /** the source topic id this partition must still have (undefined: any) */
    readonly expectedTopicId: string | undefined,
    /** after this time an empty answer is handed back even when nothing moved at the source (idleAnswerMs) */
    readonly deadline: number,
    private readonly resolveFn: (answer: SourceFetch) => void,
    private readonly rejectFn: (err: unknown) => void,
    abort: (w: FetchWaiter) => void,
  ) {
    state.watch(signal, abort);
  }

  resolve(answer: SourceFetch): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn(answer);
  }

  reject(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(err);
  }
}

/** A topic of a lane's fetch session. */
interface SessionTopic {
  readonly name: string;
  topicId: string;
  readonly partitions: Map<number, SessionEntry>;
}

/** What a lane's fetch session holds for one partition, and what the source last told about it there. */
interface SessionEntry {
  readonly topic: SessionTopic;
  readonly partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** the fetch riding the lane for this partition; null once it left (the next request forgets the partition) */
  waiter: FetchWaiter | null;
  /** the response (Lane.responses) that last carried the partition */
  toldIn: number;
}

/**
 * A fetch connection, the fetches riding it, and its incremental fetch session (KIP-227) at the source.
 *
 * A fetch that joins a lane rides every request of it until it is answered: a partition with nothing new stays in
 * the lane between requests (parked), so the next request names only the partitions whose fetch changed (joined,
 * new offset) and those whose fetch left (forgotten), and dispatching an answer touches only the partitions it
 * carries. The session's partitions are exactly the lane's fetches (a partition whose fetch left is forgotten by the
 * next request), so the source never reads for a partition nobody waits for.
 */
class Lane {
  conn: BrokerConnection | null = null;
  /** a request is in flight */
  busy = false;
  /** the session's id at the source; 0: none */
  sessionId = 0;
  /** the epoch the next incremental request carries; 0: the next request is a full one asking for a session */
  epoch = 0;
  /** the session names topics by id (v13+) */
  usesTopicIds = false;
  readonly topics = new Map<string, SessionTopic>();
  readonly topicsById = new Map<string, SessionTopic>();
  /** fetches riding the lane: in its request in flight, or parked for its next one */
  members = 0;
  /** members whose topic has no id: the requests name topics (v12 at most) */
  membersWithoutId = 0;
  /** entries whose fetch left since the last request was built */
  readonly departed: SessionEntry[] = [];
  /** members aborted while their request was in flight: they leave once it answers */
  readonly aborted: FetchWaiter[] = [];
  /** a member came back empty although the source has data for it: the next request does not wait */
  hot = false;
  /** the earliest idle beat due among the members (a lower bound) */
  nextBeat = Infinity;
  /** responses dispatched, to tell the partitions a response carried (SessionEntry.toldIn) */
  responses = 0;
  /** when a request of the lane was last answered without an error: every member heard from the source then */
  heardAtMs = 0;

  get open(): boolean {
    return this.conn !== null && !this.conn.isClosed;
  }

  /** Starts the session over: the next request is a full one, which also closes the old session at the source. */
  resetSession(): void {
    this.epoch = 0;
  }

  entryOf(w: FetchWaiter): SessionEntry | undefined {
    return this.topics.get(w.state.topic)?.partitions.get(w.state.partition);
  }

  /** Calls `fn` for each member (fn may make members leave). */
  forEachMember(fn: (w: FetchWaiter, e: SessionEntry) => void): void {
    for (const t of this.topics.values()) {
      for (const e of t.partitions.values()) if (e.waiter !== null) fn(e.waiter, e);
    }
  }
}

/** The session errors after which a client starts over with a full fetch. */
const SESSION_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  ErrorCode.INVALID_FETCH_SESSION_EPOCH,
  ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
]);
/** An incremental request whose partitions are all as the session holds them. */
const NOTHING_CHANGED: { topics: Input<FetchTopic>[]; forgotten: Input<ForgottenTopic>[] } = { topics: [], forgotten: [] };
/** Fetch v7 brought sessions */
const FIRST_SESSION_VERSION = 7;

export class NodeFetcher {
  private queue: FetchWaiter[] = [];
  private readonly lanes: Lane[] = [];
  private readonly maxLanes: number;
  private readonly maxLongPolls: number;
  private longPolls = 0;
  /** requests in flight that are not long polls */
  private quickFetches = 0;
  private scheduled = false;
  private closed = false;
  private readonly pumpFn = (): void => this.pump();

  constructor(
    readonly nodeId: number,
    private readonly host: FetcherHost,
  ) {
    this.maxLanes = Math.max(1, Math.floor(host.settings.connectionsPerNode));
    this.maxLongPolls = Math.max(1, this.maxLanes - 1);
  }

  /** fetch connections open now */
  get openConnections(): number {
    let n = 0;
    for (const l of this.lanes) if (l.open) n++;
    return n;
  }

  /** Queues a fetch for the next request. */
  enqueue(w: FetchWaiter): void {
    w.phase = 'queued';
    w.node = this;
    this.queue.push(w);
    this.kick();
  }

  /**
   * Takes an aborted fetch back: true when it was queued or parked in a lane (it is out now), false when its
   * request is in flight (it leaves when that answers, and its answer is dropped) or it is elsewhere.
   */
  remove(w: FetchWaiter): boolean {
    if (w.phase === 'queued') {
      const i = this.queue.indexOf(w);
      if (i < 0) return false;
      this.queue.splice(i, 1);
      return true;
    }
    const lane = w.lane;
    if (w.phase !== 'sent' || lane === null) return false;
    if (!lane.busy) {
      this.leave(lane, w);
      return true;
    }
    lane.aborted.push(w);
    return false;
  }

  /** Fails queued and parked fetches and closes the connections (requests in flight fail with `err`). */
  close(err: KafkaError): void {
    this.closed = true;
    const queued = this.queue;
    this.queue = [];
    for (const w of queued) {
      w.phase = 'done';
      this.host.reject(w, err);
    }
    for (const l of this.lanes) {
      if (!l.busy) {
        l.forEachMember((w) => {
          this.finish(l, w);
          this.host.reject(w, err);
        });
      }
      l.conn?.close(err);
    }
  }

  private kick(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    // after the current microtasks: replicators answered a moment ago issue their next fetch before we send
    setImmediate(this.pumpFn);
  }

  private pump(): void {
    this.scheduled = false;
    while (!this.closed) {
      if (this.longPolls < this.maxLongPolls) {
        // A long poll carries everything waiting: the queue and the fetches parked in every idle lane, gathered in
        // the idle lane holding most of them (so the fewest move).
        let lane: Lane | undefined;
        let parked = 0;
        let hot = false;
        for (const l of this.lanes) {
          if (l.busy) continue;
          parked += l.members;
          if (l.hot) hot = true;
          if (lane === undefined || l.members > lane.members || (l.members === lane.members && l.open && !lane.open)) lane = l;
        }
        if (this.queue.length + parked === 0) return;
        // Only cold fetches waiting while a quick fetch is in flight: wait for it (a few ms, SHORT_POLL_MS at
        // most) so both groups go out in one long poll. Sent apart, the group on the last lane would find the
        // long-poll slots taken each time it returns, and keep polling briefly for as long as the source is idle.
        if (this.quickFetches > 0 && !hot && !this.queue.some((w) => !w.cold)) return;
        lane ??= this.newLane();
        if (lane === undefined) return;
        const joining = this.queue;
        this.queue = [];
        for (const l of this.lanes) if (l !== lane && !l.busy && l.members > 0) this.moveMembers(l, joining);
        void this.send(lane, joining, true, this.host.settings.fetchWaitMaxMs);
        continue;
      }
      // Every long-poll slot is taken: an idle lane sends its own parked fetches and everything queued. With a
      // fetch that may have data now it does not wait at all; with only cold ones (they missed the long polls in
      // flight) it polls briefly, so their data is noticed within SHORT_POLL_MS instead of a whole fetch_wait_max_ms.
      let lane: Lane | undefined;
      for (const l of this.lanes) {
        if (l.busy) continue;
        if (l.members > 0) {
          lane = l;
          break;
        }
        if (this.queue.length > 0 && (lane === undefined || (l.open && !lane.open))) lane = l;
      }
      if (lane === undefined && this.queue.length > 0) lane = this.newLane();
      if (lane === undefined) return;
      const hot = lane.hot || this.queue.some((w) => !w.cold);
      const joining = this.queue;
      this.queue = [];
      void this.send(lane, joining, false, hot ? 0 : Math.min(SHORT_POLL_MS, this.host.settings.fetchWaitMaxMs));
    }
  }

  /** A new lane while under the limit. */
  private newLane(): Lane | undefined {
    if (this.lanes.length >= this.maxLanes) return undefined;
    const l = new Lane();
    this.lanes.push(l);
    return l;
  }

  /** A fetch rides `lane` from now on; `changed` gets its entry when the session must be told its fetch. */
  private join(lane: Lane, w: FetchWaiter, changed: SessionEntry[]): void {
    const st = w.state;
    let t = lane.topics.get(st.topic);
    if (t === undefined) {
      t = { name: st.topic, topicId: w.topicId, partitions: new Map() };
      lane.topics.set(st.topic, t);
      if (w.topicId !== ZERO_UUID) lane.topicsById.set(w.topicId, t);
    } else if (t.topicId !== w.topicId) {
      // recreated at the source: the session starts over under the new id
      if (lane.topicsById.get(t.topicId) === t) lane.topicsById.delete(t.topicId);
      t.topicId = w.topicId;
      if (w.topicId !== ZERO_UUID) lane.topicsById.set(w.topicId, t);
      lane.resetSession();
    }
    const partitionMaxBytes = this.partitionMaxBytes(w);
    let e = t.partitions.get(st.partition);
    if (e === undefined) {
      e = { topic: t, partition: st.partition, fetchOffset: w.fromOffset, partitionMaxBytes, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, waiter: null, toldIn: 0 };
      t.partitions.set(st.partition, e);
      changed.push(e);
    } else if (e.fetchOffset !== w.fromOffset || e.partitionMaxBytes !== partitionMaxBytes) {
      e.fetchOffset = w.fromOffset;
      e.partitionMaxBytes = partitionMaxBytes;
      changed.push(e);
    }
    e.waiter = w;
    lane.members++;
    if (w.topicId === ZERO_UUID) lane.membersWithoutId++;
    if (w.deadline < lane.nextBeat) lane.nextBeat = w.deadline;
    w.phase = 'sent';
    w.lane = lane;
    st.via = lane;
  }

  /** A fetch leaves `lane` (answered, failed, aborted or moved); the lane's next request forgets its partition. */
  private leave(lane: Lane, w: FetchWaiter): void {
    const e = lane.entryOf(w);
    if (e !== undefined && e.waiter === w) {
      e.waiter = null;
      lane.departed.push(e);
    }
    lane.members--;
    if (w.topicId === ZERO_UUID) lane.membersWithoutId--;
    w.lane = null;
    const st = w.state;
    if (st.via === lane) {
      // what the lane's answers told the partition becomes its own
      if (lane.heardAtMs > st.heardAtMs) st.heardAtMs = lane.heardAtMs;
      st.via = null;
    }
  }

  /** A fetch leaves `lane` for good: answered, failed or dropped. */
  private finish(lane: Lane, w: FetchWaiter): void {
    this.leave(lane, w);
    w.phase = 'done';
  }

  /** The fetches parked in idle lane `from` join the request being gathered. */
  private moveMembers(from: Lane, joining: FetchWaiter[]): void {
    from.forEachMember((w) => {
      this.leave(from, w);
      joining.push(w);
    });
    from.hot = false;
  }

  private async send(lane: Lane, joining: FetchWaiter[], longPoll: boolean, maxWaitMs: number): Promise<void> {
    lane.busy = true;
    lane.hot = false;
    if (longPoll) this.longPolls++;
    else this.quickFetches++;
    const changed: SessionEntry[] = [];
    for (const w of joining) this.join(lane, w, changed);
    const s = this.host.settings;
    try {
      if (!lane.open) {
        lane.conn = null;
        lane.conn = await this.host.openConnection(this.nodeId);
        if (this.closed) lane.conn.close(networkError('source client closed'));
      }
      const conn = lane.conn!;
      // v13+ names topics by id: only when every topic in the request has one
      const allIds = lane.membersWithoutId === 0;
      const maxVersion = allIds ? undefined : 12;
      const useSession = conn.versionFor(ApiKey.Fetch, maxVersion) >= FIRST_SESSION_VERSION;
      if (lane.usesTopicIds !== allIds) lane.resetSession();
      // A long poll whose session answer is empty (nothing moved for any of its partitions) goes out again as
      // it is: an idle link costs a few bytes per poll.
      let again = false;
      for (;;) {
        const incremental = useSession && lane.sessionId !== 0 && lane.epoch > 0;
        const request = again ? NOTHING_CHANGED : incremental ? this.incrementalRequest(lane, changed) : this.fullRequest(lane);
        this.host.counters.fetchRequests++;
        let res: FetchResponse;
        try {
          res = await conn.request(
            ApiKey.Fetch,
            {
              clusterId: null,
              replicaId: -1,
              replicaState: { replicaId: -1, replicaEpoch: -1 },
              maxWaitMs,
              minBytes: longPoll ? s.fetchMinBytes : 1,
              maxBytes: s.fetchMaxBytes,
              isolationLevel: READ_COMMITTED,
              // a full request asks for a session (epoch 0), closing the lane's old one (its id) if there was one
              sessionId: useSession ? lane.sessionId : 0,
              sessionEpoch: !useSession ? -1 : incremental ? lane.epoch : 0,
              topics: request.topics,
              forgottenTopicsData: request.forgotten,
              rackId: '',
            },
            { ...(maxVersion === undefined ? {} : { maxVersion }), timeoutMs: s.requestTimeoutMs + maxWaitMs },
          );
        } catch (err) {
          // whether the source saw the request is unknown: the next one starts the session over
          lane.resetSession();
          throw err;
        }
        if (!useSession) lane.sessionId = 0;
        else if (res.errorCode !== ErrorCode.NONE) {
          lane.resetSession();
          if (SESSION_ERRORS.has(res.errorCode)) {
            // the source lost the session (restart, eviction) or we got out of step: the lane's fetches stay, and
            // its next request (a full one) asks for a new session
            this.host.logger?.debug({ node: this.nodeId, error: res.errorCode }, 'source fetch session lost; starting a new one');
            return;
          }
        } else if (incremental) lane.epoch = lane.epoch === 0x7fffffff ? 1 : lane.epoch + 1;
        else {
          lane.sessionId = res.sessionId;
          lane.epoch = res.sessionId === 0 ? 0 : 1;
          lane.usesTopicIds = allIds;
        }
        const inSession = useSession && lane.sessionId !== 0 && res.errorCode === ErrorCode.NONE;
        again = longPoll && incremental && inSession && res.responses.length === 0 && this.pollAgain(lane);
        if (again) continue;
        this.dispatch(res, lane, joining, incremental && res.errorCode === ErrorCode.NONE);
        return;
      }
    } catch (err) {
      this.fail(lane, err);
    } finally {
      // members aborted while the request was in flight: their answers (if any) were dropped
      for (const w of lane.aborted) {
        if (w.lane !== lane) continue;
        this.finish(lane, w);
        this.host.release(w);
      }
      lane.aborted.length = 0;
      lane.busy = false;
      if (longPoll) this.longPolls--;
      else this.quickFetches--;
      this.kick();
    }
  }

  /**
   * After an empty session answer to a long poll: whether the same long poll may go out again at once, because
   * nothing is waiting to join it (queued, parked in another lane, or in a quick fetch whose partitions would join
   * it when back), no member was aborted, and none is due for its idle beat. Every member heard from the source.
   */
  private pollAgain(lane: Lane): boolean {
    if (this.closed || this.queue.length > 0 || this.quickFetches > 0 || lane.aborted.length > 0) return false;
    for (const l of this.lanes) if (l !== lane && !l.busy && l.members > 0) return false;
    const now = Date.now();
    if (now >= lane.nextBeat) return false;
    lane.heardAtMs = now;
    return true;
  }

  /** The partition cap a waiter's fetch asks for. */
  private partitionMaxBytes(w: FetchWaiter): number {
    // the link's per-partition cap, unless the replicator is growing its limit to get past one batch larger than
    // the cap from a source without KIP-74
    return w.fromOffset === w.state.partialAt ? w.maxBytes : Math.min(w.maxBytes, this.host.settings.fetchPartitionMaxBytes);
  }

  /** A full request of every member; the session the source opens for it (if any) will hold them. */
  private fullRequest(lane: Lane): { topics: Input<FetchTopic>[]; forgotten: Input<ForgottenTopic>[] } {
    lane.departed.length = 0;
    const topics: Input<FetchTopic>[] = [];
    for (const [name, t] of lane.topics) {
      const partitions: Input<FetchPartition>[] = [];
      for (const [partition, e] of t.partitions) {
        if (e.waiter === null) {
          t.partitions.delete(partition);
          continue;
        }
        // a new session knows nothing yet: its first answer carries every partition
        e.highWatermark = -1;
        e.lastStableOffset = -1;
        e.logStartOffset = -1;
        partitions.push(fetchPartition(partition, e.fetchOffset, e.partitionMaxBytes));
      }
      if (partitions.length === 0) this.dropTopic(lane, t);
      else topics.push({ topic: name, topicId: t.topicId, partitions });
    }
    return { topics, forgotten: [] };
  }

  /**
   * An incremental request: the partitions whose fetch the session does not hold yet (`changed`: joined, or at a
   * new offset), and those whose fetch left the lane (forgotten). Afterwards the session holds exactly the members.
   */
  private incrementalRequest(lane: Lane, changed: SessionEntry[]): { topics: Input<FetchTopic>[]; forgotten: Input<ForgottenTopic>[] } {
    const named = new Map<SessionTopic, Input<FetchPartition>[]>();
    for (const e of changed) {
      if (e.waiter === null) continue;
      let list = named.get(e.topic);
      if (list === undefined) named.set(e.topic, (list = []));
      list.push(fetchPartition(e.partition, e.fetchOffset, e.partitionMaxBytes));
    }
    const forgotten = new Map<SessionTopic, number[]>();
    for (const e of lane.departed) {
      const t = e.topic;
      // a fetch that took the partition's place since, or an entry dropped already
      if (e.waiter !== null || t.partitions.get(e.partition) !== e) continue;
      t.partitions.delete(e.partition);
      let list = forgotten.get(t);
      if (list === undefined) forgotten.set(t, (list = []));
      list.push(e.partition);
      if (t.partitions.size === 0) this.dropTopic(lane, t);
    }
    lane.departed.length = 0;
    if (named.size === 0 && forgotten.size === 0) return NOTHING_CHANGED;
    const topics: Input<FetchTopic>[] = [];
    for (const [t, partitions] of named) topics.push({ topic: t.name, topicId: t.topicId, partitions });
    const forgottenTopics: Input<ForgottenTopic>[] = [];
    for (const [t, partitions] of forgotten) forgottenTopics.push({ topic: t.name, topicId: t.topicId, partitions });
    return { topics, forgotten: forgottenTopics };
  }

  private dropTopic(lane: Lane, t: SessionTopic): void {
    if (lane.topics.get(t.name) === t) lane.topics.delete(t.name);
    if (lane.topicsById.get(t.topicId) === t) lane.topicsById.delete(t.topicId);
  }

  private dispatch(res: FetchResponse, lane: Lane, joined: FetchWaiter[], incremental: boolean): void {
    // The pooled buffer the response was read into, if any (every partition's records are views of it): each answer
    // with records takes a reference, and the decoding reference is given back once all are handed out.
    let frame: PooledFrame | undefined;
    for (let ti = 0; ti < res.responses.length && frame === undefined; ti++) {
      for (const p of res.responses[ti]!.partitions) {
        frame = pooledFrameOf(p.records);
        if (frame !== undefined) break;
      }
    }
    try {
      this.dispatchAnswers(res, lane, joined, incremental, frame);
    } finally {
      frame?.release();
    }
  }

  /**
   * Hands out the answers of a response. Only the partitions it carries are looked at, besides the fetches that
   * joined with this request: an incremental answer leaves out the partitions with nothing new, whose fetches stay
   * parked in the lane (the session tells nothing moved), and a full answer must carry every member.
   */
  private dispatchAnswers(res: FetchResponse, lane: Lane, joined: FetchWaiter[], incremental: boolean, frame: PooledFrame | undefined): void {
    const now = Date.now();
    if (res.errorCode !== ErrorCode.NONE) {
      this.host.counters.errors++;
      lane.forEachMember((w) => {
        this.finish(lane, w);
        this.host.resolve(w, errorAnswer(res.errorCode, `Fetch from source node ${this.nodeId}`));
      });
      return;
    }
    const seq = ++lane.responses;
    // Answers with records are handed out smallest first: their appends run in this order, so a partition with a
    // few new records is not kept waiting behind megabytes of others (the sink yields between pieces of a large
    // answer, so the large ones interleave after that).
    const withRecords: { w: FetchWaiter; p: PartitionData }[] = [];
    for (const t of res.responses) {
      const topic = t.topic !== '' ? lane.topics.get(t.topic) : lane.topicsById.get(t.topicId);
      if (topic === undefined) continue;
      for (const p of t.partitions) {
        const e = topic.partitions.get(p.partitionIndex);
        const w = e?.waiter;
        if (w == null) continue;
        e!.toldIn = seq;
        e!.highWatermark = p.highWatermark;
        e!.lastStableOffset = p.lastStableOffset;
        e!.logStartOffset = p.logStartOffset;
        if (p.errorCode === ErrorCode.NONE && p.records !== null && p.records.length > 0 && !w.settled) withRecords.push({ w, p });
        else this.answer(lane, w, p, now, frame);
      }
    }
    if (withRecords.length > 1) withRecords.sort((a, b) => a.p.records!.length - b.p.records!.length);
    for (const { w, p } of withRecords) this.answer(lane, w, p, now, frame);
    if (incremental) {
      // what the session knew of a joined fetch left out of the answer holds: nothing moved
      for (const w of joined) {
        if (w.lane !== lane) continue;
        const e = lane.entryOf(w)!;
        if (e.toldIn === seq) continue;
        if (e.highWatermark >= 0) this.answerUnchanged(lane, w, e, now);
        else this.leftOut(lane, w);
      }
    } else {
      lane.forEachMember((w, e) => {
        if (e.toldIn !== seq) this.leftOut(lane, w);
      });
    }
    lane.heardAtMs = now;
    if (now >= lane.nextBeat) this.beat(lane, now);
  }

  /** Members due for their idle beat get an empty answer (nothing moved at the source meanwhile). */
  private beat(lane: Lane, now: number): void {
    let next = Infinity;
    lane.forEachMember((w, e) => {
      if (w.deadline <= now && !w.settled) this.answerEmpty(lane, w, e.highWatermark, e.lastStableOffset, e.logStartOffset, now);
      if (w.lane === lane && w.deadline < next) next = w.deadline;
    });
    lane.nextBeat = next;
  }

  private leftOut(lane: Lane, w: FetchWaiter): void {
    this.finish(lane, w);
    this.host.resolve(w, errorAnswer(ErrorCode.UNKNOWN_SERVER_ERROR, `source node ${this.nodeId} left ${w.state.key} out of its Fetch response`));
  }

  private answer(lane: Lane, w: FetchWaiter, p: PartitionData, now: number, frame: PooledFrame | undefined): void {
    const st = w.state;
    const records = p.records ?? EMPTY;
    this.host.counters.bytesFetched += records.length;
    if (w.settled) {
      // aborted while in flight: the answer is dropped (the replicator fetches again from its own position)
      this.finish(lane, w);
      this.host.release(w);
      return;
    }
    if (p.errorCode !== ErrorCode.NONE) {
      this.finish(lane, w);
      this.host.counters.errors++;
      if (ROUTING_ERRORS.has(p.errorCode)) this.host.invalidateRoute(st.topic);
      this.host.resolve(w, {
        records: EMPTY,
        highWatermark: p.highWatermark,
        lastStableOffset: p.lastStableOffset,
        logStartOffset: p.logStartOffset,
        error: p.errorCode,
        errorMessage: `fetching ${st.key} at offset ${w.fromOffset} from source node ${this.nodeId}`,
      });
      return;
    }
    st.lastStableOffset = p.lastStableOffset;
    st.heardAtMs = now;
    if (records.length > 0) {
      this.finish(lane, w);
      st.partialAt = frameSizeAt(records, 0) === Framing.TRUNCATED ? w.fromOffset : -1;
      const answer: SourceFetch = { records, highWatermark: p.highWatermark, lastStableOffset: p.lastStableOffset, logStartOffset: p.logStartOffset };
      if (frame !== undefined) answer.release = frame.lease();
      this.host.resolve(w, answer);
      return;
    }
    this.answerEmpty(lane, w, p.highWatermark, p.lastStableOffset, p.logStartOffset, now);
  }

  /** A joined fetch the answer left out: nothing moved since the session last told its offsets. */
  private answerUnchanged(lane: Lane, w: FetchWaiter, e: SessionEntry, now: number): void {
    if (w.settled) return; // aborted: leaves when the request is over (Lane.aborted)
    w.state.lastStableOffset = e.lastStableOffset;
    w.state.heardAtMs = now;
    this.answerEmpty(lane, w, e.highWatermark, e.lastStableOffset, e.logStartOffset, now);
  }

  /**
   * An answer without records: handed back only when the source's offsets moved or the idle beat is due; else the
   * fetch stays in the lane for its next request.
   */
  private answerEmpty(lane: Lane, w: FetchWaiter, highWatermark: number, lastStableOffset: number, logStartOffset: number, now: number): void {
    const st = w.state;
    // The source has data past the fetch offset but the response was full: the next request goes without waiting.
    if (lastStableOffset > w.fromOffset && w.starved < MAX_STARVED) {
      w.starved++;
      w.cold = false;
      lane.hot = true;
      return;
    }
    const moved = highWatermark !== st.answeredHighWatermark || lastStableOffset !== st.answeredLastStableOffset || logStartOffset !== st.answeredLogStartOffset;
    if (moved || now >= w.deadline) {
      this.finish(lane, w);
      this.host.resolve(w, { records: EMPTY, highWatermark, lastStableOffset, logStartOffset });
      return;
    }
    w.cold = true;
  }

  private fail(lane: Lane, err: unknown): void {
    this.host.counters.errors++;
    const error = err instanceof KafkaError ? err : networkError(`Fetch from source node ${this.nodeId} failed: ${String(err)}`);
    this.host.logger?.debug({ node: this.nodeId, err: error.message, partitions: lane.members }, 'source fetch request failed');
    const topics = new Set<string>();
    lane.forEachMember((w) => {
      this.finish(lane, w);
      topics.add(w.state.topic);
      if (w.settled) this.host.release(w);
      else this.host.reject(w, error);
    });
    // the node may be gone: route these topics afresh
    if (error.code === ErrorCode.NETWORK_EXCEPTION || error.code === ErrorCode.REQUEST_TIMED_OUT) for (const t of topics) this.host.invalidateRoute(t);
  }
}

function fetchPartition(partition: number, fetchOffset: number, partitionMaxBytes: number): Input<FetchPartition> {
  return { partition, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes };
}

/** An answer that carries only an error code (routing failures, request-level errors). */
export function errorAnswer(code: number, context: string): SourceFetch {
  return { records: EMPTY, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, error: code, errorMessage: context };
}
