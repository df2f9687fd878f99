// A fetch at the tail is answered with views of the broker's tail cache, held until the response is on the socket
// (storage/tail-cache.ts, ReadOptions.hold). Here a consumer sends a Fetch whose answer (~21 MiB, all of it in the
// tail cache: up to half the 32 MiB ring goes out as held views, the rest as copies) is more than loopback's socket
// buffers take, and stops reading; meanwhile other partitions take
// ~100 MiB of appends, lapping the 32 MiB cache ring three times. The answer the consumer finally reads must be
// exactly what was produced: a view the ring wrote over before the broker had written it out would show up as a
// bad CRC or wrong records. The ring keeps serving the other partitions' tails around the held bytes meanwhile.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/client.js';
import { BrokerConnection, connectSocket } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { buildRecordBatch, computeBatchCrc, decodeRecords, recordBatches } from '../../src/protocol/record-batch.js';
import { InProcessBroker } from '../helpers/in-process-broker.js';

const HELD = 6; // partitions 0-5: read by the stalled consumer
const BUSY = 2; // partitions 6-7: appended to meanwhile
const PER_BATCH = 60;
const HELD_BATCHES = 56; // ~3.5 MiB per partition: under the 4 MiB a partition's cache keeps
const BUSY_BATCHES = 800; // ~50 MiB per partition

const value = (p: number, b: number, r: number): string => `p${p}-b${b}-r${r}-${'v'.repeat(1000)}`;

function records(p: number, b: number): Buffer {
  return buildRecordBatch({ records: Array.from({ length: PER_BATCH }, (_, r) => ({ key: null, value: value(p, b, r) })) });
}

describe('fetch answers from held tail-cache views', () => {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-held-tail-'));
  const node = new InProcessBroker(dir, 'held-tail');
  let client: KafkaClient;

  before(async () => {
    client = await node.start();
    const created = await client.createTopics([{ name: 'ht', numPartitions: HELD + BUSY }]);
    assert.equal(created[0]!.errorCode, 0, created[0]!.errorMessage ?? '');
    for (let b = 0; b < HELD_BATCHES; b++) {
      for (let p = 0; p < HELD; p++) await client.produce('ht', p, records(p, b), { acks: 1 });
    }
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends what was produced although the ring laps while the consumer does not read', async () => {
    await client.metadata(['ht']);
    let socket: Socket | undefined;
    const conn = await BrokerConnection.connect({
      host: '127.0.0.1',
      port: node.port,
      clientId: 'stalled',
      socketFactory: async (host, port, timeoutMs) => (socket = await connectSocket(host, port, timeoutMs)),
    });
    try {
      const answer = conn.request(
        ApiKey.Fetch,
        {
          clusterId: null,
          replicaId: -1,
          replicaState: { replicaId: -1, replicaEpoch: -1 },
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 64 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: 'ht',
              topicId: '00000000-0000-0000-0000-000000000000',
              partitions: Array.from({ length: HELD }, (_, partition) => ({
                partition,
                currentLeaderEpoch: -1,
                fetchOffset: 0,
                lastFetchedEpoch: -1,
                logStartOffset: -1,
                partitionMaxBytes: 8 << 20,
              })),
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        },
        { maxVersion: 12, timeoutMs: 120_000 },
      );
      socket!.pause();
      // the other partitions lap the ring while the answer waits on the stalled socket; their own tails are served
      // from memory meanwhile
      for (let b = 0; b < BUSY_BATCHES; b++) {
        for (let p = HELD; p < HELD + BUSY; p++) await client.produce('ht', p, records(p, b), { acks: 1 });
      }
      const [tail] = await client.fetch([{ topic: 'ht', partition: HELD, fetchOffset: (BUSY_BATCHES - 1) * PER_BATCH }], { maxWaitMs: 0 });
      assert.equal(tail!.errorCode, 0);
      assert.deepEqual(
        [...recordBatches(tail!.records)].map((batch) => decodeRecords(batch)[0]!.value?.toString()),
        [value(HELD, BUSY_BATCHES - 1, 0)],
      );
      socket!.resume();
      const res = await answer;
      assert.equal(res.errorCode, 0);
      const seen = new Array<number>(HELD).fill(0);
      for (const t of res.responses) {
        for (const part of t.partitions) {
          assert.equal(part.errorCode, 0);
          let next = 0;
          for (const batch of recordBatches(part.records!)) {
            assert.equal(computeBatchCrc(batch.buf, batch.pos, batch.size), batch.crc, `CRC of p${part.partitionIndex} at ${batch.baseOffset}`);
            assert.equal(batch.baseOffset, next);
            const b = batch.baseOffset / PER_BATCH;
            assert.deepEqual(
              decodeRecords(batch).map((r) => r.value?.toString()),
              Array.from({ length: PER_BATCH }, (_, r) => value(part.partitionIndex, b, r)),
              `records of p${part.partitionIndex} batch ${b}`,
            );
            next += batch.recordCount;
          }
          seen[part.partitionIndex] = next;
        }
      }
      assert.deepEqual(seen, new Array<number>(HELD).fill(HELD_BATCHES * PER_BATCH), 'every record of every held partition');
    } finally {
      conn.close();
    }
  });
});
