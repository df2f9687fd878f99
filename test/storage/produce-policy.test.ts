// Topic configs that act on produced batches and on when segments roll and logs flush: message.timestamp.*,
// compression.type (with its levels), segment.jitter.ms, segment.index.bytes, flush.messages and flush.ms; and the
// rest of Kafka's checks of a producer's batch (timestamp type, keys on compacted topics, sequence numbers), with
// the refused records named as Kafka names them (recordErrors).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Compression, initCompression } from '../../src/protocol/compression.js';
import { ErrorCode, KafkaError, RecordValidationError } from '../../src/protocol/errors.js';
import { buildRecordBatch, decodeRecords, RecordBatch } from '../../src/protocol/record-batch.js';
import { defaultStorageFs } from '../../src/storage/fs.js';
import { batch, config, open, readAll, tempDir, TOPIC_ID } from './helpers.js';

const tp = { topic: 'policy', partition: 0 };
const HOUR = 3_600_000;
const NOW = 1_700_000_000_000;

function rejects(fn: () => unknown, code: number, text?: RegExp) {
  assert.throws(fn, (err: unknown) => err instanceof KafkaError && err.code === code && (!text || text.test(err.message)));
}

/** The error `fn` throws, which must be a RecordValidationError with `code`. */
function recordErrorsOf(fn: () => unknown, code: number): RecordValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RecordValidationError, `expected a RecordValidationError, got ${String(err)}`);
    assert.equal(err.code, code);
    return err;
  }
  assert.fail('the append was accepted');
}

/** base offsets of the segment files in a log directory */
function segmentBases(log: { dir: string }): number[] {
  return readdirSync(log.dir)
    .filter((n) => n.endsWith('.log'))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

function storedBatches(log: { read: (o: number, opts: never) => { batches: Buffer[] } }): RecordBatch[] {
  const res = log.read(0, { maxBytes: 1 << 20, minOneBatch: true, isolation: 'read_uncommitted' } as never);
  return res.batches.map((b) => new RecordBatch(b));
}

describe('message.timestamp.before.max.ms / after.max.ms', () => {
  it('refuses a CreateTime batch with a record too far ahead or behind the broker clock, and appends nothing', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ timestampAfterMaxMs: HOUR, timestampBeforeMaxMs: 24 * HOUR }));
    const at = { leaderEpoch: 0, nowMs: NOW };

    log.append(batch({ values: ['ok'], timestamp: NOW + HOUR }), at); // exactly at the bound
    rejects(() => log.append(batch({ values: ['future'], timestamp: NOW + HOUR + 1 }), at), ErrorCode.INVALID_TIMESTAMP, /out of range/);
    rejects(() => log.append(batch({ values: ['old'], timestamp: NOW - 24 * HOUR - 1 }), at), ErrorCode.INVALID_TIMESTAMP);
    // the second record lies before the batch's base timestamp (a negative delta): the header alone cannot tell
    const negativeDelta = batch({ values: ['a', 'b'], timestamps: [NOW, NOW - 25 * HOUR] });
    rejects(() => log.append(negativeDelta, at), ErrorCode.INVALID_TIMESTAMP);
    // the same inside a compressed batch
    const zipped = batch({ values: ['a', 'b'], timestamps: [NOW, NOW - 25 * HOUR], compression: Compression.gzip });
    rejects(() => log.append(zipped, at), ErrorCode.INVALID_TIMESTAMP);
    assert.equal(log.logEndOffset, 1, 'only the first batch was appended');
  });

  it('names the records out of range (recordErrors), as Kafka does', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ timestampAfterMaxMs: HOUR, timestampBeforeMaxMs: HOUR }));
    const spec = { values: ['a', 'b', 'c', 'd'], timestamps: [NOW, NOW + 2 * HOUR, NOW - 1000, NOW - 2 * HOUR] };
    for (const compression of [Compression.none, Compression.gzip]) {
      const err = recordErrorsOf(() => log.append(batch({ ...spec, compression }), { leaderEpoch: 0, nowMs: NOW }), ErrorCode.INVALID_TIMESTAMP);
      assert.deepEqual(err.recordErrors.map((e) => e.batchIndex), [1, 3]);
      assert.match(err.recordErrors[0]!.message, new RegExp(`timestamp ${NOW + 2 * HOUR} is out of range \\[${NOW - HOUR}, ${NOW + HOUR}\\]`));
      assert.match(err.message, /^2 records refused/);
    }
    assert.equal(log.logEndOffset, 0);
  });

  it('does not apply to LogAppendTime topics or to replicated (preserve) appends', async (t) => {
    const storage = await open(t, tempDir(t));
    const strict = { timestampAfterMaxMs: 0, timestampBeforeMaxMs: 0 };
    const appendTime = storage.openLog(tp, TOPIC_ID, config({ ...strict, messageTimestampType: 'LogAppendTime' }));
    appendTime.append(batch({ values: ['x'], timestamp: NOW + 10 * HOUR }), { leaderEpoch: 0, nowMs: NOW });
    assert.equal(appendTime.logEndOffset, 1);

    const shadow = storage.openLog({ topic: 'mirror', partition: 0 }, TOPIC_ID, config(strict));
    shadow.append(batch({ values: ['x'], timestamp: NOW - 10 * HOUR }), { leaderEpoch: 0, nowMs: NOW, offsets: 'preserve' });
    assert.equal(shadow.logEndOffset, 1);
  });
});

describe("a producer's batch", () => {
  const logAppendTimeBatch = (ts: number) =>
    buildRecordBatch({ records: [{ key: null, value: 'x', timestamp: ts }, { key: null, value: 'y', timestamp: ts }], timestampType: 'LogAppendTime' });

  it('flagged LogAppendTime: refused on a LogAppendTime topic, stored as CreateTime on a CreateTime topic', async (t) => {
    const storage = await open(t, tempDir(t));
    const at = { leaderEpoch: 0, nowMs: NOW };
    const appendTime = storage.openLog(tp, TOPIC_ID, config({ messageTimestampType: 'LogAppendTime' }));
    const err = recordErrorsOf(() => appendTime.append(logAppendTimeBatch(NOW), at), ErrorCode.INVALID_TIMESTAMP);
    assert.deepEqual(err.recordErrors.map((e) => e.batchIndex), [0, 1]);
    assert.equal(appendTime.logEndOffset, 0);

    const createTime = storage.openLog({ topic: 'create', partition: 0 }, TOPIC_ID, config());
    // without a timestamp there is nothing to keep: refused there too
    recordErrorsOf(() => createTime.append(logAppendTimeBatch(-1), at), ErrorCode.INVALID_TIMESTAMP);
    createTime.append(logAppendTimeBatch(NOW - 5), at);
    const [stored] = storedBatches(createTime as never);
    assert.equal(stored!.timestampType, 'CreateTime');
    assert.equal(stored!.maxTimestamp, NOW - 5);
    assert.deepEqual(
      decodeRecords(stored!).map((r) => r.timestamp),
      [NOW - 5, NOW - 5],
    );
    assert.ok(stored!.verifyCrc(), 'the CRC was recomputed for the new attributes');
  });

  it('flagged LogAppendTime and claiming a billion records: refused as corrupt, without a billion record errors', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ messageTimestampType: 'LogAppendTime' }));
    const lying = logAppendTimeBatch(NOW);
    lying.writeInt32BE(999_999_999, 23); // lastOffsetDelta
    lying.writeInt32BE(1_000_000_000, 57); // recordCount, consistent with it
    new RecordBatch(lying).updateCrc();
    rejects(() => log.append(lying, { leaderEpoch: 0, nowMs: NOW }), ErrorCode.CORRUPT_MESSAGE);
    assert.equal(log.logEndOffset, 0);
  });

  it('without keys on a compacted topic: refused, naming each keyless record', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ cleanupPolicy: 'compact' }));
    const err = recordErrorsOf(
      () => log.append(batch({ values: ['a', 'b', 'c'], keys: ['k', null, null] }), { leaderEpoch: 0 }),
      ErrorCode.INVALID_RECORD,
    );
    assert.deepEqual(err.recordErrors.map((e) => e.batchIndex), [1, 2]);
    assert.match(err.message, /2 of 3 records/);
    log.append(batch({ values: ['a'], keys: ['k'] }), { leaderEpoch: 0 });
    assert.equal(log.logEndOffset, 1);
  });

  it('with a producer id but no sequence number: refused with INVALID_RECORD', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config());
    rejects(() => log.append(batch({ values: ['a'], producerId: 7, producerEpoch: 0, baseSequence: -1 }), { leaderEpoch: 0 }), ErrorCode.INVALID_RECORD, /sequence/);
    log.append(batch({ values: ['a'], producerId: 7, producerEpoch: 0, baseSequence: 0 }), { leaderEpoch: 0 });
    assert.equal(log.logEndOffset, 1);
  });
});

describe('compression.type', () => {
  it('stores batches in the topic codec: records, offsets, timestamps and producer fields unchanged', async (t) => {
    await initCompression();
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ compression: Compression.zstd, compressionLevel: 5 }));
    const plain = buildRecordBatch({
      records: [
        { key: 'k1', value: 'v'.repeat(2000), timestamp: 1000, headers: [{ key: 'h', value: 'x' }] },
        { key: 'k2', value: 'w'.repeat(2000), timestamp: 1005 },
      ],
      producerId: 42,
      producerEpoch: 1,
      baseSequence: 0,
    });
    const res = log.append(plain, { leaderEpoch: 2 });
    assert.equal(res.baseOffset, 0);
    const alreadyZstd = batch({ values: ['z'], compression: Compression.zstd });
    log.append(alreadyZstd, { leaderEpoch: 2 });
    const gzip = batch({ values: ['g1', 'g2'], compression: Compression.gzip });
    log.append(gzip, { leaderEpoch: 2 });

    const stored = storedBatches(log);
    assert.deepEqual(stored.map((b) => b.compression), [Compression.zstd, Compression.zstd, Compression.zstd]);
    for (const b of stored) assert.ok(b.verifyCrc());
    assert.ok(stored[0]!.size < plain.length / 4, `zstd shrank ${plain.length} bytes to ${stored[0]!.size}`);
    const first = stored[0]!;
    assert.deepEqual([first.producerId, first.producerEpoch, first.baseSequence, first.partitionLeaderEpoch], [42, 1, 0, 2]);
    assert.deepEqual([first.baseTimestamp, first.maxTimestamp, first.lastOffsetDelta], [1000, 1005, 1]);
    // the batch already in zstd is stored byte for byte (after the offset and epoch fields)
    assert.deepEqual(stored[1]!.bytes.subarray(16), alreadyZstd.subarray(16));

    const records = readAll(log);
    assert.deepEqual(
      records.map((r) => [r.offset, r.key?.toString() ?? null, r.value?.toString().slice(0, 2), r.timestamp]),
      [
        [0, 'k1', 'vv', 1000],
        [1, 'k2', 'ww', 1005],
        [2, null, 'z', 1_000_000],
        [3, null, 'g1', 1_000_000],
        [4, null, 'g2', 1_000_000],
      ],
    );
    assert.deepEqual(records[0]!.headers, [{ key: 'h', value: Buffer.from('x') }]);

    // the idempotent producer's retry of the first batch is still recognised as a duplicate
    const retry = log.append(plain, { leaderEpoch: 2 });
    assert.deepEqual([retry.duplicate, retry.baseOffset], [true, 0]);
  });

  it('"uncompressed" decompresses, the gzip level is applied, and a batch grown past max.message.bytes is refused', async (t) => {
    const storage = await open(t, tempDir(t));
    const values = Array.from({ length: 50 }, (_, i) => `record ${i} `.repeat(40));
    const zipped = batch({ values, compression: Compression.gzip });

    const plainLog = storage.openLog({ topic: 'plain', partition: 0 }, TOPIC_ID, config({ compression: Compression.none }));
    plainLog.append(zipped, { leaderEpoch: 0 });
    const stored = storedBatches(plainLog)[0]!;
    assert.equal(stored.compression, Compression.none);
    assert.deepEqual(decodeRecords(stored).map((r) => r.value!.toString()), values);

    const fast = storage.openLog({ topic: 'gzip1', partition: 0 }, TOPIC_ID, config({ compression: Compression.gzip, compressionLevel: 1 }));
    const best = storage.openLog({ topic: 'gzip9', partition: 0 }, TOPIC_ID, config({ compression: Compression.gzip, compressionLevel: 9 }));
    const input = batch({ values });
    fast.append(Buffer.from(input), { leaderEpoch: 0 });
    best.append(Buffer.from(input), { leaderEpoch: 0 });
    assert.ok(best.sizeInBytes < fast.sizeInBytes, `level 9 (${best.sizeInBytes} B) beats level 1 (${fast.sizeInBytes} B)`);

    const small = storage.openLog({ topic: 'small', partition: 0 }, TOPIC_ID, config({ compression: Compression.none, maxMessageBytes: zipped.length + 100 }));
    rejects(() => small.append(zipped, { leaderEpoch: 0 }), ErrorCode.MESSAGE_TOO_LARGE, /after recompression with none/);
    assert.equal(small.logEndOffset, 0);
  });

  it('leaves replicated (preserve) appends as their source stored them', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ compression: Compression.gzip }));
    log.append(batch(['a', 'b']), { leaderEpoch: 0, offsets: 'preserve' });
    assert.equal(storedBatches(log)[0]!.compression, Compression.none);
  });
});

describe('segment.jitter.ms and segment.index.bytes', () => {
  it('rolls a segment by time up to segment.jitter.ms early, the amount drawn once per segment', async (t) => {
    const storage = await open(t, tempDir(t));
    t.mock.method(Math, 'random', () => 0.5);
    const jittered = storage.openLog(tp, TOPIC_ID, config({ segmentMs: 1000, segmentJitterMs: 600 }));
    const plain = storage.openLog({ topic: 'plain', partition: 0 }, TOPIC_ID, config({ segmentMs: 1000 }));
    for (const log of [jittered, plain]) {
      log.append(batch(['a']), { leaderEpoch: 0, nowMs: NOW });
      log.append(batch(['b']), { leaderEpoch: 0, nowMs: NOW + 800 }); // 800 > 1000 − 0.5 × 600
    }
    assert.deepEqual(segmentBases(jittered), [0, 1]);
    assert.deepEqual(segmentBases(plain), [0]);
    // the jitter is capped at segment.ms
    const capped = storage.openLog({ topic: 'capped', partition: 0 }, TOPIC_ID, config({ segmentMs: 1000, segmentJitterMs: 1_000_000 }));
    capped.append(batch(['a']), { leaderEpoch: 0, nowMs: NOW });
    capped.append(batch(['b']), { leaderEpoch: 0, nowMs: NOW + 400 });
    assert.deepEqual(segmentBases(capped), [0]);
    capped.append(batch(['c']), { leaderEpoch: 0, nowMs: NOW + 501 });
    assert.deepEqual(segmentBases(capped), [0, 2]);
  });

  it('rolls a compacted topic\'s active segment within max.compaction.lag.ms', async (t) => {
    const storage = await open(t, tempDir(t));
    const compacted = storage.openLog(tp, TOPIC_ID, config({ cleanupPolicy: 'compact', segmentMs: 10_000, maxCompactionLagMs: 1000 }));
    const deleting = storage.openLog({ topic: 'plain', partition: 0 }, TOPIC_ID, config({ segmentMs: 10_000, maxCompactionLagMs: 1000 }));
    for (const log of [compacted, deleting]) {
      log.append(batch({ values: ['a'], keys: ['k'] }), { leaderEpoch: 0, nowMs: NOW });
      log.append(batch({ values: ['b'], keys: ['k'] }), { leaderEpoch: 0, nowMs: NOW + 1500 });
    }
    assert.deepEqual(segmentBases(compacted), [0, 1]);
    assert.deepEqual(segmentBases(deleting), [0]);
  });

  it('rolls when an index is full at segment.index.bytes', async (t) => {
    const storage = await open(t, tempDir(t));
    // Index entries for every batch but a segment's first (as in Kafka); 24 bytes hold three offset entries
    // (8 bytes each) and two time entries (12), so the time index fills after a segment's third batch.
    const log = storage.openLog(tp, TOPIC_ID, config({ indexIntervalBytes: 1, segmentIndexBytes: 24 }));
    for (let i = 0; i < 7; i++) log.append(batch({ values: [`v${i}`], timestamp: 1000 + i }), { leaderEpoch: 0 });
    assert.deepEqual(segmentBases(log), [0, 3, 6]);
    // with 16 bytes, one time entry: two batches per segment
    const small = storage.openLog({ topic: 'small', partition: 0 }, TOPIC_ID, config({ indexIntervalBytes: 1, segmentIndexBytes: 16 }));
    for (let i = 0; i < 5; i++) small.append(batch({ values: [`v${i}`], timestamp: 1000 + i }), { leaderEpoch: 0 });
    assert.deepEqual(segmentBases(small), [0, 2, 4]);
    assert.deepEqual(readAll(log).map((r) => r.value!.toString()), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
  });
});

describe('flush.messages and flush.ms', () => {
  it('starts an fsync once flush.messages records are unflushed, and says so to the producer', async (t) => {
    let fsyncs = 0;
    const fs = {
      ...defaultStorageFs,
      fsync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
        fsyncs++;
        defaultStorageFs.fsync(fd, cb);
      },
    };
    const storage = await open(t, tempDir(t), { fs });
    const log = storage.openLog(tp, TOPIC_ID, config({ flushMessages: 3 }));
    const r1 = log.append(batch(['a', 'b']), { leaderEpoch: 0 });
    assert.deepEqual([r1.flushDue, fsyncs], [false, 0]);
    const r2 = log.append(batch(['c']), { leaderEpoch: 0 });
    assert.deepEqual([r2.flushDue, fsyncs], [true, 1], 'the append itself started the fsync');
    await log.flush();
    assert.equal(log.append(batch(['d']), { leaderEpoch: 0 }).flushDue, false, 'counting starts again after the fsync');
  });

  it('starts an fsync on append when the last one began flush.ms ago', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ flushMs: 1000 }));
    let flushes = 0;
    const original = log.flush.bind(log);
    t.mock.method(log, 'flush', () => {
      flushes++;
      return original();
    });
    log.append(batch(['a']), { leaderEpoch: 0, nowMs: Date.now() });
    assert.equal(flushes, 0);
    log.append(batch(['b']), { leaderEpoch: 0, nowMs: Date.now() + 1500 });
    assert.equal(flushes, 1);
    await original();
  });
});
