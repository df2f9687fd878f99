// The Java client (kafka-clients 4.1, defaults: idempotence on): produce, consume in a group, Admin topics and configs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { javaAdmin, javaConsume, javaProduce, requirePeers } from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

describe('Java kafka-clients 4.1', () => {
  let broker: UmbraBroker;
  before(async () => {
    requirePeers(['java']);
    broker = await startUmbra({ brokerConfigs: { 'group.initial.rebalance.delay.ms': 0 } });
  });
  after(async () => broker?.destroy());

  it('Admin creates, describes and alters topics and configs', { timeout: 90_000 }, async () => {
    const created = await javaAdmin<{ ok: boolean; partitions: number; topicId: string }>(broker.bootstrap, ['create-topic', 'jt', 6]);
    assert.equal(created.ok, true);
    assert.equal(created.partitions, 6);
    await javaAdmin(broker.bootstrap, ['alter-config', 'jt', 'retention.ms', '123456']);
    const configs = await javaAdmin<{ configs: Record<string, { value: string; source: string }> }>(broker.bootstrap, ['describe-configs', 'jt']);
    assert.equal(configs.configs['retention.ms']!.value, '123456');
    assert.equal(configs.configs['retention.ms']!.source, 'DYNAMIC_TOPIC_CONFIG');
    const listed = await javaAdmin<{ topics: string[] }>(broker.bootstrap, ['list-topics']);
    assert.ok(listed.topics.includes('jt'));
  });

  it('produces with idempotence and consumes in a group with commits', { timeout: 120_000 }, async () => {
    const produced = await javaProduce(broker.bootstrap, 'jt', 5000, { config: { 'compression.type': 'snappy' } });
    assert.equal(produced.acked, 5000);
    const consumed = await javaConsume(broker.bootstrap, 'jt', 'java-group', 5000, 60_000);
    assert.equal(consumed.count, 5000);
    const committed = Object.values(consumed.committed).reduce<number>((a, b) => a + (b ?? 0), 0);
    assert.equal(committed, 5000);
    const offsets = await javaAdmin<{ offsets: Record<string, number> }>(broker.bootstrap, ['list-offsets', 'jt', 'latest']);
    assert.equal(Object.values(offsets.offsets).reduce((a, b) => a + b, 0), 5000);
  });
});
