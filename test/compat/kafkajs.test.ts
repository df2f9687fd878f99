// kafkajs 2.2.4 (non-flexible protocol versions throughout): produce, consume in a group, commit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

describe('kafkajs 2.2.4', () => {
  let broker: UmbraBroker;
  before(async () => {
    broker = await startUmbra({ brokerConfigs: { 'group.initial.rebalance.delay.ms': 0 } });
  });
  after(async () => broker?.destroy());

  it('produces, consumes in a group, and commits', { timeout: 60_000 }, async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'kafkajs-test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 3 }] });

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const sent = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { n: String(i) } }));
    for (let i = 0; i < sent.length; i += 100) await producer.send({ topic: 'kjs', acks: -1, messages: sent.slice(i, i + 100) });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'kjs-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs', fromBeginning: true });
    const seen = new Map<string, string>();
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            assert.equal(message.headers?.n?.toString(), message.key!.toString().slice(1));
            seen.set(message.key!.toString(), message.value!.toString());
            if (seen.size === sent.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    for (const m of sent) assert.equal(seen.get(m.key), m.value);

    const offsets = await admin.fetchOffsets({ groupId: 'kjs-group', topics: ['kjs'] });
    const total = offsets[0]!.partitions.reduce((a, p) => a + Number(p.offset), 0);
    assert.equal(total, 300, 'committed offsets cover every record');
    const groups = await admin.listGroups();
    assert.ok(groups.groups.some((g) => g.groupId === 'kjs-group'));
    await admin.disconnect();
  });
});
