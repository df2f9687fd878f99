// confluent-kafka-python 1.7 (librdkafka 2.0.2): the AdminClient creates topics and alters/describes configs;
// a consumer group of three members splits 12 partitions and commits, and after a broker restart a new consumer
// in the group resumes at the committed offsets; an idempotent producer works.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  confluentAlterConfigs,
  confluentCreateTopics,
  confluentDescribeConfigs,
  confluentGroupConsume,
  confluentProduce,
  kafkaPythonConsume,
  requirePeers,
} from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

describe('confluent-kafka-python', () => {
  let broker: UmbraBroker;
  before(async () => {
    requirePeers(['confluent-python', 'kafka-python']);
    broker = await startUmbra({ brokerConfigs: { 'group.initial.rebalance.delay.ms': 0 } });
  });
  after(async () => broker?.destroy());

  it('AdminClient creates topics, alters and describes configs', async () => {
    const created = await confluentCreateTopics(broker.bootstrap, ['admin-a', 'admin-b'], 4, { config: { 'retention.ms': 3600000 } });
    assert.deepEqual(created.topics['admin-a'], { created: true });
    assert.deepEqual(created.topics['admin-b'], { created: true });
    const again = await confluentCreateTopics(broker.bootstrap, ['admin-a'], 4, { allowFailure: true });
    assert.match(again.topics['admin-a']!.error ?? '', /TOPIC_ALREADY_EXISTS|already exists/);

    let described = await confluentDescribeConfigs(broker.bootstrap, 'admin-a');
    assert.equal(described.configs['retention.ms']!.value, '3600000');
    assert.equal(described.configs['retention.ms']!.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.equal(described.configs['cleanup.policy']!.value, 'delete');
    assert.equal(described.configs['cleanup.policy']!.isDefault, true);

    await confluentAlterConfigs(broker.bootstrap, 'admin-a', { 'cleanup.policy': 'compact', 'max.message.bytes': 2000000 });
    described = await confluentDescribeConfigs(broker.bootstrap, 'admin-a');
    assert.equal(described.configs['cleanup.policy']!.value, 'compact');
    assert.equal(described.configs['max.message.bytes']!.value, '2000000');
    // AlterConfigs replaces the whole set: retention.ms fell back to its default
    assert.equal(described.configs['retention.ms']!.isDefault, true);

    const bad = await confluentAlterConfigs(broker.bootstrap, 'admin-a', { 'cleanup.policy': 'sometimes' }, { allowFailure: true });
    assert.equal(bad.ok, false);
    assert.match(bad.error ?? '', /cleanup\.policy/);
  });

  it('an idempotent producer works', async () => {
    const res = await confluentProduce(broker.bootstrap, 'idem', 2000, { idempotence: true, compression: 'lz4' });
    assert.equal(res.acked, 2000);
    assert.equal(res.errors, 0);
  });

  it('three group members split 12 partitions, commit, and a new member resumes after a restart', { timeout: 180_000 }, async () => {
    await confluentCreateTopics(broker.bootstrap, ['grouped'], 12);
    const first = await confluentProduce(broker.bootstrap, 'grouped', 1200, { idempotence: false });
    assert.equal(first.acked, 1200);

    const consumed = await confluentGroupConsume(broker.bootstrap, 'grouped', 'g3', 1200, 60_000, { members: 3 });
    assert.equal(consumed.ok, true, JSON.stringify(consumed.errors));
    assert.equal(consumed.distinct, 1200);
    const owned = consumed.members.flatMap((m) => m.assignment ?? []).sort((a, b) => a - b);
    assert.deepEqual(owned, Array.from({ length: 12 }, (_, i) => i), 'the members hold every partition once');
    assert.ok(consumed.members.every((m) => (m.assignment ?? []).length === 4), 'each of three members holds 4 partitions');
    const committedTotal = Object.values(consumed.committed).reduce<number>((a, b) => a + (b ?? 0), 0);
    assert.equal(committedTotal, 1200, 'the group committed everything it read');

    broker = await broker.restart();

    const second = await confluentProduce(broker.bootstrap, 'grouped', 120, { idempotence: false });
    assert.equal(second.acked, 120);
    const resumed = await kafkaPythonConsume(broker.bootstrap, 'grouped', 'g3', 120, 30_000);
    assert.equal(resumed.count, 120, 'only the records produced after the commit are read');
    for (const r of resumed.records ?? []) {
      assert.ok(r.offset >= (consumed.committed[String(r.partition)] ?? 0), `partition ${r.partition} offset ${r.offset} re-read`);
    }
  });
});
