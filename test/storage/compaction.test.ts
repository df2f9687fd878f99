import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Compression } from '../../src/protocol/compression.js';
import { RecordBatch } from '../../src/protocol/record-batch.js';
import type { PartitionLog } from '../../src/storage/types.js';
import { batch, config, open, readAll, tempDir, tick, TOPIC_ID } from './helpers.js';

const tp = { topic: 'customers', partition: 0 };
const compacted = config({ cleanupPolicy: 'compact', segmentBytes: 400, deleteRetentionMs: 1000 });

function put(log: PartitionLog, key: string, value: string | null, compression: 0 | 1 | 2 | 3 | 4 = 0) {
  return log.append(batch({ values: [value], keys: [key], timestamp: 1000, compression }), { leaderEpoch: 0 }).baseOffset;
}

function latestByKey(log: PartitionLog): Map<string, { offset: number; value: string | null }> {
  const m = new Map<string, { offset: number; value: string | null }>();
  for (const r of readAll(log)) m.set(r.key!.toString(), { offset: r.offset, value: r.value?.toString() ?? null });
  return m;
}

describe('compaction', () => {
  it('keeps the latest record per key with its original offset in closed segments', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, compacted);
    const expected = new Map<string, number>();
    for (let round = 0; round < 6; round++) {
      for (const key of ['k0', 'k1', 'k2', 'k3']) {
        const offset = put(log, key, `${key}-v${round}`.padEnd(40, '.'), round % 2 ? Compression.gzip : Compression.none);
        expected.set(key, offset);
      }
    }
    const before = readAll(log);
    const activeBase = Math.max(...readdirSync(log.dir).filter((n) => n.endsWith('.log')).map((n) => Number(n.slice(0, 20))));
    log.maintain(10_000);
    await tick();
    const after = readAll(log);
    assert.ok(after.length < before.length, `${before.length} -> ${after.length} records`);
    // every remaining record is byte-identical in offset and value to the one appended there
    const byOffset = new Map(before.map((r) => [r.offset, r.value?.toString()]));
    for (const r of after) assert.equal(r.value?.toString(), byOffset.get(r.offset));
    // below the active segment, one record per key; the latest values all survive
    const closed = after.filter((r) => r.offset < activeBase);
    const keys = closed.map((r) => r.key!.toString());
    assert.equal(new Set(keys).size, keys.length, 'no key twice in the cleaned segments');
    const latest = latestByKey(log);
    for (const [key, offset] of expected) assert.equal(latest.get(key)!.offset, offset);
    assert.equal(log.logEndOffset, 24, 'offsets preserved: the log end does not move');
    // rewritten batches are valid and keep their offset span
    for (const b of log.read(0, { maxBytes: 1 << 20, minOneBatch: true, isolation: 'read_uncommitted' }).batches) {
      assert.ok(new RecordBatch(b).verifyCrc());
    }
    // a second pass with nothing new changes nothing
    const sizeAfter = log.sizeInBytes;
    log.maintain(20_000);
    assert.equal(log.sizeInBytes, sizeAfter);
  });

  it('cleans again only when min.cleanable.dirty.ratio of the log is dirty, or max.compaction.lag.ms has passed', async (t) => {
    const storage = await open(t, tempDir(t));
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `key${i}`);
    const cases = [
      { name: 'default', extra: {}, cleansAgain: false },
      { name: 'eager', extra: { minCleanableDirtyRatio: 0.01 }, cleansAgain: true },
      { name: 'lagged', extra: { maxCompactionLagMs: 5_000 }, cleansAgain: true },
    ];
    for (const c of cases) {
      const log = storage.openLog({ topic: c.name, partition: 0 }, TOPIC_ID, config({ ...compacted, ...c.extra }));
      for (const round of [1, 2]) for (const key of keys(40)) put(log, key, `${key}-v${round}`.padEnd(40, '.'));
      log.maintain(10_000); // the first pass sees only dirty data
      const cleaned = readAll(log).length;
      assert.ok(cleaned < 50, `${c.name}: the first pass cleans 80 records down to ${cleaned}`);
      // a sliver of new data (four updates, under a tenth of the log) in a closed segment
      for (const key of keys(4)) put(log, key, `${key}-v3`.padEnd(40, '.'));
      put(log, 'roll', 'x'.padEnd(300, '.'));
      const before = readAll(log).length;
      log.maintain(16_000);
      const after = readAll(log).length;
      assert.equal(after < before, c.cleansAgain, `${c.name}: ${before} -> ${after} records`);
    }
  });

  it('remembers what it cleaned across a restart, so a sliver of new data does not make the whole log dirty', async (t) => {
    const dataDir = tempDir(t);
    const keys = Array.from({ length: 40 }, (_, i) => `key${i}`);
    let storage = await open(t, dataDir);
    let log = storage.openLog(tp, TOPIC_ID, compacted);
    for (const round of [1, 2]) for (const key of keys) put(log, key, `${key}-v${round}`.padEnd(40, '.'));
    log.maintain(10_000);
    await storage.close();
    assert.ok(readdirSync(log.dir).includes('cleaner-offset-checkpoint'));

    storage = await open(t, dataDir);
    log = storage.openLog(tp, TOPIC_ID, compacted);
    for (const key of keys.slice(0, 4)) put(log, key, `${key}-v3`.padEnd(40, '.'));
    put(log, 'roll', 'x'.padEnd(300, '.'));
    const before = readAll(log).length;
    log.maintain(16_000);
    assert.equal(readAll(log).length, before, 'under min.cleanable.dirty.ratio: not cleaned again');
    // losing the mark costs one cleaning, nothing else
    await storage.close();
    rmSync(join(log.dir, 'cleaner-offset-checkpoint'));
    storage = await open(t, dataDir);
    log = storage.openLog(tp, TOPIC_ID, compacted);
    log.maintain(20_000);
    assert.ok(readAll(log).length < before);
    const latest = latestByKey(log);
    for (const key of keys.slice(0, 4)) assert.equal(latest.get(key)!.value, `${key}-v3`.padEnd(40, '.'));
  });

  it('keeps tombstones for delete.retention.ms after the first cleaning, then removes them', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, compacted);
    put(log, 'gone', 'value'.padEnd(100, '.'));
    put(log, 'kept', 'value'.padEnd(100, '.'));
    const tombstone = put(log, 'gone', null);
    for (let i = 0; i < 8; i++) put(log, `filler${i}`, 'x'.padEnd(100, '.'));

    log.maintain(50_000);
    let latest = latestByKey(log);
    assert.equal(latest.get('gone')!.offset, tombstone);
    assert.equal(latest.get('gone')!.value, null);
    assert.ok(!readAll(log).some((r) => r.key!.toString() === 'gone' && r.value !== null), 'the value it deletes is gone');

    log.maintain(50_500); // before the horizon (50_000 + 1000)
    assert.ok(latestByKey(log).has('gone'));
    log.maintain(51_001);
    latest = latestByKey(log);
    assert.ok(!latest.has('gone'), 'tombstone removed after delete.retention.ms');
    assert.ok(latest.has('kept'));
  });

  it('respects min.compaction.lag.ms', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, { ...compacted, minCompactionLagMs: 5000 });
    for (let i = 0; i < 12; i++) put(log, 'same', `v${i}`.padEnd(60, '.'));
    const n = readAll(log).length;
    log.maintain(5_999); // segments' max timestamp is 1000: not old enough until 6000
    assert.equal(readAll(log).length, n);
    log.maintain(6_000);
    assert.ok(readAll(log).length < n);
  });

  it('deletes segments compaction emptied, keeping the first so the log start stays put', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const log = storage.openLog(tp, TOPIC_ID, compacted);
    for (let i = 0; i < 16; i++) put(log, 'same', `v${i}`.padEnd(100, '.'));
    const before = readdirSync(log.dir).filter((n) => n.endsWith('.log')).length;
    log.maintain(10_000);
    await tick();
    const files = readdirSync(log.dir).filter((n) => n.endsWith('.log')).sort();
    assert.ok(files.length < before, `${before} -> ${files.length} segments`);
    assert.equal(files[0], '00000000000000000000.log');
    assert.equal(log.logStartOffset, 0);
    const values = readAll(log).map((r) => r.value!.toString().replace(/\.+$/, ''));
    assert.ok(values.length < 16 && values.at(-1) === 'v15', values.join(' '));
    await storage.close();
    const again = (await open(t, dataDir)).openLog(tp, TOPIC_ID, compacted);
    assert.equal(again.logStartOffset, 0);
    assert.equal(again.logEndOffset, 16);
    assert.deepEqual(readAll(again).map((r) => r.value!.toString().replace(/\.+$/, '')), values);
  });

  it('keeps an empty batch for a producer whose last batch lost all its records', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, compacted);
    log.append(batch({ values: ['a'.padEnd(100)], keys: ['k'], producerId: 9, producerEpoch: 0, baseSequence: 0, timestamp: 1000 }), { leaderEpoch: 0 });
    log.append(batch({ values: ['b'.padEnd(100)], keys: ['k'], producerId: 9, producerEpoch: 0, baseSequence: 1, timestamp: 1000 }), { leaderEpoch: 0 });
    for (let i = 0; i < 6; i++) put(log, 'k', `plain${i}`.padEnd(100)); // overwrites k without a producer id
    log.maintain(10_000);
    const batches = log.read(0, { maxBytes: 1 << 20, minOneBatch: true, isolation: 'read_uncommitted' }).batches.map((b) => new RecordBatch(b));
    const producerBatches = batches.filter((b) => b.producerId === 9);
    assert.deepEqual(producerBatches.map((b) => [b.baseOffset, b.recordCount, b.baseSequence]), [[1, 0, 1]]);
    assert.equal(log.append(batch({ values: ['c'], keys: ['k'], producerId: 9, producerEpoch: 0, baseSequence: 2, timestamp: 1000 }), { leaderEpoch: 0 }).duplicate, false);
  });

  it('survives a restart after compaction with indexes that match the rewritten files', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const log = storage.openLog(tp, TOPIC_ID, compacted);
    for (let i = 0; i < 30; i++) put(log, `k${i % 3}`, `v${i}`.padEnd(50, '.'));
    log.maintain(10_000);
    const expected = readAll(log).map((r) => [r.offset, r.value?.toString()]);
    await storage.close();
    const reopened = await open(t, dataDir, { tailCacheBytes: 0 });
    const again = reopened.openLog(tp, TOPIC_ID, compacted);
    assert.deepEqual(readAll(again).map((r) => [r.offset, r.value?.toString()]), expected);
    assert.ok(!readdirSync(again.dir).some((n) => n.endsWith('.cleaned')));
  });
});
