import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { openEmbeddedStore } from '../../src/cluster/embedded-store.js';
import { TopicRegistry, validateTopicName, type TopicChange } from '../../src/cluster/topics.js';
import type { MetadataStore } from '../../src/cluster/types.js';

async function setup(t: { after(fn: () => unknown): void }, staticBrokerConfigs: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-topics-'));
  const store = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(async () => {
    await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const registry = new TopicRegistry(store, { numPartitions: 3, defaultReplicationFactor: 1, staticBrokerConfigs });
  return { dir, store, registry };
}

function kafkaError(code: number, pattern?: RegExp) {
  return (err: unknown) => err instanceof KafkaError && err.code === code && (!pattern || pattern.test(err.message));
}

test('topic names follow Kafka rules', () => {
  for (const ok of ['a', 'orders.v1', 'a_b-c', 'x'.repeat(249), '__consumer_offsets']) validateTopicName(ok);
  for (const bad of ['', '.', '..', 'x'.repeat(250), 'has space', 'slash/name', 'ünï', 'a:b']) {
    assert.throws(() => validateTopicName(bad), kafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION), JSON.stringify(bad));
  }
});

test('create: defaults, ids, overrides, persistence, listeners', async (t) => {
  const { dir, store, registry } = await setup(t);
  const changes: TopicChange[] = [];
  registry.onChange((c) => {
    changes.push(c);
  });
  const a = await registry.create({ name: 'orders', configs: { 'retention.ms': '1000', 'cleanup.policy': 'compact' } });
  assert.equal(a.partitions, 3);
  assert.equal(a.replicationFactor, 1);
  assert.match(a.topicId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(a.configs, { 'retention.ms': '1000', 'cleanup.policy': 'compact' });
  assert.equal(a.internal, false);
  assert.deepEqual(changes.map((c) => c.type), ['created']);
  assert.equal(registry.getById(a.topicId)?.name, 'orders');
  assert.equal(registry.logConfig('orders').retentionMs, 1000);
  assert.equal(registry.logConfig('orders').cleanupPolicy, 'compact');

  const offsets = await registry.create({ name: '__consumer_offsets', partitions: 50, configs: { 'cleanup.policy': 'compact' } });
  assert.equal(offsets.internal, true);

  await store.close();
  const reopened = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(() => reopened.close());
  const again = new TopicRegistry(reopened, { numPartitions: 1, defaultReplicationFactor: 1 });
  assert.deepEqual(again.get('orders'), a);
  assert.deepEqual(
    again.list().map((x) => x.name),
    ['__consumer_offsets', 'orders'],
  );
});

test('create: Kafka error codes for every invalid request', async (t) => {
  const { registry } = await setup(t);
  await registry.create({ name: 'exists', partitions: 1 });
  await assert.rejects(registry.create({ name: 'exists' }), kafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, /exists/));
  await assert.rejects(registry.create({ name: 'bad name' }), kafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION));
  await assert.rejects(registry.create({ name: 'p0', partitions: 0 }), kafkaError(ErrorCode.INVALID_PARTITIONS));
  await assert.rejects(registry.create({ name: 'p-2', partitions: -2 }), kafkaError(ErrorCode.INVALID_PARTITIONS));
  await assert.rejects(registry.create({ name: 'rf3', replicationFactor: 3 }), kafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, /only 1 broker/));
  await assert.rejects(registry.create({ name: 'rf0', replicationFactor: 0 }), kafkaError(ErrorCode.INVALID_REPLICATION_FACTOR));
  await assert.rejects(registry.create({ name: 'cfg', configs: { 'retention.ms': 'x' } }), kafkaError(ErrorCode.INVALID_CONFIG, /retention\.ms/));
  await assert.rejects(registry.create({ name: 'cfg', configs: { 'what.ever': '1' } }), kafkaError(ErrorCode.INVALID_CONFIG, /what\.ever/));
  await assert.rejects(
    registry.create({ name: 'asg', partitions: 2, assignments: [{ partitionIndex: 0, brokerIds: [0] }] }),
    kafkaError(ErrorCode.INVALID_REQUEST),
  );
  await assert.rejects(
    registry.create({ name: 'asg', assignments: [{ partitionIndex: 0, brokerIds: [5] }] }),
    kafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, /broker 5/),
  );
  await assert.rejects(
    registry.create({ name: 'asg', assignments: [{ partitionIndex: 1, brokerIds: [0] }] }),
    kafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT),
  );
  const asg = await registry.create({ name: 'asg', assignments: [{ partitionIndex: 1, brokerIds: [0] }, { partitionIndex: 0, brokerIds: [0] }] });
  assert.equal(asg.partitions, 2);
  // nothing failed half-way
  assert.deepEqual(registry.list().map((x) => x.name), ['asg', 'exists']);
});

test('validateOnly checks without creating', async (t) => {
  const { registry } = await setup(t);
  const r = await registry.create({ name: 'dry', partitions: 2 }, { validateOnly: true });
  assert.equal(r.partitions, 2);
  assert.equal(registry.get('dry'), undefined);
});

test('concurrent creates of one name: exactly one wins', async (t) => {
  const { registry } = await setup(t);
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => registry.create({ name: 'race' })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  assert.equal(results.filter((r) => r.status === 'rejected' && kafkaError(ErrorCode.TOPIC_ALREADY_EXISTS)(r.reason)).length, 4);
  const [a, b] = await Promise.all([registry.ensure({ name: 'ens' }), registry.ensure({ name: 'ens' })]);
  assert.equal(a.topicId, b.topicId);
});

test('delete', async (t) => {
  const { registry } = await setup(t);
  const changes: string[] = [];
  registry.onChange((c) => {
    changes.push(`${c.type}:${c.topic.name}`);
  });
  const a = await registry.create({ name: 'gone' });
  await registry.delete('gone');
  assert.equal(registry.get('gone'), undefined);
  assert.equal(registry.getById(a.topicId), undefined);
  assert.deepEqual(changes, ['created:gone', 'deleted:gone']);
  await assert.rejects(registry.delete('gone'), kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  await registry.create({ name: '__consumer_offsets', partitions: 1 });
  await assert.rejects(registry.delete('__consumer_offsets'), kafkaError(ErrorCode.INVALID_REQUEST, /internal/));
  // a recreated topic gets a new id
  const b = await registry.create({ name: 'gone' });
  assert.notEqual(b.topicId, a.topicId);
});

test('addPartitions only increases', async (t) => {
  const { registry } = await setup(t);
  const changes: TopicChange[] = [];
  registry.onChange((c) => {
    changes.push(c);
  });
  await registry.create({ name: 't', partitions: 2 });
  await assert.rejects(registry.addPartitions('t', 2), kafkaError(ErrorCode.INVALID_PARTITIONS, /already has 2/));
  await assert.rejects(registry.addPartitions('t', 1), kafkaError(ErrorCode.INVALID_PARTITIONS));
  await assert.rejects(registry.addPartitions('nope', 5), kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  assert.equal((await registry.addPartitions('t', 4, { validateOnly: true })).partitions, 4);
  assert.equal(registry.get('t')!.partitions, 2);
  const r = await registry.addPartitions('t', 5);
  assert.equal(r.partitions, 5);
  const last = changes.at(-1)!;
  assert.equal(last.type, 'partitionsAdded');
  assert.equal(last.type === 'partitionsAdded' && last.previousPartitions, 2);
});

test('alterConfigs replaces all overrides', async (t) => {
  const { registry } = await setup(t);
  await registry.create({ name: 't', configs: { 'retention.ms': '1000', 'segment.ms': '5000' } });
  const r = await registry.alterConfigs('t', { 'retention.bytes': '4096' });
  assert.deepEqual(r.configs, { 'retention.bytes': '4096' });
  await assert.rejects(registry.alterConfigs('t', { 'retention.bytes': 'lots' }), kafkaError(ErrorCode.INVALID_CONFIG, /retention\.bytes/));
  assert.deepEqual(registry.get('t')!.configs, { 'retention.bytes': '4096' });
});

test('incrementalAlterConfigs: SET, DELETE, APPEND, SUBTRACT', async (t) => {
  const { registry } = await setup(t);
  const changes: TopicChange[] = [];
  registry.onChange((c) => {
    changes.push(c);
  });
  await registry.create({ name: 't', configs: { 'retention.ms': '1000' } });
  let r = await registry.incrementalAlterConfigs('t', [
    { name: 'segment.ms', op: 'SET', value: '60000' },
    { name: 'retention.ms', op: 'DELETE', value: null },
  ]);
  assert.deepEqual(r.configs, { 'segment.ms': '60000' });
  const last = changes.at(-1)!;
  assert.equal(last.type, 'configChanged');
  assert.deepEqual(last.type === 'configChanged' && last.previousConfigs, { 'retention.ms': '1000' });

  // APPEND starts from the default ("delete") when there is no override
  r = await registry.incrementalAlterConfigs('t', [{ name: 'cleanup.policy', op: 'APPEND', value: 'compact' }]);
  assert.equal(r.configs['cleanup.policy'], 'delete,compact');
  r = await registry.incrementalAlterConfigs('t', [{ name: 'cleanup.policy', op: 'APPEND', value: 'compact' }]);
  assert.equal(r.configs['cleanup.policy'], 'delete,compact');
  r = await registry.incrementalAlterConfigs('t', [{ name: 'cleanup.policy', op: 'SUBTRACT', value: 'delete' }]);
  assert.equal(r.configs['cleanup.policy'], 'compact');
  await assert.rejects(
    registry.incrementalAlterConfigs('t', [{ name: 'cleanup.policy', op: 'SUBTRACT', value: 'compact' }]),
    kafkaError(ErrorCode.INVALID_CONFIG, /cleanup\.policy/),
  );
  await assert.rejects(
    registry.incrementalAlterConfigs('t', [{ name: 'retention.ms', op: 'APPEND', value: '5' }]),
    kafkaError(ErrorCode.INVALID_CONFIG, /append is not allowed for config key: retention\.ms/),
  );
  await assert.rejects(
    registry.incrementalAlterConfigs('t', [
      { name: 'retention.ms', op: 'SET', value: '5' },
      { name: 'retention.ms', op: 'SET', value: '6' },
    ]),
    kafkaError(ErrorCode.INVALID_REQUEST, /duplicate/),
  );
  // all-or-nothing: the valid first op is not applied when the second fails
  await assert.rejects(
    registry.incrementalAlterConfigs('t', [
      { name: 'retention.ms', op: 'SET', value: '5' },
      { name: 'segment.bytes', op: 'SET', value: '1' },
    ]),
    kafkaError(ErrorCode.INVALID_CONFIG, /segment\.bytes/),
  );
  assert.equal(registry.get('t')!.configs['retention.ms'], undefined);
  await assert.rejects(
    registry.incrementalAlterConfigs('t', [{ name: 'min.compaction.lag.ms', op: 'SET', value: '10' }, { name: 'max.compaction.lag.ms', op: 'SET', value: '1' }]),
    kafkaError(ErrorCode.INVALID_CONFIG, /conflict/),
  );
});

test('resolved config uses the broker-wide defaults from the config file', async (t) => {
  const { registry } = await setup(t, { 'log.retention.hours': '1', 'log.cleaner.max.compaction.lag.ms': '1000' });
  await registry.create({ name: 't' });
  assert.equal(registry.logConfig('t').retentionMs, 3_600_000);
  assert.equal(registry.defaultLogConfig().retentionMs, 3_600_000);
  await assert.rejects(registry.create({ name: 'u', configs: { 'min.compaction.lag.ms': '2000' } }), kafkaError(ErrorCode.INVALID_CONFIG, /conflict/));
});

test('a failing listener does not undo the change; it is reported', async (t) => {
  const { registry } = await setup(t);
  const errors: string[] = [];
  const r2 = new TopicRegistry((registry as unknown as { store: MetadataStore }).store, {
    numPartitions: 1,
    defaultReplicationFactor: 1,
    logger: { error: (_o, msg) => errors.push(msg) },
  });
  r2.onChange(() => {
    throw new Error('disk full');
  });
  const seen: string[] = [];
  r2.onChange((c) => {
    seen.push(c.type);
  });
  await r2.create({ name: 'x' });
  assert.ok(r2.get('x'));
  assert.deepEqual(seen, ['created']);
  assert.equal(errors.length, 1);
});
