// A long-polling Fetch must not miss an append that lands while its reads are in flight. Reads of data that is not
// in the tail cache go to the threadpool; a fetch over several partitions awaits them all, and an append to a
// partition read a moment earlier (found at its end) used to reach no waiter: the fetch then slept until maxWaitMs
// although it had its minBytes. Here the reads are slowed (an in-process broker over a StorageFs whose async reads
// answer after 300 ms), so the window is wide and the test deterministic.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/client.js';
import { InProcessBroker } from '../helpers/in-process-broker.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { defaultStorageFs } from '../../src/storage/index.js';
import type { StorageFs } from '../../src/storage/types.js';

const READ_DELAY_MS = 300;

/** node:fs with every asynchronous read answered READ_DELAY_MS late. */
const slowReads: StorageFs = {
  ...defaultStorageFs,
  read: (fd, buf, offset, length, position, cb) =>
    defaultStorageFs.read!(fd, buf, offset, length, position, (err, n) => setTimeout(() => cb(err, n), READ_DELAY_MS)),
};

describe('long poll', () => {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-long-poll-'));
  const node = new InProcessBroker(dir, 'long-poll');
  let client: KafkaClient;
  const values = (n: number, tag: string) => buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: null, value: `${tag}-${i}-${'v'.repeat(1000)}` })) });

  before(async () => {
    client = await node.start();
    const created = await client.createTopics([{ name: 'lp', numPartitions: 2 }]);
    assert.equal(created[0]!.errorCode, 0, created[0]!.errorMessage ?? '');
    // 1 MiB in batches of 10 records: a fetch of 256 KiB of it is a large read, which goes to the threadpool
    for (let i = 0; i < 100; i++) await client.produce('lp', 0, values(10, `old${i}`), { acks: -1 });
    // restarted over the slow filesystem: partition 0's records are on disk only (the tail cache starts empty)
    await node.stop();
    client = await node.start(slowReads);
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers once minBytes are there when an append lands during the reads, not at maxWaitMs', async () => {
    // partition 0: 256 KiB of old records, read from disk (300 ms); partition 1: at its end, nothing yet.
    // minBytes needs both: the ~50 KB appended to partition 1 while partition 0's read is in flight.
    const started = performance.now();
    const fetching = client.fetch(
      [
        // partition 1 first: it is read (at its end, nothing) before partition 0's slow read begins
        { topic: 'lp', partition: 1, fetchOffset: 0 },
        { topic: 'lp', partition: 0, fetchOffset: 0 },
      ],
      { maxWaitMs: 8000, minBytes: 270_000, maxBytes: 1 << 20, partitionMaxBytes: 256 * 1024 },
    );
    await new Promise((r) => setTimeout(r, READ_DELAY_MS / 3));
    const producer = new KafkaClient({ brokers: `127.0.0.1:${node.port}`, clientId: 'long-poll-producer', retries: 0 });
    try {
      await producer.produce('lp', 1, values(50, 'new'), { acks: 1 });
    } finally {
      await producer.close();
    }
    const result = await fetching;
    const tookMs = performance.now() - started;
    const bytes = result.reduce((n, p) => n + p.records.length, 0);
    assert.ok(bytes >= 270_000 && result.every((p) => p.records.length > 0), `the answer holds both partitions' records (${bytes} bytes)`);
    // one slow read round, then one more after the wake: well under a second; a missed wake waits out maxWaitMs
    assert.ok(tookMs < 3000, `answered after ${tookMs.toFixed(0)} ms (maxWaitMs 8000)`);
  });
});
