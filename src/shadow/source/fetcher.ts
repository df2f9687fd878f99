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
// `idleAnswerMs` as a backstop beat; meanwhile the partition rides the next request, and every answer it gets
// there counts as the source being alive (PartitionFetchState.heardAt, ReplicationSource.lastHeardAtMs). So an
// idle partition stays inside a long poll almost all the time, and its first new record ends that poll at once. An
// answer that is empty although the source has data past the offset (the response was full) puts the partition
// first in the next one.
//
// Each lane keeps an incremental fetch session (KIP-227) at the source when it offers them (Fetch v7+): a request
// names only the partitions whose fetch changed and those to forget, and the answer only the partitions with news;
// the others are answered from what the session last told (LaneSession). A long poll answered with nothing at all
// goes out again as it is (NodeFetcher.pollAgain), so 1,000 idle partitions cost two near-empty requests a second.
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
  /** the session of the lane whose request carries the partition now: its long polls answered with nothing count too */
  via: LaneSession | null = null;
  /** source offsets in the last answer handed to the replicator */
  answeredHighWatermark = -1;
  answeredLastStableOffset = -1;
  answeredLogStartOffset = -1;

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
  /** the topic id the request names (v13+), from the route */
  topicId = ZERO_UUID;
  private readonly onAbort: () => void;

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
    this.onAbort = () => abort(this);
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  resolve(answer: SourceFetch): void {
    if (this.settled) return;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.resolveFn(answer);
  }

  reject(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.rejectFn(err);
  }
}

class Lane {
  conn: BrokerConnection | null = null;
  busy = false;
  readonly session = new LaneSession();

  get open(): boolean {
    return this.conn !== null && !this.conn.isClosed;
  }
}

/** What a lane's fetch session holds for one partition, and what the source last told about it there. */
interface SessionEntry {
  fetchOffset: number;
  partitionMaxBytes: number;
  topicId: string;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** the last request (LaneSession.round) that named the partition's waiter */
  round: number;
}

/**
 * A lane's incremental fetch session (KIP-227) at the source: the partitions of its last request, so the next one
 * names only the partitions whose fetch changed (new offset, added) and those to forget, and the answer carries
 * only partitions with news. A partition left out of the answer is answered from `entries` (nothing moved). The
 * session's partitions are always exactly those of the request in flight: a partition not in the next request is
 * forgotten, so the source never reads for a partition nobody waits for.
 */
class LaneSession {
  /** the session's id at the source; 0: none */
  id = 0;
  /** the epoch the next incremental request carries; 0: the next request is a full one asking for a session */
  epoch = 0;
  /** the session names topics by id (v13+) */
  usesTopicIds = false;
  readonly entries = new Map<string, SessionEntry>();
  /** requests built, to tell the entries of this one from those to forget */
  round = 0;
  /** when a long poll of this session was last answered with nothing (every partition in it heard from the source) */
  heardAtMs = 0;
  /** a partition of the request in flight was aborted: its answer must be handed out, not polled again */
  aborted = false;

  /** Starts over: the next request is a full one, which also closes the old session at the source. */
  reset(): void {
    this.epoch = 0;
    this.entries.clear();
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

interface TopicGroup {
  topic: string;
  topicId: string;
  waiters: FetchWaiter[];
  /** the waiters by partition, built when an answer is not where the request put it (a session answer) */
  byPartition?: Map<number, FetchWaiter>;
}

/** The waiter of a partition in a group: where the request put it, else looked up. */
function waiterOf(g: TopicGroup, position: number, partition: number): FetchWaiter | undefined {
  const w = g.waiters[position];
  if (w !== undefined && w.state.partition === partition) return w;
  g.byPartition ??= new Map(g.waiters.map((x) => [x.state.partition, x]));
  return g.byPartition.get(partition);
}

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

  /** Queues a fetch for the next request; `front` for one the last response had no room for. */
  enqueue(w: FetchWaiter, front = false): void {
    w.phase = 'queued';
    w.node = this;
    if (front) this.queue.unshift(w);
    else this.queue.push(w);
    this.kick();
  }

  /** Takes a queued fetch back (it was aborted); false when it is no longer queued. */
  remove(w: FetchWaiter): boolean {
    const i = this.queue.indexOf(w);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  /** Fails queued fetches and closes the connections (requests in flight fail with `err`). */
  close(err: KafkaError): void {
    this.closed = true;
    const queued = this.queue;
    this.queue = [];
    for (const w of queued) {
      w.phase = 'done';
      this.host.reject(w, err);
    }
    for (const l of this.lanes) l.conn?.close(err);
  }

  private kick(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    // after the current microtasks: replicators answered a moment ago issue their next fetch before we send
    setImmediate(this.pumpFn);
  }

  private pump(): void {
    this.scheduled = false;
    while (!this.closed && this.queue.length > 0) {
      const lane = this.freeLane();
      if (lane === undefined) return;
      if (this.longPolls < this.maxLongPolls) {
        // Only cold fetches waiting while a quick fetch is in flight: wait for it (a few ms, SHORT_POLL_MS at
        // most) so both groups go out in one long poll. Sent apart, the group on the last lane would find the
        // long-poll slots taken each time it returns, and keep polling briefly for as long as the source is idle.
        if (this.quickFetches > 0 && !this.queue.some((w) => !w.cold)) return;
        const batch = this.queue;
        this.queue = [];
        void this.send(lane, batch, true, this.host.settings.fetchWaitMaxMs);
        continue;
      }
      // Every long-poll slot is taken: the last lane takes everything waiting. With a fetch that may have data
      // now it does not wait at all; with only cold ones (they missed the long polls in flight) it polls briefly,
      // so their data is noticed within SHORT_POLL_MS instead of after a whole fetch_wait_max_ms.
      const batch = this.queue;
      this.queue = [];
      const anyHot = batch.some((w) => !w.cold);
      void this.send(lane, batch, false, anyHot ? 0 : Math.min(SHORT_POLL_MS, this.host.settings.fetchWaitMaxMs));
    }
  }

  /** An idle lane, preferring one whose connection is open; a new one while under the limit. */
  private freeLane(): Lane | undefined {
    let idle: Lane | undefined;
    for (const l of this.lanes) {
      if (l.busy) continue;
      if (l.open) return l;
      idle ??= l;
    }
    if (idle !== undefined) return idle;
    if (this.lanes.length < this.maxLanes) {
      const l = new Lane();
      this.lanes.push(l);
      return l;
    }
    return undefined;
  }

  private async send(lane: Lane, batch: FetchWaiter[], longPoll: boolean, maxWaitMs: number): Promise<void> {
    lane.busy = true;
    if (longPoll) this.longPolls++;
    else this.quickFetches++;
    const session = lane.session;
    session.aborted = false;
    // the earliest idle beat due among the batch: until then an empty answer may be polled again as it is
    let beatDue = Infinity;
    for (const w of batch) {
      w.phase = 'sent';
      w.state.via = session;
      if (w.deadline < beatDue) beatDue = w.deadline;
    }
    const s = this.host.settings;
    try {
      if (!lane.open) {
        lane.conn = null;
        lane.conn = await this.host.openConnection(this.nodeId);
        if (this.closed) lane.conn.close(networkError('source client closed'));
      }
      const conn = lane.conn!;
      const groups = new Map<string, TopicGroup>();
      let allIds = true;
      for (const w of batch) {
        const topic = w.state.topic;
        let g = groups.get(topic);
        if (g === undefined) {
          g = { topic, topicId: w.topicId, waiters: [] };
          groups.set(topic, g);
          if (w.topicId === ZERO_UUID) allIds = false;
        }
        g.waiters.push(w);
      }
      const list = [...groups.values()];
      const maxVersion = allIds ? undefined : 12;
      const useSession = conn.versionFor(ApiKey.Fetch, maxVersion) >= FIRST_SESSION_VERSION;
      if (session.usesTopicIds !== allIds) session.reset();
      // A long poll whose session answer is empty (nothing moved for any of its partitions) goes out again as
      // it is, without handing its partitions back and regrouping them: an idle link costs a few bytes per poll.
      let again = false;
      for (;;) {
        let incremental = useSession && session.id !== 0 && session.epoch > 0;
        let request = again ? NOTHING_CHANGED : incremental ? this.incrementalRequest(session, list) : undefined;
        if (request === undefined) {
          incremental = false;
          request = this.fullRequest(session, list);
        }
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
              sessionId: useSession ? session.id : 0,
              sessionEpoch: !useSession ? -1 : incremental ? session.epoch : 0,
              topics: request.topics,
              forgottenTopicsData: request.forgotten,
              rackId: '',
            },
            // v13+ names topics by id: only when every topic in the request has one
            { ...(maxVersion === undefined ? {} : { maxVersion }), timeoutMs: s.requestTimeoutMs + maxWaitMs },
          );
        } catch (err) {
          // whether the source saw the request is unknown: the next one starts the session over
          session.reset();
          throw err;
        }
        if (!useSession) session.id = 0;
        else if (res.errorCode !== ErrorCode.NONE) {
          session.reset();
          if (SESSION_ERRORS.has(res.errorCode)) {
            // the source lost the session (restart, eviction) or we got out of step: ask again with a full fetch
            this.host.logger?.debug({ node: this.nodeId, error: res.errorCode }, 'source fetch session lost; starting a new one');
            for (const w of batch) {
              if (w.phase !== 'sent') continue;
              if (w.settled) {
                w.phase = 'done';
                this.host.release(w);
              } else this.enqueue(w, true);
            }
            return;
          }
        } else if (incremental) session.epoch = session.epoch === 0x7fffffff ? 1 : session.epoch + 1;
        else {
          session.id = res.sessionId;
          session.epoch = res.sessionId === 0 ? 0 : 1;
          session.usesTopicIds = allIds;
        }
        const inSession = useSession && session.id !== 0 && res.errorCode === ErrorCode.NONE;
        again = longPoll && incremental && inSession && res.responses.length === 0 && this.pollAgain(session, beatDue);
        if (again) continue;
        this.dispatch(res, list, batch, inSession ? session : undefined);
        return;
      }
    } catch (err) {
      this.fail(batch, err);
    } finally {
      // what the lane's empty answers told each partition becomes its own (their answers were stamped already)
      for (const w of batch) {
        const st = w.state;
        if (st.via !== session) continue;
        if (session.heardAtMs > st.heardAtMs) st.heardAtMs = session.heardAtMs;
        st.via = null;
      }
      lane.busy = false;
      if (longPoll) this.longPolls--;
      else this.quickFetches--;
      this.kick();
    }
  }

  /**
   * After an empty session answer to a long poll: whether the same long poll may go out again at once, because
   * nothing is waiting to join it (queued, or in a quick fetch whose partitions would join it when back), no
   * partition in it was aborted, and none is due for its idle beat. Every partition in it heard from the source.
   */
  private pollAgain(session: LaneSession, beatDue: number): boolean {
    if (this.closed || this.queue.length > 0 || this.quickFetches > 0 || session.aborted) return false;
    const now = Date.now();
    if (now >= beatDue) return false;
    session.heardAtMs = now;
    return true;
  }

  /** The partition cap a waiter's fetch asks for. */
  private partitionMaxBytes(w: FetchWaiter): number {
    // the link's per-partition cap, unless the replicator is growing its limit to get past one batch larger than
    // the cap from a source without KIP-74
    return w.fromOffset === w.state.partialAt ? w.maxBytes : Math.min(w.maxBytes, this.host.settings.fetchPartitionMaxBytes);
  }

  /** A full request of every waiter in `groups`; the lane's session (if the source opens one) will hold them. */
  private fullRequest(session: LaneSession, groups: TopicGroup[]): { topics: Input<FetchTopic>[]; forgotten: Input<ForgottenTopic>[] } {
    session.entries.clear();
    const topics = groups.map((g) => ({
      topic: g.topic,
      topicId: g.topicId,
      partitions: g.waiters.map((w) => {
        const partitionMaxBytes = this.partitionMaxBytes(w);
        session.entries.set(w.state.key, {
          fetchOffset: w.fromOffset,
          partitionMaxBytes,
          topicId: g.topicId,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          round: session.round,
        });
        return fetchPartition(w.state.partition, w.fromOffset, partitionMaxBytes);
      }),
    }));
    return { topics, forgotten: [] };
  }

  /**
   * An incremental request: the waiters whose fetch differs from what the session holds, and the session's
   * partitions nobody waits for now (forgotten). Afterwards the session holds exactly the waiters of `groups`.
   * Undefined when a topic's id changed (recreated at the source): then a full request starts the session over.
   */
  private incrementalRequest(session: LaneSession, groups: TopicGroup[]): { topics: Input<FetchTopic>[]; forgotten: Input<ForgottenTopic>[] } | undefined {
    const topics: Input<FetchTopic>[] = [];
    const round = ++session.round;
    for (const g of groups) {
      let partitions: Input<FetchPartition>[] | undefined;
      for (const w of g.waiters) {
        const key = w.state.key;
        const partitionMaxBytes = this.partitionMaxBytes(w);
        const e = session.entries.get(key);
        if (e !== undefined && e.topicId !== g.topicId) return undefined;
        if (e !== undefined) e.round = round;
        if (e !== undefined && e.fetchOffset === w.fromOffset && e.partitionMaxBytes === partitionMaxBytes) continue;
        if (e === undefined) {
          session.entries.set(key, { fetchOffset: w.fromOffset, partitionMaxBytes, topicId: g.topicId, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, round });
        } else {
          e.fetchOffset = w.fromOffset;
          e.partitionMaxBytes = partitionMaxBytes;
        }
        partitions ??= [];
        partitions.push(fetchPartition(w.state.partition, w.fromOffset, partitionMaxBytes));
      }
      if (partitions !== undefined) topics.push({ topic: g.topic, topicId: g.topicId, partitions });
    }
    const forgotten = new Map<string, Input<ForgottenTopic>>();
    for (const [key, e] of session.entries) {
      if (e.round === round) continue;
      session.entries.delete(key);
      const cut = key.lastIndexOf('/');
      const topic = key.slice(0, cut);
      let f = forgotten.get(topic);
      if (f === undefined) {
        f = { topic, topicId: e.topicId, partitions: [] };
        forgotten.set(topic, f);
      }
      (f.partitions as number[]).push(Number(key.slice(cut + 1)));
    }
    return { topics, forgotten: [...forgotten.values()] };
  }

  private dispatch(res: FetchResponse, groups: TopicGroup[], batch: FetchWaiter[], session: LaneSession | undefined): void {
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
      this.dispatchAnswers(res, groups, batch, frame, session);
    } finally {
      frame?.release();
    }
  }

  /**
   * Hands out the answers of a response. With a session, every partition the response carries updates what the
   * session was told, and a partition it leaves out is answered from that (no records, nothing moved).
   */
  private dispatchAnswers(res: FetchResponse, groups: TopicGroup[], batch: FetchWaiter[], frame: PooledFrame | undefined, session: LaneSession | undefined): void {
    const now = Date.now();
    if (res.errorCode !== ErrorCode.NONE) {
      this.host.counters.errors++;
      for (const w of batch) {
        if (w.phase !== 'sent') continue;
        w.phase = 'done';
        this.host.resolve(w, errorAnswer(res.errorCode, `Fetch from source node ${this.nodeId}`));
      }
      return;
    }
    const responses = res.responses;
    // Answers with records are handed out smallest first: their appends run in this order, so a partition with a
    // few new records is not kept waiting behind megabytes of others (the sink yields between pieces of a large
    // answer, so the large ones interleave after that).
    const withRecords: { w: FetchWaiter; p: PartitionData }[] = [];
    for (let ti = 0; ti < responses.length; ti++) {
      const t = responses[ti]!;
      // brokers answer in request order; look the topic up only when they do not
      let g: TopicGroup | undefined = groups[ti];
      if (g === undefined || !sameTopic(g, t.topic, t.topicId)) g = groups.find((x) => sameTopic(x, t.topic, t.topicId));
      if (g === undefined) continue;
      const parts = t.partitions;
      for (let pi = 0; pi < parts.length; pi++) {
        const p = parts[pi]!;
        // a session answer leaves out partitions with nothing new, so positions only hold for full answers
        const w = waiterOf(g, pi, p.partitionIndex);
        if (w === undefined || w.phase !== 'sent') continue;
        if (session !== undefined) {
          const e = session.entries.get(w.state.key);
          if (e !== undefined) {
            e.highWatermark = p.highWatermark;
            e.lastStableOffset = p.lastStableOffset;
            e.logStartOffset = p.logStartOffset;
          }
        }
        if (p.errorCode === ErrorCode.NONE && p.records !== null && p.records.length > 0 && !w.settled) withRecords.push({ w, p });
        else this.answer(w, p, now, frame);
      }
    }
    if (withRecords.length > 1) withRecords.sort((a, b) => a.p.records!.length - b.p.records!.length);
    for (const { w, p } of withRecords) this.answer(w, p, now, frame);
    for (const w of batch) {
      if (w.phase !== 'sent') continue;
      const e = session?.entries.get(w.state.key);
      if (e !== undefined && e.highWatermark >= 0) {
        this.answerUnchanged(w, e, now);
        continue;
      }
      w.phase = 'done';
      this.host.resolve(w, errorAnswer(ErrorCode.UNKNOWN_SERVER_ERROR, `source node ${this.nodeId} left ${w.state.key} out of its Fetch response`));
    }
  }

  private answer(w: FetchWaiter, p: PartitionData, now: number, frame: PooledFrame | undefined): void {
    const st = w.state;
    const records = p.records ?? EMPTY;
    this.host.counters.bytesFetched += records.length;
    w.phase = 'done';
    if (w.settled) {
      // aborted while in flight: the answer is dropped (the replicator fetches again from its own position)
      this.host.release(w);
      return;
    }
    if (p.errorCode !== ErrorCode.NONE) {
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
      st.partialAt = frameSizeAt(records, 0) === Framing.TRUNCATED ? w.fromOffset : -1;
      const answer: SourceFetch = { records, highWatermark: p.highWatermark, lastStableOffset: p.lastStableOffset, logStartOffset: p.logStartOffset };
      if (frame !== undefined) answer.release = frame.lease();
      this.host.resolve(w, answer);
      return;
    }
    this.answerEmpty(w, p.highWatermark, p.lastStableOffset, p.logStartOffset, now);
  }

  /** A session partition the response left out: nothing moved since the session last told its offsets. */
  private answerUnchanged(w: FetchWaiter, e: SessionEntry, now: number): void {
    w.phase = 'done';
    if (w.settled) {
      this.host.release(w);
      return;
    }
    w.state.lastStableOffset = e.lastStableOffset;
    w.state.heardAtMs = now;
    this.answerEmpty(w, e.highWatermark, e.lastStableOffset, e.logStartOffset, now);
  }

  /** An answer without records: handed back only when the source's offsets moved or the idle beat is due. */
  private answerEmpty(w: FetchWaiter, highWatermark: number, lastStableOffset: number, logStartOffset: number, now: number): void {
    const st = w.state;
    // The source has data past the fetch offset but the response was full: go again, first in line.
    if (lastStableOffset > w.fromOffset && w.starved < MAX_STARVED) {
      w.starved++;
      w.cold = false;
      this.enqueue(w, true);
      return;
    }
    const moved = highWatermark !== st.answeredHighWatermark || lastStableOffset !== st.answeredLastStableOffset || logStartOffset !== st.answeredLogStartOffset;
    if (moved || now >= w.deadline) {
      this.host.resolve(w, { records: EMPTY, highWatermark, lastStableOffset, logStartOffset });
      return;
    }
    w.cold = true;
    this.enqueue(w);
  }

  private fail(batch: FetchWaiter[], err: unknown): void {
    this.host.counters.errors++;
    const error = err instanceof KafkaError ? err : networkError(`Fetch from source node ${this.nodeId} failed: ${String(err)}`);
    this.host.logger?.debug({ node: this.nodeId, err: error.message, partitions: batch.length }, 'source fetch request failed');
    const topics = new Set<string>();
    for (const w of batch) {
      if (w.phase !== 'sent') continue;
      w.phase = 'done';
      topics.add(w.state.topic);
      if (w.settled) this.host.release(w);
      else this.host.reject(w, error);
    }
    // the node may be gone: route these topics afresh
    if (error.code === ErrorCode.NETWORK_EXCEPTION || error.code === ErrorCode.REQUEST_TIMED_OUT) for (const t of topics) this.host.invalidateRoute(t);
  }
}

function sameTopic(g: TopicGroup, name: string, topicId: string): boolean {
  return name !== '' ? g.topic === name : g.topicId === topicId;
}

function fetchPartition(partition: number, fetchOffset: number, partitionMaxBytes: number): Input<FetchPartition> {
  return { partition, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes };
}

/** An answer that carries only an error code (routing failures, request-level errors). */
export function errorAnswer(code: number, context: string): SourceFetch {
  return { records: EMPTY, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, error: code, errorMessage: context };
}
