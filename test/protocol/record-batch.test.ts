import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { before, describe, it } from 'node:test';
import { Compression, initCompression } from '../../src/protocol/compression.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import {
  buildRecordBatch,
  decodeRecords,
  Framing,
  frameSizeAt,
  incrementSequence,
  RecordBatch,
  recordBatches,
} from '../../src/protocol/record-batch.js';

const require = createRequire(import.meta.url);

/** kafkajs's own RecordBatch v2 encoder: an independent implementation to check our reader and CRC against. */
async function kafkajsBatch(compression: number): Promise<Buffer> {
  const { RecordBatch: RecordBatchV0 } = require('kafkajs/src/protocol/recordBatch/v0') as {
    RecordBatch: (o: object) => Promise<{ buffer: Buffer }>;
  };
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (o: object) => unknown;
  const Long = require('kafkajs/src/utils/long') as { fromInt(n: number): unknown; fromValue(n: number): unknown };
  const records = [
    Record({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: { h: Buffer.from('x') } }),
    Record({ offsetDelta: 1, timestampDelta: 5, key: Buffer.from('k2'), value: Buffer.from('v2') }),
  ];
  const encoder = await RecordBatchV0({
    compression,
    firstOffset: Long.fromInt(0),
    firstTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_005,
    partitionLeaderEpoch: 0,
    lastOffsetDelta: 1,
    producerId: Long.fromValue(42),
    producerEpoch: 3,
    firstSequence: 7,
    records,
  });
  return encoder.buffer;
}

const corrupt = (fn: () => unknown) =>
  assert.throws(fn, (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.CORRUPT_MESSAGE);

describe('RecordBatch v2', () => {
  before(() => initCompression());

  it('reads header fields of a batch encoded by kafkajs and verifies its CRC', async () => {
    const bytes = await kafkajsBatch(0);
    const b = new RecordBatch(bytes);
    assert.equal(b.size, bytes.length);
    assert.equal(b.magic, 2);
    assert.ok(b.verifyCrc());
    assert.equal(b.compression, Compression.none);
    assert.equal(b.timestampType, 'CreateTime');
    assert.equal(b.lastOffsetDelta, 1);
    assert.equal(b.baseTimestamp, 1_700_000_000_000);
    assert.equal(b.maxTimestamp, 1_700_000_000_005);
    assert.equal(b.producerId, 42);
    assert.equal(b.producerEpoch, 3);
    assert.equal(b.baseSequence, 7);
    assert.equal(b.lastSequence, 8);
    assert.equal(b.recordCount, 2);
    const records = decodeRecords(b);
    assert.deepEqual(
      records.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString()]),
      [
        [0, 1_700_000_000_000, 'k1', 'v1'],
        [1, 1_700_000_000_005, 'k2', 'v2'],
      ],
    );
    assert.deepEqual(records[0]!.headers, [{ key: 'h', value: Buffer.from('x') }]);
  });

  it('decodes a gzip batch encoded by kafkajs', async () => {
    const bytes = await kafkajsBatch(1);
    const b = new RecordBatch(bytes);
    assert.equal(b.compression, Compression.gzip);
    assert.ok(b.verifyCrc());
    assert.deepEqual(decodeRecords(b).map((r) => r.value?.toString()), ['v1', 'v2']);
  });

  it('builds batches that round-trip through decodeRecords for every codec', () => {
    for (const compression of [0, 1, 2, 3, 4] as const) {
      const bytes = buildRecordBatch({
        compression,
        baseOffset: 100,
        records: [
          { key: 'a', value: 'one', timestamp: 1000, headers: [{ key: 'trace', value: 'abc' }, { key: 'n', value: null }] },
          { key: null, value: null, timestamp: 990 },
          { key: Buffer.from([0, 1, 2]), value: 'x'.repeat(5000), timestamp: 1200 },
        ],
        producerId: 9,
        producerEpoch: 1,
        baseSequence: 0,
      });
      const b = new RecordBatch(bytes);
      assert.ok(b.verifyCrc(), `crc for codec ${compression}`);
      assert.equal(b.compression, compression);
      assert.equal(b.baseOffset, 100);
      assert.equal(b.lastOffset, 102);
      assert.equal(b.baseTimestamp, 1000);
      assert.equal(b.maxTimestamp, 1200);
      assert.equal(b.recordCount, 3);
      const recs = decodeRecords(bytes);
      assert.deepEqual(recs.map((r) => r.offset), [100, 101, 102]);
      assert.deepEqual(recs.map((r) => r.timestamp), [1000, 990, 1200]);
      assert.equal(recs[0]!.key?.toString(), 'a');
      assert.deepEqual(recs[0]!.headers, [{ key: 'trace', value: Buffer.from('abc') }, { key: 'n', value: null }]);
      assert.equal(recs[1]!.key, null);
      assert.equal(recs[1]!.value, null);
      assert.deepEqual(recs[2]!.key, Buffer.from([0, 1, 2]));
      assert.equal(recs[2]!.value?.length, 5000);
    }
  });

  it('patches baseOffset and partitionLeaderEpoch without invalidating the CRC', () => {
    const bytes = buildRecordBatch({ records: [{ value: 'v' }, { value: 'w' }] });
    const b = new RecordBatch(bytes);
    const crc = b.crc;
    b.baseOffset = 2 ** 40 + 5;
    b.partitionLeaderEpoch = 17;
    assert.equal(b.baseOffset, 2 ** 40 + 5);
    assert.equal(b.partitionLeaderEpoch, 17);
    assert.equal(b.crc, crc);
    assert.ok(b.verifyCrc());
    assert.deepEqual(decodeRecords(b).map((r) => r.offset), [2 ** 40 + 5, 2 ** 40 + 6]);
  });

  it('stamps LogAppendTime with a new CRC and reports it as every record timestamp', () => {
    const bytes = buildRecordBatch({ records: [{ value: 'v', timestamp: 5 }, { value: 'w', timestamp: 6 }] });
    const b = new RecordBatch(bytes);
    b.setLogAppendTime(123_456);
    assert.equal(b.timestampType, 'LogAppendTime');
    assert.equal(b.maxTimestamp, 123_456);
    assert.ok(b.verifyCrc());
    assert.deepEqual(decodeRecords(b).map((r) => r.timestamp), [123_456, 123_456]);
  });

  it('detects a flipped bit with the CRC', () => {
    const bytes = buildRecordBatch({ records: [{ value: 'hello' }] });
    bytes[bytes.length - 3]! ^= 0x01;
    assert.equal(new RecordBatch(bytes).verifyCrc(), false);
  });

  it('keeps record timestamps when a delete horizon takes the base timestamp (KIP-534)', () => {
    const bytes = buildRecordBatch({
      records: [{ key: 'k', value: null, timestamp: 1000 }],
      deleteHorizonMs: 99_000,
    });
    const b = new RecordBatch(bytes);
    assert.ok(b.hasDeleteHorizon);
    assert.equal(b.deleteHorizonMs, 99_000);
    assert.equal(decodeRecords(b)[0]!.timestamp, 1000);
  });

  it('iterates a concatenation and rejects bad framing', () => {
    const a = buildRecordBatch({ records: [{ value: 'a' }] });
    const c = buildRecordBatch({ records: [{ value: 'c' }, { value: 'd' }] });
    const all = Buffer.concat([a, c]);
    assert.deepEqual([...recordBatches(all)].length, 2);
    const sizes: number[] = [];
    for (const b of recordBatches(all)) sizes.push(b.size);
    assert.deepEqual(sizes, [a.length, c.length]);

    assert.equal(frameSizeAt(all, 0), a.length);
    assert.equal(frameSizeAt(all.subarray(0, a.length + 30), a.length), Framing.TRUNCATED);
    corrupt(() => [...recordBatches(all.subarray(0, all.length - 1))]);

    const badMagic = Buffer.from(a);
    badMagic[16] = 1;
    assert.equal(frameSizeAt(badMagic, 0), Framing.BAD_MAGIC);
    corrupt(() => [...recordBatches(badMagic)]);

    const badLength = Buffer.from(a);
    badLength.writeInt32BE(10, 8);
    assert.equal(frameSizeAt(badLength, 0), Framing.BAD_LENGTH);
    corrupt(() => [...recordBatches(Buffer.from('garbage that is not a batch at all, not even close to one'))]);
  });

  it('reports records that do not parse as CORRUPT_MESSAGE', () => {
    const bytes = buildRecordBatch({ records: [{ value: 'hello' }] });
    bytes.writeInt32BE(5, 57); // claims 5 records, holds 1
    corrupt(() => decodeRecords(bytes));
    const gz = buildRecordBatch({ records: [{ value: 'hello' }], compression: Compression.gzip });
    gz.fill(0, 70);
    corrupt(() => decodeRecords(gz));
  });

  it('keeps an explicit lastOffsetDelta and offset gaps (compaction)', () => {
    const bytes = buildRecordBatch({
      baseOffset: 10,
      records: [{ key: 'a', value: '1', offsetDelta: 1 }, { key: 'b', value: '2', offsetDelta: 4 }],
      lastOffsetDelta: 6,
      producerId: 5,
      baseSequence: 100,
    });
    const b = new RecordBatch(bytes);
    assert.equal(b.lastOffset, 16);
    assert.equal(b.lastSequence, 106);
    assert.deepEqual(decodeRecords(b).map((r) => r.offset), [11, 14]);
  });

  it('wraps sequences at INT32_MAX', () => {
    assert.equal(incrementSequence(0x7fffffff, 1), 0);
    assert.equal(incrementSequence(0x7ffffffe, 3), 1);
    assert.equal(incrementSequence(5, 3), 8);
  });
});
