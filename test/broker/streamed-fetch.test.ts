// A Fetch whose data comes from segment files answers before its reads have finished: the reads are planned as
// whole batches, the response is encoded at once, and the connection writes it up to the first part still being
// read (RequestContext.deferPart). Here the threadpool reads are made to finish out of order and late (an
// in-process broker over a StorageFs that delays each async read by an amount that falls with its position), so
// a part written before its bytes arrived, or a part skipped, would show up as wrong records or a bad CRC. A read
// that fails after the response has started closes that connection only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/client.js';
import { InProcessBroker } from '../helpers/in-process-broker.js';
import { buildRecordBatch, computeBatchCrc, decodeRecords, recordBatches } from '../../src/protocol/record-batch.js';
import { defaultStorageFs } from '../../src/storage/index.js';
import type { StorageFs } from '../../src/storage/types.js';

const PARTITIONS = 3;
const BATCHES = 180; // per partition: 180 batches of 50 records of ~1 KiB, ~9 MiB, so reads come in 4 MiB pieces
const PER_BATCH = 50;

/** Which async reads fail (by file position), for the failure case. */
let failReadsAt: ((position: number) => boolean) | null = null;
let asyncReads = 0;

/** node:fs whose async reads answer late, later pieces of a file sooner than earlier ones. */
const shuffledReads: StorageFs = {
  ...defaultStorageFs,
  read: (fd, buf, offset, length, position, cb) => {
    asyncReads++;
    const delay = 60 - Math.min(50, Math.floor(position / (256 * 1024)));
    // the bytes land only after the delay: a part sent before its read returned would carry stale bytes
    setTimeout(() => {
      if (failReadsAt?.(position)) return cb(Object.assign(new Error('injected read failure'), { code: 'EIO' }), 0);
      defaultStorageFs.read!(fd, buf, offset, length, position, cb);
    }, delay);
  },
};

const value = (p: number, b: number, r: number): string => `p${p}-b${b}-r${r}-${'x'.repeat(1000)}`;

describe('streamed fetch responses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-streamed-fetch-'));
  const node = new InProcessBroker(dir, 'streamed-fetch');
  let client: KafkaClient;

  before(async () => {
    client = await node.start();
    const created = await client.createTopics([{ name: 'sf', numPartitions: PARTITIONS }]);
    assert.equal(created[0]!.errorCode, 0, created[0]!.errorMessage ?? '');
    for (let b = 0; b < BATCHES; b++) {
      for (let p = 0; p < PARTITIONS; p++) {
        const records = Array.from({ length: PER_BATCH }, (_, r) => ({ key: null, value: value(p, b, r) }));
        await client.produce('sf', p, buildRecordBatch({ records }), { acks: 1 });
      }
    }
    // restarted over the slow filesystem: the data is on disk only (the tail cache starts empty)
    await node.stop();
    client = await node.start(shuffledReads);
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends every record, in order and intact, when the reads finish out of order', async () => {
    const readsBefore = asyncReads;
    const next = Array.from({ length: PARTITIONS }, () => 0);
    while (next.some((o) => o < BATCHES * PER_BATCH)) {
      const result = await client.fetch(
        next.map((fetchOffset, partition) => ({ topic: 'sf', partition, fetchOffset })),
        { maxWaitMs: 0, minBytes: 1, maxBytes: 32 << 20, partitionMaxBytes: 9 << 20 },
      );
      for (const part of result) {
        assert.equal(part.errorCode, 0);
        for (const batch of recordBatches(part.records)) {
          assert.equal(computeBatchCrc(batch.buf, batch.pos, batch.size), batch.crc, `CRC of the batch at offset ${batch.baseOffset}`);
          assert.equal(batch.baseOffset, next[part.partition], `partition ${part.partition} continues where it left off`);
          const b = batch.baseOffset / PER_BATCH;
          assert.deepEqual(
            decodeRecords(batch).map((r) => r.value?.toString()),
            Array.from({ length: PER_BATCH }, (_, r) => value(part.partition, b, r)),
          );
          next[part.partition] = batch.baseOffset + batch.recordCount;
        }
      }
    }
    assert.ok(asyncReads - readsBefore >= PARTITIONS * 2, `the data came from segment files in pieces (${asyncReads - readsBefore} async reads)`);
  });

  it('closes only the connection whose response cannot be completed when a read fails', async () => {
    failReadsAt = (position) => position >= 4 << 20; // partition data past the first piece
    const other = new KafkaClient({ brokers: `127.0.0.1:${node.port}`, clientId: 'streamed-fetch-other', retries: 0 });
    try {
      // The client reports a lost connection as an error on each partition of the request (no records).
      const failed = await client.fetch([{ topic: 'sf', partition: 0, fetchOffset: 0 }], { maxWaitMs: 0, minBytes: 1, maxBytes: 32 << 20, partitionMaxBytes: 9 << 20 });
      assert.notEqual(failed[0]!.errorCode, 0, 'the response could not be completed, so the connection was closed');
      assert.equal(failed[0]!.records.length, 0);
      failReadsAt = null;
      const result = await other.fetch([{ topic: 'sf', partition: 1, fetchOffset: 0 }], { maxWaitMs: 0, minBytes: 1, maxBytes: 32 << 20, partitionMaxBytes: 9 << 20 });
      assert.equal(result[0]!.errorCode, 0);
      let count = 0;
      let expected = 0;
      for (const batch of recordBatches(result[0]!.records)) {
        assert.equal(batch.baseOffset, expected);
        expected += batch.recordCount;
        count++;
      }
      assert.ok(count > 100, `the other connection reads as before (${count} batches)`);
    } finally {
      failReadsAt = null;
      await other.close();
    }
  });
});
