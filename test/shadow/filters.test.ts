import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALWAYS_SYNCED_TOPIC_PROPERTIES,
  DEFAULT_SYNCED_TOPIC_PROPERTIES,
  ShadowLinkOverlapError,
  assertNoLinkOverlap,
  evaluateNameFilters,
  findStaticOverlaps,
  findTopicOverlaps,
  isGroupSynced,
  isSyncedProperty,
  isTopicShadowed,
  selectShadowedTopics,
  shadowTopicSettings,
  syncedPropertyNames,
  topicFilterDecision,
  validateLinkConfig,
  type NameFilter,
  type ShadowLinkConfig,
} from '../../src/shadow/index.js';

type F = [NameFilter['patternType'], NameFilter['filterType'], string];

function link(name: string, topicFilters: F[], extra: Record<string, unknown> = {}): ShadowLinkConfig {
  const filters = (fs: F[]) => fs.map(([pattern_type, filter_type, n]) => ({ pattern_type, filter_type, name: n }));
  const { topic_metadata_sync_options, ...rest } = extra as { topic_metadata_sync_options?: Record<string, unknown> };
  return validateLinkConfig({
    name,
    client_options: { bootstrap_servers: ['source:9092'] },
    topic_metadata_sync_options: { auto_create_shadow_topic_filters: filters(topicFilters), ...topic_metadata_sync_options },
    ...rest,
  });
}

test('LITERAL matches the exact name; PREFIX matches the start', () => {
  const cfg = link('l', [
    ['LITERAL', 'INCLUDE', 'orders'],
    ['PREFIX', 'INCLUDE', 'a_'],
  ]);
  assert.deepEqual(selectShadowedTopics(['orders', 'orders2', 'a_x', 'a_', 'b_x', 'xa_'], cfg), ['orders', 'a_x', 'a_']);
});

test('EXCLUDE wins over INCLUDE, whatever the order', () => {
  const excludeFirst = link('l', [
    ['LITERAL', 'EXCLUDE', 'a_scratch'],
    ['PREFIX', 'INCLUDE', 'a_'],
  ]);
  const excludeLast = link('l', [
    ['PREFIX', 'INCLUDE', 'a_'],
    ['LITERAL', 'EXCLUDE', 'a_scratch'],
  ]);
  for (const cfg of [excludeFirst, excludeLast]) {
    assert.equal(isTopicShadowed('a_scratch', cfg), false);
    assert.equal(isTopicShadowed('a_orders', cfg), true);
  }
  const d = topicFilterDecision('a_scratch', excludeLast);
  assert.match(d.reason, /excluded by filter EXCLUDE LITERAL 'a_scratch'/);
  // an EXCLUDE of everything beats a literal include
  const none = link('l', [
    ['LITERAL', 'INCLUDE', 'orders'],
    ['LITERAL', 'EXCLUDE', '*'],
  ]);
  assert.equal(isTopicShadowed('orders', none), false);
});

test('unmatched names are not shadowed; no filters = nothing', () => {
  assert.equal(isTopicShadowed('orders', link('l', [['PREFIX', 'INCLUDE', 'a_']])), false);
  assert.equal(isTopicShadowed('orders', link('l', [])), false);
  assert.deepEqual(evaluateNameFilters([], 'x'), { selected: false, reason: 'no INCLUDE filter matches' });
});

test('`*` matches every topic but never internal topics or _schemas', () => {
  const all = link('l', [['LITERAL', 'INCLUDE', '*']]);
  assert.deepEqual(
    selectShadowedTopics(['orders', '__consumer_offsets', '__transaction_state', '__cluster_metadata', '_schemas', '_confluent-metrics', 'x'], all),
    ['orders', '_confluent-metrics', 'x'],
  );
  assert.match(topicFilterDecision('__consumer_offsets', all).reason, /internal/);
  assert.match(topicFilterDecision('_schemas', all).reason, /schema_registry_sync_options/);
});

test('_schemas is shadowed exactly when schema registry sync is on', () => {
  const on = link('l', [], { schema_registry_sync_options: { shadow_schema_registry_topic: {} } });
  assert.equal(isTopicShadowed('_schemas', on), true);
  assert.equal(isTopicShadowed('orders', on), false);
  const onWithExclude = link('l', [['LITERAL', 'EXCLUDE', '*']], { schema_registry_sync_options: { shadow_schema_registry_topic: {} } });
  assert.equal(isTopicShadowed('_schemas', onWithExclude), true, 'the explicit switch decides for _schemas');
  assert.equal(isTopicShadowed('_schemas', link('l', [['LITERAL', 'INCLUDE', '*']])), false);
});

test('group filters select consumer groups the same way', () => {
  const cfg = validateLinkConfig({
    name: 'l',
    client_options: { bootstrap_servers: ['s:1'] },
    consumer_offset_sync_options: {
      group_filters: [
        { pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: '*' },
        { pattern_type: 'PREFIX', filter_type: 'EXCLUDE', name: 'tmp-' },
      ],
    },
  });
  assert.equal(isGroupSynced('billing', cfg), true);
  assert.equal(isGroupSynced('tmp-123', cfg), false);
  assert.equal(isGroupSynced('billing', link('l', [])), false, 'no group filters = no groups');
});

test('synced properties: always, default unless exclude_default, and listed extras', () => {
  const dflt = link('l', []);
  const excl = link('l', [], { topic_metadata_sync_options: { exclude_default: true, synced_shadow_topic_properties: ['segment.bytes'] } });
  for (const p of ALWAYS_SYNCED_TOPIC_PROPERTIES) {
    assert.equal(isSyncedProperty(p, dflt), true, p);
    assert.equal(isSyncedProperty(p, excl), true, p);
  }
  for (const p of DEFAULT_SYNCED_TOPIC_PROPERTIES) {
    assert.equal(isSyncedProperty(p, dflt), true, p);
    assert.equal(isSyncedProperty(p, excl), false, p);
  }
  assert.equal(isSyncedProperty('segment.bytes', dflt), false);
  assert.equal(isSyncedProperty('segment.bytes', excl), true);
  assert.deepEqual(syncedPropertyNames(excl), ['cleanup.policy', 'max.message.bytes', 'message.timestamp.type', 'segment.bytes']);
  assert.equal(syncedPropertyNames(dflt).length, ALWAYS_SYNCED_TOPIC_PROPERTIES.length + DEFAULT_SYNCED_TOPIC_PROPERTIES.length);
});

test('shadowTopicSettings picks what the shadow topic carries from the source description', () => {
  const source = {
    partitionCount: 6,
    replicationFactor: 3,
    configs: {
      'cleanup.policy': 'compact',
      'max.message.bytes': '2097152',
      'message.timestamp.type': 'CreateTime',
      'compression.type': 'zstd',
      'retention.ms': '86400000',
      'segment.bytes': '1048576',
      'min.insync.replicas': '2',
      'retention.bytes': null,
    },
  };
  assert.deepEqual(shadowTopicSettings(source, link('l', [])), {
    partitionCount: 6,
    replicationFactor: 3,
    configs: {
      'cleanup.policy': 'compact',
      'compression.type': 'zstd',
      'max.message.bytes': '2097152',
      'message.timestamp.type': 'CreateTime',
      'retention.ms': '86400000',
    },
  });
  const excl = link('l', [], { topic_metadata_sync_options: { exclude_default: true, synced_shadow_topic_properties: ['segment.bytes'] } });
  assert.deepEqual(shadowTopicSettings(source, excl), {
    partitionCount: 6,
    replicationFactor: undefined,
    configs: { 'cleanup.policy': 'compact', 'max.message.bytes': '2097152', 'message.timestamp.type': 'CreateTime', 'segment.bytes': '1048576' },
  });
});

test('overlap: a concrete topic claimed by two links names both', () => {
  const a = link('dr-a', [['PREFIX', 'INCLUDE', 'a_']]);
  const b = link('dr-b', [['PREFIX', 'INCLUDE', 'a_o']]);
  const c = link('dr-c', [['PREFIX', 'INCLUDE', 'c_']]);
  const overlaps = findTopicOverlaps([a, b, c], ['a_orders', 'a_x', 'c_y']);
  assert.equal(overlaps.length, 1);
  assert.deepEqual(overlaps[0]!.links, ['dr-a', 'dr-b']);
  assert.equal(overlaps[0]!.topic, 'a_orders');
  assert.match(overlaps[0]!.message, /'a_orders'.*'dr-a'.*'dr-b'/);
  assert.throws(() => assertNoLinkOverlap([a, b, c], ['a_orders']), (err: unknown) => err instanceof ShadowLinkOverlapError && /dr-a/.test(err.message) && /dr-b/.test(err.message));
  assert.doesNotThrow(() => assertNoLinkOverlap([a, c], ['a_orders', 'c_y']));
  // the reciprocal pair: disjoint prefixes
  assert.doesNotThrow(() => assertNoLinkOverlap([a, c], ['a_1', 'c_1', 'b_1']));
});

test('overlap, statically: identical LITERAL includes, a literal another link selects, `*` twice, _schemas twice', () => {
  const one = link('one', [['LITERAL', 'INCLUDE', 'orders']]);
  const two = link('two', [['LITERAL', 'INCLUDE', 'orders']]);
  const [o] = findStaticOverlaps([one, two]);
  assert.ok(o);
  assert.deepEqual(o.links, ['one', 'two']);
  assert.equal(o.topic, 'orders');
  assert.match(o.message, /'orders'.*'one'.*'two'/);
  assert.throws(() => assertNoLinkOverlap([one, two]), ShadowLinkOverlapError);

  const prefix = link('prefix', [['PREFIX', 'INCLUDE', 'ord']]);
  assert.equal(findStaticOverlaps([one, prefix])[0]?.topic, 'orders');
  const prefixExcluding = link('prefix', [
    ['PREFIX', 'INCLUDE', 'ord'],
    ['LITERAL', 'EXCLUDE', 'orders'],
  ]);
  assert.deepEqual(findStaticOverlaps([one, prefixExcluding]), []);

  const star1 = link('s1', [['LITERAL', 'INCLUDE', '*']]);
  const star2 = link('s2', [['LITERAL', 'INCLUDE', '*']]);
  assert.match(findStaticOverlaps([star1, star2])[0]!.message, /both include every topic/);

  const sr = { schema_registry_sync_options: { shadow_schema_registry_topic: {} } };
  const overlaps = findStaticOverlaps([link('x', [], sr), link('y', [], sr)]);
  assert.equal(overlaps[0]?.topic, '_schemas');
  assert.deepEqual(findStaticOverlaps([link('x', [], sr), link('y', [])]), []);
});
