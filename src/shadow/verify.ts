// `umbra shadow verify` (SPEC §2.5): evidence that the shadow holds what the source holds. For each partition, the
// offset range both sides hold is walked batch by batch on both sides at once, in offset order, and each pair of
// batches is compared on its header (base offset, last offset delta, batch length, stored CRC) and on the CRC32C
// recomputed over the stored bytes. Recomputing on both sides is what catches silent corruption on disk: a flipped
// byte inside the records leaves every header field as it was, but not the CRC of the bytes.
//
// Records are never decoded: a batch is a Buffer, and only its header and a CRC over it are read. Memory stays
// bounded: partitions are compared a few at a time, each holding one window of batches per side.
//
// Where the bytes come from:
//   source  a SourceCluster of its own, created for the run and closed after it (Fetch, read_committed, as
//           replication reads), so the link's replication connections are neither shared nor disturbed;
//   shadow  the partition log, with `bypassCache`: the bytes on disk, not the tail cache's copy of recent appends.
//
// The range compared is [max(log starts), min(source LSO, shadow HWM)) when the partition is reached: the source's
// open transactions (LSO < HWM) are not readable read_committed and not replicated yet, and what either side
// gained since (replication goes on during a verify) is left for the next run.
//
// Compacted topics (cleanup.policy contains compact): each side compacts on its own schedule. Compaction keeps a
// batch's base offset and last offset delta but drops records (and batches, and segments), so a batch one side has
// and the other has not, or holds with fewer records, is reported as `compactedDifferently`, not as a difference.
// A copy whose recomputed CRC32C does not match its header is always a difference, compacted or not.
import type { Logger } from 'pino';
import type { PartitionManager } from '../broker/partitions.js';
import type { TopicRegistry } from '../cluster/topics.js';
import { ErrorCode, KafkaError, errorName } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/primitives.js';
import { Framing, computeBatchCrc, frameSizeAt, RecordBatch } from '../protocol/record-batch.js';
import type { PartitionLog, ReadOptions } from '../storage/types.js';
import type { ReplicationSource } from './replication/types.js';
import {
  SHADOWED_TOPIC_STATES,
  ShadowLinkError,
  type OffsetRange,
  type TopicState,
  type VerifyPartitionReport,
  type VerifyReport,
  type VerifyTopicReport,
} from './service.js';
import type { SourceCluster } from './source/types.js';
import type { SourceClientOptions } from './types.js';

/** What verify needs of a link: its name, source options and shadow topics. */
export interface VerifyLink {
  readonly name: string;
  readonly config: { clientOptions: SourceClientOptions };
  readonly topics: ReadonlyMap<string, { name: string; state: TopicState; sourceTopicId: string }>;
}

export interface VerifyDeps {
  topics: TopicRegistry;
  partitions: PartitionManager;
  /** a new source client for this run (closed by verify) */
  createSource(opts: SourceClientOptions): SourceCluster;
  logger?: Logger;
}

export interface VerifyOptions {
  /** one topic, in any state; default every topic still shadowed */
  topic?: string;
  /** bytes per read window on each side (default 4 MiB) */
  windowBytes?: number;
  /** partitions compared at once (default 4) */
  concurrency?: number;
  /** how long one source fetch may take (default 30 s) */
  fetchTimeoutMs?: number;
}

const DEFAULT_WINDOW_BYTES = 4 << 20;
/** a batch larger than the window (a source without KIP-74 sends only part of it) grows the window up to this */
const MAX_WINDOW_BYTES = 256 << 20;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
/** ranges listed per kind and partition; more are counted in the summary but not listed */
const MAX_LISTED_RANGES = 100;
/** attribute bits compaction may change on a batch it rewrites: KIP-534 delete horizon */
const DELETE_HORIZON_FLAG = 0x40;

/** The header fields verify compares, and the CRC32C recomputed over the stored bytes. */
export interface BatchFacts {
  base: number;
  /** last offset: base + lastOffsetDelta */
  last: number;
  size: number;
  crc: number;
  computedCrc: number;
  recordCount: number;
  attributes: number;
  baseTimestamp: number;
}

const view = new RecordBatch(Buffer.alloc(0));

export function factsOf(buf: Buffer, pos: number, size: number): BatchFacts {
  view.moveTo(buf, pos);
  return {
    base: view.baseOffset,
    last: view.baseOffset + view.lastOffsetDelta,
    size,
    crc: view.crc,
    computedCrc: computeBatchCrc(buf, pos, size),
    recordCount: view.recordCount,
    attributes: view.attributes,
    baseTimestamp: view.baseTimestamp,
  };
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * A side's log start moved past the offset asked for while verify ran (retention, DeleteRecords): what lies below
 * it is no longer held by both sides, so the compared range starts there instead.
 */
class LogStartMoved extends Error {
  constructor(readonly logStartOffset: number) {
    super(`log start moved to ${logStartOffset}`);
  }
}

/**
 * Batches of one side in offset order, from `from` until the first batch whose base offset is at or past `to`,
 * read window by window. `read(offset)` returns whole or partial batches starting with the batch that holds
 * `offset` (or the first one after it); an empty answer ends the stream.
 */
class BatchCursor {
  private buffers: Buffer[] = [];
  private bufIndex = 0;
  private pos = 0;
  private next: number;
  private done = false;
  private window: number;
  private lastRefillAt = -1;

  constructor(
    private readonly side: 'source' | 'shadow',
    from: number,
    private readonly to: number,
    window: number,
    private readonly read: (offset: number, maxBytes: number) => Promise<Buffer[]>,
    /** called when this side's log start moved past the position (LogStartMoved) */
    private readonly onStartMoved: (logStartOffset: number) => void = () => {},
  ) {
    this.next = from;
    this.window = window;
    if (from >= to) this.done = true;
  }

  async take(): Promise<BatchFacts | null> {
    for (;;) {
      if (this.done) return null;
      while (this.bufIndex < this.buffers.length) {
        const buf = this.buffers[this.bufIndex]!;
        if (this.pos >= buf.length) {
          this.bufIndex++;
          this.pos = 0;
          continue;
        }
        const size = frameSizeAt(buf, this.pos);
        if (size === Framing.TRUNCATED) {
          // the window ended inside a batch: read again from it
          this.bufIndex = this.buffers.length;
          break;
        }
        if (size < 0) {
          const at = buf.length - this.pos >= 8 ? view.moveTo(buf, this.pos).baseOffset : this.next;
          throw new Error(`the ${this.side} holds a malformed record batch near offset ${at} (${size === Framing.BAD_MAGIC ? 'magic is not 2' : 'bad batch length'})`);
        }
        const at = this.pos;
        this.pos += size;
        // the header decides whether the batch is wanted before its bytes are checksummed
        view.moveTo(buf, at);
        if (view.lastOffset < this.next) continue; // before the position (a read returns the whole first batch)
        if (view.baseOffset >= this.to) {
          this.finish();
          return null;
        }
        const facts = factsOf(buf, at, size);
        this.next = facts.last + 1;
        return facts;
      }
      // everything below `to` was delivered: reading at `to` would only wait for data that is not wanted
      if (this.next >= this.to) {
        this.finish();
        return null;
      }
      await this.refill();
    }
  }

  private async refill(): Promise<void> {
    const before = this.next;
    // a window that moved nothing forward, read again at the same offset, would loop for ever: end there instead
    if (this.lastRefillAt === before) {
      this.finish();
      return;
    }
    this.lastRefillAt = before;
    for (;;) {
      let got: Buffer[];
      try {
        got = await this.read(this.next, this.window);
      } catch (err) {
        if (!(err instanceof LogStartMoved) || err.logStartOffset <= this.next) throw err;
        this.onStartMoved(err.logStartOffset);
        this.next = err.logStartOffset;
        if (this.next >= this.to) {
          this.finish();
          return;
        }
        continue;
      }
      this.buffers = got;
      this.bufIndex = 0;
      this.pos = 0;
      if (got.every((b) => b.length === 0)) {
        this.finish();
        return;
      }
      // Only part of one batch came back (a source without KIP-74 and a batch larger than the window): grow it.
      const first = got.find((b) => b.length > 0)!;
      if (frameSizeAt(first, 0) === Framing.TRUNCATED && got.length === 1) {
        if (this.window >= MAX_WINDOW_BYTES) throw new Error(`the ${this.side} batch at offset ${before} is larger than ${MAX_WINDOW_BYTES} bytes`);
        this.window = Math.min(MAX_WINDOW_BYTES, this.window * 2);
        continue;
      }
      return;
    }
  }

  private finish(): void {
    this.done = true;
    this.buffers = [];
  }
}

/** Ranges [from, to) in ascending order, adjacent ones merged, at most MAX_LISTED_RANGES listed. */
class RangeList {
  readonly ranges: OffsetRange[] = [];
  /** ranges found, listed or not */
  count = 0;

  add(from: number, to: number): void {
    if (to <= from) return;
    const last = this.ranges[this.ranges.length - 1];
    if (last !== undefined && from <= last.to) {
      last.to = Math.max(last.to, to);
      return;
    }
    this.count++;
    if (this.ranges.length < MAX_LISTED_RANGES) this.ranges.push({ from, to });
  }
}

/** The outcome of one partition's walk. */
interface Walk {
  batches: number;
  bytes: number;
  firstDifferenceOffset: number;
  difference: string;
  differences: number;
  missingOnShadow: RangeList;
  missingOnSource: RangeList;
  compactedDifferently: RangeList;
}

/**
 * Compares two batch streams over [from, to). Pure: the streams come from the caller, so this is what the unit
 * tests drive with hand-made batches.
 */
export async function compareBatches(
  source: { take(): Promise<BatchFacts | null> },
  shadow: { take(): Promise<BatchFacts | null> },
  range: OffsetRange,
  compacted: boolean,
): Promise<Walk> {
  const w: Walk = {
    batches: 0,
    bytes: 0,
    firstDifferenceOffset: -1,
    difference: '',
    differences: 0,
    missingOnShadow: new RangeList(),
    missingOnSource: new RangeList(),
    compactedDifferently: new RangeList(),
  };
  const clip = (from: number, to: number): [number, number] => [Math.max(from, range.from), Math.min(to, range.to)];
  const differ = (at: number, what: string): void => {
    w.differences++;
    if (w.firstDifferenceOffset < 0) {
      w.firstDifferenceOffset = Math.max(at, range.from);
      w.difference = what;
    }
  };
  let a = await source.take();
  let b = await shadow.take();
  const countSource = (x: BatchFacts): void => {
    w.batches++;
    w.bytes += x.size;
  };
  while (a !== null || b !== null) {
    if (a !== null && b !== null && a.base === b.base && a.last === b.last) {
      countSource(a);
      comparePair(a, b, compacted, w, differ);
      a = await source.take();
      b = await shadow.take();
      continue;
    }
    if (a !== null && (b === null || a.last < b.base)) {
      countSource(a);
      (compacted ? w.compactedDifferently : w.missingOnShadow).add(...clip(a.base, a.last + 1));
      a = await source.take();
      continue;
    }
    if (b !== null && (a === null || b.last < a.base)) {
      (compacted ? w.compactedDifferently : w.missingOnSource).add(...clip(b.base, b.last + 1));
      b = await shadow.take();
      continue;
    }
    // both present, overlapping, but not over the same offsets
    const x = a!;
    const y = b!;
    if (compacted) w.compactedDifferently.add(...clip(Math.min(x.base, y.base), Math.max(x.last, y.last) + 1));
    else differ(Math.min(x.base, y.base), `batch at ${Math.min(x.base, y.base)}: the source batch holds offsets ${x.base}-${x.last}, the shadow's ${y.base}-${y.last}`);
    if (x.last <= y.last) {
      countSource(x);
      a = await source.take();
    }
    if (y.last <= x.last) b = await shadow.take();
  }
  return w;
}

/** Two batches over the same offsets: identical, corrupt on one side, or compacted differently. */
function comparePair(a: BatchFacts, b: BatchFacts, compacted: boolean, w: Walk, differ: (at: number, what: string) => void): void {
  const sourceIntact = a.computedCrc === a.crc;
  const shadowIntact = b.computedCrc === b.crc;
  const at = `batch at ${a.base}`;
  if (!shadowIntact && sourceIntact) {
    differ(a.base, `${at}: CRC32C recomputed over the shadow's stored bytes is ${hex(b.computedCrc)}, the header says ${hex(b.crc)}; the source batch is intact — the shadow's copy is corrupt`);
    return;
  }
  if (!sourceIntact && shadowIntact) {
    differ(a.base, `${at}: CRC32C recomputed over the source's stored bytes is ${hex(a.computedCrc)}, the header says ${hex(a.crc)}; the shadow batch is intact — the source's copy is corrupt`);
    return;
  }
  if (!sourceIntact && !shadowIntact) {
    differ(
      a.base,
      `${at}: CRC32C recomputed over the stored bytes does not match the header on either side (source ${hex(a.computedCrc)} vs ${hex(a.crc)}, shadow ${hex(b.computedCrc)} vs ${hex(b.crc)}) — both copies are corrupt`,
    );
    return;
  }
  if (a.size === b.size && a.crc === b.crc) return; // identical (both intact, same CRC over the same length)
  // Both intact, different bytes. Compaction rewrites a batch in place: fewer records, or the delete horizon stamped.
  if (compacted && (a.recordCount !== b.recordCount || (a.attributes ^ b.attributes) & DELETE_HORIZON_FLAG || a.baseTimestamp !== b.baseTimestamp)) {
    w.compactedDifferently.add(a.base, a.last + 1);
    return;
  }
  if (a.size !== b.size) differ(a.base, `${at}: the source batch is ${a.size} bytes, the shadow's ${b.size} bytes (both intact: they hold different records)`);
  else differ(a.base, `${at}: same offsets and length, but the source's CRC32C is ${hex(a.crc)} and the shadow's ${hex(b.crc)} (both intact: they hold different bytes)`);
}

// ---- one partition -----------------------------------------------------------------------------------------

interface SourceOffsets {
  logStartOffset: number;
  lastStableOffset: number;
  highWatermark: number;
}

function sourceReader(part: ReplicationSource, fetchTimeoutMs: number): (offset: number, maxBytes: number) => Promise<Buffer[]> {
  return async (offset, maxBytes) => {
    const answer = await part.fetch(offset, maxBytes, AbortSignal.timeout(fetchTimeoutMs));
    if (answer.error === ErrorCode.OFFSET_OUT_OF_RANGE && answer.logStartOffset > offset) throw new LogStartMoved(answer.logStartOffset);
    if (answer.error !== undefined && answer.error !== 0) {
      throw new Error(`the source answered ${errorName(answer.error)} fetching at offset ${offset}${answer.errorMessage ? ` (${answer.errorMessage})` : ''}`);
    }
    return [answer.records];
  };
}

function shadowReader(log: PartitionLog): (offset: number, maxBytes: number) => Promise<Buffer[]> {
  return async (offset, maxBytes) => {
    const opts: ReadOptions = { maxBytes, minOneBatch: true, isolation: 'read_uncommitted', bypassCache: true };
    // the copy out of the segment files runs on the threadpool when the log can: a big verify does not stall fetches
    try {
      const res = log.startRead ? await log.startRead(offset, opts).result : log.read(offset, opts);
      return res.batches;
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.OFFSET_OUT_OF_RANGE && log.logStartOffset > offset) throw new LogStartMoved(log.logStartOffset);
      throw err;
    }
  };
}

async function verifyPartition(
  log: PartitionLog,
  partition: number,
  src: SourceOffsets,
  part: ReplicationSource,
  compacted: boolean,
  opts: Required<Omit<VerifyOptions, 'topic'>>,
): Promise<VerifyPartitionReport & { missingRangeCount: number }> {
  const shadow: OffsetRange = { from: log.logStartOffset, to: log.highWatermark };
  const source: OffsetRange = { from: src.logStartOffset, to: src.highWatermark };
  const compared: OffsetRange = { from: Math.max(source.from, shadow.from), to: Math.min(src.lastStableOffset, shadow.to) };
  const report = {
    partition,
    source,
    shadow,
    compared,
    batches: 0,
    bytes: 0,
    firstDifferenceOffset: -1,
    difference: '',
    differences: 0,
    missingOnShadow: [] as OffsetRange[],
    missingOnSource: [] as OffsetRange[],
    compactedDifferently: [] as OffsetRange[],
    missingRangeCount: 0,
    ok: true,
  };
  if (compared.from >= compared.to) return report;
  // retention moving either log start during the walk narrows the compared range (compareBatches clips to it)
  const startMoved = (at: number): void => {
    compared.from = Math.min(Math.max(compared.from, at), compared.to);
  };
  const walk = await compareBatches(
    new BatchCursor('source', compared.from, compared.to, opts.windowBytes, sourceReader(part, opts.fetchTimeoutMs), startMoved),
    new BatchCursor('shadow', compared.from, compared.to, opts.windowBytes, shadowReader(log), startMoved),
    compared,
    compacted,
  );
  report.batches = walk.batches;
  report.bytes = walk.bytes;
  report.firstDifferenceOffset = walk.firstDifferenceOffset;
  report.difference = walk.difference;
  report.differences = walk.differences;
  report.missingOnShadow = walk.missingOnShadow.ranges;
  report.missingOnSource = walk.missingOnSource.ranges;
  report.compactedDifferently = walk.compactedDifferently.ranges;
  report.missingRangeCount = walk.missingOnShadow.count + walk.missingOnSource.count;
  report.ok = walk.differences === 0 && report.missingRangeCount === 0;
  return report;
}

/** Runs `fn` over `items` with at most `limit` at once, results in order. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- the run -----------------------------------------------------------------------------------------------

/**
 * Compares source and shadow for every still-shadowed topic of the link, or for `opts.topic` (any state; NOT_FOUND
 * when the link does not shadow it). Differences are in the report (`ok` false), not thrown; only an unknown topic
 * throws. A source that cannot be reached marks every topic with the error.
 */
export async function verifyLink(link: VerifyLink, deps: VerifyDeps, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const started = Date.now();
  const settings = {
    windowBytes: opts.windowBytes ?? DEFAULT_WINDOW_BYTES,
    concurrency: Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY),
    fetchTimeoutMs: opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
  };
  let names: string[];
  if (opts.topic !== undefined) {
    if (!link.topics.has(opts.topic)) throw new ShadowLinkError('NOT_FOUND', `link '${link.name}' does not shadow topic '${opts.topic}'`);
    names = [opts.topic];
  } else {
    names = [...link.topics.values()].filter((t) => SHADOWED_TOPIC_STATES.has(t.state)).map((t) => t.name).sort();
  }

  const co = link.config.clientOptions;
  // Its own client: large windows, short waits (verify reads below the LSO, where the source answers at once).
  const source = deps.createSource({
    ...co,
    clientId: `${co.clientId}-verify`,
    fetchMaxBytes: settings.windowBytes * settings.concurrency,
    fetchPartitionMaxBytes: settings.windowBytes,
    fetchWaitMaxMs: Math.min(co.fetchWaitMaxMs, 100),
    fetchMinBytes: 1,
  });
  const topics: VerifyTopicReport[] = [];
  const summary = { topics: 0, partitions: 0, batches: 0, bytes: 0, differences: 0, missingRanges: 0 };
  try {
    let connectError = '';
    let sourceTopics = new Map<string, { topicId: string; partitions: number }>();
    try {
      await source.connect();
      sourceTopics = new Map((await source.topics()).map((t) => [t.name, { topicId: t.topicId, partitions: t.partitions.length }]));
    } catch (err) {
      connectError = `cannot compare: the source did not answer (${messageOf(err)})`;
    }
    for (const name of names) {
      const stored = link.topics.get(name)!;
      const log0 = deps.partitions.log(name, 0);
      const compacted = log0?.config.cleanupPolicy.includes('compact') ?? false;
      const t: VerifyTopicReport = { name, compacted, ok: false, error: '', partitions: [] };
      topics.push(t);
      summary.topics++;
      if (connectError) {
        t.error = connectError;
        continue;
      }
      const src = sourceTopics.get(name);
      const expectedId = stored.sourceTopicId !== '' && stored.sourceTopicId !== ZERO_UUID ? stored.sourceTopicId : undefined;
      if (src === undefined) {
        t.error = `the source has no topic '${name}' any more`;
        continue;
      }
      if (expectedId !== undefined && src.topicId !== ZERO_UUID && src.topicId !== expectedId) {
        t.error = `the source topic '${name}' was recreated (topic id ${src.topicId}; the shadow follows ${expectedId}): the two logs are not comparable`;
        continue;
      }
      const record = deps.topics.get(name);
      if (!record) {
        t.error = `the shadow topic '${name}' does not exist here (yet)`;
        continue;
      }
      const count = record.partitions;
      const wanted = Array.from({ length: count }, (_, p) => ({ topic: name, partition: p }));
      let offsets: Map<string, SourceOffsets>;
      try {
        offsets = await source.offsets(wanted);
      } catch (err) {
        t.error = `cannot list the source's offsets: ${messageOf(err)}`;
        continue;
      }
      const errors: string[] = [];
      const reports = await pool(wanted, settings.concurrency, async ({ partition }) => {
        const log = deps.partitions.log(name, partition);
        const o = offsets.get(`${name}/${partition}`);
        if (!log || !o) {
          errors.push(`partition ${partition}: ${!log ? 'the shadow has no log for it here' : 'the source answered an error for it (unknown or leaderless)'}`);
          return undefined;
        }
        try {
          return await verifyPartition(log, partition, o, source.partition(name, partition, expectedId ? { topicId: expectedId } : undefined), compacted, settings);
        } catch (err) {
          errors.push(`partition ${partition}: ${messageOf(err)}`);
          return undefined;
        }
      });
      for (const r of reports) {
        if (r === undefined) continue;
        const { missingRangeCount, ...shown } = r;
        t.partitions.push(shown);
        summary.partitions++;
        summary.batches += r.batches;
        summary.bytes += r.bytes;
        summary.differences += r.differences;
        summary.missingRanges += missingRangeCount;
      }
      t.error = errors.sort().join('; ');
      t.ok = t.error === '' && t.partitions.every((p) => p.ok);
    }
  } finally {
    await source.close().catch(() => {});
  }
  const report: VerifyReport = {
    link: link.name,
    ok: topics.every((t) => t.ok),
    startedAt: new Date(started).toISOString(),
    elapsedMs: Date.now() - started,
    topics,
    summary,
  };
  deps.logger?.info({ link: link.name, ok: report.ok, ...summary, elapsedMs: report.elapsedMs }, 'shadow link verified');
  return report;
}
