import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import type { PartitionLog } from '../../src/storage/types.js';
import { batch, config, open, tempDir, TOPIC_ID } from './helpers.js';

const tp = { topic: 'payments', partition: 2 };

function produce(log: PartitionLog, producerId: number, producerEpoch: number, baseSequence: number, count = 2) {
  const values = Array.from({ length: count }, (_, i) => `p${producerId}-e${producerEpoch}-s${baseSequence + i}`);
  return log.append(batch({ values, producerId, producerEpoch, baseSequence }), { leaderEpoch: 0 });
}

function rejects(fn: () => unknown, code: number) {
  assert.throws(fn, (err: unknown) => err instanceof KafkaError && err.code === code);
}

describe('idempotent producer state', () => {
  it('returns the original offsets for a duplicate of any of the last five batches and writes nothing', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config());
    const first = produce(log, 1000, 0, 0);
    for (let seq = 2; seq < 12; seq += 2) produce(log, 1000, 0, seq);
    const end = log.logEndOffset;
    const size = log.sizeInBytes;

    const dup = produce(log, 1000, 0, 10);
    assert.deepEqual(dup, { baseOffset: 10, lastOffset: 11, logAppendTimeMs: -1, logStartOffset: 0, duplicate: true, flushDue: false });
    assert.deepEqual(produce(log, 1000, 0, 4).duplicate, true);
    assert.equal(log.logEndOffset, end);
    assert.equal(log.sizeInBytes, size);
    // The first batch has left the window of five: it is no longer a duplicate but out of order.
    assert.equal(first.baseOffset, 0);
    rejects(() => produce(log, 1000, 0, 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });

  it('rejects gaps, old epochs and a new epoch not starting at 0; accepts an unknown producer anywhere', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config());
    produce(log, 7, 2, 0);
    rejects(() => produce(log, 7, 2, 5), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    rejects(() => produce(log, 7, 1, 2), ErrorCode.INVALID_PRODUCER_EPOCH);
    rejects(() => produce(log, 7, 3, 4), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    produce(log, 7, 2, 2);
    produce(log, 7, 3, 0);
    rejects(() => produce(log, 7, 2, 4), ErrorCode.INVALID_PRODUCER_EPOCH);
    produce(log, 8, 0, 4711); // unknown producer (e.g. its batches were deleted by retention)
    produce(log, 8, 0, 4713);
    assert.equal(log.logEndOffset, 10);
    assert.deepEqual(log.producerIds(), { maxProducerId: 8 });
  });

  it('checks several batches of one producer in one append against each other', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config());
    produce(log, 5, 0, 0);
    const two = Buffer.concat([
      batch({ values: ['a', 'b'], producerId: 5, producerEpoch: 0, baseSequence: 2 }),
      batch({ values: ['c'], producerId: 5, producerEpoch: 0, baseSequence: 4 }),
    ]);
    assert.equal(log.append(two, { leaderEpoch: 0 }).lastOffset, 4);
    const gap = Buffer.concat([
      batch({ values: ['d'], producerId: 5, producerEpoch: 0, baseSequence: 5 }),
      batch({ values: ['e'], producerId: 5, producerEpoch: 0, baseSequence: 7 }),
    ]);
    rejects(() => log.append(gap, { leaderEpoch: 0 }), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // the rejected append left no trace: sequence 5 is still the next one
    produce(log, 5, 0, 5);
  });

  it('updates producer state in preserve mode without checking it', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config());
    const b = batch({ values: ['x'], producerId: 90210, producerEpoch: 1, baseSequence: 40 });
    b.writeUInt32BE(0, 0);
    b.writeUInt32BE(0, 4);
    log.append(b, { leaderEpoch: 0, offsets: 'preserve' });
    assert.deepEqual(log.producerIds(), { maxProducerId: 90210 });
    // after failover the same producer continues in sequence, and a retry of its last batch is a duplicate
    assert.equal(produce(log, 90210, 1, 40, 1).duplicate, true);
    assert.equal(produce(log, 90210, 1, 41, 1).baseOffset, 1);
  });

  for (const shutdown of ['crash', 'clean'] as const) {
    it(`rebuilds producer state after a ${shutdown} restart`, async (t) => {
      const dir = tempDir(t);
      const storage = await open(t, dir);
      const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 400 }));
      for (let seq = 0; seq < 20; seq += 2) produce(log, 31, 4, seq);
      produce(log, 32, 0, 0);
      if (shutdown === 'clean') await storage.close();

      const reopened = await open(t, dir);
      const again = reopened.openLog(tp, TOPIC_ID, config({ segmentBytes: 400 }));
      assert.equal(again.logEndOffset, 22);
      assert.deepEqual(produce(again, 31, 4, 18), { baseOffset: 18, lastOffset: 19, logAppendTimeMs: -1, logStartOffset: 0, duplicate: true, flushDue: false });
      rejects(() => produce(again, 31, 4, 30), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      rejects(() => produce(again, 31, 3, 0), ErrorCode.INVALID_PRODUCER_EPOCH);
      assert.equal(produce(again, 31, 4, 20).baseOffset, 22);
      assert.equal(produce(again, 32, 0, 2, 1).baseOffset, 24);
      assert.deepEqual(again.producerIds(), { maxProducerId: 32 });
    });
  }
});
