// PartitionReplicator: copies one source partition into one shadow partition, byte for byte and offset for
// offset (SPEC §2.1). It knows only a ReplicationSource and a ReplicationSink (types.ts); not wired into the broker.
//
// The loop: fetch → check framing (header fields only) → append at the batches' own offsets → advance. Two
// cooperating halves share a queue: the *fetcher* issues the next fetch as soon as the previous answer says where
// it ends (its last whole batch), while the *appender* writes answers strictly in order. Up to `maxInFlight`
// answers are outstanding (being fetched + queued + being appended), so a round trip to the source overlaps the
// append of the previous answer instead of adding to it. (A single Kafka partition cannot have two fetches for
// different offsets in flight: the next fetch offset is known only from the previous answer.)
//
// Position. The shadow's log end offset is the truth: every (re)start of the pipeline fetches from it, so a pause,
// an error or a restart never skips or repeats a batch. Only two things fetch from elsewhere, through
// `pendingStart`: the first fetch of an empty shadow (earliest/latest/timestamp) and the skip over a gap after
// OFFSET_OUT_OF_RANGE. Both may land inside a source batch (a timestamp, a DeleteRecords offset); Fetch returns
// the whole batch containing the offset, so the start is lowered to that batch's base offset rather than cutting
// or dropping the batch, and the empty shadow is then moved to start there.
import { ErrorCode, KafkaError, errorName } from '../../protocol/errors.js';
import { Framing, frameSizeAt, framingErrorText, RECORD_BATCH_OVERHEAD } from '../../protocol/record-batch.js';
import { readInt64 } from '../../protocol/primitives.js';
import type {
  ReplicationGap,
  ReplicationSink,
  ReplicationSource,
  ReplicatorOptions,
  ReplicatorState,
  ReplicatorStatus,
  SourceFetch,
  StartAt,
} from './types.js';

const LAST_OFFSET_DELTA_OFFSET = 23;
const RECORDS_COUNT_OFFSET = 57;
/** cap for growing maxBytes when a source (without KIP-74) returns only part of one oversized batch */
const MAX_FETCH_BYTES_CAP = 256 * 1024 * 1024;

/** The whole batches at the front of a fetch answer (header fields only). */
export interface FramedBatches {
  /** byte length of the whole batches; anything after is a partial batch, dropped */
  length: number;
  /** base offset and next offset (lastOffset + 1) of each batch, and its byte range */
  batches: { baseOffset: number; nextOffset: number; start: number; end: number; records: number }[];
}

/**
 * Checks the framing of a fetch answer without decoding records: each batch has magic 2 and a sane length, and
 * batches go up in offset. A trailing partial batch (the source cut at maxBytes) is not an error: it is dropped.
 * Throws KafkaError CORRUPT_MESSAGE otherwise.
 */
export function frameFetchedBatches(records: Buffer): FramedBatches {
  const batches: FramedBatches['batches'] = [];
  let pos = 0;
  let prevNext = -1;
  while (pos < records.length) {
    const size = frameSizeAt(records, pos);
    if (size === Framing.TRUNCATED) break;
    if (size < 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${framingErrorText(size)} at byte ${pos} of a fetch answer`);
    const baseOffset = readInt64(records, pos);
    const lastOffsetDelta = records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
    if (baseOffset < 0 || lastOffsetDelta < 0) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch at byte ${pos} has base offset ${baseOffset}, last offset delta ${lastOffsetDelta}`);
    }
    if (baseOffset < prevNext) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch at byte ${pos} starts at ${baseOffset}, below the previous batch's end ${prevNext}`);
    }
    const nextOffset = baseOffset + lastOffsetDelta + 1;
    const count = size >= RECORD_BATCH_OVERHEAD ? records.readInt32BE(pos + RECORDS_COUNT_OFFSET) : 0;
    batches.push({ baseOffset, nextOffset, start: pos, end: pos + size, records: Math.max(count, 0) });
    prevNext = nextOffset;
    pos += size;
  }
  return { length: pos, batches };
}

/** The shadow holds data the source does not: the source was truncated or recreated. Not retried. */
class DivergenceError extends Error {
  override name = 'DivergenceError';
}
/** The sink refused an append or a truncation. Not retried automatically (resume() retries). */
class SinkError extends Error {
  override name = 'SinkError';
}
/** A fetch answered OFFSET_OUT_OF_RANGE. */
class OutOfRangeError extends Error {
  override name = 'OutOfRangeError';
  constructor(
    readonly fetchOffset: number,
    readonly answer: SourceFetch,
  ) {
    super(`OFFSET_OUT_OF_RANGE fetching offset ${fetchOffset}${answer.errorMessage ? `: ${answer.errorMessage}` : ''}`);
  }
}

interface Fetched {
  fetchOffset: number;
  answer: SourceFetch;
  framed: FramedBatches;
}
type QueueItem = Fetched | { error: unknown };

/**
 * Resolves every waiter on notify(); waits end early when the signal aborts. A pulse made for one signal (a
 * pipeline's) listens to it once, for all its waits: the pipeline waits twice per fetch answer, and an abort
 * listener added and removed per wait was ~1.5 % of a busy shadow's event loop.
 */
class Pulse {
  private waiters: (() => void)[] = [];
  constructor(private readonly bound?: AbortSignal) {
    bound?.addEventListener('abort', () => this.notify(), { once: true });
  }
  notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    if (signal === this.bound) return new Promise((resolve) => this.waiters.push(resolve));
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function describeError(err: unknown): string {
  if (err instanceof KafkaError) {
    const name = errorName(err.code);
    return err.message === name || err.message.startsWith(`${name}:`) ? err.message : `${name}: ${err.message}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

export type ReplicatorListener = (status: ReplicatorStatus) => void;

export class PartitionReplicator {
  readonly name: string;
  private readonly startAt: StartAt;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly unavailableAfterFailures: number;
  private readonly idleWaitMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly logger: ReplicatorOptions['logger'];
  private readonly onStartChosen: ReplicatorOptions['onStartChosen'];
  private readonly unavailableAfterMs: number;
  private readonly answerStaleAfterMs: number;
  /** when the source last answered (any answer, data or not) */
  private lastAnswerAtMs: number;

  private stateValue: ReplicatorState = 'STOPPED';
  private reasonValue = 'not started';
  private started = false;
  private loop: Promise<void> | undefined;
  /** aborts the current pipeline (or backoff sleep) on pause/stop */
  private epoch: AbortController | undefined;
  private readonly wake = new Pulse();
  private readonly listeners = new Set<ReplicatorListener>();

  /** the start position has been chosen (empty shadow) or the shadow was found non-empty */
  private initialized = false;
  /** fetch from here instead of the sink's log end: first fetch of an empty shadow, or the skip over a gap */
  private pendingStart: { offset: number; gap: ReplicationGap | undefined } | undefined;

  private sourceLogStartOffset = -1;
  private sourceLastStableOffset = -1;
  private sourceHighWatermark = -1;
  private lastCaughtUpAtMs: number;
  private readonly gapList: ReplicationGap[] = [];
  private consecutiveFailures = 0;
  private lastError: string | undefined;
  private counters = { fetches: 0, bytesFetched: 0, bytesWritten: 0, batchesWritten: 0, recordsWritten: 0, errors: 0 };

  constructor(
    private readonly source: ReplicationSource,
    private readonly sink: ReplicationSink,
    opts: ReplicatorOptions = {},
  ) {
    this.name = opts.name ?? 'partition';
    this.startAt = opts.startAt ?? { kind: 'earliest' };
    this.maxBytes = opts.maxBytes ?? 1024 * 1024;
    this.maxInFlight = Math.max(1, Math.floor(opts.maxInFlight ?? 2));
    this.backoffBaseMs = opts.backoffBaseMs ?? 100;
    this.backoffMaxMs = Math.max(opts.backoffMaxMs ?? 10_000, this.backoffBaseMs);
    this.unavailableAfterFailures = Math.max(1, opts.unavailableAfterFailures ?? 3);
    this.idleWaitMs = opts.idleWaitMs ?? 100;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.logger = opts.logger;
    this.onStartChosen = opts.onStartChosen;
    this.unavailableAfterMs = opts.unavailableAfterMs ?? 5_000;
    this.answerStaleAfterMs = opts.answerStaleAfterMs ?? 15_000;
    this.lastAnswerAtMs = this.now();
    this.lastCaughtUpAtMs = this.now();
  }

  // ---- control ------------------------------------------------------------------------------------------

  get state(): ReplicatorState {
    return this.stateValue;
  }
  get reason(): string {
    return this.reasonValue;
  }
  get gaps(): readonly ReplicationGap[] {
    return this.gapList;
  }

  start(): void {
    if (this.started) throw new Error(`replicator ${this.name} was already started`);
    this.started = true;
    this.lastCaughtUpAtMs = this.now();
    this.setState('ACTIVE', 'replicating');
    this.loop = this.run();
  }

  /** Stops fetching; an append in progress completes. Fetch answers not yet appended are dropped. */
  pause(reason = 'paused'): void {
    if (this.stateValue === 'STOPPED') return;
    this.setState('PAUSED', reason);
    this.epoch?.abort();
  }

  /** From PAUSED or FAULTED back to ACTIVE (resuming at the shadow's log end). */
  resume(): void {
    if (this.stateValue !== 'PAUSED' && this.stateValue !== 'FAULTED') return;
    this.consecutiveFailures = 0;
    this.lastAnswerAtMs = this.now();
    this.setState('ACTIVE', 'replicating');
    this.wake.notify();
  }

  /** Final: resolves when the loop has ended (no append is left running). */
  async stop(reason = 'stopped'): Promise<void> {
    if (this.stateValue !== 'STOPPED') this.setState('STOPPED', reason);
    this.epoch?.abort();
    this.wake.notify();
    await this.loop;
  }

  /** Called on every state change and after every applied fetch answer; returns an unsubscribe function. */
  onChange(listener: ReplicatorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when `predicate(status)` holds (checked now and on every change); rejects after `timeoutMs`. */
  waitFor(predicate: (s: ReplicatorStatus) => boolean, timeoutMs = 5000): Promise<ReplicatorStatus> {
    return new Promise((resolve, reject) => {
      const now = this.status();
      if (predicate(now)) return resolve(now);
      const timer = setTimeout(() => {
        off();
        reject(new Error(`replicator ${this.name}: condition not met within ${timeoutMs} ms; status ${JSON.stringify(this.status())}`));
      }, timeoutMs);
      const off = this.onChange((s) => {
        if (!predicate(s)) return;
        clearTimeout(timer);
        off();
        resolve(s);
      });
    });
  }

  // ---- status -------------------------------------------------------------------------------------------

  /** source high watermark − shadow high watermark; 0 before the source has answered */
  get lag(): number {
    if (this.sourceHighWatermark < 0) return 0;
    return Math.max(0, this.sourceHighWatermark - this.sink.highWatermark);
  }

  /**
   * When the source last answered for this partition: the last answer fetch() returned, or a later one the source
   * client kept to itself (an idle partition's long polls end empty without reaching us; only their offsets
   * moving, or a rare beat, hands one back), and which told the same: nothing new.
   */
  private lastHeardAtMs(): number {
    const heard = this.source.lastHeardAtMs?.() ?? 0;
    return heard > this.lastAnswerAtMs ? heard : this.lastAnswerAtMs;
  }

  /**
   * Whether this replicator is ACTIVE and heard the source's offsets of its partition within the last `ms`: its
   * own answers are then as fresh as a poll of the source would be (the link's periodic offsets poll skips it).
   */
  heardWithin(ms: number): boolean {
    return this.stateValue === 'ACTIVE' && this.sourceHighWatermark >= 0 && this.now() - this.lastHeardAtMs() < ms;
  }

  /** Time since the shadow last had everything the source had (as far as the last answer tells); 0 while it does. */
  get rpoMs(): number {
    const now = this.now();
    // an answer older than answerStaleAfterMs no longer says the source is not ahead (a stalled connection)
    const caughtUp = this.sourceHighWatermark >= 0 && this.lag === 0 && now - this.lastHeardAtMs() < this.answerStaleAfterMs;
    // Only an ACTIVE replicator knows the source is not ahead: paused or unreachable, the estimate keeps growing.
    if (caughtUp && this.stateValue === 'ACTIVE') {
      this.lastCaughtUpAtMs = now;
      return 0;
    }
    return Math.max(0, now - this.lastCaughtUpAtMs);
  }

  status(): ReplicatorStatus {
    return {
      state: this.stateValue,
      reason: this.reasonValue,
      sourceLogStartOffset: this.sourceLogStartOffset,
      sourceLastStableOffset: this.sourceLastStableOffset,
      sourceHighWatermark: this.sourceHighWatermark,
      logStartOffset: this.sink.logStartOffset,
      logEndOffset: this.sink.logEndOffset,
      highWatermark: this.sink.highWatermark,
      lag: this.lag,
      rpoMs: this.rpoMs,
      gaps: [...this.gapList],
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
      ...this.counters,
    };
  }

  // ---- the loop -----------------------------------------------------------------------------------------

  private setState(state: ReplicatorState, reason: string): void {
    if (this.stateValue === state && this.reasonValue === reason) return;
    const from = this.stateValue;
    this.stateValue = state;
    this.reasonValue = reason;
    if (from !== state) this.logger?.info({ partition: this.name, from, to: state, reason }, 'shadow replicator state');
    this.emit();
  }

  private emit(): void {
    if (this.listeners.size === 0) return;
    const s = this.status();
    for (const l of [...this.listeners]) l(s);
  }

  private async run(): Promise<void> {
    while (this.stateValue !== 'STOPPED') {
      if (this.stateValue === 'PAUSED' || this.stateValue === 'FAULTED') {
        const idle = new AbortController();
        this.epoch = idle;
        await this.wake.wait(idle.signal);
        continue;
      }
      const epoch = new AbortController();
      this.epoch = epoch;
      try {
        if (!this.initialized) await this.initialize(epoch.signal);
        if (!epoch.signal.aborted) await this.pipeline(epoch.signal);
      } catch (err) {
        if (epoch.signal.aborted) continue; // paused or stopped: the error is an effect of the abort
        try {
          await this.onError(err, epoch.signal);
        } catch (err2) {
          if (!epoch.signal.aborted) await this.failed(err2, epoch.signal);
        }
      }
    }
  }

  /** An empty shadow starts at earliest / latest / a timestamp; a non-empty one resumes at its log end. */
  private async initialize(signal: AbortSignal): Promise<void> {
    if (this.sink.logEndOffset > 0) {
      this.initialized = true;
      return;
    }
    let offset: number;
    if (this.startAt.kind === 'timestamp') {
      offset = await this.source.listOffsets(this.startAt.timestampMs, signal);
      // no record that recent: start at the end, where the next record will be
      if (offset < 0) offset = await this.source.listOffsets('latest', signal);
    } else {
      offset = await this.source.listOffsets(this.startAt.kind, signal);
    }
    if (signal.aborted) return;
    this.pendingStart = { offset, gap: undefined };
    this.initialized = true;
    this.onStartChosen?.(offset);
  }

  private async pipeline(outer: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const abort = (): void => ac.abort();
    outer.addEventListener('abort', abort, { once: true });
    const signal = ac.signal;
    const queue: QueueItem[] = [];
    const pulse = new Pulse(signal);
    let appending = 0;

    const fetcher = async (): Promise<void> => {
      let fetchOffset = this.pendingStart?.offset ?? this.sink.logEndOffset;
      let maxBytes = this.maxBytes;
      while (!signal.aborted) {
        // in flight = this fetch + answers queued + the answer being appended
        while (queue.length + appending >= this.maxInFlight) {
          await pulse.wait(signal);
          if (signal.aborted) return;
        }
        let item: Fetched;
        try {
          this.counters.fetches++;
          const answer = await this.source.fetch(fetchOffset, maxBytes, signal);
          if (signal.aborted) {
            answer.release?.();
            return;
          }
          this.counters.bytesFetched += answer.records.length;
          try {
            if (answer.error !== undefined && answer.error !== ErrorCode.NONE) {
              if (answer.error === ErrorCode.OFFSET_OUT_OF_RANGE) throw new OutOfRangeError(fetchOffset, answer);
              throw new KafkaError(answer.error, answer.errorMessage ?? errorName(answer.error));
            }
            item = { fetchOffset, answer, framed: frameFetchedBatches(answer.records) };
          } catch (err) {
            answer.release?.();
            throw err;
          }
        } catch (error) {
          if (signal.aborted) return;
          queue.push({ error });
          pulse.notify();
          return;
        }
        queue.push(item);
        pulse.notify();
        const last = item.framed.batches[item.framed.batches.length - 1];
        if (last !== undefined) {
          fetchOffset = last.nextOffset;
          maxBytes = this.maxBytes;
        } else if (item.answer.records.length > 0) {
          // Only part of one batch bigger than maxBytes (a source without KIP-74): ask for more next time.
          maxBytes = Math.min(maxBytes * 2, MAX_FETCH_BYTES_CAP);
        } else {
          await sleep(this.idleWaitMs, signal);
        }
      }
    };

    const fetching = fetcher();
    try {
      for (;;) {
        while (queue.length === 0) {
          if (signal.aborted) return;
          await pulse.wait(signal);
        }
        if (signal.aborted) return;
        const item = queue.shift()!;
        appending++;
        try {
          if ('error' in item) throw item.error;
          await this.apply(item);
        } finally {
          // appended (the sink copied the bytes) or failed: the records are not read again
          if (!('error' in item)) item.answer.release?.();
          appending--;
          pulse.notify();
        }
        if (signal.aborted) return; // paused or stopped after the append completed
      }
    } finally {
      ac.abort();
      outer.removeEventListener('abort', abort);
      await fetching;
      // answers fetched but not appended (paused, stopped, failed): dropped, the next pipeline fetches them again
      for (const item of queue.splice(0)) if (!('error' in item)) item.answer.release?.();
    }
  }

  /** Appends one fetch answer. Runs strictly in fetch order, one at a time. */
  private async apply(item: Fetched): Promise<void> {
    const { answer, framed } = item;
    this.lastAnswerAtMs = this.now();
    this.sourceHighWatermark = answer.highWatermark;
    this.sourceLastStableOffset = answer.lastStableOffset;
    if (answer.logStartOffset >= 0) this.sourceLogStartOffset = answer.logStartOffset;
    if (this.consecutiveFailures > 0 || this.stateValue === 'LINK_UNAVAILABLE') {
      this.consecutiveFailures = 0;
      if (this.stateValue === 'LINK_UNAVAILABLE') this.setState('ACTIVE', 'replicating');
    }

    const batches = framed.batches;
    // A start position may fall inside a source batch (a log start moved by DeleteRecords, a timestamp). It is
    // settled by the first answer that holds a batch at or after it: only then is the batch holding it known, and
    // the start lowered to its base offset. An answer without batches while the source has records past the start
    // (the response was full with other partitions' data) settles nothing: emptying the shadow at an offset inside
    // a batch would make that batch straddle the shadow's log end, and be refused as divergence ever after.
    const settlesStart = batches.length > 0 || !(answer.highWatermark > (this.pendingStart?.offset ?? Infinity));
    if (this.pendingStart !== undefined && settlesStart) {
      const pending = this.pendingStart;
      let start = pending.offset;
      const first = batches.find((b) => b.nextOffset > start);
      if (first !== undefined && first.baseOffset < start) start = first.baseOffset;
      if (pending.gap !== undefined && start < pending.gap.to) {
        // the batch holding the source's first offset starts lower: the shadow gets those records after all
        pending.gap.to = Math.max(start, pending.gap.from);
        if (pending.gap.to <= pending.gap.from) this.gapList.splice(this.gapList.indexOf(pending.gap), 1);
      }
      if (start > this.sink.logEndOffset) await this.sinkOp(() => this.sink.prefixTruncate(start), `truncate to ${start}`);
      this.pendingStart = undefined;
    }

    // Skip what the shadow already has; refuse a batch that straddles its log end (different batch boundaries
    // means the source is not the log the shadow copied).
    let from = -1;
    let to = -1;
    let records = 0;
    let count = 0;
    const logEnd = this.sink.logEndOffset;
    for (const b of batches) {
      if (b.nextOffset <= logEnd) continue;
      if (b.baseOffset < logEnd) {
        throw new DivergenceError(
          `source batch ${b.baseOffset}..${b.nextOffset - 1} spans the shadow's log end offset ${logEnd}: the source log diverged (truncated or recreated)`,
        );
      }
      if (from < 0) from = b.start;
      to = b.end;
      records += b.records;
      count++;
    }
    if (from >= 0) {
      const bytes = answer.records.subarray(from, to);
      await this.sinkOp(() => this.sink.append(bytes), `append at ${batches.find((b) => b.start === from)!.baseOffset}`);
      this.counters.bytesWritten += bytes.length;
      this.counters.batchesWritten += count;
      this.counters.recordsWritten += records;
    }

    // Follow the source log start (retention, DeleteRecords). Never past the shadow's own end: above it, the
    // shadow is missing data, which the next fetch learns as OFFSET_OUT_OF_RANGE and records as a gap.
    const newStart = Math.min(this.sourceLogStartOffset, this.sink.logEndOffset);
    if (newStart > this.sink.logStartOffset) await this.sinkOp(() => this.sink.prefixTruncate(newStart), `truncate to ${newStart}`);

    void this.rpoMs; // refreshes the caught-up time
    this.emit();
  }

  private async sinkOp(op: () => Promise<void>, what: string): Promise<void> {
    try {
      await op();
    } catch (err) {
      throw new SinkError(`shadow partition ${what} failed: ${describeError(err)}`);
    }
  }

  private async onError(err: unknown, signal: AbortSignal): Promise<void> {
    if (err instanceof DivergenceError || err instanceof SinkError) {
      this.counters.errors++;
      this.lastError = err.message;
      this.logger?.warn({ partition: this.name, err: err.message }, 'shadow replicator faulted');
      this.setState('FAULTED', err.message);
      return;
    }
    if (err instanceof OutOfRangeError) {
      await this.onOutOfRange(err, signal);
      return;
    }
    await this.failed(err, signal);
  }

  /**
   * OFFSET_OUT_OF_RANGE at offset X. Below the source log start: the source deleted data the shadow never got;
   * skip to the log start and record the gap. Above the source high watermark: the shadow has data the source
   * does not (truncated or recreated source); FAULTED, since replication never deletes shadow data for that.
   * Otherwise (a stale leader answering) it is an ordinary retriable failure.
   */
  private async onOutOfRange(err: OutOfRangeError, signal: AbortSignal): Promise<void> {
    const offset = err.fetchOffset;
    let logStart = err.answer.logStartOffset;
    if (!(logStart >= 0)) logStart = await this.source.listOffsets('earliest', signal);
    if (signal.aborted) return;
    if (offset < logStart) {
      this.sourceLogStartOffset = logStart;
      if (this.pendingStart !== undefined && this.pendingStart.gap === undefined && this.sink.logEndOffset === 0) {
        // An empty shadow whose start position was deleted before the first fetch: choose it again, no gap.
        this.initialized = false;
        this.pendingStart = undefined;
        return;
      }
      // The source's high watermark as of now: until the skip is applied the status must not show the partition
      // caught up at the high watermark of the last answer before the gap (the shadow's end, lag 0).
      const highWatermark = err.answer.highWatermark >= 0 ? err.answer.highWatermark : await this.source.listOffsets('latest', signal);
      if (signal.aborted) return;
      if (highWatermark > this.sourceHighWatermark) this.sourceHighWatermark = highWatermark;
      const gap: ReplicationGap = { from: offset, to: logStart, detectedAtMs: this.now() };
      this.gapList.push(gap);
      this.pendingStart = { offset: logStart, gap };
      this.logger?.warn(
        { partition: this.name, from: offset, to: logStart },
        'source deleted records before they were replicated; skipping to the source log start',
      );
      this.emit();
      return;
    }
    const latest = await this.source.listOffsets('latest', signal);
    if (signal.aborted) return;
    if (offset > latest) {
      this.onErrorFault(
        `the shadow's log end offset ${offset} is above the source's high watermark ${latest}: the source partition was truncated or recreated`,
      );
      return;
    }
    await this.failed(err, signal);
  }

  private onErrorFault(reason: string): void {
    this.counters.errors++;
    this.lastError = reason;
    this.setState('FAULTED', reason);
  }

  /** A retriable failure: count it, go LINK_UNAVAILABLE after enough in a row, back off with jitter. */
  private async failed(err: unknown, signal: AbortSignal): Promise<void> {
    this.counters.errors++;
    this.consecutiveFailures++;
    this.lastError = describeError(err);
    // unavailable after N failures in a row, or after the first failure once the source has not answered for a
    // while (a stalled source fails slowly: each attempt waits out a request timeout)
    const silentMs = this.now() - this.lastHeardAtMs();
    if ((this.consecutiveFailures >= this.unavailableAfterFailures || silentMs >= this.unavailableAfterMs) && this.stateValue === 'ACTIVE') {
      this.setState('LINK_UNAVAILABLE', `source unavailable after ${this.consecutiveFailures} failed attempts: ${this.lastError}`);
    } else if (this.stateValue === 'LINK_UNAVAILABLE') {
      this.setState('LINK_UNAVAILABLE', `source unavailable after ${this.consecutiveFailures} failed attempts: ${this.lastError}`);
    } else {
      this.emit();
    }
    await sleep(this.backoffMs(this.consecutiveFailures), signal);
  }

  /** base · 2^(n−1), capped, with "equal jitter": half fixed, half random, so many partitions do not retry in step. */
  private backoffMs(failures: number): number {
    const exp = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(failures - 1, 30));
    return exp / 2 + (this.random() * exp) / 2;
  }
}
