// kafkajs 2.2.4 (non-flexible protocol versions throughout): produce, consume in a group, commit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Compression } from '../../src/protocol/compression.js';
import { RecordBatch } from '../../src/protocol/record-batch.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

/** The first segment file of a partition, wherever the data directory keeps it. */
function firstSegment(dir: string, partitionDir: string): Buffer {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === partitionDir) return readFileSync(join(path, readdirSync(path).filter((n) => n.endsWith('.log')).sort()[0]!));
    try {
      return firstSegment(path, partitionDir);
    } catch {
      // not below this one
    }
  }
  throw new Error(`no directory ${partitionDir} under ${dir}`);
}

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

  it('follows the topic\'s compression.type and message.timestamp.after.max.ms', { timeout: 60_000 }, async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'kafkajs-test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const configEntries = [
      { name: 'compression.type', value: 'gzip' },
      { name: 'message.timestamp.after.max.ms', value: '60000' },
    ];
    await admin.createTopics({ topics: [{ topic: 'kjs-policy', numPartitions: 1, configEntries }] });
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `value ${i} `.repeat(20) }));
    await producer.send({ topic: 'kjs-policy', acks: -1, messages }); // kafkajs sends it uncompressed
    await assert.rejects(
      producer.send({ topic: 'kjs-policy', acks: -1, messages: [{ value: 'from the future', timestamp: String(Date.now() + 3_600_000) }] }),
      (err: Error & { type?: string }) => err.type === 'INVALID_TIMESTAMP',
    );
    await producer.disconnect();

    const stored = new RecordBatch(firstSegment(broker.dataDir, 'kjs-policy-0'));
    assert.equal(stored.compression, Compression.gzip, 'the broker stored the batch gzip-compressed');
    assert.equal(stored.recordCount, 50);

    const consumer = kafka.consumer({ groupId: 'kjs-policy-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs-policy', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(`${message.key!.toString()}=${message.value!.toString()}`);
            if (seen.length === messages.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    assert.deepEqual(seen, messages.map((m) => `${m.key}=${m.value}`), 'every record, in order, and nothing from the refused batch');
    await admin.disconnect();
  });
});
