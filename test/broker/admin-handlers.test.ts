// The topic and config admin APIs against a real broker started in-process on 127.0.0.1:0: CreateTopics (19),
// DeleteTopics (20), DescribeConfigs (32), AlterConfigs (33), CreatePartitions (37), IncrementalAlterConfigs (44).
// kafkajs 2.2.4 drives the versions a common client sends (CreateTopics v3, DeleteTopics v1, DescribeConfigs v2,
// AlterConfigs v1, CreatePartitions v1); Umbra's own client sends the newest ones (CreateTopics v7, DeleteTopics
// v6 by topic id, DescribeConfigs v4, IncrementalAlterConfigs v1) and reads error messages, which kafkajs drops.
// Outcomes are checked where they land: the registry, the partition logs and their LogConfig, Metadata.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin } from 'kafkajs';
import { loadConfig } from '../../src/config.js';
import { startBroker, type RunningBroker } from '../../src/broker/broker.js';
import { createLogger } from '../../src/log.js';
import { KafkaClient } from '../../src/client/client.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ZERO_UUID } from '../../src/protocol/primitives.js';
import type { RequestContext } from '../../src/broker/context.js';
import type { ApiHandler } from '../../src/broker/registry.js';
import deleteTopicsHandler from '../../src/broker/handlers/20-delete-topics.js';
import type { DeleteTopicsResponse } from '../../src/protocol/generated/messages/DeleteTopicsResponse.js';

const { Kafka, logLevel, ConfigResourceTypes, ConfigSource } = kafkajs; // CommonJS: only some names are static exports

const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const GROUP = 32;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

let dir: string;
let broker: RunningBroker;
let admin: Admin;
let client: KafkaClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-admin-handlers-'));
  const config = loadConfig({
    overrides: {
      data_dir: dir,
      listen: '127.0.0.1:0',
      admin_listen: '127.0.0.1:0',
      log_level: 'silent',
      broker: { 'num.partitions': 2, 'log.retention.hours': 48 },
    },
  });
  broker = await startBroker(config, { logger: createLogger({ level: 'silent' }) });
  const bootstrap = `127.0.0.1:${broker.port}`;
  admin = new Kafka({ clientId: 'admin-handlers-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  await admin.connect();
  client = new KafkaClient({ brokers: bootstrap, clientId: 'admin-handlers-test', retries: 0 });
});

after(async () => {
  await admin?.disconnect();
  await client?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** kafkajs surfaces a failed topic as an aggregate of per-topic errors, or a protocol error for configs. */
function kafkajsErrorType(err: unknown): string | undefined {
  const e = err as { type?: string; errors?: { type?: string }[] };
  return e.type ?? e.errors?.[0]?.type;
}

function logsOf(name: string): number {
  return broker.services.partitions.logs(name).length;
}

describe('CreateTopics', () => {
  it('creates with explicit and default partition counts, configs reaching the logs (kafkajs v3)', async () => {
    const created = await admin.createTopics({
      topics: [
        { topic: 'orders', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }] },
        { topic: 'defaults' },
      ],
    });
    assert.equal(created, true);
    const md = await admin.fetchTopicMetadata({ topics: ['orders', 'defaults'] });
    const counts = Object.fromEntries(md.topics.map((t) => [t.name, t.partitions.length]));
    assert.deepEqual(counts, { orders: 3, defaults: 2 }); // -1 = num.partitions (2 here)
    assert.equal(logsOf('orders'), 3);
    assert.equal(logsOf('defaults'), 2);
    assert.equal(broker.services.partitions.log('orders', 0)!.config.retentionMs, 3_600_000);
    assert.equal(broker.services.partitions.log('orders', 0)!.config.cleanupPolicy, 'compact');
    // the broker-wide default from log.retention.hours = 48
    assert.equal(broker.services.partitions.log('defaults', 0)!.config.retentionMs, 48 * 3_600_000);
  });

  it('answers an existing topic with TOPIC_ALREADY_EXISTS (kafkajs reports false)', async () => {
    assert.equal(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] }), false);
    const [r] = await client.createTopics([{ name: 'orders', numPartitions: 1 }]);
    assert.equal(r!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
    assert.match(r!.errorMessage ?? '', /orders/);
  });

  it('rejects an invalid config with INVALID_CONFIG naming the key, creating nothing', async () => {
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'bad-config', configEntries: [{ name: 'retention.ms', value: 'soon' }] }] }),
      (err) => kafkajsErrorType(err) === 'INVALID_CONFIG',
    );
    const [r] = await client.createTopics([{ name: 'bad-config', configs: { 'segment.bytes': '12' } }]);
    assert.equal(r!.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(r!.errorMessage ?? '', /segment\.bytes/);
    const [u] = await client.createTopics([{ name: 'bad-config', configs: { 'no.such.config': '1' } }]);
    assert.equal(u!.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(u!.errorMessage ?? '', /no\.such\.config/);
    assert.equal(broker.services.topics.has('bad-config'), false);
  });

  it('validateOnly checks and creates nothing', async () => {
    // waitForLeaders would poll Metadata for a topic that (rightly) does not exist
    assert.equal(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'dry-run', numPartitions: 4 }] }), true);
    assert.equal(broker.services.topics.has('dry-run'), false);
    assert.equal(logsOf('dry-run'), 0);
    await assert.rejects(
      admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'dry-run', numPartitions: 0 }] }),
      (err) => kafkajsErrorType(err) === 'INVALID_PARTITIONS',
    );
  });

  it('v7 returns the topic id, counts and effective configs with sources; per-topic errors with messages', async () => {
    const res = await client.request(
      19,
      {
        topics: [
          { name: 'v7-topic', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [{ name: 'max.message.bytes', value: '2000000' }] },
          { name: 'dup', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
          { name: 'dup', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] },
          { name: 'rf3', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] },
          { name: 'bad name!', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
          { name: '__cluster_metadata', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        ],
        timeoutMs: 5000,
        validateOnly: false,
      },
      { version: 7 },
    );
    const byName = new Map(res.topics.map((t) => [t.name, t]));
    assert.equal(res.topics.length, 5, 'one result per distinct name');
    const ok = byName.get('v7-topic')!;
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.equal(ok.errorMessage, null);
    assert.equal(ok.topicId, broker.services.topics.get('v7-topic')!.topicId);
    assert.notEqual(ok.topicId, ZERO_UUID);
    assert.equal(ok.numPartitions, 2);
    assert.equal(ok.replicationFactor, 1);
    const cfg = new Map(ok.configs!.map((c) => [c.name, c]));
    assert.deepEqual({ ...cfg.get('max.message.bytes') }, { name: 'max.message.bytes', value: '2000000', readOnly: false, configSource: ConfigSource.TOPIC_CONFIG, isSensitive: false });
    assert.equal(cfg.get('retention.ms')!.value, String(48 * 3_600_000));
    assert.equal(cfg.get('retention.ms')!.configSource, ConfigSource.STATIC_BROKER_CONFIG);
    assert.equal(cfg.get('segment.ms')!.configSource, ConfigSource.DEFAULT_CONFIG);
    assert.ok(!cfg.has('internal.segment.bytes'), 'internal configs are not listed');
    assert.deepEqual(
      ok.configs!.map((c) => c.name),
      [...cfg.keys()].sort(),
    );

    assert.equal(byName.get('dup')!.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(byName.get('dup')!.errorMessage, 'Duplicate topic name.');
    assert.equal(broker.services.topics.has('dup'), false);
    assert.equal(byName.get('rf3')!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
    assert.equal(byName.get('bad name!')!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal(byName.get('__cluster_metadata')!.errorCode, ErrorCode.INVALID_REQUEST);
    for (const t of res.topics.filter((x) => x.errorCode !== 0)) {
      assert.equal(t.topicId, ZERO_UUID);
      assert.ok(t.errorMessage && t.errorMessage.length > 0);
    }
  });

  it('manual assignments may only name this node', async () => {
    const res = await client.request(
      19,
      {
        topics: [
          { name: 'assigned', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [0] }, { partitionIndex: 1, brokerIds: [0] }], configs: [] },
          { name: 'elsewhere', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [7] }], configs: [] },
        ],
        timeoutMs: 5000,
        validateOnly: false,
      },
      { version: 7 },
    );
    const byName = new Map(res.topics.map((t) => [t.name, t]));
    assert.equal(byName.get('assigned')!.errorCode, ErrorCode.NONE);
    assert.equal(byName.get('assigned')!.numPartitions, 2);
    assert.equal(logsOf('assigned'), 2);
    assert.equal(byName.get('elsewhere')!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    assert.match(byName.get('elsewhere')!.errorMessage ?? '', /broker 7/);
  });
});

describe('CreatePartitions', () => {
  it('raises the partition count; logs and Metadata follow (kafkajs v1)', async () => {
    await admin.createTopics({ topics: [{ topic: 'grow', numPartitions: 2 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 5 }] });
    const md = await admin.fetchTopicMetadata({ topics: ['grow'] });
    assert.equal(md.topics[0]!.partitions.length, 5);
    assert.equal(logsOf('grow'), 5);
  });

  it('refuses a decrease or no change with INVALID_PARTITIONS; validateOnly changes nothing', async () => {
    await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 3 }] }), (err) => kafkajsErrorType(err) === 'INVALID_PARTITIONS');
    await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'grow', count: 9 }] });
    assert.equal(broker.services.topics.get('grow')!.partitions, 5);
    assert.equal(logsOf('grow'), 5);
    const res = await client.createPartitions([
      { topic: 'grow', count: 5 },
      { topic: 'missing-topic', count: 5 },
    ]);
    assert.equal(res[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
    assert.equal(res[0]!.errorMessage, 'Topic already has 5 partition(s).');
    assert.equal(res[1]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('checks manual assignments: one per new partition, this node only, and names given twice', async () => {
    const res = await client.request(
      37,
      {
        topics: [
          { name: 'grow', count: 7, assignments: [{ brokerIds: [0] }] },
          { name: 'orders', count: 4, assignments: [{ brokerIds: [3] }] },
          { name: 'defaults', count: 3, assignments: [{ brokerIds: [0] }] },
          { name: 'v7-topic', count: 3, assignments: null },
          { name: 'v7-topic', count: 4, assignments: null },
        ],
        timeoutMs: 5000,
        validateOnly: false,
      },
      { version: 3 },
    );
    const byName = new Map(res.results.map((r) => [r.name, r]));
    assert.equal(res.results.length, 4);
    assert.equal(byName.get('grow')!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    assert.match(byName.get('grow')!.errorMessage ?? '', /Attempted to add 2 additional partition\(s\), but only 1 assignment/);
    assert.equal(byName.get('orders')!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    assert.match(byName.get('orders')!.errorMessage ?? '', /broker 3/);
    assert.equal(byName.get('defaults')!.errorCode, ErrorCode.NONE);
    assert.equal(logsOf('defaults'), 3);
    assert.equal(byName.get('v7-topic')!.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(broker.services.topics.get('v7-topic')!.partitions, 2);
  });
});

describe('DescribeConfigs', () => {
  it('describes a topic with sources and synonyms (kafkajs v2)', async () => {
    const res = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configNames: ['retention.ms', 'segment.ms', 'cleanup.policy'] }],
    });
    const entries = new Map(res.resources[0]!.configEntries.map((e) => [e.configName, e]));
    assert.deepEqual([...entries.keys()].sort(), ['cleanup.policy', 'retention.ms', 'segment.ms']);
    const retention = entries.get('retention.ms')!;
    assert.equal(retention.configValue, '3600000');
    assert.equal(retention.configSource, ConfigSource.TOPIC_CONFIG);
    assert.equal(retention.readOnly, false);
    assert.deepEqual(
      retention.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]),
      [
        ['retention.ms', '3600000', ConfigSource.TOPIC_CONFIG],
        ['log.retention.hours', '48', ConfigSource.STATIC_BROKER_CONFIG],
        ['log.retention.hours', '168', ConfigSource.DEFAULT_CONFIG],
      ],
    );
    assert.equal(entries.get('segment.ms')!.configSource, ConfigSource.DEFAULT_CONFIG);
    assert.equal(entries.get('segment.ms')!.configValue, '604800000');
  });

  it('describes this broker (read-only static configs), the cluster default and broker loggers', async () => {
    const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '0' }] });
    const entries = new Map(res.resources[0]!.configEntries.map((e) => [e.configName, e]));
    assert.equal(entries.get('num.partitions')!.configValue, '2');
    assert.equal(entries.get('num.partitions')!.configSource, ConfigSource.STATIC_BROKER_CONFIG);
    assert.equal(entries.get('num.partitions')!.readOnly, true);
    assert.equal(entries.get('delete.topic.enable')!.configSource, ConfigSource.DEFAULT_CONFIG);
    assert.equal(entries.get('node.id')!.configValue, '0');
    assert.equal(entries.get('advertised.listeners')!.configValue, `PLAINTEXT://127.0.0.1:${broker.port}`);
    assert.equal(entries.get('listeners')!.configValue, `PLAINTEXT://127.0.0.1:${broker.port}`);

    const out = await client.describeConfigs([
      { type: BROKER, name: '' },
      { type: BROKER, name: '5' },
      { type: BROKER, name: 'zero' },
      { type: BROKER_LOGGER, name: '0' },
      { type: BROKER_LOGGER, name: '' },
      { type: GROUP, name: 'g' },
    ]);
    assert.deepEqual(
      out.map((r) => [r.errorCode, r.configs.length]),
      [
        [ErrorCode.NONE, 0], // no dynamic cluster-wide defaults
        [ErrorCode.INVALID_REQUEST, 0],
        [ErrorCode.INVALID_REQUEST, 0],
        [ErrorCode.NONE, 0],
        [ErrorCode.INVALID_REQUEST, 0],
        [ErrorCode.INVALID_REQUEST, 0],
      ],
    );
    assert.match(out[1]!.errorMessage ?? '', /expected 0 or empty string, but received 5/);
  });

  it('v4: documentation and types on request, all keys for an empty key list, errors per resource', async () => {
    const res = await client.request(
      32,
      {
        resources: [
          { resourceType: TOPIC, resourceName: 'orders', configurationKeys: [] },
          { resourceType: TOPIC, resourceName: 'orders', configurationKeys: ['cleanup.policy', 'not.a.config'] },
          { resourceType: TOPIC, resourceName: 'nope', configurationKeys: null },
          { resourceType: TOPIC, resourceName: 'bad/name', configurationKeys: null },
        ],
        includeSynonyms: false,
        includeDocumentation: true,
      },
      { version: 4 },
    );
    const [all, some, unknown, bad] = res.results;
    assert.equal(all!.errorCode, ErrorCode.NONE);
    assert.ok(all!.configs.length > 30);
    assert.deepEqual(
      some!.configs.map((c) => [c.name, c.value, c.configType, c.synonyms.length]),
      [['cleanup.policy', 'compact', 7 /* LIST */, 0]],
    );
    assert.ok((some!.configs[0]!.documentation ?? '').length > 10);
    assert.equal(unknown!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(bad!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  });
});

describe('AlterConfigs', () => {
  it('replaces the topic overrides; DescribeConfigs and the logs see the change (kafkajs v1)', async () => {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configEntries: [{ name: 'retention.ms', value: '1000' }] }],
    });
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configNames: ['retention.ms', 'cleanup.policy'] }],
    });
    const entries = new Map(res.resources[0]!.configEntries.map((e) => [e.configName, e]));
    assert.equal(entries.get('retention.ms')!.configValue, '1000');
    assert.equal(entries.get('retention.ms')!.configSource, ConfigSource.TOPIC_CONFIG);
    // not given, so no longer overridden: back to the default
    assert.equal(entries.get('cleanup.policy')!.configValue, 'delete');
    assert.equal(entries.get('cleanup.policy')!.configSource, ConfigSource.DEFAULT_CONFIG);
    for (const log of broker.services.partitions.logs('orders')) {
      assert.equal(log.config.retentionMs, 1000);
      assert.equal(log.config.cleanupPolicy, 'delete');
    }
  });

  it('rejects bad values naming the key, validateOnly changes nothing, broker configs are not dynamic', async () => {
    await assert.rejects(
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configEntries: [{ name: 'retention.ms', value: 'x' }] }] }),
      (err) => kafkajsErrorType(err) === 'INVALID_CONFIG',
    );
    await admin.alterConfigs({ validateOnly: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configEntries: [{ name: 'retention.ms', value: '5' }] }] });
    assert.deepEqual(broker.services.topics.get('orders')!.configs, { 'retention.ms': '1000' });

    const res = await client.request(
      33,
      {
        resources: [
          { resourceType: TOPIC, resourceName: 'orders', configs: [{ name: 'min.insync.replicas', value: '0' }] },
          { resourceType: BROKER, resourceName: '0', configs: [{ name: 'log.retention.hours', value: '1' }] },
          { resourceType: BROKER, resourceName: '', configs: [] },
          { resourceType: BROKER_LOGGER, resourceName: '0', configs: [] },
          { resourceType: TOPIC, resourceName: 'twice', configs: [] },
          { resourceType: TOPIC, resourceName: 'twice', configs: [] },
          { resourceType: TOPIC, resourceName: 'missing-topic', configs: [] },
          { resourceType: TOPIC, resourceName: 'defaults', configs: [{ name: 'retention.ms', value: null }] },
        ],
        validateOnly: false,
      },
      { version: 2 },
    );
    assert.deepEqual(
      res.responses.map((r) => r.errorCode),
      [
        ErrorCode.INVALID_CONFIG,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.NONE,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.INVALID_REQUEST,
      ],
    );
    assert.match(res.responses[0]!.errorMessage ?? '', /min\.insync\.replicas/);
    assert.match(res.responses[1]!.errorMessage ?? '', /Cannot update these configs dynamically: log\.retention\.hours/);
    assert.equal(res.responses[4]!.errorMessage, 'Each resource must appear at most once.');
    assert.deepEqual(broker.services.topics.get('orders')!.configs, { 'retention.ms': '1000' });
  });
});

describe('IncrementalAlterConfigs', () => {
  it('SET, DELETE, APPEND and SUBTRACT on a topic; the logs follow', async () => {
    const results = await client.incrementalAlterConfigs([
      {
        type: TOPIC,
        name: 'orders',
        ops: [
          { name: 'segment.ms', op: SET, value: '60000' },
          { name: 'retention.ms', op: DELETE },
          { name: 'cleanup.policy', op: APPEND, value: 'compact' },
        ],
      },
    ]);
    assert.equal(results[0]!.errorCode, ErrorCode.NONE, results[0]!.errorMessage ?? '');
    assert.deepEqual(broker.services.topics.get('orders')!.configs, { 'segment.ms': '60000', 'cleanup.policy': 'delete,compact' });
    const log = broker.services.partitions.log('orders', 0)!;
    assert.equal(log.config.segmentMs, 60_000);
    assert.equal(log.config.retentionMs, 48 * 3_600_000);
    assert.equal(log.config.cleanupPolicy, 'compact,delete');

    const [sub] = await client.incrementalAlterConfigs([{ type: TOPIC, name: 'orders', ops: [{ name: 'cleanup.policy', op: SUBTRACT, value: 'delete' }] }]);
    assert.equal(sub!.errorCode, ErrorCode.NONE);
    assert.equal(broker.services.partitions.log('orders', 0)!.config.cleanupPolicy, 'compact');
  });

  it('answers errors per resource with Kafka codes; validateOnly changes nothing', async () => {
    const before = { ...broker.services.topics.get('orders')!.configs };
    const results = await client.incrementalAlterConfigs(
      [
        { type: TOPIC, name: 'orders', ops: [{ name: 'retention.ms', op: SET, value: '42' }] },
        { type: TOPIC, name: 'defaults', ops: [{ name: 'segment.ms', op: APPEND, value: '1' }] },
        { type: TOPIC, name: 'defaults', ops: [] },
        { type: TOPIC, name: 'grow', ops: [{ name: 'retention.ms', op: SET, value: null }] },
        { type: BROKER, name: '0', ops: [{ name: 'num.partitions', op: SET, value: '3' }] },
        { type: BROKER, name: '', ops: [{ name: 'num.partitions', op: DELETE }] },
        { type: BROKER, name: '9', ops: [] },
        { type: BROKER_LOGGER, name: '0', ops: [{ name: 'root', op: SET, value: 'DEBUG' }] },
        { type: GROUP, name: 'g', ops: [] },
      ],
      { validateOnly: true },
    );
    assert.deepEqual(
      results.map((r) => r.errorCode),
      [
        ErrorCode.NONE,
        ErrorCode.INVALID_REQUEST, // 'defaults' twice
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST, // null value for SET
        ErrorCode.INVALID_REQUEST, // not a dynamic config
        ErrorCode.NONE, // nothing to delete
        ErrorCode.INVALID_REQUEST, // another broker
        ErrorCode.INVALID_CONFIG, // no such logger
        ErrorCode.INVALID_REQUEST,
      ],
    );
    assert.deepEqual(broker.services.topics.get('orders')!.configs, before);

    const [append] = await client.incrementalAlterConfigs([{ type: TOPIC, name: 'defaults', ops: [{ name: 'segment.ms', op: APPEND, value: '1' }] }]);
    assert.equal(append!.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(append!.errorMessage ?? '', /segment\.ms/);
    const [unknownOp] = await client.incrementalAlterConfigs([{ type: TOPIC, name: 'defaults', ops: [{ name: 'segment.ms', op: 9, value: '1' }] }]);
    assert.equal(unknownOp!.errorCode, ErrorCode.INVALID_REQUEST);
  });
});

describe('DeleteTopics', () => {
  it('deletes by name: Metadata, registry and logs forget the topic (kafkajs v1)', async () => {
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 2 }] });
    assert.equal(logsOf('doomed'), 2);
    await admin.deleteTopics({ topics: ['doomed'] });
    assert.equal(broker.services.topics.has('doomed'), false);
    assert.equal(logsOf('doomed'), 0);
    assert.ok(!(await admin.listTopics()).includes('doomed'));
    const [again] = await client.deleteTopics(['doomed']);
    assert.equal(again!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('refuses internal topics', async () => {
    const [r] = await client.deleteTopics(['__consumer_offsets']);
    assert.equal(r!.errorCode, ErrorCode.INVALID_REQUEST);
    assert.ok(broker.services.topics.has('__consumer_offsets'));
  });

  it('v6 deletes by topic id and answers name and id; duplicates and unknown ids are errors', async () => {
    await admin.createTopics({ topics: [{ topic: 'by-id', numPartitions: 1 }, { topic: 'both-ways', numPartitions: 1 }] });
    const id = broker.services.topics.get('by-id')!.topicId;
    const bothId = broker.services.topics.get('both-ways')!.topicId;
    const unknownId = '11111111-2222-4333-8444-555555555555';
    const res = await client.request(
      20,
      {
        topics: [
          { name: null, topicId: id },
          { name: null, topicId: unknownId },
          { name: 'both-ways', topicId: ZERO_UUID },
          { name: null, topicId: bothId },
          { name: 'x', topicId: id },
        ],
        topicNames: [],
        timeoutMs: 5000,
      },
      { version: 6 },
    );
    assert.deepEqual(
      res.responses.map((r) => [r.name, r.topicId, r.errorCode]),
      [
        ['by-id', id, ErrorCode.NONE],
        [null, unknownId, ErrorCode.UNKNOWN_TOPIC_ID],
        ['both-ways', ZERO_UUID, ErrorCode.INVALID_REQUEST],
        ['both-ways', bothId, ErrorCode.INVALID_REQUEST],
        ['x', id, ErrorCode.INVALID_REQUEST],
      ],
    );
    assert.equal(broker.services.topics.has('by-id'), false);
    assert.equal(logsOf('by-id'), 0);
    assert.equal(broker.services.topics.has('both-ways'), true);
  });

  it('with delete.topic.enable=false: TOPIC_DELETION_DISABLED (INVALID_REQUEST before v3)', async () => {
    const services = { ...broker.services, config: { ...broker.services.config, deleteTopicEnable: false } };
    const ctx = { services } as unknown as RequestContext;
    const handler = deleteTopicsHandler as ApiHandler<unknown, DeleteTopicsResponse>;
    const v5 = (await handler.handle(ctx, { topicNames: ['grow'], topics: [], timeoutMs: 1000 }, 5)) as DeleteTopicsResponse;
    assert.deepEqual(v5.responses.map((r) => [r.name, r.errorCode]), [['grow', ErrorCode.TOPIC_DELETION_DISABLED]]);
    const v2 = (await handler.handle(ctx, { topicNames: ['grow'], topics: [], timeoutMs: 1000 }, 2)) as DeleteTopicsResponse;
    assert.deepEqual(v2.responses.map((r) => [r.name, r.errorCode]), [['grow', ErrorCode.INVALID_REQUEST]]);
    assert.ok(broker.services.topics.has('grow'));
    assert.equal(logsOf('grow'), 5);
  });
});
