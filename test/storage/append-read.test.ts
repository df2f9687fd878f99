import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Compression } from '../../src/protocol/compression.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { buildRecordBatch, RecordBatch } from '../../src/protocol/record-batch.js';
import { batch, config, open, readAll, recordsOf, tempDir, TOPIC_ID, valuesOf } from './helpers.js';

const tp = { topic: 'orders', partition: 0 };
const uncommitted = { maxBytes: 1 << 20, minOneBatch: true, isolation: 'read_uncommitted' } as const;

function rejects(fn: () => unknown, code: number) {
  assert.throws(fn, (err: unknown) => err instanceof KafkaError && err.code === code);
}

describe('append and read', () => {
  it('assigns offsets, rewrites baseOffset and leader epoch only, and reads the batches back', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config());
    const input = Buffer.concat([batch(['a', 'b']), batch(['c', 'd', 'e']), batch(['f'])]);
    const original = Buffer.from(input);
    const res = log.append(input, { leaderEpoch: 3 });
    assert.deepEqual(res, { baseOffset: 0, lastOffset: 5, logAppendTimeMs: -1, logStartOffset: 0, duplicate: false, flushDue: false });
    assert.equal(log.logEndOffset, 6);
    assert.equal(log.highWatermark, 6);

    const read = log.read(0, uncommitted);
    assert.equal(read.batches.length, 3);
    assert.equal(read.bytes, input.length);
    assert.deepEqual(read.batches.map((b) => new RecordBatch(b).baseOffset), [0, 2, 5]);
    for (const b of read.batches) {
      const view = new RecordBatch(b);
      assert.equal(view.partitionLeaderEpoch, 3);
      assert.ok(view.verifyCrc());
    }
    // Only bytes 0-7 and 12-15 of each batch differ from what the producer sent.
    const stored = Buffer.concat(read.batches);
    let pos = 0;
    for (const b of read.batches) {
      assert.deepEqual(stored.subarray(pos + 16, pos + b.length), original.subarray(pos + 16, pos + b.length));
      assert.deepEqual(stored.subarray(pos + 8, pos + 12), original.subarray(pos + 8, pos + 12));
      pos += b.length;
    }
    assert.deepEqual(valuesOf(read.batches), ['a', 'b', 'c', 'd', 'e', 'f']);

    const next = log.append(batch(['g']), { leaderEpoch: 3 });
    assert.equal(next.baseOffset, 6);
    assert.deepEqual(readAll(log).map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6]);
  });

  it('returns the batch holding the fetch offset, honours maxBytes and minOneBatch', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config());
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = batch(['x'.repeat(100), 'y'.repeat(100)]);
      sizes.push(b.length);
      log.append(b, { leaderEpoch: 0 });
    }
    const mid = log.read(3, uncommitted);
    assert.equal(new RecordBatch(mid.batches[0]!).baseOffset, 2, 'batch containing offset 3 starts at 2');
    assert.equal(mid.batches.length, 4);

    const two = log.read(0, { ...uncommitted, maxBytes: sizes[0]! * 2 + 10 });
    assert.equal(two.batches.length, 2);

    const tiny = log.read(0, { ...uncommitted, maxBytes: 10 });
    assert.equal(tiny.batches.length, 1, 'minOneBatch returns the first batch even when too large');
    const none = log.read(0, { ...uncommitted, maxBytes: 10, minOneBatch: false });
    assert.equal(none.batches.length, 0);

    const atEnd = log.read(10, uncommitted);
    assert.deepEqual(atEnd.batches, []);
    assert.equal(atEnd.highWatermark, 10);
    rejects(() => log.read(11, uncommitted), ErrorCode.OFFSET_OUT_OF_RANGE);
    rejects(() => log.read(-1, uncommitted), ErrorCode.OFFSET_OUT_OF_RANGE);
    const committed = log.read(0, { ...uncommitted, isolation: 'read_committed' });
    assert.equal(committed.lastStableOffset, 10);
    assert.equal(committed.batches.length, 5);
  });

  it('serves the same bytes from the segments as from the tail cache', async (t) => {
    const dir = tempDir(t);
    const cached = await open(t, dir + '/a');
    const uncached = await open(t, dir + '/b', { tailCacheBytes: 0 });
    const logs = [cached.openLog(tp, TOPIC_ID, config({ indexIntervalBytes: 256 })), uncached.openLog(tp, TOPIC_ID, config({ indexIntervalBytes: 256 }))];
    for (let i = 0; i < 200; i++) {
      const b = batch({ values: [`v${i}`, `w${i}`], timestamp: 1000 + i });
      for (const log of logs) log.append(Buffer.from(b), { leaderEpoch: 1 });
    }
    for (const offset of [0, 1, 57, 200, 399]) {
      for (const maxBytes of [1, 500, 5000, 1 << 20]) {
        const a = logs[0]!.read(offset, { ...uncommitted, maxBytes });
        const b = logs[1]!.read(offset, { ...uncommitted, maxBytes });
        assert.deepEqual(Buffer.concat(a.batches), Buffer.concat(b.batches), `offset ${offset} maxBytes ${maxBytes}`);
        assert.equal(a.bytes, b.bytes);
      }
    }
    assert.deepEqual(readAll(logs[1]!).map((r) => r.value?.toString()).slice(0, 4), ['v0', 'w0', 'v1', 'w1']);
  });

  it('reads and recovers batches larger than the read and scan buffers', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir, { tailCacheBytes: 0 });
    const cfg = config({ maxMessageBytes: 4 << 20, indexIntervalBytes: 128 });
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    const sizes = [100, 300_000, 50, 1_500_000, 70_000, 20];
    for (const [i, n] of sizes.entries()) log.append(batch([String(i).repeat(n)]), { leaderEpoch: 0 });
    const check = (l: typeof log) => {
      for (const [i, n] of sizes.entries()) {
        const res = l.read(i, { ...uncommitted, maxBytes: 1 });
        assert.equal(res.batches.length, 1);
        assert.equal(valuesOf(res.batches)[0]!.length, n);
      }
      assert.deepEqual(readAll(l).map((r) => r.value!.length), sizes);
    };
    check(log);
    const reopened = await open(t, dataDir, { tailCacheBytes: 0 }); // after a crash: every batch is rescanned
    check(reopened.openLog(tp, TOPIC_ID, cfg));
  });

  it('rejects a bad CRC, garbage, empty input and bad counts, appending nothing', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config());
    log.append(batch(['ok']), { leaderEpoch: 0 });

    const flipped = batch(['hello', 'world']);
    flipped[flipped.length - 2]! ^= 0xff;
    rejects(() => log.append(Buffer.concat([batch(['fine']), flipped]), { leaderEpoch: 0 }), ErrorCode.CORRUPT_MESSAGE);
    rejects(() => log.append(Buffer.from('this is not a record batch, just some bytes of garbage!!!!!!!!!!!!!!'), { leaderEpoch: 0 }), ErrorCode.CORRUPT_MESSAGE);
    rejects(() => log.append(Buffer.alloc(0), { leaderEpoch: 0 }), ErrorCode.CORRUPT_MESSAGE);
    rejects(() => log.append(batch(['a', 'b']).subarray(0, 70), { leaderEpoch: 0 }), ErrorCode.CORRUPT_MESSAGE);
    const magic1 = batch(['a']);
    magic1[16] = 1;
    rejects(() => log.append(magic1, { leaderEpoch: 0 }), ErrorCode.CORRUPT_MESSAGE);
    const wrongCount = buildRecordBatch({ records: [{ value: 'a' }, { value: 'b' }], lastOffsetDelta: 5 });
    rejects(() => log.append(wrongCount, { leaderEpoch: 0 }), ErrorCode.INVALID_RECORD);
    const control = buildRecordBatch({ records: [{ key: Buffer.from([0, 0, 0, 1]), value: 'x' }], isControl: true });
    rejects(() => log.append(control, { leaderEpoch: 0 }), ErrorCode.INVALID_RECORD);

    assert.equal(log.logEndOffset, 1);
    assert.deepEqual(valuesOf(log.read(0, uncommitted).batches), ['ok']);
  });

  it('rejects a batch larger than max.message.bytes', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ maxMessageBytes: 1000 }));
    log.append(batch(['x'.repeat(800)]), { leaderEpoch: 0 });
    rejects(() => log.append(batch(['x'.repeat(1000)]), { leaderEpoch: 0 }), ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(log.logEndOffset, 1);
    log.updateConfig(config({ maxMessageBytes: 5000 }));
    log.append(batch(['x'.repeat(1000)]), { leaderEpoch: 0 });
    assert.equal(log.logEndOffset, 2);
  });

  it('stamps LogAppendTime topics with the broker time and a valid CRC', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ messageTimestampType: 'LogAppendTime' }));
    const res = log.append(batch({ values: ['a', 'b'], timestamp: 5 }), { leaderEpoch: 0, nowMs: 1_234_567 });
    assert.equal(res.logAppendTimeMs, 1_234_567);
    const b = new RecordBatch(log.read(0, uncommitted).batches[0]!);
    assert.equal(b.timestampType, 'LogAppendTime');
    assert.equal(b.maxTimestamp, 1_234_567);
    assert.ok(b.verifyCrc());
    assert.deepEqual(recordsOf([b.bytes]).map((r) => r.timestamp), [1_234_567, 1_234_567]);
  });

  it('preserve mode keeps offsets, gaps and every byte, and refuses to go backwards', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ messageTimestampType: 'LogAppendTime' }));
    const a = buildRecordBatch({ baseOffset: 100, partitionLeaderEpoch: 7, records: [{ value: 'a' }, { value: 'b' }] });
    const b = buildRecordBatch({ baseOffset: 110, partitionLeaderEpoch: 8, records: [{ value: 'c' }], compression: Compression.lz4 });
    const both = Buffer.concat([a, b]);
    const res = log.append(Buffer.from(both), { leaderEpoch: 99, offsets: 'preserve' });
    assert.equal(res.baseOffset, 100);
    assert.equal(res.lastOffset, 110);
    assert.equal(res.logAppendTimeMs, -1);
    assert.equal(log.logEndOffset, 111);
    assert.equal(log.logStartOffset, 100, 'an empty shadow starts where the source data starts');
    assert.deepEqual(Buffer.concat(log.read(100, uncommitted).batches), both);
    assert.deepEqual(Buffer.concat(log.read(105, uncommitted).batches), b, 'a fetch in a gap gets the next batch');
    assert.deepEqual(log.endOffsetForEpoch(7), { leaderEpoch: 7, endOffset: 110 });

    rejects(() => log.append(buildRecordBatch({ baseOffset: 110, records: [{ value: 'x' }] }), { leaderEpoch: 0, offsets: 'preserve' }), ErrorCode.OFFSET_OUT_OF_RANGE);
    const disorder = Buffer.concat([
      buildRecordBatch({ baseOffset: 120, records: [{ value: 'x' }] }),
      buildRecordBatch({ baseOffset: 115, records: [{ value: 'y' }] }),
    ]);
    rejects(() => log.append(disorder, { leaderEpoch: 0, offsets: 'preserve' }), ErrorCode.INVALID_RECORD);
    assert.equal(log.logEndOffset, 111);
  });

  it('requires keys on compacted topics, checking inside compressed batches', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ cleanupPolicy: 'compact' }));
    log.append(batch({ values: ['v'], keys: ['k'], compression: Compression.zstd }), { leaderEpoch: 0 });
    rejects(() => log.append(batch({ values: ['v', 'w'], keys: ['k', null], compression: Compression.snappy }), { leaderEpoch: 0 }), ErrorCode.INVALID_RECORD);
    assert.equal(log.logEndOffset, 1);
  });

  it('finds offsets by timestamp and the max timestamp, decoding only the batch that holds them', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 600, indexIntervalBytes: 100 }));
    for (let i = 0; i < 20; i++) {
      const ts = 10_000 + i * 100;
      log.append(batch({ values: [`a${i}`, `b${i}`], timestamps: [ts, ts + 50], compression: i % 2 ? Compression.gzip : 0 }), { leaderEpoch: 2 });
    }
    log.append(batch({ values: ['late'], timestamps: [50_000] }), { leaderEpoch: 4 });
    log.append(batch({ values: ['early'], timestamps: [9_000] }), { leaderEpoch: 4 });
    assert.deepEqual(log.offsetForTimestamp(0), { offset: 0, timestamp: 10_000, leaderEpoch: 2 });
    assert.deepEqual(log.offsetForTimestamp(10_000), { offset: 0, timestamp: 10_000, leaderEpoch: 2 });
    assert.deepEqual(log.offsetForTimestamp(10_001), { offset: 1, timestamp: 10_050, leaderEpoch: 2 });
    assert.deepEqual(log.offsetForTimestamp(10_720), { offset: 15, timestamp: 10_750, leaderEpoch: 2 });
    assert.deepEqual(log.offsetForTimestamp(11_951), { offset: 40, timestamp: 50_000, leaderEpoch: 4 });
    assert.equal(log.offsetForTimestamp(50_001), null);
    assert.deepEqual(log.offsetOfMaxTimestamp(), { offset: 40, timestamp: 50_000, leaderEpoch: 4 });
  });

  it('answers OffsetForLeaderEpoch from the epoch history', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config());
    assert.deepEqual(log.endOffsetForEpoch(0), { leaderEpoch: -1, endOffset: -1 });
    log.append(batch(['a', 'b']), { leaderEpoch: 1 });
    log.append(batch(['c']), { leaderEpoch: 1 });
    log.append(batch(['d']), { leaderEpoch: 3 });
    log.append(batch(['e']), { leaderEpoch: 5 });
    assert.deepEqual(log.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 3 });
    assert.deepEqual(log.endOffsetForEpoch(2), { leaderEpoch: 1, endOffset: 3 });
    assert.deepEqual(log.endOffsetForEpoch(3), { leaderEpoch: 3, endOffset: 4 });
    assert.deepEqual(log.endOffsetForEpoch(5), { leaderEpoch: 5, endOffset: 5 });
    assert.deepEqual(log.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 0 });
    assert.deepEqual(log.endOffsetForEpoch(6), { leaderEpoch: -1, endOffset: -1 });
  });

  it('reports the topic id and keeps it in partition.metadata', async (t) => {
    const dir = tempDir(t);
    const storage = await open(t, dir);
    const log = storage.openLog(tp, TOPIC_ID, config());
    assert.equal(log.topicId, TOPIC_ID);
    assert.equal(log.dir, `${dir}/logs/orders-0`);
    await storage.close();
    const again = await open(t, dir);
    assert.throws(
      () => again.openLog(tp, '11111111-2222-3333-4444-555555555555', config()),
      (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.INCONSISTENT_TOPIC_ID,
    );
  });
});
