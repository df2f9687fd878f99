import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { ConfigSource, ConfigType } from '../../src/cluster/config-def.js';
import {
  TOPIC_CONFIGS,
  describeConfigEntries,
  parseTopicConfigValue,
  resolveTopicConfig,
  toLogConfig,
  validateTopicConfigs,
} from '../../src/cluster/topic-config.js';
import type { DescribeConfigsResourceResult } from '../../src/protocol/generated/messages/DescribeConfigsResponse.js';
import { BROKER_CONFIGS, parseBrokerConfigValue, resolveBrokerConfig } from '../../src/cluster/broker-configs.js';

function invalidConfig(pattern: RegExp) {
  return (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.INVALID_CONFIG && pattern.test(err.message);
}

test('the catalogue has the topic configs of Kafka 4.1, and not the removed ones', () => {
  for (const k of [
    'cleanup.policy', 'compression.type', 'compression.gzip.level', 'compression.lz4.level', 'compression.zstd.level',
    'delete.retention.ms', 'file.delete.delay.ms', 'flush.messages', 'flush.ms', 'follower.replication.throttled.replicas',
    'index.interval.bytes', 'leader.replication.throttled.replicas', 'local.retention.bytes', 'local.retention.ms',
    'max.compaction.lag.ms', 'max.message.bytes', 'message.timestamp.after.max.ms', 'message.timestamp.before.max.ms',
    'message.timestamp.type', 'min.cleanable.dirty.ratio', 'min.compaction.lag.ms', 'min.insync.replicas', 'preallocate',
    'remote.storage.enable', 'remote.log.copy.disable', 'remote.log.delete.on.disable', 'retention.bytes', 'retention.ms',
    'segment.bytes', 'segment.index.bytes', 'segment.jitter.ms', 'segment.ms', 'unclean.leader.election.enable',
  ]) {
    assert.ok(TOPIC_CONFIGS.has(k), k);
  }
  for (const gone of ['message.downconversion.enable', 'message.format.version', 'message.timestamp.difference.max.ms']) {
    assert.ok(!TOPIC_CONFIGS.has(gone), gone);
  }
});

test('values are validated and normalized; errors name the key', () => {
  assert.equal(parseTopicConfigValue('retention.ms', ' 1000 '), '1000');
  assert.equal(parseTopicConfigValue('preallocate', 'TRUE'), 'true');
  assert.equal(parseTopicConfigValue('cleanup.policy', 'compact, delete'), 'compact,delete');
  assert.equal(parseTopicConfigValue('flush.ms', '9223372036854775807'), '9223372036854775807');
  assert.equal(parseTopicConfigValue('min.cleanable.dirty.ratio', '0.25'), '0.25');
  assert.equal(parseTopicConfigValue('compression.gzip.level', '-1'), '-1');

  assert.throws(() => parseTopicConfigValue('retention.ms', '-2'), invalidConfig(/retention\.ms.*at least -1/));
  assert.throws(() => parseTopicConfigValue('retention.ms', 'soon'), invalidConfig(/retention\.ms/));
  assert.throws(() => parseTopicConfigValue('flush.ms', '9223372036854775808'), invalidConfig(/flush\.ms.*64-bit/));
  assert.throws(() => parseTopicConfigValue('max.message.bytes', '3000000000'), invalidConfig(/max\.message\.bytes.*32-bit/));
  assert.throws(() => parseTopicConfigValue('segment.bytes', '1024'), invalidConfig(/segment\.bytes.*1048576/));
  assert.throws(() => parseTopicConfigValue('cleanup.policy', 'archive'), invalidConfig(/cleanup\.policy/));
  assert.throws(() => parseTopicConfigValue('cleanup.policy', ''), invalidConfig(/cleanup\.policy/));
  assert.throws(() => parseTopicConfigValue('compression.type', 'brotli'), invalidConfig(/compression\.type.*one of/));
  assert.throws(() => parseTopicConfigValue('message.timestamp.type', 'createtime'), invalidConfig(/message\.timestamp\.type/));
  assert.throws(() => parseTopicConfigValue('min.cleanable.dirty.ratio', '1.5'), invalidConfig(/no more than 1/));
  assert.throws(() => parseTopicConfigValue('preallocate', 'yes'), invalidConfig(/preallocate/));
  assert.throws(() => parseTopicConfigValue('compression.gzip.level', '0'), invalidConfig(/compression\.gzip\.level/));
  assert.throws(() => parseTopicConfigValue('leader.replication.throttled.replicas', 'a:b'), invalidConfig(/throttled/));
  assert.throws(() => parseTopicConfigValue('remote.storage.enable', 'true'), invalidConfig(/not supported/));
  assert.throws(() => parseTopicConfigValue('no.such.key', '1'), invalidConfig(/Unknown topic config name: no\.such\.key/));
  assert.throws(() => parseTopicConfigValue('retention.ms', null), invalidConfig(/Null value/));
});

test('cross-key validation: min.compaction.lag.ms must not exceed max.compaction.lag.ms', () => {
  assert.throws(
    () => validateTopicConfigs({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' }),
    invalidConfig(/min\.compaction\.lag\.ms \(10\) > max\.compaction\.lag\.ms \(5\)/),
  );
  // against the broker-wide value too
  assert.throws(() => validateTopicConfigs({ 'min.compaction.lag.ms': '10' }, { 'log.cleaner.max.compaction.lag.ms': '5' }), invalidConfig(/conflict/));
  assert.deepEqual(validateTopicConfigs({ 'retention.ms': '100' }), { 'retention.ms': '100' });
});

test('resolution: topic override, then broker synonyms in order, then the default, with sources and synonyms', () => {
  const none = resolveTopicConfig({});
  const r = none.get('retention.ms')!;
  assert.equal(r.value, '604800000');
  assert.equal(r.source, ConfigSource.DEFAULT_CONFIG);
  assert.equal(r.typeCode, ConfigType.LONG);
  assert.deepEqual(r.synonyms, [{ name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG }]);

  const broker = resolveTopicConfig({}, { 'log.retention.hours': '24', 'log.retention.minutes': '30' });
  // log.retention.minutes outranks log.retention.hours
  assert.equal(broker.get('retention.ms')!.value, String(30 * 60_000));
  assert.equal(broker.get('retention.ms')!.source, ConfigSource.STATIC_BROKER_CONFIG);

  const topic = resolveTopicConfig({ 'retention.ms': '1000' }, { 'log.retention.hours': '24' });
  const t = topic.get('retention.ms')!;
  assert.equal(t.value, '1000');
  assert.equal(t.source, ConfigSource.TOPIC_CONFIG);
  assert.deepEqual(
    t.synonyms.map((s) => [s.name, s.value, s.source]),
    [
      ['retention.ms', '1000', ConfigSource.TOPIC_CONFIG],
      ['log.retention.hours', '24', ConfigSource.STATIC_BROKER_CONFIG],
      ['log.retention.hours', '168', ConfigSource.DEFAULT_CONFIG],
    ],
  );
  assert.equal(resolveTopicConfig({}, { 'log.retention.hours': '-1' }).get('retention.ms')!.value, '-1');
  assert.equal(resolveTopicConfig({}, { 'message.max.bytes': '2000000' }).get('max.message.bytes')!.value, '2000000');
});

test('toLogConfig gives the storage settings, with Kafka defaults and "never" clamped to a safe integer', () => {
  const lc = toLogConfig(resolveTopicConfig({}));
  assert.deepEqual(lc, {
    segmentBytes: 1073741824,
    segmentMs: 604800000,
    retentionMs: 604800000,
    retentionBytes: -1,
    cleanupPolicy: 'delete',
    deleteRetentionMs: 86400000,
    minCompactionLagMs: 0,
    maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
    minCleanableDirtyRatio: 0.5,
    maxMessageBytes: 1048588,
    messageTimestampType: 'CreateTime',
    indexIntervalBytes: 4096,
    fileDeleteDelayMs: 60000,
    compression: null,
    compressionLevel: 0,
    timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER,
    timestampAfterMaxMs: 3600000,
    segmentJitterMs: 0,
    segmentIndexBytes: 10485760,
    flushMessages: Number.MAX_SAFE_INTEGER,
    flushMs: Number.MAX_SAFE_INTEGER,
  });
  // compression.type names a codec, with the level configured for it
  assert.deepEqual(
    [
      toLogConfig(resolveTopicConfig({ 'compression.type': 'zstd', 'compression.zstd.level': '7' })),
      toLogConfig(resolveTopicConfig({ 'compression.type': 'gzip' })),
      toLogConfig(resolveTopicConfig({ 'compression.type': 'uncompressed' })),
      toLogConfig(resolveTopicConfig({ 'compression.type': 'snappy' })),
    ].map((c) => [c.compression, c.compressionLevel]),
    [
      [4, 7],
      [1, -1],
      [0, 0],
      [2, 0],
    ],
  );
  const compact = toLogConfig(resolveTopicConfig({ 'cleanup.policy': 'delete,compact', 'message.timestamp.type': 'LogAppendTime' }));
  assert.equal(compact.cleanupPolicy, 'compact,delete');
  assert.equal(compact.messageTimestampType, 'LogAppendTime');
  // internal.segment.bytes lets tests roll tiny segments
  assert.equal(toLogConfig(resolveTopicConfig({ 'internal.segment.bytes': '1024' })).segmentBytes, 1024);
});

test('describeConfigEntries: all or requested keys, internal keys hidden, synonyms and docs on request', () => {
  const resolved = resolveTopicConfig({ 'retention.ms': '1000' });
  const all = describeConfigEntries(resolved);
  assert.ok(all.length >= 33);
  assert.ok(!all.some((e) => e.name === 'internal.segment.bytes'));
  assert.ok(all.every((e) => e.synonyms.length === 0 && e.documentation === null));
  const some = describeConfigEntries(resolved, { keys: ['retention.ms', 'nope'], includeSynonyms: true, includeDocumentation: true });
  assert.equal(some.length, 1);
  assert.equal(some[0]!.configSource, ConfigSource.TOPIC_CONFIG);
  assert.ok(some[0]!.documentation);
  assert.ok(some[0]!.synonyms.length >= 2);
  // the entries are exactly what the generated DescribeConfigs codec encodes
  const encodable: DescribeConfigsResourceResult[] = some;
  assert.equal(encodable.length, 1);
});

test('broker catalogue: honoured keys and topic synonyms; structured keys cannot go in broker:', () => {
  for (const k of ['num.partitions', 'auto.create.topics.enable', 'log.retention.hours', 'log.segment.bytes', 'message.max.bytes', 'socket.request.max.bytes', 'offsets.topic.num.partitions']) {
    assert.ok(BROKER_CONFIGS.has(k), k);
  }
  assert.equal(parseBrokerConfigValue('num.partitions', 3), '3');
  assert.equal(parseBrokerConfigValue('log.retention.hours', '-1'), '-1');
  assert.throws(() => parseBrokerConfigValue('num.partitions', 0), /num\.partitions.*at least 1/);
  assert.throws(() => parseBrokerConfigValue('log.segment.bytes', 10), /log\.segment\.bytes/);
  assert.throws(() => parseBrokerConfigValue('node.id', 1), /node_id/);
  assert.throws(() => parseBrokerConfigValue('num.network.threads', 3), /Unknown or unsupported broker config: num\.network\.threads/);

  const r = resolveBrokerConfig({ 'num.partitions': '3' }, { nodeId: 7, dataDir: '/d', listeners: 'PLAINTEXT://h:1', advertisedListeners: 'PLAINTEXT://h:1' });
  assert.equal(r.get('num.partitions')!.value, '3');
  assert.equal(r.get('num.partitions')!.source, ConfigSource.STATIC_BROKER_CONFIG);
  assert.equal(r.get('log.retention.hours')!.source, ConfigSource.DEFAULT_CONFIG);
  assert.equal(r.get('log.retention.ms')!.value, null);
  assert.equal(r.get('node.id')!.value, '7');
  assert.ok([...r.values()].every((e) => e.readOnly));
});
