// Fetch (key 1), v4-18.
//
// Behaviour:
// - Long poll: answer as soon as minBytes are available, an error occurs, or maxWaitMs passes; appends to any
//   requested partition wake the request up.
// - Size limits: partitionMaxBytes per partition and maxBytes for the response, except that the first batch of
//   the first partition with data is always returned whole (KIP-74), so a consumer can never get stuck behind a
//   batch larger than its limits.
// - read_committed reads up to the last stable offset and returns the aborted transactions in that range.
// - Batches go out exactly as stored. Storage reads them from segment files into buffers leased from a pool for
//   this response, or hands out views of its tail cache, held unchanged for this response (ReadOptions.hold); the
//   response references them rather than copies them again, and the lease (buffers and held views) is returned
//   once the response is on the socket. Reads that go to the threadpool are not waited for: they are
//   planned as whole batches (so their sizes are final before the bytes arrive), the response is encoded at
//   once, and the connection writes it up to the first part still being read (RequestContext.deferPart). Sending
//   the first partitions thus overlaps reading the later ones; a read that fails by then closes the connection.
// - Incremental fetch sessions (v7+, KIP-227; rules in fetch-sessions.ts): a full fetch with epoch 0 opens one;
//   an incremental fetch looks at every partition of its session and answers only those with records, an error,
//   or offsets that moved since the last answer (answerIncremental: an unchanged, caught-up partition costs a few
//   comparisons). Partitions that returned records move behind the others. A session listens for appends to its
//   logs for as long as it holds them, so its long polls register nothing per partition.
// - Authorization (Kafka's handleFetchRequest), only with an authorizer configured, once per request before the
//   long poll and once per distinct topic: a consumer needs READ on each topic; a follower (replica id >= 0) needs
//   CLUSTER_ACTION on the cluster instead, and without it every partition is refused. Per partition: an unknown
//   topic id (v13+) first, then TOPIC_AUTHORIZATION_FAILED, then UNKNOWN_TOPIC_OR_PARTITION, then epoch errors.
//
// Version notes: v13+ addresses topics by topic id; 15+ adds follower-only fields; 16+ node endpoints (tagged).
import * as Req from '../../protocol/generated/messages/FetchRequest.js';
import * as Res from '../../protocol/generated/messages/FetchResponse.js';
import { EMPTY, Writer, type Input } from '../../protocol/primitives.js';
import { ErrorCode, KafkaError, errorCodeOf } from '../../protocol/errors.js';
import type { PartitionLog, ReadOptions, ReadResult, StartedRead, StreamedPart } from '../../storage/types.js';
import { defineHandler } from '../registry.js';
import type { RequestContext } from '../context.js';
import { Lease } from '../buffer-pool.js';
import type { FetchSession, FetchSessionCache, PartitionRequest, SessionPartition } from '../fetch-sessions.js';
import type { TopicRecord } from '../../cluster/types.js';
import type { PartitionManager } from '../partitions.js';
import { authorizationEnabled, authorizeCluster, authorizeTopics } from '../../security/authorizer-helpers.js';

const LEADER_EPOCH = 0;
/** Kafka's FetchMetadata epochs */
const INITIAL_EPOCH = 0;
const FINAL_EPOCH = -1;

interface Target {
  topicIndex: number;
  /** from the request, or from the session for an incremental fetch */
  partition: PartitionRequest;
  log: PartitionLog | undefined;
  /** error decided before reading (unknown topic, epoch mismatch) */
  error: number;
  /** the partition's entry in the fetch session, when there is one */
  cached: SessionPartition | undefined;
}

export default defineHandler<Req.FetchRequest, Res.FetchResponse>(Req, Res, {
  versions: [4, 18],
  async handle(ctx, req, version) {
    const { partitions, logger } = ctx.services;
    const readCommitted = req.isolationLevel === 1;
    const opened = openSession(ctx.services.fetchSessions, req, version);
    if (typeof opened === 'number') return { throttleTimeMs: 0, errorCode: opened, sessionId: 0, responses: [] };
    const { session, incremental } = opened;
    if (incremental) {
      attachSession(session!, partitions);
      return answerIncremental(ctx, req, version, session!);
    }
    // A full fetch. With a session (it opened one), each of these is the session's entry for the partition.
    const wanted: PartitionRequest[] = requestedPartitions(req, session);
    if (session !== undefined) attachSession(session, partitions);
    const readable = authorizationEnabled(ctx) ? readableTopics(ctx, req, topicNamesOf(wanted, partitions, version)) : null; // null = every topic
    const targets: Target[] = [];
    // one response topic per run of partitions of the same topic, in fetch order
    const topicsOut: Input<Res.FetchableTopicResponse>[] = [];
    let record: TopicRecord | undefined;
    let denied = false;
    for (const w of wanted) {
      const last = topicsOut[topicsOut.length - 1];
      if (last === undefined || last.topicId !== w.topicId || last.topic !== w.topic) {
        record = version >= 13 ? partitions.topicById(w.topicId) : partitions.topic(w.topic);
        // a name the principal may not read is refused whether or not the topic exists (as in Kafka)
        denied = isDenied(readable, version >= 13 ? record?.name : w.topic);
        topicsOut.push({ topic: w.topic, topicId: w.topicId, partitions: [] });
      }
      const log = record && !denied ? partitions.log(record.name, w.partition) : undefined;
      const error = partitionError(w, record, log, denied, version, partitions);
      targets.push({ topicIndex: topicsOut.length - 1, partition: w, log, error, cached: session !== undefined ? (w as SessionPartition) : undefined });
    }

    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    // Data read from segment files goes into pooled buffers, returned once the response is on the socket.
    const lease = new Lease(ctx.services.readBuffers);
    const logs = targets.map((t) => t.log).filter((l): l is PartitionLog => l !== undefined);
    const endsBefore: number[] = new Array(logs.length);
    try {
      for (;;) {
        for (let i = 0; i < logs.length; i++) endsBefore[i] = logs[i]!.logEndOffset;
        const { outs, bytes, anyError, fills } = await readAll(targets, req, readCommitted, logger, lease);
        const now = Date.now();
        if (bytes >= req.minBytes || anyError || now >= deadline || targets.length === 0) {
          for (let i = 0; i < targets.length; i++) {
            const t = targets[i]!;
            const out = outs[i]!;
            // A full response carries every partition; a session it opened records what it told.
            if (t.cached !== undefined) {
              session!.mustRespond(t.cached, out.errorCode!, out.records?.length ?? 0, out.highWatermark!, out.lastStableOffset!, out.logStartOffset!);
            }
            (topicsOut[t.topicIndex]!.partitions as Input<Res.PartitionData>[]).push(out);
          }
          for (const { part, filled } of fills) ctx.deferPart(part, filled);
          // The buffers go back to the pool once the socket has the bytes and no read still writes into them.
          ctx.onResponseDone(() => settled(fills).then(() => lease.releaseAll()));
          return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: session?.id ?? 0, responses: topicsOut };
        }
        // Not enough yet: this round's reads are dropped (once finished) and done again after the wait.
        if (fills.length > 0) await settled(fills);
        lease.releaseAll();
        // An append that landed while the reads were in flight (large ones go to the threadpool) woke nobody: read
        // again at once instead of waiting for the next one or for maxWaitMs. The check and the waiters' registration
        // run in the same tick, so nothing slips between them.
        if (logs.some((log, i) => log.logEndOffset !== endsBefore[i])) continue;
        await partitions.waitForData(logs, deadline - now);
      }
    } catch (err) {
      lease.releaseHolds();
      throw err;
    }
  },
});

/**
 * An incremental fetch: the partitions of the session with something to tell — records, an error, or offsets
 * that moved since the last answer. Each round looks at every partition of the session, but one that is caught up
 * and unchanged (nothing past its fetch offset, the offsets as last told, no error) costs a few comparisons and no
 * allocation: at hundreds of partitions polled hundreds of times a second (a shadow link's sessions) most of them
 * are, and building a read and an answer for each was a fifth of the source broker's event loop. The session
 * listens for appends to its logs all along (attachSession), so waiting costs nothing per partition either.
 */
async function answerIncremental(
  ctx: RequestContext,
  req: Req.FetchRequest,
  version: number,
  session: FetchSession,
): Promise<Input<Res.FetchResponse>> {
  const { logger } = ctx.services;
  const readCommitted = req.isolationLevel === 1;
  const readable = authorizationEnabled(ctx) ? readableTopics(ctx, req, session.topicNames) : null;
  const deadline = Date.now() + Math.max(0, req.maxWaitMs);
  const lease = new Lease(ctx.services.readBuffers);
  try {
    for (;;) {
      const seq = session.dataSeq;
      const targets: Target[] = [];
      for (const p of session.partitions.values()) {
        const log = p.log;
        const denied = readable !== null && isDenied(readable, session.usesTopicIds ? p.record?.name : p.topic);
        const error = partitionError(p, p.record, log, denied, version, ctx.services.partitions);
        if (
          error === ErrorCode.NONE &&
          p.fetchOffset === log!.logEndOffset &&
          p.highWatermark === log!.highWatermark &&
          p.lastStableOffset === log!.lastStableOffset &&
          p.logStartOffset === log!.logStartOffset
        ) {
          continue; // caught up and nothing moved: not in this answer
        }
        targets.push({ topicIndex: -1, partition: p, log: denied ? undefined : log, error, cached: p });
      }
      if (targets.length > 0 || Date.now() >= deadline) {
        const { outs, bytes, anyError, fills } = await readAll(targets, req, readCommitted, logger, lease);
        if (bytes >= req.minBytes || anyError || Date.now() >= deadline) {
          // one response topic per run of partitions of the same topic, in the session's fetch order
          const responses: Input<Res.FetchableTopicResponse>[] = [];
          for (let i = 0; i < targets.length; i++) {
            const p = targets[i]!.cached!;
            const out = outs[i]!;
            const records = out.records?.length ?? 0;
            if (!session.mustRespond(p, out.errorCode!, records, out.highWatermark!, out.lastStableOffset!, out.logStartOffset!)) continue;
            const last = responses[responses.length - 1];
            if (last === undefined || last.topicId !== p.topicId || last.topic !== p.topic) {
              responses.push({ topic: p.topic, topicId: p.topicId, partitions: [out] });
            } else (last.partitions as Input<Res.PartitionData>[]).push(out);
            // partitions that returned records go behind the others next time
            if (records > 0) session.moveToEnd(p);
          }
          for (const { part, filled } of fills) ctx.deferPart(part, filled);
          ctx.onResponseDone(() => settled(fills).then(() => lease.releaseAll()));
          return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: session.id, responses };
        }
        // Not enough yet: this round's reads are dropped (once finished) and done again after the wait.
        if (fills.length > 0) await settled(fills);
        lease.releaseAll();
      }
      // An append during this round's reads (they may go to the threadpool) has been counted: look again at once.
      if (session.dataSeq !== seq) continue;
      const left = deadline - Date.now();
      if (left > 0) await session.waitForData(left);
    }
  } catch (err) {
    lease.releaseHolds();
    throw err;
  }
}

/**
 * Keeps a session's partitions resolved to their topics and logs, and the session listening for appends to those
 * logs: every partition again when topics changed since the last request (PartitionManager.generation), else only
 * the partitions added since. A partition leaving the session (forgotten, or the session evicted) stops listening.
 */
function attachSession(session: FetchSession, partitions: RequestContext['services']['partitions']): void {
  if (session.attachment === null) {
    session.attachment = {
      detach: (p) => {
        if (p.log !== undefined) partitions.unlisten(p.log, session.onAppend);
      },
    };
  }
  const generation = partitions.generation;
  let changed: Iterable<SessionPartition>;
  if (session.resolvedGeneration !== generation) changed = session.partitions.values();
  else if (session.added.length > 0) changed = session.added;
  else return;
  for (const p of changed) {
    if (session.partitions.get(p.key) !== p) continue; // added and forgotten in the same request
    const record = session.usesTopicIds ? partitions.topicById(p.topicId) : partitions.topic(p.topic);
    const log = record ? partitions.log(record.name, p.partition) : undefined;
    if (log !== p.log) {
      if (p.log !== undefined) partitions.unlisten(p.log, session.onAppend);
      if (log !== undefined) partitions.listen(log, session.onAppend);
    }
    p.record = record;
    p.log = log;
  }
  session.added.length = 0;
  session.resolvedGeneration = generation;
  const names = new Set<string>();
  for (const p of session.partitions.values()) {
    const name = session.usesTopicIds ? p.record?.name : p.topic;
    if (name !== undefined) names.add(name);
  }
  session.topicNames = [...names];
}

/** The error a partition gets before anything is read (the order is Kafka's). */
function partitionError(
  w: PartitionRequest,
  record: TopicRecord | undefined,
  log: PartitionLog | undefined,
  denied: boolean,
  version: number,
  partitions: PartitionManager,
): number {
  if (version >= 13 && !record) return ErrorCode.UNKNOWN_TOPIC_ID;
  if (denied) return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  if (!log) return record ? partitions.missingLogError(record.name, w.partition) : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  if (w.currentLeaderEpoch > LEADER_EPOCH) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  if (w.currentLeaderEpoch >= 0 && w.currentLeaderEpoch < LEADER_EPOCH) return ErrorCode.FENCED_LEADER_EPOCH;
  return ErrorCode.NONE;
}

/** A topic name the principal may not read (`readable` null: no authorization) */
function isDenied(readable: Set<string> | 'all' | null, name: string | undefined): boolean {
  return readable !== null && name !== undefined && readable !== 'all' && !readable.has(name);
}

/**
 * The fetch session this request works in (fetch-sessions.ts has the rules), or the error code that answers it.
 * `incremental`: the request updated an existing session and is answered with what changed. A full fetch that
 * opened a session fills it from the request (requestedPartitions).
 */
function openSession(
  cache: FetchSessionCache,
  req: Req.FetchRequest,
  version: number,
): { session: FetchSession | undefined; incremental: boolean } | number {
  if (version < 7) return { session: undefined, incremental: false };
  if (req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH) {
    if (req.sessionId !== 0) cache.remove(req.sessionId);
    let size = 0;
    for (const t of req.topics) size += t.partitions.length;
    const session = req.sessionEpoch === INITIAL_EPOCH && size > 0 ? cache.create(version >= 13, size) : undefined;
    return { session, incremental: false };
  }
  const session = cache.get(req.sessionId);
  if (session === undefined) return ErrorCode.FETCH_SESSION_ID_NOT_FOUND;
  if (session.epoch !== req.sessionEpoch) return ErrorCode.INVALID_FETCH_SESSION_EPOCH;
  if (session.usesTopicIds !== version >= 13) return ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR;
  for (const t of req.topics) {
    for (const p of t.partitions) session.upsert(wantedOf(t, p));
  }
  for (const t of req.forgottenTopicsData) {
    for (const partition of t.partitions) session.forget(t.topic, t.topicId, partition);
  }
  if (session.partitions.size === 0) {
    // nothing left to fetch: the session ends, and this request is answered as a sessionless one
    cache.remove(session.id);
    return { session: undefined, incremental: false };
  }
  session.advanceEpoch();
  return { session, incremental: true };
}

/** The partitions a full fetch names, in request order; a session it opened gets each of them. */
function requestedPartitions(req: Req.FetchRequest, session: FetchSession | undefined): PartitionRequest[] {
  const out: PartitionRequest[] = [];
  for (const t of req.topics) {
    for (const p of t.partitions) {
      const w = wantedOf(t, p);
      out.push(session !== undefined ? session.upsert(w) : w);
    }
  }
  return out;
}

function wantedOf(t: Req.FetchTopic, p: Req.FetchPartition): PartitionRequest {
  return {
    topic: t.topic,
    topicId: t.topicId,
    partition: p.partition,
    fetchOffset: p.fetchOffset,
    partitionMaxBytes: p.partitionMaxBytes,
    currentLeaderEpoch: p.currentLeaderEpoch,
  };
}

/** The distinct topic names of the partitions (v13+ names them by id: unknown ids are left out). */
function topicNamesOf(wanted: PartitionRequest[], partitions: RequestContext['services']['partitions'], version: number): string[] {
  const names: string[] = [];
  for (const w of wanted) {
    const name = version >= 13 ? partitions.topicById(w.topicId)?.name : w.topic;
    if (name !== undefined && names[names.length - 1] !== name) names.push(name);
  }
  return names;
}

/**
 * The topics this fetch may read: 'all' for a follower with CLUSTER_ACTION, else those of `names` the principal
 * may READ (none for a follower without CLUSTER_ACTION). Unknown topic ids are not among the names: they are
 * answered UNKNOWN_TOPIC_ID before any check, as in Kafka.
 */
function readableTopics(ctx: RequestContext, req: Req.FetchRequest, names: string[]): Set<string> | 'all' {
  const follower = req.replicaId >= 0 || req.replicaState.replicaId >= 0;
  if (follower) return authorizeCluster(ctx, 'CLUSTER_ACTION') ? 'all' : new Set<string>();
  return authorizeTopics(ctx, 'READ', names);
}

/** Resolves once every fill has settled, whichever way. */
function settled(fills: StreamedPart[]): Promise<unknown> {
  return Promise.allSettled(fills.map((f) => f.filled));
}

/**
 * Reads every target partition. Each read is planned in request order (the response-size budget depends on what
 * came before), and the copies out of segment files then run concurrently on the threadpool. Large copies are
 * not waited for: their buffers come back in `fills`, sized and placed in the response already, and the
 * connection sends the response up to the first one still being filled (RequestContext.deferPart), so sending
 * the first partitions overlaps reading the later ones.
 */
async function readAll(
  targets: Target[],
  req: Req.FetchRequest,
  readCommitted: boolean,
  logger: { error(obj: object, msg: string): void },
  lease: Lease,
): Promise<{ outs: Input<Res.PartitionData>[]; bytes: number; anyError: boolean; fills: StreamedPart[] }> {
  let budget = req.maxBytes;
  let plannedAny = false;
  let bytes = 0;
  let anyError = false;
  const outs: Input<Res.PartitionData>[] = [];
  const pending: Promise<unknown>[] = [];
  const fills: StreamedPart[] = [];
  const fail = (out: Input<Res.PartitionData>, log: PartitionLog, err: unknown): void => {
    out.errorCode = errorCodeOf(err);
    anyError = true;
    if (!(err instanceof KafkaError)) logger.error({ err, topic: log.topic, partition: log.partition }, 'read failed');
  };
  for (const t of targets) {
    const out: Input<Res.PartitionData> = {
      partitionIndex: t.partition.partition,
      errorCode: t.error,
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      abortedTransactions: readCommitted ? [] : null,
      preferredReadReplica: -1,
      records: EMPTY,
    };
    outs.push(out);
    const log = t.log;
    if (t.error !== ErrorCode.NONE || !log) {
      anyError = true;
      continue;
    }
    out.highWatermark = log.highWatermark;
    out.lastStableOffset = log.lastStableOffset;
    out.logStartOffset = log.logStartOffset;
    if (budget <= 0 && plannedAny) continue;
    // caught up: nothing to read (the common case of a long poll over many idle partitions)
    if (t.partition.fetchOffset === log.logEndOffset) continue;
    const opts = {
      maxBytes: Math.min(t.partition.partitionMaxBytes, Math.max(0, budget)),
      minOneBatch: !plannedAny,
      isolation: readCommitted ? ('read_committed' as const) : ('read_uncommitted' as const),
      alloc: lease.alloc,
      hold: lease.hold,
      stream: true,
    };
    try {
      const started = log.startRead ? log.startRead(t.partition.fetchOffset, opts) : syncRead(log, t.partition.fetchOffset, opts);
      if (started.plannedBytes > 0) {
        plannedAny = true;
        budget -= started.plannedBytes;
      }
      for (const piece of started.streaming ?? []) {
        // Only parts above Writer.RAW_COPY_LIMIT are sent by reference; smaller ones are copied when the response
        // is encoded, which must not happen before they are filled, so those are waited for here.
        if (piece.part.length > Writer.RAW_COPY_LIMIT) fills.push(piece);
        else {
          pending.push(
            piece.filled.catch((err: unknown) => {
              out.records = EMPTY;
              fail(out, log, err);
            }),
          );
        }
      }
      pending.push(
        started.result.then(
          (res) => {
            out.highWatermark = res.highWatermark;
            out.lastStableOffset = res.lastStableOffset;
            out.logStartOffset = res.logStartOffset;
            if (readCommitted) out.abortedTransactions = res.abortedTransactions;
            if (res.batches.length > 0) {
              out.records = res.batches;
              bytes += res.bytes;
            }
          },
          (err: unknown) => fail(out, log, err),
        ),
      );
    } catch (err) {
      fail(out, log, err);
    }
  }
  await Promise.all(pending);
  return { outs, bytes, anyError, fills };
}

function syncRead(log: PartitionLog, offset: number, opts: ReadOptions): StartedRead {
  const res = log.read(offset, opts);
  return { plannedBytes: res.bytes, result: Promise.resolve(res) };
}
