import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig, parseHostPort } from '../src/config.js';
import { REDACTED, createLogger, redactSecrets } from '../src/log.js';

function withFile(t: { after(fn: () => void): void }, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'umbra.yaml');
  writeFileSync(path, text);
  return path;
}

function configError(key: string | undefined, pattern: RegExp) {
  return (err: unknown) => err instanceof ConfigError && err.key === key && pattern.test(err.message);
}

test('defaults match `npm start` and Kafka', () => {
  const c = loadConfig({ cwd: '/srv' });
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9092 });
  assert.deepEqual(c.adminListen, { host: '127.0.0.1', port: 9644 });
  assert.equal(c.advertisedHost, '127.0.0.1');
  assert.equal(c.advertisedPort, undefined);
  assert.equal(c.dataDir, '/srv/data');
  assert.equal(c.nodeId, 0);
  assert.equal(c.numPartitions, 1);
  assert.equal(c.autoCreateTopics, true);
  assert.equal(c.maxRequestBytes, 100 * 1024 * 1024);
  assert.equal(c.offsetsTopicNumPartitions, 50);
  assert.equal(c.offsetsRetentionMs, 7 * 24 * 3600 * 1000);
  assert.equal(c.groupInitialRebalanceDelayMs, 3000);
  assert.equal(c.logDefaults.segmentBytes, 1024 ** 3);
  assert.equal(c.logDefaults.retentionMs, 7 * 24 * 3600 * 1000);
  assert.equal(c.logDefaults.maxMessageBytes, 1048588);
  assert.deepEqual(c.staticBrokerConfigs, {});
});

test('file, then overrides; broker: keys by their Kafka names', (t) => {
  const file = withFile(
    t,
    `
node_id: 4
listen: 0.0.0.0:19092
admin_listen: "[::1]:19644"
advertised_host: kafka-4.internal
data_dir: /var/lib/umbra
log_level: debug
broker:
  num.partitions: 6
  log.retention.hours: 24
  auto.create.topics.enable: false
  log.flush.scheduler.interval.ms: 9223372036854775807
`,
  );
  const c = loadConfig({ file, overrides: { data_dir: '/tmp/other', broker: { 'num.partitions': '8' }, listen: undefined } });
  assert.equal(c.nodeId, 4);
  assert.deepEqual(c.listen, { host: '0.0.0.0', port: 19092 });
  assert.deepEqual(c.adminListen, { host: '::1', port: 19644 });
  assert.equal(c.advertisedHost, 'kafka-4.internal');
  assert.equal(c.dataDir, '/tmp/other');
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.numPartitions, 8);
  assert.equal(c.autoCreateTopics, false);
  assert.equal(c.logDefaults.retentionMs, 24 * 3600 * 1000);
  assert.deepEqual(c.staticBrokerConfigs, {
    'num.partitions': '8',
    'log.retention.hours': '24',
    'auto.create.topics.enable': 'false',
    'log.flush.scheduler.interval.ms': '9223372036854775807',
  });
});

test('a wildcard listen address advertises a host name, not 0.0.0.0', () => {
  const c = loadConfig({ overrides: { listen: '0.0.0.0:9092' } });
  assert.notEqual(c.advertisedHost, '0.0.0.0');
  assert.ok(c.advertisedHost.length > 0);
});

test('unknown keys and bad values are rejected with the key named', (t) => {
  assert.throws(() => loadConfig({ file: withFile(t, 'nodeid: 1\n') }), configError('nodeid', /unknown key 'nodeid'/));
  assert.throws(() => loadConfig({ file: withFile(t, 'node_id: -1\n') }), configError('node_id', /node_id/));
  assert.throws(() => loadConfig({ file: withFile(t, 'log_level: loud\n') }), configError('log_level', /log_level/));
  assert.throws(() => loadConfig({ file: withFile(t, 'listen: 9092\n') }), configError('listen', /listen/));
  assert.throws(() => loadConfig({ overrides: { listen: 'localhost' } }), configError('listen', /host:port/));
  assert.throws(() => loadConfig({ overrides: { listen: 'h:70000' } }), configError('listen', /host:port/));
  assert.throws(() => loadConfig({ file: withFile(t, 'broker:\n  num.network.threads: 3\n') }), configError('broker.num.network.threads', /unsupported/));
  assert.throws(() => loadConfig({ file: withFile(t, 'broker:\n  num.partitions: zero\n') }), configError('broker.num.partitions', /num\.partitions/));
  assert.throws(() => loadConfig({ file: withFile(t, 'broker:\n  log.segment.bytes: 100\n') }), configError('broker.log.segment.bytes', /at least 1048576/));
  assert.throws(() => loadConfig({ file: withFile(t, 'broker:\n  node.id: 3\n') }), configError('broker.node.id', /node_id/));
  assert.throws(() => loadConfig({ file: withFile(t, 'broker:\n  default.replication.factor: 3\n') }), configError('broker.default.replication.factor', /single node/));
  assert.throws(
    () => loadConfig({ overrides: { broker: { 'group.min.session.timeout.ms': 10, 'group.max.session.timeout.ms': 5 } } }),
    configError('broker.group.min.session.timeout.ms', /must not exceed/),
  );
  assert.throws(() => loadConfig({ file: withFile(t, 'broker: [1, 2]\n') }), configError('broker', /broker/));
  assert.throws(() => loadConfig({ file: withFile(t, 'a: [\n') }), configError(undefined, /not valid YAML/));
  assert.throws(() => loadConfig({ file: '/no/such/umbra.yaml' }), configError(undefined, /cannot read config file/));
  assert.throws(() => loadConfig({ file: withFile(t, '- 1\n') }), configError(undefined, /mapping/));
});

test('an empty file and JSON files are fine', (t) => {
  assert.equal(loadConfig({ file: withFile(t, '') }).nodeId, 0);
  assert.equal(loadConfig({ file: withFile(t, '{"node_id": 2, "broker": {"num.partitions": 2}}') }).numPartitions, 2);
});

test('parseHostPort', () => {
  assert.deepEqual(parseHostPort('a.b:1', 'x'), { host: 'a.b', port: 1 });
  assert.deepEqual(parseHostPort('[fe80::1]:0', 'x'), { host: 'fe80::1', port: 0 });
  assert.deepEqual(parseHostPort(':9092', 'x'), { host: '0.0.0.0', port: 9092 });
});

test('the logger writes JSON lines and never the secrets', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level: 'info', name: 'test', destination });
  log.info({ password: 'hunter2', link: { client_options: { authentication_configuration: { scram_configuration: { username: 'u', password: 'p4ss' } } } } }, 'hello');
  log.debug('hidden at info');
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(rec.msg, 'hello');
  assert.equal(rec.name, 'test');
  assert.ok(!lines[0]!.includes('hunter2'));
  assert.ok(!lines[0]!.includes('p4ss'));
  assert.equal(rec.password, REDACTED);
});

test('redactSecrets scrubs secret-looking keys at any depth', () => {
  const out = redactSecrets({ a: 1, nested: [{ password: 'x', 'sasl.jaas.config': 'y', user: 'u' }], apiToken: 't', b: null });
  assert.deepEqual(out, { a: 1, nested: [{ password: REDACTED, 'sasl.jaas.config': REDACTED, user: 'u' }], apiToken: REDACTED, b: null });
});
