import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { REDACTED as LOG_REDACTED } from '../../src/log.js';
import { AclOperation, AclPermissionType, PatternType, ResourceType } from '../../src/security/acl.js';
import {
  LINK_CONFIG_DEFAULTS,
  REDACTED,
  Secret,
  ShadowConfigError,
  checkLinkUpdate,
  formatDuration,
  formatLinkConfigYaml,
  generateLinkConfigTemplate,
  inheritSecrets,
  parseDuration,
  parseLinkConfig,
  redactLinkConfig,
  redactLinkDocument,
  toLinkConfigDocument,
  validateLinkConfig,
} from '../../src/shadow/index.js';

// SPEC §2.3, verbatim.
const SPEC_EXAMPLE = `
name: dr                                   # immutable
client_options:
  bootstrap_servers: ["source-1:9092"]
  source_cluster_id: ""                    # optional: must match the source's cluster id
  tls_settings: { enabled: false, tls_file_settings: { ca_path: "", cert_path: "", key_path: "" } }
  authentication_configuration:            # optional; one of:
    scram_configuration: { username: u, password: p, scram_mechanism: SCRAM-SHA-256 }
    # plain_configuration: { username: u, password: p }
  metadata_max_age_ms: 10000
  connection_timeout_ms: 1000
  retry_backoff_ms: 100
  fetch_wait_max_ms: 500
  fetch_min_bytes: 1
  fetch_max_bytes: 20971520
  fetch_partition_max_bytes: 5242880
topic_metadata_sync_options:
  interval: 5s
  auto_create_shadow_topic_filters:        # EXCLUDE wins; otherwise the first INCLUDE; unmatched = not shadowed
    - { pattern_type: PREFIX, filter_type: INCLUDE, name: "a_" }
    - { pattern_type: LITERAL, filter_type: EXCLUDE, name: "a_scratch" }
  synced_shadow_topic_properties: []
  exclude_default: false
  start_at_earliest: {}                    # or start_at_latest: {} or start_at_timestamp: 2026-01-01T00:00:00Z
  paused: false
consumer_offset_sync_options: { interval: 5s, paused: false, group_filters: [ { pattern_type: LITERAL, filter_type: INCLUDE, name: "*" } ] }
security_sync_options: { interval: 30s, paused: false, acl_filters: [] }   # resource_filter + access_filter pairs
schema_registry_sync_options: {}           # shadow_schema_registry_topic: {} turns on \`_schemas\` shadowing
`;

const SECRET = 'hunter2-very-secret';

/** A minimal valid document; `patch` deep-merges over it (null deletes a key). */
function doc(patch: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    name: 'dr',
    client_options: { bootstrap_servers: ['source-1:9092'] },
    topic_metadata_sync_options: { auto_create_shadow_topic_filters: [{ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: '*' }] },
  };
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) {
      if (v === null) delete out[k];
      else if (typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' && out[k] !== null && !Array.isArray(out[k])) {
        out[k] = merge(out[k] as Record<string, unknown>, v as Record<string, unknown>);
      } else out[k] = v;
    }
    return out;
  };
  return merge(base, patch);
}

/** Asserts that validating `d` fails with an issue on exactly `field` whose message matches `pattern`. */
function rejects(d: unknown, field: string, pattern: RegExp = /./): void {
  assert.throws(
    () => validateLinkConfig(d),
    (err: unknown) => {
      assert.ok(err instanceof ShadowConfigError, `expected ShadowConfigError, got ${String(err)}`);
      const issue = err.issues.find((i) => i.field === field);
      assert.ok(issue, `no issue on '${field}'; got ${JSON.stringify(err.issues)}`);
      assert.match(issue.message, pattern);
      assert.ok(err.message.includes(field), 'the message names the field');
      return true;
    },
  );
}

test('the SPEC §2.3 example parses to the normalized model', () => {
  const cfg = parseLinkConfig(SPEC_EXAMPLE);
  assert.equal(cfg.name, 'dr');
  const co = cfg.clientOptions;
  assert.deepEqual(co.bootstrapServers, [{ host: 'source-1', port: 9092 }]);
  assert.equal(co.sourceClusterId, undefined);
  assert.equal(co.tls.enabled, false);
  assert.equal(co.tls.caPath, undefined);
  assert.equal(co.authentication?.mechanism, 'SCRAM-SHA-256');
  assert.equal(co.authentication?.username, 'u');
  assert.equal(co.authentication?.password?.reveal(), 'p');
  assert.equal(co.metadataMaxAgeMs, 10_000);
  assert.equal(co.fetchPartitionMaxBytes, 5_242_880);
  assert.equal(co.fetchConnectionsPerNode, 2, 'fetch_connections_per_node left out: the default');
  assert.equal(validateLinkConfig(doc({ client_options: { fetch_connections_per_node: 4 } })).clientOptions.fetchConnectionsPerNode, 4);
  const ts = cfg.topicMetadataSync;
  assert.equal(ts.intervalMs, 5_000);
  assert.deepEqual(ts.autoCreateShadowTopicFilters, [
    { patternType: 'PREFIX', filterType: 'INCLUDE', name: 'a_' },
    { patternType: 'LITERAL', filterType: 'EXCLUDE', name: 'a_scratch' },
  ]);
  assert.deepEqual(ts.startAt, { kind: 'earliest' });
  assert.equal(ts.excludeDefault, false);
  assert.equal(ts.paused, false);
  assert.deepEqual(cfg.consumerOffsetSync, { intervalMs: 5_000, paused: false, groupFilters: [{ patternType: 'LITERAL', filterType: 'INCLUDE', name: '*' }] });
  assert.deepEqual(cfg.securitySync, { intervalMs: 30_000, paused: false, aclFilters: [] });
  assert.deepEqual(cfg.schemaRegistrySync, { shadowSchemaRegistryTopic: false });
});

test('the same document as JSON parses identically', () => {
  const fromYaml = parseLinkConfig(SPEC_EXAMPLE);
  const fromJson = parseLinkConfig(JSON.stringify(parseYaml(SPEC_EXAMPLE)));
  assert.deepEqual(toLinkConfigDocument(fromJson, { revealSecrets: true }), toLinkConfigDocument(fromYaml, { revealSecrets: true }));
});

test('defaults fill everything left out', () => {
  const cfg = validateLinkConfig({ name: 'x', client_options: { bootstrap_servers: ['h:1'] } });
  const d = LINK_CONFIG_DEFAULTS;
  assert.equal(cfg.clientOptions.fetchMaxBytes, d.fetchMaxBytes);
  assert.equal(cfg.clientOptions.fetchWaitMaxMs, d.fetchWaitMaxMs);
  assert.equal(cfg.clientOptions.authentication, undefined);
  assert.equal(cfg.topicMetadataSync.intervalMs, d.topicSyncIntervalMs);
  assert.deepEqual(cfg.topicMetadataSync.autoCreateShadowTopicFilters, []);
  assert.deepEqual(cfg.topicMetadataSync.startAt, { kind: 'earliest' });
  assert.equal(cfg.consumerOffsetSync.intervalMs, d.consumerOffsetSyncIntervalMs);
  assert.deepEqual(cfg.consumerOffsetSync.groupFilters, []);
  assert.equal(cfg.securitySync.intervalMs, d.securitySyncIntervalMs);
  assert.equal(cfg.schemaRegistrySync.shadowSchemaRegistryTopic, false);
  // 0 means "the default", as in Redpanda
  const zero = validateLinkConfig(doc({ client_options: { fetch_max_bytes: 0 }, topic_metadata_sync_options: { interval: '0s' } }));
  assert.equal(zero.clientOptions.fetchMaxBytes, d.fetchMaxBytes);
  assert.equal(zero.topicMetadataSync.intervalMs, d.topicSyncIntervalMs);
});

test('durations: Go syntax to milliseconds, and back', () => {
  assert.equal(parseDuration('5s'), 5_000);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['5', '5 s', '-5s', 's', '5sec', '', '1.5ms', '100us', '5S']) assert.equal(parseDuration(bad), undefined, bad);
  for (const ms of [1, 500, 1_500, 5_000, 60_000, 90_000, 3_600_000]) assert.equal(parseDuration(formatDuration(ms)), ms);
  assert.equal(formatDuration(60_000), '1m');
  const cfg = validateLinkConfig(doc({ consumer_offset_sync_options: { interval: '1m' }, security_sync_options: { interval: '500ms' } }));
  assert.equal(cfg.consumerOffsetSync.intervalMs, 60_000);
  assert.equal(cfg.securitySync.intervalMs, 500);
});

test('each validation error names its field by full path', () => {
  rejects(doc({ bogus: 1 }), 'bogus', /unknown field/);
  rejects(doc({ client_options: { bootstrap_server: ['h:1'] } }), 'client_options.bootstrap_server', /did you mean 'bootstrap_servers'/);
  rejects(doc({ topic_metadata_sync_options: { intervall: '5s' } }), 'topic_metadata_sync_options.intervall', /unknown field/);
  rejects(doc({ topic_metadata_sync_options: { interval: 5 } }), 'topic_metadata_sync_options.interval', /duration.*number/);
  rejects(doc({ topic_metadata_sync_options: { interval: '5 seconds' } }), 'topic_metadata_sync_options.interval', /duration/);
  rejects(doc({ consumer_offset_sync_options: { interval: '-1s' } }), 'consumer_offset_sync_options.interval', /duration/);
  rejects(doc({ security_sync_options: { interval: 'soon' } }), 'security_sync_options.interval', /duration/);
  rejects(doc({ client_options: { bootstrap_servers: [] } }), 'client_options.bootstrap_servers', /at least one/);
  rejects(doc({ client_options: { bootstrap_servers: null } }), 'client_options.bootstrap_servers', /required/);
  rejects(doc({ client_options: { bootstrap_servers: 'h:1' } }), 'client_options.bootstrap_servers', /expected a list/);
  rejects(doc({ client_options: { bootstrap_servers: ['ok:9092', 'nohost'] } }), 'client_options.bootstrap_servers[1]', /host:port/);
  rejects(doc({ client_options: { bootstrap_servers: ['h:99999'] } }), 'client_options.bootstrap_servers[0]', /host:port/);
  rejects(doc({ client_options: { bootstrap_servers: [9092] } }), 'client_options.bootstrap_servers[0]', /string/);
  rejects(doc({ client_options: { fetch_max_bytes: '20MB' } }), 'client_options.fetch_max_bytes', /whole number/);
  rejects(doc({ client_options: { retry_backoff_ms: -1 } }), 'client_options.retry_backoff_ms', /between/);
  rejects(doc({ client_options: { fetch_max_bytes: 1000, fetch_partition_max_bytes: 2000 } }), 'client_options.fetch_partition_max_bytes', /fetch_max_bytes/);
  rejects(doc({ client_options: { fetch_connections_per_node: 17 } }), 'client_options.fetch_connections_per_node', /at most 16/);
  rejects(doc({ client_options: { fetch_connections_per_node: 1.5 } }), 'client_options.fetch_connections_per_node', /whole number/);
  rejects(doc({ client_options: { tls_settings: { enabled: 'yes' } } }), 'client_options.tls_settings.enabled', /true or false/);
  rejects(doc({ client_options: { tls_settings: { tls_file_settings: { cert_path: '/c.pem' } } } }), 'client_options.tls_settings.tls_file_settings.key_path', /both/);
  rejects(doc({ topic_metadata_sync_options: { exclude_default: 'no' } }), 'topic_metadata_sync_options.exclude_default', /true or false/);
  rejects(doc({ topic_metadata_sync_options: { synced_shadow_topic_properties: 'segment.bytes' } }), 'topic_metadata_sync_options.synced_shadow_topic_properties', /list/);
  rejects(doc({ topic_metadata_sync_options: { synced_shadow_topic_properties: ['Segment Bytes'] } }), 'topic_metadata_sync_options.synced_shadow_topic_properties[0]', /property name/);
  rejects(doc({ client_options: 'h:1' }), 'client_options', /mapping/);
  rejects({ name: 'dr' }, 'client_options', /required/);
  rejects(doc({ schema_registry_sync_options: { shadow_schema_registry_topic: 'yes' } }), 'schema_registry_sync_options.shadow_schema_registry_topic', /mapping/);
});

test('the link name follows the topic-name rules', () => {
  rejects(doc({ name: null }), 'name', /required/);
  rejects(doc({ name: 42 }), 'name', /string/);
  rejects(doc({ name: 'my link' }), 'name', /letters, digits/);
  rejects(doc({ name: 'a/b' }), 'name', /letters, digits/);
  rejects(doc({ name: '..' }), 'name', /not allowed/);
  rejects(doc({ name: 'x'.repeat(250) }), 'name', /249/);
  assert.equal(validateLinkConfig(doc({ name: 'dr-eu.west_1' })).name, 'dr-eu.west_1');
});

test('filters: bad pattern_type / filter_type / name are rejected; Redpanda enum spellings are accepted', () => {
  const f = (filter: Record<string, unknown>): Record<string, unknown> => doc({ topic_metadata_sync_options: { auto_create_shadow_topic_filters: [filter] } });
  const p = 'topic_metadata_sync_options.auto_create_shadow_topic_filters[0]';
  rejects(f({ pattern_type: 'REGEX', filter_type: 'INCLUDE', name: 'a' }), `${p}.pattern_type`, /LITERAL, PREFIX.*REGEX/);
  rejects(f({ pattern_type: 'LITERAL', filter_type: 'ALLOW', name: 'a' }), `${p}.filter_type`, /INCLUDE, EXCLUDE/);
  rejects(f({ filter_type: 'INCLUDE', name: 'a' }), `${p}.pattern_type`, /required/);
  rejects(f({ pattern_type: 'LITERAL', filter_type: 'INCLUDE' }), `${p}.name`, /required/);
  rejects(f({ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: 'bad name' }), `${p}.name`, /letters/);
  rejects(f({ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: '*' }), `${p}.name`, /LITERAL/);
  rejects(f({ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: 'a', regex: true }), `${p}.regex`, /unknown/);
  rejects(doc({ consumer_offset_sync_options: { group_filters: [{ pattern_type: 'GLOB', filter_type: 'INCLUDE', name: 'g' }] } }), 'consumer_offset_sync_options.group_filters[0].pattern_type');
  const cfg = validateLinkConfig(f({ pattern_type: 'PATTERN_TYPE_PREFIX', filter_type: 'filter_type_exclude', name: 'x_' }));
  assert.deepEqual(cfg.topicMetadataSync.autoCreateShadowTopicFilters, [{ patternType: 'PREFIX', filterType: 'EXCLUDE', name: 'x_' }]);
  // group ids are free-form: spaces are fine there
  const g = validateLinkConfig(doc({ consumer_offset_sync_options: { group_filters: [{ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: 'my group' }] } }));
  assert.equal(g.consumerOffsetSync.groupFilters[0]?.name, 'my group');
});

test('filters that would include internal topics or _schemas are rejected; excluding them is fine', () => {
  const f = (filter: Record<string, unknown>): Record<string, unknown> => doc({ topic_metadata_sync_options: { auto_create_shadow_topic_filters: [filter] } });
  const p = 'topic_metadata_sync_options.auto_create_shadow_topic_filters[0].name';
  rejects(f({ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: '__consumer_offsets' }), p, /internal topic '__consumer_offsets'/);
  rejects(f({ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: '__transaction_state' }), p, /internal topic/);
  rejects(f({ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: '__' }), p, /internal topic/);
  rejects(f({ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: '_schemas' }), p, /schema_registry_sync_options/);
  rejects(f({ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: '_sch' }), p, /schema_registry_sync_options/);
  validateLinkConfig(f({ pattern_type: 'LITERAL', filter_type: 'EXCLUDE', name: '__consumer_offsets' }));
  validateLinkConfig(f({ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: '_confluent' }));
});

test('start position: exactly one of start_at_*', () => {
  const t = (o: Record<string, unknown>) => validateLinkConfig(doc({ topic_metadata_sync_options: o })).topicMetadataSync.startAt;
  assert.deepEqual(t({ start_at_latest: {} }), { kind: 'latest' });
  assert.deepEqual(t({ start_at_earliest: null }), { kind: 'earliest' });
  assert.deepEqual(t({ start_at_timestamp: '2026-01-01T00:00:00Z' }), { kind: 'timestamp', timestampMs: Date.UTC(2026, 0, 1) });
  assert.deepEqual(t({ start_at_timestamp: 1_700_000_000_000 }), { kind: 'timestamp', timestampMs: 1_700_000_000_000 });
  const fromYaml = parseLinkConfig('name: dr\nclient_options: { bootstrap_servers: [h:1] }\ntopic_metadata_sync_options:\n  start_at_timestamp: 2026-01-01T00:00:00Z\n');
  assert.deepEqual(fromYaml.topicMetadataSync.startAt, { kind: 'timestamp', timestampMs: Date.UTC(2026, 0, 1) });
  rejects(doc({ topic_metadata_sync_options: { start_at_earliest: {}, start_at_latest: {} } }), 'topic_metadata_sync_options.start_at_latest', /only one/);
  rejects(doc({ topic_metadata_sync_options: { start_at_timestamp: 'yesterday' } }), 'topic_metadata_sync_options.start_at_timestamp', /RFC 3339/);
  rejects(doc({ topic_metadata_sync_options: { start_at_latest: { offset: 5 } } }), 'topic_metadata_sync_options.start_at_latest.offset', /unknown/);
});

test('authentication: one mechanism, a password needs a username', () => {
  const auth = (a: Record<string, unknown>) => doc({ client_options: { authentication_configuration: a } });
  const base = 'client_options.authentication_configuration';
  rejects(auth({ scram_configuration: { password: SECRET } }), `${base}.scram_configuration.username`, /password needs a username/);
  rejects(auth({ plain_configuration: { password: SECRET } }), `${base}.plain_configuration.username`, /password needs a username/);
  rejects(auth({ scram_configuration: { username: 'u' } }), `${base}.scram_configuration.password`, /required/);
  rejects(auth({ scram_configuration: { username: 'u', password: SECRET, scram_mechanism: 'MD5' } }), `${base}.scram_configuration.scram_mechanism`, /SCRAM-SHA-256/);
  rejects(auth({ scram_configuration: { username: 'u', password: 'p' }, plain_configuration: { username: 'u', password: 'p' } }), base, /not both/);
  rejects(auth({ kerberos: {} }), `${base}.kerberos`, /unknown/);
  // a password of the wrong type is reported without its value
  assert.throws(
    () => validateLinkConfig(auth({ scram_configuration: { username: 'u', password: 123456789 } })),
    (err: ShadowConfigError) => err.field.endsWith('.password') && !err.message.includes('123456789'),
  );
  const s512 = validateLinkConfig(auth({ scram_configuration: { username: 'u', password: SECRET, scram_mechanism: 'SCRAM_MECHANISM_SCRAM_SHA_512' } }));
  assert.equal(s512.clientOptions.authentication?.mechanism, 'SCRAM-SHA-512');
  const dflt = validateLinkConfig(auth({ scram_configuration: { username: 'u', password: SECRET } }));
  assert.equal(dflt.clientOptions.authentication?.mechanism, 'SCRAM-SHA-256');
  const plain = validateLinkConfig(auth({ plain_configuration: { username: 'u', password: SECRET } }));
  assert.equal(plain.clientOptions.authentication?.mechanism, 'PLAIN');
  assert.equal(validateLinkConfig(auth({})).clientOptions.authentication, undefined);
});

test('acl_filters normalize to Kafka ACL binding filters', () => {
  const cfg = validateLinkConfig(
    doc({
      security_sync_options: {
        acl_filters: [
          {
            resource_filter: { resource_type: 'TOPIC', pattern_type: 'PREFIXED', name: 'a_' },
            access_filter: { principal: 'User:app', operation: 'READ', permission_type: 'ALLOW', host: '*' },
          },
          { resource_filter: { resource_type: 'ACL_RESOURCE_GROUP' }, access_filter: { operation: 'acl_operation_describe' } },
          {},
        ],
      },
    }),
  );
  assert.deepEqual(cfg.securitySync.aclFilters, [
    { resourceType: ResourceType.TOPIC, resourceName: 'a_', patternType: PatternType.PREFIXED, principal: 'User:app', host: '*', operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW },
    { resourceType: ResourceType.GROUP, resourceName: null, patternType: PatternType.ANY, principal: null, host: null, operation: AclOperation.DESCRIBE, permissionType: AclPermissionType.ANY },
    { resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY, principal: null, host: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY },
  ]);
  const p = 'security_sync_options.acl_filters[0]';
  const acl = (f: Record<string, unknown>) => doc({ security_sync_options: { acl_filters: [f] } });
  rejects(acl({ resource_filter: { resource_type: 'TABLE' } }), `${p}.resource_filter.resource_type`, /TOPIC/);
  rejects(acl({ resource_filter: { pattern_type: 'GLOB' } }), `${p}.resource_filter.pattern_type`, /PREFIXED/);
  rejects(acl({ access_filter: { operation: 'FLY' } }), `${p}.access_filter.operation`, /READ/);
  rejects(acl({ access_filter: { permission_type: 'MAYBE' } }), `${p}.access_filter.permission_type`, /ALLOW/);
  rejects(acl({ access_filter: { principal: 'alice' } }), `${p}.access_filter.principal`, /User:alice/);
  rejects(acl({ resource: {} }), `${p}.resource`, /unknown/);
});

test('all problems are reported at once', () => {
  try {
    validateLinkConfig({ name: 'a b', client_options: { bootstrap_servers: [] }, topic_metadata_sync_options: { interval: '5' } });
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof ShadowConfigError);
    assert.deepEqual(
      err.issues.map((i) => i.field),
      ['name', 'client_options.bootstrap_servers', 'topic_metadata_sync_options.interval'],
    );
    assert.equal(err.field, 'name');
  }
});

test('bad YAML: an error with a position, never the offending text', () => {
  assert.throws(
    () => parseLinkConfig(`name: dr\nclient_options:\n  authentication_configuration: { plain_configuration: { username: u, password: "${SECRET} }\n`),
    (err: ShadowConfigError) => err instanceof ShadowConfigError && /line \d+/.test(err.message) && !err.message.includes(SECRET),
  );
  assert.throws(() => parseLinkConfig('name: dr\nname: dr2\nclient_options: { bootstrap_servers: [h:1] }\n'), ShadowConfigError);
  assert.throws(() => parseLinkConfig('- just\n- a list\n'), (err: ShadowConfigError) => err.field === '' && /mapping/.test(err.message));
  assert.throws(() => parseLinkConfig(''), ShadowConfigError);
});

test('passwords never appear in JSON.stringify, util.inspect, String() or the rendered document', () => {
  const cfg = validateLinkConfig(
    doc({
      client_options: {
        authentication_configuration: { scram_configuration: { username: 'u', password: SECRET } },
        tls_settings: { enabled: true, tls_pem_settings: { ca: 'CA', cert: 'CERT', key: `KEY-${SECRET}` } },
      },
    }),
  );
  const outputs = [
    JSON.stringify(cfg),
    inspect(cfg, { depth: Infinity, showHidden: true }),
    inspect(cfg.clientOptions.authentication, { depth: Infinity }),
    String(cfg.clientOptions.authentication?.password),
    `${cfg.clientOptions.authentication?.password}`,
    JSON.stringify(redactLinkConfig(cfg)),
    formatLinkConfigYaml(cfg),
    JSON.stringify(structuredClone(cfg)),
    JSON.stringify({ ...cfg.clientOptions.authentication }),
  ];
  for (const out of outputs) assert.ok(!out.includes(SECRET), `leaked in: ${out.slice(0, 200)}`);
  assert.ok(JSON.stringify(cfg).includes(REDACTED));
  const redacted = redactLinkConfig(cfg);
  assert.equal(redacted.client_options.authentication_configuration.scram_configuration?.password, REDACTED);
  assert.equal(redacted.client_options.tls_settings.tls_pem_settings?.key, REDACTED);
  // the value is still there for whoever explicitly asks
  assert.equal(cfg.clientOptions.authentication?.password?.reveal(), SECRET);
  assert.equal(toLinkConfigDocument(cfg, { revealSecrets: true }).client_options.authentication_configuration.scram_configuration?.password, SECRET);
  assert.equal(REDACTED, LOG_REDACTED, 'one marker everywhere');
});

test('Secret compares without revealing', () => {
  assert.ok(new Secret('a').equals(new Secret('a')));
  assert.ok(!new Secret('a').equals(new Secret('b')));
  assert.ok(!new Secret('a').equals(undefined));
  assert.deepEqual(Object.keys(new Secret('a')), []);
});

test('redactLinkDocument redacts a raw request body', () => {
  const raw = { name: 'dr', client_options: { authentication_configuration: { plain_configuration: { username: 'u', password: SECRET } }, tls_settings: { tls_pem_settings: { key: SECRET, cert: 'C' } } } };
  const out = JSON.stringify(redactLinkDocument(raw));
  assert.ok(!out.includes(SECRET));
  assert.ok(out.includes('"username":"u"') && out.includes('"cert":"C"'));
});

test('a rendered (redacted) document round-trips for updates: the stored password is kept', () => {
  const created = validateLinkConfig(doc({ client_options: { authentication_configuration: { scram_configuration: { username: 'u', password: SECRET } } } }));
  const described = stringifyYaml(redactLinkConfig(created));
  // creating from the redacted output is refused: the placeholder is not a password
  assert.throws(() => parseLinkConfig(described), (err: ShadowConfigError) => err.field === 'client_options.authentication_configuration.scram_configuration.password');
  // updating from it keeps the stored password
  const next = parseLinkConfig(described.replace('interval: 5s', 'interval: 10s'), { allowMissingPasswords: true });
  assert.equal(next.clientOptions.authentication?.password, undefined);
  checkLinkUpdate(created, next);
  const merged = inheritSecrets(next, created);
  assert.equal(merged.clientOptions.authentication?.password?.reveal(), SECRET);
  assert.equal(merged.topicMetadataSync.intervalMs, 10_000);
  // a new username cannot inherit the old password
  const renamed = parseLinkConfig(described.replace('username: u', 'username: v'), { allowMissingPasswords: true });
  assert.throws(() => inheritSecrets(renamed, created), (err: ShadowConfigError) => err.field.endsWith('scram_configuration.password'));
  // nor is it sent to a new destination: another bootstrap server, or TLS switched off, needs the password again
  const bootstrap = created.clientOptions.bootstrapServers.map((h) => `${h.host}:${h.port}`)[0]!;
  const moved = parseLinkConfig(described.replace(bootstrap, 'attacker.example:9092'), { allowMissingPasswords: true });
  assert.throws(
    () => inheritSecrets(moved, created),
    (err: ShadowConfigError) => err.field.endsWith('scram_configuration.password') && /destination/.test(err.message),
  );
  // the name is immutable
  assert.throws(() => checkLinkUpdate(created, { ...created, name: 'other' }), (err: ShadowConfigError) => err.field === 'name');
});

test('the full document round-trips through render and parse', () => {
  const cfg = validateLinkConfig(
    doc({
      client_options: {
        bootstrap_servers: ['a:1', '[::1]:9093'],
        source_cluster_id: 'cid',
        tls_settings: { enabled: true, tls_file_settings: { ca_path: '/ca', cert_path: '/c', key_path: '/k' } },
        authentication_configuration: { plain_configuration: { username: 'u', password: SECRET } },
        fetch_wait_max_ms: 250,
      },
      topic_metadata_sync_options: { interval: '90s', synced_shadow_topic_properties: ['segment.bytes'], exclude_default: true, start_at_timestamp: '2026-01-01T00:00:00Z', paused: true },
      consumer_offset_sync_options: { interval: '1m', group_filters: [{ pattern_type: 'PREFIX', filter_type: 'EXCLUDE', name: 'tmp-' }] },
      security_sync_options: { acl_filters: [{ resource_filter: { resource_type: 'TOPIC', pattern_type: 'LITERAL', name: 't' } }] },
      schema_registry_sync_options: { shadow_schema_registry_topic: {} },
    }),
  );
  const again = parseLinkConfig(stringifyYaml(toLinkConfigDocument(cfg, { revealSecrets: true })));
  assert.deepEqual(toLinkConfigDocument(again, { revealSecrets: true }), toLinkConfigDocument(cfg, { revealSecrets: true }));
  assert.deepEqual(again.clientOptions.bootstrapServers, [{ host: 'a', port: 1 }, { host: '::1', port: 9093 }]);
  assert.equal(again.schemaRegistrySync.shadowSchemaRegistryTopic, true);
  assert.equal(toLinkConfigDocument(again).topic_metadata_sync_options.interval, '90s');
});

test('the generated template parses, validates and documents every section', () => {
  const text = generateLinkConfigTemplate('my-link');
  const cfg = parseLinkConfig(text);
  assert.equal(cfg.name, 'my-link');
  assert.deepEqual(cfg.clientOptions.bootstrapServers, [{ host: 'source-1', port: 9092 }]);
  assert.deepEqual(cfg.topicMetadataSync.autoCreateShadowTopicFilters, [{ patternType: 'LITERAL', filterType: 'INCLUDE', name: '*' }]);
  for (const field of ['client_options', 'tls_settings', 'authentication_configuration', 'scram_configuration', 'exclude_default', 'start_at_timestamp', 'group_filters', 'acl_filters', 'shadow_schema_registry_topic']) {
    assert.ok(text.includes(field), field);
  }
  // uncommenting the SCRAM block gives a valid config too
  const withScram = text
    .replace('authentication_configuration: {}', 'authentication_configuration:')
    .replace('  #   scram_configuration:\n  #     username: shadow-link\n  #     password: change-me\n  #     scram_mechanism: SCRAM-SHA-256', '    scram_configuration:\n      username: shadow-link\n      password: change-me\n      scram_mechanism: SCRAM-SHA-256');
  assert.equal(parseLinkConfig(withScram).clientOptions.authentication?.username, 'shadow-link');
  assert.throws(() => generateLinkConfigTemplate('bad name'), ShadowConfigError);
});

test('the example in docs/shadow-link-config.md parses', () => {
  const md = readFileSync(new URL('../../../docs/shadow-link-config.md', import.meta.url), 'utf8');
  const example = /## Example\s+```yaml\n([\s\S]*?)```/.exec(md)?.[1];
  assert.ok(example, 'the doc has an Example yaml block');
  const cfg = parseLinkConfig(example);
  assert.equal(cfg.clientOptions.authentication?.mechanism, 'SCRAM-SHA-512');
  assert.equal(cfg.securitySync.aclFilters.length, 1);
  assert.equal(cfg.schemaRegistrySync.shadowSchemaRegistryTopic, true);
});
