// Every real-client peer, smoke-tested against a real Apache Kafka 4.1 broker, so the peers are known-good
// before they are pointed at Umbra. Slow (one Kafka JVM plus a JVM per Java call): runs only with
// UMBRA_TEST_KAFKA=1. Under CI=true a missing peer fails the suite with the reason instead of skipping it.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dumpLogSegments, kafkaVersion, startKafka, type KafkaBroker } from './helpers/kafka.js';
import {
  confluentAlterConfigs,
  confluentCreateTopics,
  confluentDescribeConfigs,
  confluentGroupConsume,
  confluentProduce,
  javaAdmin,
  javaConsume,
  javaProduce,
  kafkaPythonConsume,
  kafkaPythonProduce,
  kcatConsume,
  kcatMetadata,
  kcatProduce,
  peerTestGate,
  requirePeers,
} from './helpers/peers.js';

describe(`real-client peers against Apache Kafka ${kafkaVersion()}`, peerTestGate(), () => {
  let kafka: KafkaBroker;

  before(async () => {
    requirePeers();
    kafka = await startKafka();
  });

  after(async () => {
    await kafka?.stop();
  });

  it('answers Metadata for kcat (-L -J)', async () => {
    const md = await kcatMetadata(kafka.bootstrap);
    assert.deepEqual(md.brokers.map((b) => b.name), [kafka.bootstrap]);
  });

  it('kcat produces keyed lz4 batches with headers and reads them back', async () => {
    const topic = 'kcat-lz4';
    await javaAdmin(kafka.bootstrap, ['create-topic', topic, 1]);
    // Values long and repetitive enough that librdkafka keeps the lz4 batch (it sends uncompressed otherwise).
    const messages = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `value-${i} `.repeat(20) }));
    await kcatProduce(kafka.bootstrap, topic, messages, { compression: 'lz4', headers: { origin: 'kcat', trace: 't1' } });

    const records = await kcatConsume(kafka.bootstrap, topic);
    assert.equal(records.length, 20);
    assert.deepEqual(records.map((r) => r.offset), [...Array(20).keys()]);
    assert.deepEqual(records.map((r) => [r.key, r.payload]), messages.map((m) => [m.key, m.value]));
    assert.deepEqual(records[0]!.headers, [['origin', 'kcat'], ['trace', 't1']]);

    const segDir = join(kafka.dataDir, `${topic}-0`);
    const segments = readdirSync(segDir).filter((f) => f.endsWith('.log')).map((f) => join(segDir, f));
    const { batches } = await dumpLogSegments(segments);
    assert.ok(batches.length > 0);
    assert.ok(batches.every((b) => b.compressCodec === 'lz4'), `codecs on disk: ${batches.map((b) => b.compressCodec).join(',')}`);
  });

  it('confluent-kafka-python AdminClient creates topics, alters and describes configs', async () => {
    const created = await confluentCreateTopics(kafka.bootstrap, ['cf-admin'], 3, { config: { 'retention.ms': 3_600_000 } });
    assert.deepEqual(created.topics, { 'cf-admin': { created: true } });

    const again = await confluentCreateTopics(kafka.bootstrap, ['cf-admin'], 3, { allowFailure: true });
    assert.equal(again.ok, false);
    assert.match(again.topics['cf-admin']!.error!, /TOPIC_ALREADY_EXISTS/);

    await confluentAlterConfigs(kafka.bootstrap, 'cf-admin', { 'retention.ms': 7_200_000, 'cleanup.policy': 'compact' });
    const { configs } = await confluentDescribeConfigs(kafka.bootstrap, 'cf-admin');
    assert.equal(configs['retention.ms']!.value, '7200000');
    assert.equal(configs['retention.ms']!.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.equal(configs['cleanup.policy']!.value, 'compact');
    assert.equal(configs['segment.bytes']!.source, 'DEFAULT_CONFIG');

    const md = await kcatMetadata(kafka.bootstrap, 'cf-admin');
    assert.equal(md.topics[0]!.partitions.length, 3);
  });

  it('confluent idempotent producer, then a 3-member group over 12 partitions commits everything', async () => {
    const topic = 'cf-group';
    await confluentCreateTopics(kafka.bootstrap, [topic], 12);
    const produced = await confluentProduce(kafka.bootstrap, topic, 1200, { compression: 'zstd' });
    assert.equal(produced.acked, 1200);
    assert.equal(Object.keys(produced.partitions).length, 12);

    const group = await confluentGroupConsume(kafka.bootstrap, topic, 'cf-group-g', 1200, 60_000);
    assert.equal(group.distinct, 1200);
    assert.ok(group.stable);
    assert.deepEqual(group.members.map((m) => m.assignment!.length), [4, 4, 4]);
    for (const [p, s] of Object.entries(produced.partitions)) assert.equal(group.committed[p], s.lastOffset! + 1, `partition ${p}`);

    // The producer was idempotent: its batches on disk carry a producer id and sequences.
    const seg = join(kafka.dataDir, `${topic}-0`, '00000000000000000000.log');
    const { batches } = await dumpLogSegments([seg]);
    assert.ok(batches.every((b) => b.producerId >= 0 && b.baseSequence >= 0 && b.compressCodec === 'zstd'));
  });

  it('kafka-python 2.0.2 produces and consumes in a group with commits', async () => {
    const topic = 'kp-topic';
    await javaAdmin(kafka.bootstrap, ['create-topic', topic, 2]);
    const produced = await kafkaPythonProduce(kafka.bootstrap, topic, 50, { compression: 'gzip' });
    assert.equal(produced.acked, 50);

    const consumed = await kafkaPythonConsume(kafka.bootstrap, topic, 'kp-group', 50, 30_000);
    assert.equal(consumed.count, 50);
    const values = new Set(consumed.records!.map((r) => r.value));
    assert.equal(values.size, 50);
    assert.equal(consumed.records![0]!.headers.peer, 'kafka-python');
    const committedTotal = Object.values(consumed.committed).reduce<number>((a, b) => a + (b ?? 0), 0);
    assert.equal(committedTotal, 50);

    // The group resumes where it committed: nothing left to read.
    const again = await kafkaPythonConsume(kafka.bootstrap, topic, 'kp-group', 0, 3000);
    assert.equal(again.count, 0);
  });

  it('the Java client produces (idempotent), consumes in a group, and administers topics', async () => {
    const topic = 'java-topic';
    const created = await javaAdmin<{ topicId: string; partitions: number }>(kafka.bootstrap, ['create-topic', topic, 3]);
    assert.equal(created.partitions, 3);
    assert.match(created.topicId, /^[A-Za-z0-9_-]{22}$/);

    const produced = await javaProduce(kafka.bootstrap, topic, 30);
    assert.equal(produced.acked, 30);
    assert.equal(produced.errors, 0);

    const consumed = await javaConsume(kafka.bootstrap, topic, 'java-group', 30, 30_000);
    assert.equal(consumed.count, 30);
    assert.deepEqual(
      new Set(consumed.records!.map((r) => r.key)),
      new Set(Array.from({ length: 30 }, (_, i) => `key-${i}`)),
    );
    const offsets = await javaAdmin<{ offsets: Record<string, number> }>(kafka.bootstrap, ['group-offsets', 'java-group']);
    const latest = await javaAdmin<{ offsets: Record<string, number> }>(kafka.bootstrap, ['list-offsets', topic, 'latest']);
    for (const [p, end] of Object.entries(latest.offsets)) assert.equal(offsets.offsets[`${topic}-${p}`], end);

    await javaAdmin(kafka.bootstrap, ['alter-config', topic, 'max.message.bytes', '2000000']);
    const described = await javaAdmin<{ configs: Record<string, { value: string }> }>(kafka.bootstrap, ['describe-configs', topic]);
    assert.equal(described.configs['max.message.bytes']!.value, '2000000');

    await javaAdmin(kafka.bootstrap, ['delete-topic', topic]);
    const failed = await javaAdmin<{ ok: boolean; errorType: string }>(kafka.bootstrap, ['delete-topic', topic], { allowFailure: true });
    assert.equal(failed.ok, false);
    assert.match(failed.errorType, /UnknownTopicOrPartition/);
  });
});
