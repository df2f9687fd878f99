// PartitionReplicator against an in-memory random source and an accounting sink (the Redpanda replicator idea:
// the replicator knows only a data source and a data sink). The sink checks every append as it happens; verify()
// checks the end result against everything the source ever held.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecordBatch, recordBatches } from '../../src/protocol/record-batch.js';
import { Compression, initCompression, type CompressionCodec } from '../../src/protocol/compression.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import {
  PartitionReplicator,
  type OffsetSpec,
  type ReplicationSink,
  type ReplicationSource,
  type ReplicatorOptions,
  type SourceFetch,
} from '../../src/shadow/replication/index.js';
import { seededRandom } from '../helpers/random.js';

before(async () => {
  await initCompression();
});

function abortable(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface StoredBatch {
  base: number;
  next: number;
  bytes: Buffer;
  maxTimestamp: number;
}

const CODECS: CompressionCodec[] = [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];

/** An in-memory source partition: random batches, compaction-like gaps, a moving log start, injected faults. */
class RandomSource implements ReplicationSource {
  readonly history: StoredBatch[] = [];
  log: StoredBatch[] = [];
  logStartOffset = 0;
  nextOffset = 0;
  clockMs = 1_700_000_000_000;
  /** probability of a transient failure per fetch (half thrown network errors, half NOT_LEADER_OR_FOLLOWER) */
  errorRate = 0;
  /** probability of appending a partial copy of the next batch to an answer */
  partialTailRate = 0;
  down = false;
  fetchDelayMs = 0;
  fetchCalls = 0;
  inFlight = 0;
  maxInFlightSeen = 0;

  constructor(readonly rnd: () => number) {}

  produce(n: number, opts: { gaps?: boolean } = {}): void {
    for (let i = 0; i < n; i++) {
      const count = 1 + Math.floor(this.rnd() * 6);
      // compaction leaves holes inside batches (offset deltas) and between them
      const holes = opts.gaps === true;
      const records = [];
      let delta = 0;
      for (let r = 0; r < count; r++) {
        records.push({ key: `k${Math.floor(this.rnd() * 50)}`, value: Buffer.alloc(Math.floor(this.rnd() * 400), r), offsetDelta: delta, timestamp: this.clockMs });
        delta += holes && this.rnd() < 0.3 ? 2 + Math.floor(this.rnd() * 3) : 1;
        this.clockMs += 10;
      }
      const codec = CODECS[Math.floor(this.rnd() * CODECS.length)]!;
      const base = this.nextOffset + (holes && this.rnd() < 0.3 ? 1 + Math.floor(this.rnd() * 5) : 0);
      const bytes = buildRecordBatch({ records, baseOffset: base, compression: codec, producerId: 7, producerEpoch: 0, baseSequence: base, partitionLeaderEpoch: 3 });
      const b = { base, next: base + records[records.length - 1]!.offsetDelta + 1, bytes, maxTimestamp: this.clockMs - 10 };
      this.history.push(b);
      this.log.push(b);
      this.nextOffset = b.next;
    }
  }

  get highWatermark(): number {
    return this.nextOffset;
  }

  /** retention / DeleteRecords: may land inside a batch */
  deleteBefore(offset: number): void {
    if (offset <= this.logStartOffset) return;
    this.logStartOffset = Math.min(offset, this.nextOffset);
    this.log = this.log.filter((b) => b.next > this.logStartOffset);
  }

  async fetch(fromOffset: number, maxBytes: number, signal: AbortSignal): Promise<SourceFetch> {
    this.fetchCalls++;
    this.inFlight++;
    this.maxInFlightSeen = Math.max(this.maxInFlightSeen, this.inFlight);
    try {
      if (this.fetchDelayMs > 0) await abortable(this.fetchDelayMs, signal);
      const meta = { highWatermark: this.highWatermark, lastStableOffset: this.highWatermark, logStartOffset: this.logStartOffset };
      if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
      if (this.rnd() < this.errorRate) {
        if (this.rnd() < 0.5) throw new Error('read ECONNRESET');
        return { records: Buffer.alloc(0), ...meta, error: ErrorCode.NOT_LEADER_OR_FOLLOWER };
      }
      if (fromOffset < this.logStartOffset || fromOffset > this.highWatermark) {
        return { records: Buffer.alloc(0), ...meta, error: ErrorCode.OFFSET_OUT_OF_RANGE };
      }
      const parts: Buffer[] = [];
      let size = 0;
      let i = this.log.findIndex((b) => b.next > fromOffset);
      if (i >= 0) {
        for (; i < this.log.length; i++) {
          const b = this.log[i]!;
          if (parts.length > 0 && size + b.bytes.length > maxBytes) break;
          parts.push(b.bytes);
          size += b.bytes.length;
        }
        const nextBatch = this.log[i];
        if (nextBatch !== undefined && this.rnd() < this.partialTailRate) parts.push(nextBatch.bytes.subarray(0, Math.floor(this.rnd() * nextBatch.bytes.length)));
      }
      return { records: Buffer.concat(parts), ...meta };
    } finally {
      this.inFlight--;
    }
  }

  async listOffsets(spec: OffsetSpec, signal: AbortSignal): Promise<number> {
    if (this.fetchDelayMs > 0) await abortable(this.fetchDelayMs, signal);
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
    if (spec === 'earliest') return this.logStartOffset;
    if (spec === 'latest') return this.highWatermark;
    const b = this.log.find((x) => x.maxTimestamp >= spec);
    return b === undefined ? -1 : Math.max(b.base, this.logStartOffset);
  }
}

/** An accounting shadow partition: asserts the sink contract on every call. */
class AccountingSink implements ReplicationSink {
  batches: StoredBatch[] = [];
  logStartOffset = 0;
  logEndOffset = 0;
  appendDelayMs = 0;
  appendsInProgress = 0;
  truncations: number[] = [];
  failNextAppend: Error | undefined;

  get highWatermark(): number {
    return this.logEndOffset;
  }

  async append(buf: Buffer): Promise<void> {
    assert.equal(this.appendsInProgress, 0, 'appends must not overlap');
    this.appendsInProgress++;
    try {
      if (this.appendDelayMs > 0) await new Promise((r) => setTimeout(r, this.appendDelayMs));
      if (this.failNextAppend) {
        const e = this.failNextAppend;
        this.failNextAppend = undefined;
        throw e;
      }
      assert.ok(buf.length > 0, 'empty append');
      for (const b of recordBatches(buf)) {
        assert.ok(b.baseOffset >= this.logEndOffset, `batch at ${b.baseOffset} below log end ${this.logEndOffset}`);
        assert.ok(b.verifyCrc(), 'CRC');
        this.batches.push({ base: b.baseOffset, next: b.nextOffset, bytes: Buffer.from(b.bytes), maxTimestamp: b.maxTimestamp });
        this.logEndOffset = b.nextOffset;
      }
    } finally {
      this.appendsInProgress--;
    }
  }

  async prefixTruncate(newLogStart: number): Promise<void> {
    assert.ok(newLogStart > this.logStartOffset, `prefixTruncate(${newLogStart}) not above log start ${this.logStartOffset}`);
    this.truncations.push(newLogStart);
    this.logStartOffset = newLogStart;
    this.batches = this.batches.filter((b) => b.next > newLogStart);
    if (newLogStart > this.logEndOffset) this.logEndOffset = newLogStart;
  }
}

/**
 * Every batch the source ever held is in the shadow byte for byte, unless it is below the shadow's log start or
 * inside a recorded gap; the shadow holds nothing else, in strictly increasing order.
 */
function verify(source: RandomSource, sink: AccountingSink, r: PartitionReplicator, fromOffset = 0): void {
  const byBase = new Map(source.history.map((b) => [b.base, b]));
  let prevNext = -1;
  for (const b of sink.batches) {
    assert.ok(b.base >= prevNext, `shadow batches out of order at ${b.base}`);
    prevNext = b.next;
    const src = byBase.get(b.base);
    assert.ok(src, `shadow batch at ${b.base} never existed on the source`);
    assert.ok(src.bytes.equals(b.bytes), `shadow batch at ${b.base} differs from the source's`);
  }
  const have = new Set(sink.batches.map((b) => b.base));
  for (const b of source.history) {
    if (b.next <= sink.logStartOffset || b.base < fromOffset) continue;
    const inGap = r.gaps.some((g) => b.base >= g.from && b.next <= g.to);
    if (inGap) continue;
    assert.ok(have.has(b.base), `source batch ${b.base}..${b.next - 1} missing from the shadow (gaps ${JSON.stringify(r.gaps)})`);
  }
}

function fast(extra: ReplicatorOptions = {}): ReplicatorOptions {
  return { backoffBaseMs: 1, backoffMaxMs: 5, idleWaitMs: 1, maxBytes: 4096, ...extra };
}

const caughtUp = (source: RandomSource) => (s: { logEndOffset: number; lag: number; sourceHighWatermark: number }) =>
  s.sourceHighWatermark === source.highWatermark && s.lag === 0;

test('random source: byte-identical, no gap or duplicate, log start followed, through faults', async () => {
  for (const seed of [1, 2, 3, 4]) {
    const rnd = seededRandom(seed);
    const source = new RandomSource(rnd);
    source.errorRate = 0.1;
    source.partialTailRate = 0.3;
    source.produce(30, { gaps: true });
    const sink = new AccountingSink();
    const r = new PartitionReplicator(source, sink, fast({ random: rnd, name: `seed${seed}`, unavailableAfterFailures: 50 }));
    r.start();
    for (let round = 0; round < 10; round++) {
      source.produce(5 + Math.floor(rnd() * 10), { gaps: rnd() < 0.5 });
      // retention creeps up behind the shadow (may land inside a batch)
      if (rnd() < 0.5) source.deleteBefore(Math.min(sink.logEndOffset, source.logStartOffset + Math.floor(rnd() * 40)));
      await new Promise((res) => setTimeout(res, 2));
    }
    await r.waitFor(caughtUp(source), 8000);
    // the shadow's log start follows the source's
    await r.waitFor((s) => s.logStartOffset === source.logStartOffset, 2000);
    assert.deepEqual(r.gaps, [], `seed ${seed}: no gap expected when retention stays behind the shadow`);
    verify(source, sink, r);
    assert.equal(r.state, 'ACTIVE');
    assert.equal(r.rpoMs, 0);
    await r.stop();
    assert.equal(r.state, 'STOPPED');
  }
});

test('source deleted unreplicated data: skip to its log start and record the gap', async () => {
  for (const seed of [11, 12, 13]) {
    const rnd = seededRandom(seed);
    const source = new RandomSource(rnd);
    source.produce(20);
    const sink = new AccountingSink();
    const r = new PartitionReplicator(source, sink, fast({ random: rnd }));
    r.start();
    await r.waitFor(caughtUp(source));
    r.pause();
    await r.waitFor((s) => s.state === 'PAUSED');
    const shadowEnd = sink.logEndOffset;
    source.produce(20, { gaps: true });
    // delete past the shadow's end, landing inside a batch on odd seeds
    const target = source.log[source.log.length - 12]!;
    source.deleteBefore(seed % 2 === 1 ? target.base + Math.max(0, target.next - target.base - 1) : target.base);
    r.resume();
    await r.waitFor(caughtUp(source));
    assert.equal(r.gaps.length, 1);
    const gap = r.gaps[0]!;
    assert.equal(gap.from, shadowEnd);
    // the gap ends where the shadow's data resumes: the batch holding the source's log start
    assert.equal(gap.to, target.base);
    assert.ok(sink.batches.every((b) => b.base < gap.from || b.base >= gap.to), 'no data inside the gap');
    assert.equal(sink.logStartOffset, source.logStartOffset, 'shadow log start follows the source');
    verify(source, sink, r);
    assert.equal(r.status().gaps.length, 1);
    await r.stop();
  }
});

test('gap with nothing left on the source: the shadow moves its log end to the source log start', async () => {
  const source = new RandomSource(seededRandom(5));
  source.produce(5);
  const sink = new AccountingSink();
  const r = new PartitionReplicator(source, sink, fast());
  r.start();
  await r.waitFor(caughtUp(source));
  r.pause();
  source.produce(5);
  source.deleteBefore(source.highWatermark);
  r.resume();
  await r.waitFor((s) => s.gaps.length === 1 && caughtUp(source)(s));
  assert.equal(sink.logEndOffset, source.highWatermark);
  assert.equal(sink.logStartOffset, source.highWatermark);
  assert.equal(sink.batches.length, 0);
  await r.stop();
});

test('start positions: earliest, latest, timestamp, and resume at the shadow log end', async (t) => {
  await t.test('earliest on an empty shadow starts at the source log start', async () => {
    const source = new RandomSource(seededRandom(21));
    source.produce(20);
    source.deleteBefore(source.log[5]!.base);
    const sink = new AccountingSink();
    const r = new PartitionReplicator(source, sink, fast());
    r.start();
    await r.waitFor(caughtUp(source));
    assert.equal(sink.logStartOffset, source.logStartOffset);
    assert.equal(sink.batches[0]!.base, source.log[0]!.base);
    assert.deepEqual(r.gaps, []);
    verify(source, sink, r);
    await r.stop();
  });
  await t.test('latest replicates only what comes after', async () => {
    const source = new RandomSource(seededRandom(22));
    source.produce(20);
    const end = source.highWatermark;
    const sink = new AccountingSink();
    const r = new PartitionReplicator(source, sink, fast({ startAt: { kind: 'latest' } }));
    r.start();
    await r.waitFor(caughtUp(source));
    assert.equal(sink.batches.length, 0);
    source.produce(5);
    await r.waitFor(caughtUp(source));
    assert.equal(sink.batches[0]!.base, end);
    assert.equal(sink.logStartOffset, end);
    verify(source, sink, r, end);
    await r.stop();
  });
  await t.test('timestamp starts at the batch holding the first record that recent', async () => {
    const source = new RandomSource(seededRandom(23));
    source.produce(20);
    const target = source.log[12]!;
    const sink = new AccountingSink();
    const r = new PartitionReplicator(source, sink, fast({ startAt: { kind: 'timestamp', timestampMs: target.maxTimestamp } }));
    r.start();
    await r.waitFor(caughtUp(source));
    assert.equal(sink.batches[0]!.base, target.base);
    assert.equal(sink.logStartOffset, target.base);
    verify(source, sink, r, target.base);
    await r.stop();
  });
  await t.test('a timestamp newer than every record starts at the end', async () => {
    const source = new RandomSource(seededRandom(24));
    source.produce(5);
    const sink = new AccountingSink();
    const r = new PartitionReplicator(source, sink, fast({ startAt: { kind: 'timestamp', timestampMs: source.clockMs + 1e6 } }));
    r.start();
    await r.waitFor(caughtUp(source));
    assert.equal(sink.batches.length, 0);
    assert.equal(sink.logEndOffset, source.highWatermark);
    await r.stop();
  });
  await t.test('a non-empty shadow resumes at its log end whatever startAt says, without duplicates', async () => {
    const source = new RandomSource(seededRandom(25));
    source.produce(20);
    const sink = new AccountingSink();
    await sink.append(Buffer.concat(source.log.slice(0, 7).map((b) => b.bytes)));
    const r = new PartitionReplicator(source, sink, fast({ startAt: { kind: 'latest' } }));
    r.start();
    await r.waitFor(caughtUp(source));
    assert.equal(sink.batches.length, 20);
    verify(source, sink, r);
    await r.stop();
  });
});

test('LINK_UNAVAILABLE after repeated failures with the last error, ACTIVE again on success', async () => {
  const source = new RandomSource(seededRandom(31));
  source.produce(10);
  const sink = new AccountingSink();
  const seen: string[] = [];
  const r = new PartitionReplicator(source, sink, fast({ unavailableAfterFailures: 3 }));
  r.onChange((s) => {
    if (seen[seen.length - 1] !== s.state) seen.push(s.state);
  });
  r.start();
  await r.waitFor(caughtUp(source));
  source.down = true;
  const s = await r.waitFor((x) => x.state === 'LINK_UNAVAILABLE');
  assert.match(s.reason, /ECONNREFUSED/);
  assert.ok(s.consecutiveFailures >= 3);
  source.produce(5);
  source.down = false;
  await r.waitFor((x) => x.state === 'ACTIVE' && caughtUp(source)(x));
  assert.deepEqual(seen, ['ACTIVE', 'LINK_UNAVAILABLE', 'ACTIVE']);
  assert.equal(r.status().consecutiveFailures, 0);
  verify(source, sink, r);
  await r.stop();
});

test('unreachable at start: LINK_UNAVAILABLE, then starts when the source comes back', async () => {
  const source = new RandomSource(seededRandom(32));
  source.produce(10);
  source.down = true;
  const sink = new AccountingSink();
  const r = new PartitionReplicator(source, sink, fast());
  r.start();
  await r.waitFor((x) => x.state === 'LINK_UNAVAILABLE');
  source.down = false;
  await r.waitFor((x) => x.state === 'ACTIVE' && caughtUp(source)(x));
  verify(source, sink, r);
  await r.stop();
});

test('backoff grows with jitter up to the configured maximum', async () => {
  const source = new RandomSource(seededRandom(33));
  source.down = true;
  const sink = new AccountingSink();
  const r = new PartitionReplicator(source, sink, { backoffBaseMs: 20, backoffMaxMs: 40, unavailableAfterFailures: 100 });
  r.start();
  const t0 = Date.now();
  await r.waitFor((x) => x.consecutiveFailures >= 4, 3000);
  const elapsed = Date.now() - t0;
  // sleeps after failures 1..3: [10,20] + [20,40] + [20,40] (capped) = at least 50 ms
  assert.ok(elapsed >= 45, `backoff too short: ${elapsed} ms`);
  await r.stop();
});

test('pause stops fetching, resume continues at the shadow log end', async () => {
  const source = new RandomSource(seededRandom(41));
  source.produce(10);
  const sink = new AccountingSink();
  const r = new PartitionReplicator(source, sink, fast());
  r.start();
  await r.waitFor(caughtUp(source));
  r.pause('paused by operator');
  assert.equal(r.state, 'PAUSED');
  assert.equal(r.reason, 'paused by operator');
  await new Promise((res) => setTimeout(res, 10)); // let an aborted fetch settle
  const calls = source.fetchCalls;
  const end = sink.logEndOffset;
  source.produce(10);
  await new Promise((res) => setTimeout(res, 30)); // proving an absence needs a little time
  assert.equal(source.fetchCalls, calls, 'no fetch while paused');
  assert.equal(sink.logEndOffset, end);
  // lag is measured against the last source HWM the replicator saw; paused, it has not seen the new one
  assert.equal(r.status().sourceHighWatermark, end);
  r.resume();
  await r.waitFor((x) => x.state === 'ACTIVE' && caughtUp(source)(x));
  verify(source, sink, r);
  await r.stop();
  r.resume(); // no effect after stop
  assert.equal(r.state, 'STOPPED');
});

test('lag and RPO: lag is source HWM − shadow HWM, RPO grows while behind and is 0 when caught up', async () => {
  let now = 1_000_000;
  const source = new RandomSource(seededRandom(51));
  source.produce(10);
  const sink = new AccountingSink();
  const r = new PartitionReplicator(source, sink, fast({ now: () => now }));
  r.start();
  await r.waitFor(caughtUp(source));
  assert.equal(r.rpoMs, 0);
  r.pause();
  source.produce(3);
  // the paused replicator has not seen the new HWM; the operator-facing RPO still grows while paused
  now += 5000;
  assert.equal(r.rpoMs, 5000);
  r.resume();
  await r.waitFor(caughtUp(source));
  assert.equal(r.rpoMs, 0);
  assert.equal(r.lag, 0);
  await r.stop();
});

test('an idle partition stays caught up while the source keeps answering its long polls, not only on answers handed back', async () => {
  let now = 1_000_000;
  // A source client that keeps idle partitions in its long polls: answers we never see, but it says when it heard.
  class QuietSource extends RandomSource {
    heardAtMs = 0;
    lastHeardAtMs(): number {
      return this.heardAtMs;
    }
  }
  const source = new QuietSource(seededRandom(53));
  source.produce(10);
  const sink = new AccountingSink();
  const r = new PartitionReplicator(source, sink, fast({ now: () => now, answerStaleAfterMs: 15_000 }));
  r.start();
  try {
    await r.waitFor(caughtUp(source));
    source.fetchDelayMs = 1e9; // from now on no fetch returns (until aborted)
    await new Promise((resolve) => setTimeout(resolve, 20));
    // 40 s without an answer handed back, but the source client heard from the partition a moment ago each time
    for (let i = 0; i < 4; i++) {
      now += 10_000;
      source.heardAtMs = now - 1_000;
      assert.equal(r.rpoMs, 0, `caught up ${(i + 1) * 10} s after the last answer handed back`);
    }
    // silence: after answerStaleAfterMs nothing says the source is not ahead any more, and the RPO estimate grows
    now += 16_000;
    assert.ok(r.rpoMs >= 16_000, `RPO grows once the source is silent (${r.rpoMs} ms)`);
  } finally {
    await r.stop();
  }
});

test('shadow ahead of the source (source truncated or recreated): FAULTED with a reason; resume retries', async () => {
  const source = new RandomSource(seededRandom(61));
  source.produce(10);
  const sink = new AccountingSink();
  sink.logStartOffset = 0;
  await sink.append(Buffer.concat(source.log.map((b) => b.bytes)));
  // the source is recreated: empty again
  const fresh = new RandomSource(seededRandom(62));
  fresh.produce(2);
  const r = new PartitionReplicator(fresh, sink, fast());
  r.start();
  const s = await r.waitFor((x) => x.state === 'FAULTED');
  assert.match(s.reason, /above the source's high watermark/);
  const before = sink.batches.length;
  assert.equal(sink.batches.length, before, 'shadow data kept');
  r.resume();
  await r.waitFor((x) => x.state === 'FAULTED');
  await r.stop();
});

test('a sink failure faults the replicator; resume continues without loss', async () => {
  const source = new RandomSource(seededRandom(63));
  source.produce(10);
  const sink = new AccountingSink();
  sink.failNextAppend = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'disk gone');
  const r = new PartitionReplicator(source, sink, fast());
  r.start();
  const s = await r.waitFor((x) => x.state === 'FAULTED');
  assert.match(s.reason, /disk gone/);
  r.resume();
  await r.waitFor((x) => x.state === 'ACTIVE' && caughtUp(source)(x));
  verify(source, sink, r);
  await r.stop();
});

test('corrupt framing from the source is retried, never appended', async () => {
  const source = new RandomSource(seededRandom(71));
  source.produce(5);
  const sink = new AccountingSink();
  let corrupt = 2;
  const inner = source.fetch.bind(source);
  source.fetch = async (from, max, signal) => {
    const a = await inner(from, max, signal);
    if (corrupt > 0 && a.records.length > 0) {
      corrupt--;
      const bad = Buffer.from(a.records);
      bad[16] = 1; // magic
      return { ...a, records: bad };
    }
    return a;
  };
  const r = new PartitionReplicator(source, sink, fast());
  r.start();
  await r.waitFor(caughtUp(source));
  assert.equal(r.status().errors, 2);
  assert.match(r.status().lastError ?? '', /magic/);
  verify(source, sink, r);
  await r.stop();
});

test('pipelining: with a slow source and sink, 2 fetches in flight beat 1, appends stay in order', async () => {
  async function timeWith(maxInFlight: number): Promise<{ ms: number; maxSeen: number }> {
    const source = new RandomSource(seededRandom(81));
    source.produce(16);
    source.fetchDelayMs = 15;
    const sink = new AccountingSink();
    sink.appendDelayMs = 15;
    // one batch per fetch (maxBytes tiny; at least one batch is always returned)
    const r = new PartitionReplicator(source, sink, fast({ maxBytes: 1, maxInFlight }));
    const t0 = Date.now();
    r.start();
    await r.waitFor(caughtUp(source), 5000);
    const ms = Date.now() - t0;
    verify(source, sink, r);
    await r.stop();
    return { ms, maxSeen: source.maxInFlightSeen };
  }
  // never more in flight than allowed, and what the overlap buys: the best of up to three tries (a stall of this
  // process during one of them says nothing about pipelining)
  const tries: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const one = await timeWith(1);
    const two = await timeWith(2);
    assert.equal(one.maxSeen, 1);
    assert.ok(two.maxSeen <= 2, `${two.maxSeen} fetches in flight`);
    tries.push(`${two.ms} vs ${one.ms} ms`);
    if (two.ms < one.ms * 0.8) return;
  }
  assert.fail(`2 in flight should beat 1: ${tries.join(', ')}`);
});

test('stop during a slow fetch resolves promptly', async () => {
  const source = new RandomSource(seededRandom(91));
  source.produce(3);
  source.fetchDelayMs = 10_000;
  const sink = new AccountingSink();
  const r = new PartitionReplicator(source, sink, fast());
  r.start();
  await new Promise((res) => setTimeout(res, 5));
  const t0 = Date.now();
  await r.stop();
  assert.ok(Date.now() - t0 < 500);
  assert.throws(() => r.start(), /already started/);
});
