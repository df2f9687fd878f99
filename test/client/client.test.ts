// KafkaClient, Producer and Consumer (assign mode) against the in-memory fake cluster: metadata cache, routing
// retries, topic ids and Fetch versions, produce → fetch round trips with every compression codec.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaClient, OffsetSpec } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { Compression } from '../../src/protocol/compression.js';
import { buildRecordBatch, decodeRecords, recordBatches } from '../../src/protocol/record-batch.js';
import { FakeCluster } from './fake-cluster.js';
import { FakeBroker, metadataResponse, requestedTopics } from './fake-broker.js';

async function consumeAll(consumer: Consumer, count: number, timeoutMs = 5000): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) out.push(...(await consumer.poll(200)));
  return out;
}

describe('KafkaClient', () => {
  let cluster: FakeCluster;
  let client: KafkaClient;

  before(async () => {
    cluster = await FakeCluster.start();
    client = new KafkaClient({ brokers: cluster.bootstrap, clientId: 'client-test' });
  });
  after(async () => {
    await client.close();
    await cluster.close();
  });

  it('bootstraps, caches topic metadata and refreshes on demand', async () => {
    cluster.createTopic('cached', 2);
    await client.connect();
    assert.equal(client.clusterId, 'fake-cluster');
    assert.deepEqual(
      client.brokers().map((b) => b.nodeId),
      [1],
    );
    const before = cluster.broker.requestsOf(ApiKey.Metadata).length;
    const t = await client.topic('cached');
    assert.equal(t.partitions.length, 2);
    assert.notEqual(t.topicId, '00000000-0000-0000-0000-000000000000');
    await client.topic('cached');
    assert.equal(cluster.broker.requestsOf(ApiKey.Metadata).length, before + 1, 'second lookup is served from the cache');
    await client.topic('cached', { refresh: true });
    assert.equal(cluster.broker.requestsOf(ApiKey.Metadata).length, before + 2);
    await assert.rejects(client.topic('missing'), (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('creates, describes, alters and deletes topics, with per-topic errors', async () => {
    const [created] = await client.createTopics([{ name: 'admin', numPartitions: 3, configs: { 'retention.ms': '1000' } }]);
    assert.equal(created!.errorCode, 0);
    assert.equal(created!.numPartitions, 3);
    const [again] = await client.createTopics([{ name: 'admin', numPartitions: 3 }]);
    assert.equal(again!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
    const [cfg] = await client.describeConfigs([{ type: 2, name: 'admin' }]);
    assert.equal(cfg!.configs.find((c) => c.name === 'retention.ms')?.value, '1000');
    const [alt] = await client.incrementalAlterConfigs([{ type: 2, name: 'admin', ops: [{ name: 'retention.ms', op: 1 }] }]);
    assert.equal(alt!.errorCode, 0);
    assert.equal(cluster.topics.get('admin')!.configs['retention.ms'], undefined);
    const [del] = await client.deleteTopics(['admin']);
    assert.equal(del!.errorCode, 0);
    assert.equal(cluster.topics.has('admin'), false);
  });

  it('produces raw batches and fetches them back as raw bytes, at Fetch v13+ with topic ids', async () => {
    cluster.createTopic('raw', 1);
    const batch = buildRecordBatch({ records: [{ value: 'one' }, { value: 'two' }] });
    const r1 = await client.produce('raw', 0, batch);
    const r2 = await client.produce('raw', 0, batch);
    assert.deepEqual([r1.baseOffset, r2.baseOffset], [0, 2]);
    const [res] = await client.fetch([{ topic: 'raw', partition: 0, fetchOffset: 0 }], { maxWaitMs: 0 });
    assert.equal(res!.errorCode, 0);
    assert.equal(res!.topic, 'raw');
    assert.equal(res!.highWatermark, 4);
    const offsets: number[] = [];
    // recordBatches yields one view, moved along: decode each batch as it comes
    for (const b of recordBatches(res!.records)) offsets.push(...decodeRecords(b).map((r) => r.offset));
    assert.deepEqual(offsets, [0, 1, 2, 3]);
    assert.ok(cluster.broker.requestsOf(ApiKey.Fetch).at(-1)!.version >= 13);
    const latest = await client.listOffsets('raw', 0, OffsetSpec.LATEST);
    assert.equal(latest.offset, 4);
  });

  it('produces with acks=0 (no response) and the connection stays usable', async () => {
    cluster.createTopic('fire', 1);
    const r = await client.produce('fire', 0, buildRecordBatch({ records: [{ value: 'x' }] }), { acks: 0 });
    assert.equal(r.baseOffset, -1);
    const latest = await client.listOffsets('fire', 0, OffsetSpec.LATEST);
    assert.equal(latest.offset, 1);
  });

  for (const [name, codec] of Object.entries(Compression)) {
    it(`round-trips keyed records through Producer and Consumer (${name})`, async () => {
      const topic = `rt-${name}`;
      cluster.createTopic(topic, 3);
      const producer = new Producer(client, { compression: codec, lingerMs: 2 });
      const sent = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          producer.send({ topic, key: `k${i % 7}`, value: `v${i}`, headers: [{ key: 'h', value: `${i}` }] }),
        ),
      );
      await producer.close();
      for (const [i, m] of sent.entries()) {
        assert.equal(m.partition, partitionForKey(Buffer.from(`k${i % 7}`), 3), `record ${i} went to the murmur2 partition`);
      }
      const consumer = new Consumer(client, { resetPolicy: 'earliest' });
      consumer.assign([0, 1, 2].map((partition) => ({ topic, partition })));
      const got = await consumeAll(consumer, 30);
      await consumer.close();
      assert.equal(got.length, 30);
      const byValue = new Map(got.map((r) => [r.value!.toString(), r]));
      for (const [i, m] of sent.entries()) {
        const r = byValue.get(`v${i}`);
        assert.ok(r, `v${i} consumed`);
        assert.equal(r.key!.toString(), `k${i % 7}`);
        assert.equal(r.partition, m.partition);
        assert.equal(r.offset, m.offset);
        assert.deepEqual(
          r.headers.map((h) => [h.key, h.value?.toString()]),
          [['h', `${i}`]],
        );
      }
      if (codec !== Compression.none) {
        const stored = cluster.log(topic, sent[0]!.partition)[0]!;
        assert.equal(stored.readInt16BE(21) & 7, codec, 'batches are stored compressed');
      }
    });
  }

  it('starts mid-batch at an explicit offset, and at the end with resetPolicy latest', async () => {
    cluster.createTopic('mid', 1);
    await client.produce('mid', 0, buildRecordBatch({ records: ['a', 'b', 'c', 'd', 'e'].map((value) => ({ value })) }));
    const c1 = new Consumer(client);
    c1.assign([{ topic: 'mid', partition: 0, offset: 2 }]);
    const got = await consumeAll(c1, 3);
    assert.deepEqual(
      got.map((r) => [r.offset, r.value!.toString()]),
      [
        [2, 'c'],
        [3, 'd'],
        [4, 'e'],
      ],
    );
    assert.equal(c1.position('mid', 0), 5);
    const c2 = new Consumer(client, { resetPolicy: 'latest' });
    c2.assign([{ topic: 'mid', partition: 0 }]);
    assert.deepEqual(await c2.poll(100), []);
    assert.equal(c2.position('mid', 0), 5);
  });

  it('ignores a truncated batch at the end of a fetch and continues from there', async () => {
    cluster.createTopic('trunc', 1);
    await client.produce('trunc', 0, buildRecordBatch({ records: [{ value: 'first' }] }));
    await client.produce('trunc', 0, buildRecordBatch({ records: [{ value: 'second' }] }));
    const log = cluster.topics.get('trunc')!.partitions[0]!;
    const whole = log[1]!;
    log[1] = whole.subarray(0, whole.length - 5); // the broker cut the last batch at partitionMaxBytes
    const consumer = new Consumer(client, { resetPolicy: 'earliest' });
    consumer.assign([{ topic: 'trunc', partition: 0 }]);
    const got = await consumer.poll(100);
    assert.deepEqual(
      got.map((r) => r.value!.toString()),
      ['first'],
    );
    assert.equal(consumer.position('trunc', 0), 1);
    log[1] = whole;
    const rest = await consumeAll(consumer, 1);
    assert.deepEqual(
      rest.map((r) => r.value!.toString()),
      ['second'],
    );
  });
});

describe('KafkaClient routing', () => {
  it('refreshes metadata and retries a produce answered NOT_LEADER_OR_FOLLOWER', async () => {
    let produceCalls = 0;
    const broker: FakeBroker = await FakeBroker.start({
      handlers: {
        [ApiKey.Metadata]: (req) => metadataResponse(broker, { t: { partitions: 1 } }, requestedTopics(req.body)),
        [ApiKey.Produce]: () => {
          produceCalls++;
          return {
            responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: produceCalls === 1 ? ErrorCode.NOT_LEADER_OR_FOLLOWER : 0, baseOffset: 7 }] }],
          };
        },
      },
    });
    const client = new KafkaClient({ brokers: broker.address, retryBackoffMs: 1 });
    try {
      const r = await client.produce('t', 0, buildRecordBatch({ records: [{ value: 'x' }] }));
      assert.equal(r.baseOffset, 7);
      assert.equal(produceCalls, 2);
      assert.equal(broker.requestsOf(ApiKey.Metadata).length, 2, 'metadata refreshed between attempts');
      // topics without ids: Produce stays at v12 and Fetch at v12
      assert.ok(broker.requestsOf(ApiKey.Produce).every((r) => r.version <= 12));
    } finally {
      await client.close();
      await broker.close();
    }
  });

  it('caps Fetch at v12 when the broker gives no topic ids', async () => {
    const broker: FakeBroker = await FakeBroker.start({
      handlers: {
        [ApiKey.Metadata]: (req) => metadataResponse(broker, { t: { partitions: 1 } }, requestedTopics(req.body)),
        [ApiKey.Fetch]: () => ({ responses: [{ topic: 't', partitions: [{ partitionIndex: 0, highWatermark: 0, records: null }] }] }),
      },
    });
    const client = new KafkaClient({ brokers: broker.address });
    try {
      const [r] = await client.fetch([{ topic: 't', partition: 0, fetchOffset: 0 }], { maxWaitMs: 0 });
      assert.equal(r!.errorCode, 0);
      assert.equal(r!.records.length, 0);
      assert.equal(broker.requestsOf(ApiKey.Fetch)[0]!.version, 12);
    } finally {
      await client.close();
      await broker.close();
    }
  });

  it('finds the coordinator with the batched FindCoordinator (v4+) and routes group requests to it', async () => {
    const broker: FakeBroker = await FakeBroker.start({
      handlers: {
        [ApiKey.Metadata]: (req) => metadataResponse(broker, {}, requestedTopics(req.body)),
        [ApiKey.FindCoordinator]: (req) => {
          const keys = (req.body as { coordinatorKeys: string[] }).coordinatorKeys;
          return { coordinators: keys.map((key) => ({ key, nodeId: 1, host: '127.0.0.1', port: broker.port, errorCode: 0 })) };
        },
        [ApiKey.Heartbeat]: () => ({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS }),
      },
    });
    const client = new KafkaClient({ brokers: broker.address });
    try {
      const node = await client.findCoordinator('g1');
      assert.equal(node.nodeId, 1);
      assert.ok(broker.requestsOf(ApiKey.FindCoordinator)[0]!.version >= 4);
      const hb = await client.heartbeat({ groupId: 'g1', generationId: 1, memberId: 'm' });
      assert.equal(hb.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
      assert.equal(broker.requestsOf(ApiKey.FindCoordinator).length, 1, 'coordinator cached');
    } finally {
      await client.close();
      await broker.close();
    }
  });
});
