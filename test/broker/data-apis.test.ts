// The data-path APIs end to end against an in-process broker, through Umbra's own client at the newest versions:
// ListOffsets (earliest, latest, by timestamp, max timestamp), Fetch long poll and size limits, DeleteRecords,
// OffsetForLeaderEpoch, DescribeLogDirs, DescribeCluster, InitProducerId, and producer ids after a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startBroker, type RunningBroker } from '../../src/broker/broker.js';
import { createLogger } from '../../src/log.js';
import { ConfigResourceType, KafkaClient, OffsetSpec } from '../../src/client/client.js';
import { buildRecordBatch, decodeRecords, recordBatches } from '../../src/protocol/record-batch.js';

/** every record of every batch in a fetched records blob */
function allRecords(records: Buffer): ReturnType<typeof decodeRecords> {
  const out: ReturnType<typeof decodeRecords> = [];
  for (const b of recordBatches(records)) out.push(...decodeRecords(b)); // the iterator moves one view along
  return out;
}
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/api.js';
import type { DescribeLogDirsResponse } from '../../src/protocol/generated/messages/DescribeLogDirsResponse.js';

const TOPIC = 'data-apis';

function start(dir: string): Promise<RunningBroker> {
  const config = loadConfig({ overrides: { data_dir: dir, listen: '127.0.0.1:0', admin_listen: '127.0.0.1:0', log_level: 'silent' } });
  return startBroker(config, { logger: createLogger({ level: 'silent' }) });
}

describe('data-path APIs', () => {
  let dir: string;
  let broker: RunningBroker;
  let client: KafkaClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-data-apis-'));
    broker = await start(dir);
    client = new KafkaClient({ brokers: `127.0.0.1:${broker.port}`, clientId: 'data-apis-test' });
    await client.createTopics([{ name: TOPIC, numPartitions: 1 }]);
    // three batches with known timestamps: offsets 0-1 at t=1000/1500, 2-3 at t=5000/2000 (max 5000), 4 at t=9000
    const batches = [
      buildRecordBatch({ records: [{ value: 'a', timestamp: 1000 }, { value: 'b', timestamp: 1500 }] }),
      buildRecordBatch({ records: [{ value: 'c', timestamp: 5000 }, { value: 'd', timestamp: 2000 }] }),
      buildRecordBatch({ records: [{ value: 'e', timestamp: 9000 }] }),
    ];
    let next = 0;
    for (const b of batches) {
      const r = await client.produce(TOPIC, 0, b, { acks: -1 });
      assert.equal(r.baseOffset, next);
      next += decodeRecords(b).length;
    }
  });
  after(async () => {
    await client?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ListOffsets answers earliest, latest, by timestamp and max timestamp', async () => {
    assert.equal((await client.listOffsets(TOPIC, 0, OffsetSpec.EARLIEST)).offset, 0);
    assert.equal((await client.listOffsets(TOPIC, 0, OffsetSpec.LATEST)).offset, 5);
    const byTime = await client.listOffsets(TOPIC, 0, 1800);
    assert.deepEqual([byTime.offset, byTime.timestamp], [2, 5000], 'first record at or after 1800 is offset 2 (t=5000)');
    const byTime2 = await client.listOffsets(TOPIC, 0, 6000);
    assert.deepEqual([byTime2.offset, byTime2.timestamp], [4, 9000]);
    assert.equal((await client.listOffsets(TOPIC, 0, 10_000)).offset, -1, 'nothing that late');
    const max = await client.listOffsets(TOPIC, 0, OffsetSpec.MAX_TIMESTAMP);
    assert.deepEqual([max.offset, max.timestamp], [4, 9000]);
  });

  it('Fetch returns whole batches from the one holding the offset, honours limits, and long-polls', async () => {
    const [mid] = await client.fetch([{ topic: TOPIC, partition: 0, fetchOffset: 3 }]);
    assert.equal(mid!.errorCode, ErrorCode.NONE);
    assert.equal(mid!.highWatermark, 5);
    assert.deepEqual(allRecords(mid!.records).map((r) => r.offset), [2, 3, 4], 'the batch containing offset 3 comes whole');

    const [small] = await client.fetch([{ topic: TOPIC, partition: 0, fetchOffset: 0, partitionMaxBytes: 1 }]);
    assert.deepEqual(allRecords(small!.records).map((r) => r.offset), [0, 1], 'KIP-74: one batch even when larger than the limit');

    const [beyond] = await client.fetch([{ topic: TOPIC, partition: 0, fetchOffset: 99 }]);
    assert.equal(beyond!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);

    // a long poll at the end waits for data and returns as soon as it arrives
    const started = Date.now();
    const waiting = client.fetch([{ topic: TOPIC, partition: 0, fetchOffset: 5 }], { maxWaitMs: 5000, minBytes: 1 });
    setTimeout(() => void client.produce(TOPIC, 0, buildRecordBatch({ records: [{ value: 'late' }] }), { acks: 1 }), 200);
    const [woken] = await waiting;
    const waited = Date.now() - started;
    assert.ok(waited >= 150 && waited < 4000, `the fetch returned after ${waited} ms`);
    assert.deepEqual(allRecords(woken!.records).map((r) => r.value?.toString()), ['late']);

    // and with nothing arriving it answers empty after maxWaitMs
    const t0 = Date.now();
    const [empty] = await client.fetch([{ topic: TOPIC, partition: 0, fetchOffset: 6 }], { maxWaitMs: 300, minBytes: 1 });
    assert.equal(empty!.records.length, 0);
    assert.ok(Date.now() - t0 >= 250);
  });

  it('OffsetForLeaderEpoch gives the end of epoch 0', async () => {
    const res = await client.request(ApiKey.OffsetForLeaderEpoch, {
      replicaId: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }] }],
    });
    const p = res.topics[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    assert.equal(p.leaderEpoch, 0);
    assert.equal(p.endOffset, 6);
  });

  it('DescribeLogDirs reports the partition sizes and the disk', async () => {
    // our client has no typed DescribeLogDirs (only the CLI-facing APIs), so the generated response type is used
    const res = (await client.requestUntyped(ApiKey.DescribeLogDirs, { topics: [{ topic: TOPIC, partitions: [0] }] })) as DescribeLogDirsResponse;
    const dirResult = res.results[0]!;
    assert.equal(dirResult.errorCode, ErrorCode.NONE);
    assert.ok(dirResult.logDir.startsWith(dir));
    const size = dirResult.topics[0]!.partitions[0]!.partitionSize;
    assert.ok(size > 3 * 61, `partition size ${size}`); // three batches of 61 header bytes plus records
    assert.ok(dirResult.totalBytes > 0 && dirResult.usableBytes > 0);
  });

  it('refuses a partition count no single broker could hold, instead of trying', async () => {
    const [res] = await client.createTopics([{ name: 'huge', numPartitions: 500_000_000 }]);
    assert.equal(res!.errorCode, ErrorCode.INVALID_PARTITIONS);
    assert.match(res!.errorMessage ?? '', /limit of 100000 per topic/);
    const grown = await client.createPartitions([{ topic: TOPIC, count: 2_000_000 }]);
    assert.equal(grown[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
  });

  it('DescribeConfigs on the broker reports its bound listeners', async () => {
    const [res] = await client.describeConfigs([{ type: ConfigResourceType.BROKER, name: '0', keys: ['listeners', 'advertised.listeners'] }]);
    const value = (name: string) => res!.configs.find((c) => c.name === name)?.value;
    assert.equal(value('listeners'), `PLAINTEXT://127.0.0.1:${broker.port}`);
    assert.equal(value('advertised.listeners'), `PLAINTEXT://127.0.0.1:${broker.port}`);
  });

  it('DescribeCluster names this broker and the cluster id', async () => {
    const res = await client.request(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(res.clusterId, broker.services.clusterId);
    assert.deepEqual(res.brokers.map((b) => [b.brokerId, b.port]), [[0, broker.port]]);
  });

  it('DeleteRecords moves the log start offset; reads below it are out of range', async () => {
    const res = await client.request(ApiKey.DeleteRecords, { topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: 2 }] }], timeoutMs: 5000 });
    const p = res.topics[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    assert.equal(p.lowWatermark, 2);
    assert.equal((await client.listOffsets(TOPIC, 0, OffsetSpec.EARLIEST)).offset, 2);
    const [below] = await client.fetch([{ topic: TOPIC, partition: 0, fetchOffset: 0 }]);
    assert.equal(below!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    const tooFar = await client.request(ApiKey.DeleteRecords, { topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: 100 }] }], timeoutMs: 5000 });
    assert.equal(tooFar.topics[0]!.partitions[0]!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  it('a DeleteRecords of many partitions lets other connections be answered while it works through them', async () => {
    const topic = 'trimmed-wide';
    const n = 60;
    await client.createTopics([{ name: topic, numPartitions: n }]);
    await Promise.all(Array.from({ length: n }, (_, p) => client.produce(topic, p, buildRecordBatch({ records: [{ value: `v${p}` }] }))));
    // each partition's log start move made to cost a millisecond, as it does on a loaded machine
    for (let p = 0; p < n; p++) {
      const log = broker.services.partitions.log(topic, p)!;
      const deleteRecordsBefore = log.deleteRecordsBefore.bind(log);
      log.deleteRecordsBefore = (offset: number) => {
        const until = performance.now() + 1;
        while (performance.now() < until) {
          // busy
        }
        return deleteRecordsBefore(offset);
      };
    }
    const other = new KafkaClient({ brokers: `127.0.0.1:${broker.port}`, clientId: 'data-apis-other' });
    try {
      await other.request(ApiKey.ApiVersions, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      const order: string[] = [];
      const trim = client
        .request(ApiKey.DeleteRecords, { topics: [{ name: topic, partitions: Array.from({ length: n }, (_, p) => ({ partitionIndex: p, offset: 1 })) }], timeoutMs: 5000 })
        .then((res) => {
          order.push('DeleteRecords');
          return res;
        });
      const meanwhile = other.request(ApiKey.ApiVersions, { clientSoftwareName: 'test', clientSoftwareVersion: '1' }).then(() => order.push('ApiVersions'));
      const [res] = await Promise.all([trim, meanwhile]);
      assert.deepEqual(order, ['ApiVersions', 'DeleteRecords']);
      assert.deepEqual(res.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark]), Array.from({ length: n }, (_, p) => [p, ErrorCode.NONE, 1]));
    } finally {
      await other.close();
    }
  });

  it('InitProducerId hands out ids that stay unique across a restart, and bumps a presented epoch', async () => {
    const a = await client.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    const b = await client.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    assert.equal(a.errorCode, ErrorCode.NONE);
    assert.ok(b.producerId > a.producerId);
    const bumped = await client.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000, producerId: b.producerId, producerEpoch: 0 });
    assert.deepEqual([bumped.producerId, bumped.producerEpoch], [b.producerId, 1]);

    await client.close();
    await broker.stop();
    broker = await start(dir);
    client = new KafkaClient({ brokers: `127.0.0.1:${broker.port}`, clientId: 'data-apis-test' });
    const c = await client.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    assert.ok(c.producerId > b.producerId, `id ${c.producerId} after restart must exceed ${b.producerId}`);
    // the log survived the restart with its start offset
    assert.equal((await client.listOffsets(TOPIC, 0, OffsetSpec.EARLIEST)).offset, 2);
    assert.equal((await client.listOffsets(TOPIC, 0, OffsetSpec.LATEST)).offset, 6);
  });
});
