// `umbra shadow verify`: the batch-by-batch comparison on its own (hand-made batches: identical, corrupt on either
// side, missing, compacted differently), then end to end between two real Umbra brokers: a link replicating a
// plain, a zstd-compressed and two compacted topics (one the shadow compacts on its own) verifies clean (exit 0); a byte flipped inside a record batch of a
// shadow segment file while the shadow is down is found and named (partition and offset, exit 1); a segment file
// lost from the middle of a shadow partition shows as a range missing on the shadow.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/client.js';
import { Compression } from '../../src/protocol/compression.js';
import { buildRecordBatch, frameSizeAt, RecordBatch } from '../../src/protocol/record-batch.js';
import type { VerifyReport } from '../../src/shadow/service.js';
import { compareBatches, factsOf, type BatchFacts } from '../../src/shadow/verify.js';
import { runCli, show } from '../cli/run-cli.js';
import { kcatPrint, AdminApi, waitCaughtUp, waitFor } from '../helpers/shadow.js';
import { kcatProduce, requirePeers } from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

// ---- the comparison on hand-made batches ----------------------------------------------------------------------

/** A stored batch at `base` with `n` records (values tagged so two batches can differ). */
function stored(base: number, n: number, tag = 'v'): Buffer {
  const b = buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: `k${base + i}`, value: `${tag}-${base + i}`, timestamp: 1_700_000_000_000 })),
    compression: Compression.none,
  });
  new RecordBatch(b).baseOffset = base;
  return b;
}

function stream(batches: Buffer[]): { take(): Promise<BatchFacts | null> } {
  let i = 0;
  return { take: async () => (i < batches.length ? factsOf(batches[i]!, 0, batches[i++]!.length) : null) };
}

function corrupt(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c[c.length - 3] = c[c.length - 3]! ^ 0x01;
  return c;
}

describe('verify: comparing batch streams', () => {
  const range = { from: 0, to: 30 };
  const plain = [stored(0, 10), stored(10, 10), stored(20, 10)];

  it('finds identical streams identical', async () => {
    const w = await compareBatches(stream(plain), stream(plain.map((b) => Buffer.from(b))), range, false);
    assert.equal(w.differences, 0);
    assert.equal(w.firstDifferenceOffset, -1);
    assert.equal(w.batches, 3);
    assert.equal(w.bytes, plain.reduce((n, b) => n + b.length, 0));
  });

  it('names the corrupt side by the recomputed CRC32C, even when the header still matches', async () => {
    const shadowSide = [plain[0]!, corrupt(plain[1]!), plain[2]!];
    const w = await compareBatches(stream(plain), stream(shadowSide), range, false);
    assert.equal(w.differences, 1);
    assert.equal(w.firstDifferenceOffset, 10);
    assert.match(w.difference, /^batch at 10: CRC32C recomputed over the shadow's stored bytes is 0x[0-9a-f]{8}, the header says 0x[0-9a-f]{8}; the source batch is intact — the shadow's copy is corrupt$/);

    const s = await compareBatches(stream([corrupt(plain[0]!), plain[1]!, plain[2]!]), stream(plain), range, false);
    assert.equal(s.firstDifferenceOffset, 0);
    assert.match(s.difference, /the source's copy is corrupt/);
  });

  it('reports batches that hold other records, and offsets that do not line up', async () => {
    const other = [plain[0]!, stored(10, 10, 'other'), plain[2]!];
    const w = await compareBatches(stream(plain), stream(other), range, false);
    assert.equal(w.firstDifferenceOffset, 10);
    assert.match(w.difference, /both intact/);
    const split = [plain[0]!, stored(10, 5), stored(15, 5), plain[2]!];
    const s = await compareBatches(stream(plain), stream(split), range, false);
    assert.equal(s.firstDifferenceOffset, 10);
    assert.match(s.difference, /the source batch holds offsets 10-19, the shadow's 10-14/);
  });

  it('lists ranges missing on either side, clipped to the compared range', async () => {
    const w = await compareBatches(stream(plain), stream([plain[0]!, plain[2]!]), range, false);
    assert.deepEqual(w.missingOnShadow.ranges, [{ from: 10, to: 20 }]);
    assert.equal(w.differences, 0);
    const s = await compareBatches(stream([plain[0]!]), stream(plain), { from: 5, to: 25 }, false);
    assert.deepEqual(s.missingOnSource.ranges, [{ from: 10, to: 25 }]);
  });

  it('compacted topics: batches each side compacted on its own are not differences; corruption still is', async () => {
    // the source dropped a batch and rewrote another with fewer records (same base and last offset)
    const compactedSource = [stored(0, 10), stored(20, 10)];
    const rewritten = buildRecordBatch({
      records: [{ key: 'k19', value: 'v-19', timestamp: 1_700_000_000_000 }],
      compression: Compression.none,
    });
    const rb = new RecordBatch(rewritten);
    rb.baseOffset = 10;
    rewritten.writeInt32BE(9, 23); // lastOffsetDelta 9: the batch still ends at 19, as compaction leaves it
    rb.updateCrc();
    const w = await compareBatches(stream([plain[0]!, rewritten, plain[2]!]), stream(plain), range, true);
    assert.equal(w.differences, 0);
    assert.deepEqual(w.compactedDifferently.ranges, [{ from: 10, to: 20 }]);
    const gone = await compareBatches(stream(compactedSource), stream(plain), range, true);
    assert.equal(gone.differences, 0);
    assert.deepEqual(gone.compactedDifferently.ranges, [{ from: 10, to: 20 }]);
    assert.deepEqual(gone.missingOnSource.ranges, []);
    const bad = await compareBatches(stream(plain), stream([plain[0]!, plain[1]!, corrupt(plain[2]!)]), range, true);
    assert.equal(bad.firstDifferenceOffset, 20);
  });
});

// ---- end to end ---------------------------------------------------------------------------------------------

const LINK = 'dr';

function linkDoc(bootstrap: string): Record<string, unknown> {
  return {
    name: LINK,
    client_options: { bootstrap_servers: [bootstrap], fetch_wait_max_ms: 100, retry_backoff_ms: 50, connection_timeout_ms: 1000 },
    topic_metadata_sync_options: { interval: '300ms', auto_create_shadow_topic_filters: [{ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: 'v_' }] },
    consumer_offset_sync_options: { interval: '1s' },
  };
}

function messages(n: number, tag: string): { key: string; value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ key: `k${i % 40}`, value: `${tag}-${i}-${'v'.repeat(i % 60)}` }));
}

/** Every batch of a segment file: [position, size, base offset]. */
function batchesOf(path: string): { position: number; size: number; base: number; last: number }[] {
  const buf = readFileSync(path);
  const out: { position: number; size: number; base: number; last: number }[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const size = frameSizeAt(buf, pos);
    if (size < 0) break;
    const b = new RecordBatch(buf, pos);
    out.push({ position: pos, size, base: b.baseOffset, last: b.lastOffset });
    pos += size;
  }
  return out;
}

function segmentFiles(dataDir: string, topic: string, partition: number): string[] {
  const dir = join(dataDir, 'logs', `${topic}-${partition}`);
  return readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()
    .map((n) => join(dir, n));
}

function flipByte(path: string, position: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, position);
    b[0] = b[0]! ^ 0x5a;
    writeSync(fd, b, 0, 1, position);
  } finally {
    closeSync(fd);
  }
}

describe('umbra shadow verify between two Umbra brokers', { timeout: 120_000 }, () => {
  let source: UmbraBroker;
  let shadow: UmbraBroker;
  let api: AdminApi;
  let src: KafkaClient;
  const topics = ['v_orders', 'v_zstd', 'v_compact', 'v_gap', 'v_compact_shadow'];

  const verify = async (...args: string[]): Promise<{ code: number | null; report: VerifyReport; raw: string }> => {
    const r = await runCli(['shadow', 'verify', LINK, '--admin-url', shadow.adminUrl, '--format', 'json', ...args], { timeoutMs: 60_000 });
    let report: VerifyReport;
    try {
      report = JSON.parse(r.stdout) as VerifyReport;
    } catch {
      assert.fail(`verify printed no JSON report:\n${show(r)}`);
    }
    return { code: r.code, report, raw: show(r) };
  };

  before(async () => {
    requirePeers(['kcat']);
    const maintenance = { brokerConfigs: { 'log.retention.check.interval.ms': 300 } };
    [source, shadow] = await Promise.all([startUmbra(maintenance), startUmbra(maintenance)]);
    api = new AdminApi(shadow.adminUrl);
    src = new KafkaClient({ brokers: source.bootstrap, clientId: 'verify-test' });
    const created = await src.createTopics([
      { name: 'v_orders', numPartitions: 3 },
      { name: 'v_zstd', numPartitions: 1 },
      { name: 'v_gap', numPartitions: 1 },
      // compacted, but never compacted on the source (one big segment); the shadow gets small segments and compacts
      { name: 'v_compact_shadow', numPartitions: 1, configs: { 'cleanup.policy': 'compact' } },
      {
        name: 'v_compact',
        numPartitions: 1,
        configs: { 'cleanup.policy': 'compact', 'internal.segment.bytes': '2048', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '0', 'segment.ms': '100' },
      },
    ]);
    for (const t of created) assert.equal(t.errorCode, 0, `${t.name}: ${t.errorMessage}`);
    const small = { 'batch.num.messages': 40 };
    await Promise.all([
      kcatProduce(source.bootstrap, 'v_orders', messages(1500, 'orders'), { config: small }),
      kcatProduce(source.bootstrap, 'v_zstd', messages(2000, 'zstd'), { compression: 'zstd', config: small }),
    ]);
    for (let round = 0; round < 4; round++) await kcatProduce(source.bootstrap, 'v_compact', messages(150, `compact${round}`));
    // the source compacts before the link exists: its log has gaps the shadow copies as they are
    await waitFor(
      'the source to compact v_compact',
      async () => {
        await kcatProduce(source.bootstrap, 'v_compact', [{ key: 'tick', value: String(Date.now()) }]);
        const lines = await kcatPrint(source.bootstrap, 'v_compact');
        return lines.length < Number(lines[lines.length - 1]!.split(' ')[1]) + 1;
      },
      30_000,
      300,
    );
    await api.ok('POST', '/v1/shadow-links', linkDoc(source.bootstrap));
    // v_gap and v_compact_shadow get small segments on the shadow (a local, non-synced property) before data arrives
    const local = ['v_gap', 'v_compact_shadow'];
    await waitFor('the shadow to create its topics', async () => {
      const names = (await api.status(LINK)).topics.map((t) => t.name);
      return local.every((n) => names.includes(n));
    });
    const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'verify-test-shadow' });
    try {
      await waitFor('the local segment size', async () => {
        const results = await dst.incrementalAlterConfigs(local.map((name) => ({ type: 2, name, ops: [{ name: 'internal.segment.bytes', op: 0, value: '1024' }] })));
        return results.every((r) => r.errorCode === 0);
      });
    } finally {
      await dst.close();
    }
    // one round at a time: the replicator appends what one fetch brought in one go, and a segment rolls between
    // appends; rounds go on until each shadow partition has a few segments
    const segments = (): number => Math.min(...local.map((t) => segmentFiles(shadow.dataDir, t, 0).length));
    for (let round = 0; round < 6 || segments() < 5; round++) {
      assert.ok(round < 30, `the shadow partitions still have ${segments()} segment(s)`);
      await Promise.all([
        kcatProduce(source.bootstrap, 'v_gap', messages(60, `gap${round}`), { config: { 'batch.num.messages': 20 } }),
        kcatProduce(source.bootstrap, 'v_compact_shadow', messages(60, `cs${round}`), { config: { 'batch.num.messages': 20 } }),
      ]);
      await waitCaughtUp(api, LINK, local, src);
    }
    await waitCaughtUp(api, LINK, topics, src);
    // the shadow compacts v_compact_shadow on its own: fewer records than the source, at the same offsets
    await waitFor('the shadow to compact v_compact_shadow', async () => (await kcatPrint(shadow.bootstrap, 'v_compact_shadow')).length < (await kcatPrint(source.bootstrap, 'v_compact_shadow')).length, 30_000, 300);
  });

  after(async () => {
    if (process.env.UMBRA_TEST_SHOW_LOGS) process.stderr.write(shadow?.logs() ?? '');
    await src?.close();
    await Promise.all([source?.destroy(), shadow?.destroy()]);
  });

  it('finds every shadowed topic identical to its source (exit 0)', async () => {
    const { code, report, raw } = await verify();
    assert.equal(code, 0, raw);
    assert.equal(report.ok, true, raw);
    assert.deepEqual(report.topics.map((t) => t.name), [...topics].sort());
    for (const t of report.topics) {
      assert.equal(t.error, '', `${t.name}: ${t.error}`);
      for (const p of t.partitions) {
        assert.ok(p.batches > 0, `${t.name}/${p.partition} compared no batch: ${JSON.stringify(p)}`);
        // the whole source range; a compacted shadow starts at the source's first batch left (its log start may be lower)
        if (t.compacted) assert.ok(p.compared.to === p.source.to && p.compared.from >= p.source.from, `${t.name}/${p.partition}: ${JSON.stringify(p)}`);
        else assert.deepEqual(p.compared, { from: p.source.from, to: p.source.to }, `${t.name}/${p.partition}: the whole source range is compared`);
        assert.equal(p.firstDifferenceOffset, -1);
      }
    }
    assert.equal(report.topics.find((t) => t.name === 'v_compact')!.compacted, true);
    // what the shadow compacted on its own is listed apart, and is not a difference
    const compactedHere = report.topics.find((t) => t.name === 'v_compact_shadow')!;
    assert.equal(compactedHere.compacted, true);
    assert.ok(compactedHere.partitions[0]!.compactedDifferently.length > 0, JSON.stringify(compactedHere));
    assert.equal(compactedHere.partitions[0]!.differences, 0);
    assert.equal(report.topics.find((t) => t.name === 'v_orders')!.partitions.length, 3);
    // zstd batches: many records per batch, compared without being decompressed
    const zstd = report.topics.find((t) => t.name === 'v_zstd')!.partitions[0]!;
    assert.ok(zstd.batches < 2000 / 10, `zstd batches: ${zstd.batches}`);
    assert.equal(report.summary.differences, 0);
    assert.equal(report.summary.partitions, 7);

    const text = await runCli(['shadow', 'verify', LINK, '--admin-url', shadow.adminUrl], { timeoutMs: 60_000 });
    assert.equal(text.code, 0, show(text));
    assert.match(text.stdout, /^Shadow link 'dr': OK/);
    assert.match(text.stdout, /v_orders\s+2\s+\[0, \d+\)\s+\d+\s+[\d.]+ (B|KiB|MiB)\s+identical/);
  });

  it('finds a byte flipped on disk inside a shadow record batch, naming the partition and offset (exit 1)', async () => {
    await shadow.stop();
    const [segment] = segmentFiles(shadow.dataDir, 'v_orders', 1);
    const batches = batchesOf(segment!);
    assert.ok(batches.length > 10, `v_orders/1 has ${batches.length} batches`);
    // the second batch: early in the file, far before the tail a restart re-reads with CRC checks
    const victim = batches[1]!;
    flipByte(segment!, victim.position + 61 + Math.floor((victim.size - 61) / 2));
    shadow = await shadow.restart();
    api = new AdminApi(shadow.adminUrl);
    assert.equal(batchesOf(segment!)[1]!.base, victim.base, 'the restart kept the damaged batch');

    const { code, report, raw } = await verify();
    assert.equal(code, 1, raw);
    assert.equal(report.ok, false);
    const orders = report.topics.find((t) => t.name === 'v_orders')!;
    const bad = orders.partitions.find((p) => p.partition === 1)!;
    assert.equal(bad.ok, false);
    assert.equal(bad.firstDifferenceOffset, victim.base);
    assert.match(bad.difference, new RegExp(`^batch at ${victim.base}: CRC32C recomputed over the shadow's stored bytes is 0x[0-9a-f]{8}, the header says 0x[0-9a-f]{8}; the source batch is intact — the shadow's copy is corrupt`));
    assert.equal(bad.differences, 1);
    for (const p of orders.partitions) if (p.partition !== 1) assert.equal(p.ok, true, `v_orders/${p.partition}`);
    for (const t of report.topics) if (t.name !== 'v_orders') assert.equal(t.ok, true, t.name);

    const text = await runCli(['shadow', 'verify', LINK, '--admin-url', shadow.adminUrl, '--topic', 'v_orders'], { timeoutMs: 60_000 });
    assert.equal(text.code, 1, show(text));
    assert.match(text.stdout, /NOT OK/);
    assert.match(text.stdout, new RegExp(`v_orders/1: batch at ${victim.base}: .*the shadow's copy is corrupt`));
    const other = await verify('--topic', 'v_zstd');
    assert.equal(other.code, 0, other.raw);
  });

  it('reports a range the shadow lost (a segment file gone from the middle of a partition) as missing (exit 1)', async () => {
    await shadow.stop();
    const files = segmentFiles(shadow.dataDir, 'v_gap', 0);
    assert.ok(files.length >= 4, `v_gap/0 has ${files.length} segments`);
    const lost = files[2]!;
    const from = batchesOf(lost)[0]!.base;
    const to = batchesOf(files[3]!)[0]!.base;
    for (const suffix of ['.log', '.index', '.timeindex']) rmSync(lost.replace(/\.log$/, suffix), { force: true });
    shadow = await shadow.restart();
    api = new AdminApi(shadow.adminUrl);

    const { code, report, raw } = await verify('--topic', 'v_gap');
    assert.equal(code, 1, raw);
    const p = report.topics[0]!.partitions[0]!;
    assert.deepEqual(p.missingOnShadow, [{ from, to }], raw);
    assert.deepEqual(p.missingOnSource, []);
    assert.equal(p.firstDifferenceOffset, -1, 'nothing that both hold differs');
    assert.equal(report.summary.missingRanges, 1);
    const text = await runCli(['shadow', 'verify', LINK, '--admin-url', shadow.adminUrl, '--topic', 'v_gap'], { timeoutMs: 60_000 });
    assert.equal(text.code, 1, show(text));
    assert.match(text.stdout, new RegExp(`v_gap/0: missing on the shadow \\[${from}, ${to}\\)`));
  });

  it('answers an unknown link or topic with an error (exit 1)', async () => {
    const r = await runCli(['shadow', 'verify', 'nope', '--admin-url', shadow.adminUrl], { timeoutMs: 30_000 });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /nope/);
    const t = await runCli(['shadow', 'verify', LINK, '--topic', 'v_none', '--admin-url', shadow.adminUrl], { timeoutMs: 30_000 });
    assert.equal(t.code, 1, show(t));
    assert.match(t.stderr, /does not shadow topic 'v_none'/);
  });
});
