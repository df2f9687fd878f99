// The `umbra` binary: --help everywhere, usage errors (exit 2), failures (exit 1, message on stderr), and the
// topic/produce/consume commands end to end against the in-memory fake cluster.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FakeCluster } from '../client/fake-cluster.js';
import { FakeBroker } from '../client/fake-broker.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { UMBRA_BIN, runCli, show } from './run-cli.js';

const HELP_PATHS = [
  [],
  ['start'],
  ['topic'],
  ['topic', 'create'],
  ['topic', 'list'],
  ['topic', 'describe'],
  ['topic', 'delete'],
  ['topic', 'alter-config'],
  ['produce'],
  ['consume'],
];

async function closedPort(): Promise<number> {
  const b = await FakeBroker.start();
  const port = b.port;
  await b.close();
  return port;
}

describe('umbra CLI: arguments', () => {
  for (const path of HELP_PATHS) {
    it(`umbra ${[...path, '--help'].join(' ')} prints usage and exits 0`, async () => {
      const r = await runCli([...path, '--help']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, new RegExp(`^Usage: umbra${path.length ? ' ' + path.join(' ') : ''}`), show(r));
      if (['create', 'list', 'describe', 'delete', 'alter-config', 'produce', 'consume'].includes(path.at(-1) ?? '')) {
        assert.match(r.stdout, /--brokers/);
        assert.match(r.stdout, /--format/);
      }
    });
  }

  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(dirname(dirname(UMBRA_BIN)), 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trim(), pkg.version);
  });

  const usageErrors: [string, string[], RegExp][] = [
    ['an unknown command', ['frobnicate'], /unknown command/],
    ['an unknown option', ['topic', 'list', '--bogus'], /unknown option/],
    ['a missing argument', ['topic', 'create'], /missing required argument/],
    ['a non-numeric partition count', ['topic', 'create', 't', '-p', 'abc'], /--partitions must be an integer/],
    ['a bad format', ['topic', 'list', '--format', 'xml'], /Allowed choices are text, json, yaml/],
    ['yaml for consume', ['consume', 't', '--format', 'yaml'], /Allowed choices are text, json/],
    ['--key with --key-separator', ['produce', 't', '--key', 'k', '--key-separator', ':'], /cannot be used with/],
    ['a bad --acks', ['produce', 't', '--acks', '2'], /Allowed choices/],
    ['--offset without --partition', ['consume', 't', '--offset', '3'], /--offset needs --partition/],
    ['a config that is not key=value', ['topic', 'create', 't', '-c', 'retention.ms'], /not key=value/],
    ['alter-config with nothing to change', ['topic', 'alter-config', 't'], /nothing to change/],
    ['an unreadable config file', ['start', '--config', '/nonexistent/umbra.yaml'], /cannot read config file/],
    ['a bad listen address', ['start', '--listen', 'nonsense'], /listen/],
  ];
  for (const [what, args, message] of usageErrors) {
    it(`exits 2 on ${what}`, async () => {
      const r = await runCli(args, { env: { UMBRA_BROKERS: '127.0.0.1:1' } });
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, message, show(r));
      assert.equal(r.stdout, '');
    });
  }

  it('exits 1 with a NETWORK_EXCEPTION message when no broker answers', async () => {
    const port = await closedPort();
    const r = await runCli(['topic', 'list', '--brokers', `127.0.0.1:${port}`]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^umbra: NETWORK_EXCEPTION: no broker reachable/, show(r));
    assert.equal(r.stdout, '');
  });
});

describe('umbra CLI: topics, produce and consume (fake cluster)', () => {
  let cluster: FakeCluster;
  let brokers: string[];

  before(async () => {
    cluster = await FakeCluster.start();
    brokers = ['--brokers', cluster.bootstrap];
  });
  after(async () => {
    await cluster.close();
  });

  it('topic create, and TOPIC_ALREADY_EXISTS exits 1 (0 with --if-not-exists)', async () => {
    const r = await runCli(['topic', 'create', 'orders', '-p', '3', '-c', 'retention.ms=60000', ...brokers]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Created topic 'orders' with 3 partitions/);
    assert.equal(cluster.topics.get('orders')?.partitions.length, 3);
    assert.equal(cluster.topics.get('orders')?.configs['retention.ms'], '60000');

    const again = await runCli(['topic', 'create', 'orders', ...brokers]);
    assert.equal(again.code, 1, show(again));
    assert.match(again.stderr, /^umbra: TOPIC_ALREADY_EXISTS: topic 'orders'/);

    const ok = await runCli(['topic', 'create', 'orders', '--if-not-exists', '--format', 'json', ...brokers]);
    assert.equal(ok.code, 0, show(ok));
    assert.deepEqual(JSON.parse(ok.stdout), { name: 'orders', created: false });
  });

  it('topic list in text, json and yaml', async () => {
    const text = await runCli(['topic', 'list', ...brokers]);
    assert.equal(text.code, 0, show(text));
    assert.match(text.stdout, /^NAME\s+PARTITIONS\s+REPLICAS\s+ID/);
    assert.match(text.stdout, /\norders\s+3\s+1\s+[0-9a-f-]{36}/);
    const json = await runCli(['topic', 'list', '-f', 'json', ...brokers]);
    const list = JSON.parse(json.stdout) as { name: string; partitions: number }[];
    assert.deepEqual(
      list.find((t) => t.name === 'orders'),
      { name: 'orders', topicId: cluster.topics.get('orders')!.topicId, partitions: 3, replicationFactor: 1, internal: false },
    );
    const yaml = await runCli(['topic', 'ls', '-f', 'yaml', ...brokers]);
    assert.match(yaml.stdout, /- name: orders\n\s+topicId: /);
  });

  it('produce reads lines from stdin, keys by separator, partitions by murmur2', async () => {
    const lines = ['alice:1', 'bob:2', 'carol:3', 'alice:4', 'no-separator-here'];
    const r = await runCli(['produce', 'orders', '--key-separator', ':', '-f', 'json', ...brokers], { input: lines.join('\n') + '\n' });
    assert.equal(r.code, 0, show(r));
    const summary = JSON.parse(r.stdout) as { records: number; partitions: { partition: number; records: number }[] };
    assert.equal(summary.records, 5);
    assert.equal(
      summary.partitions.reduce((n, p) => n + p.records, 0),
      5,
    );
    const consumed = await runCli(['consume', 'orders', '--from-beginning', '-n', '5', '-f', 'json', '--timeout-ms', '5000', ...brokers]);
    assert.equal(consumed.code, 0, show(consumed));
    const records = consumed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { partition: number; offset: number; key: string | null; value: string; headers: unknown[]; timestamp: number });
    assert.equal(records.length, 5);
    for (const rec of records) {
      if (rec.key !== null) assert.equal(rec.partition, partitionForKey(Buffer.from(rec.key), 3), `key ${rec.key}`);
      assert.equal(typeof rec.timestamp, 'number');
      assert.deepEqual(rec.headers, []);
    }
    assert.deepEqual(
      records.filter((x) => x.key === 'alice').map((x) => x.value),
      ['1', '4'],
    );
    assert.ok(records.some((x) => x.key === null && x.value === 'no-separator-here'));
  });

  it('produce to one partition with a fixed key, compression and headers; consume that partition as text', async () => {
    const r = await runCli(['produce', 'orders', '-p', '2', '-k', 'fixed', '-z', 'gzip', '-H', 'source=cli', ...brokers], {
      input: 'x1\nx2\nx3\n',
    });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Produced 3 records to 'orders': partition 2: 3 \(offsets \d+-\d+\)/);
    const c = await runCli(['consume', 'orders', '-p', '2', '--from-beginning', '--timeout-ms', '2000', '--print-key', ...brokers]);
    assert.equal(c.code, 0, show(c));
    assert.match(c.stdout, /fixed\tx1\nfixed\tx2\nfixed\tx3\n$/);
  });

  it('consume --offset starts there, and --timeout-ms ends an idle consume', async () => {
    const all = await runCli(['consume', 'orders', '-p', '2', '--from-beginning', '-f', 'json', '--timeout-ms', '2000', ...brokers]);
    const x2 = all.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { offset: number; value: string })
      .find((r) => r.value === 'x2');
    assert.ok(x2, show(all));
    const c = await runCli(['consume', 'orders', '-p', '2', '-o', String(x2.offset), '--timeout-ms', '2000', ...brokers]);
    assert.equal(c.code, 0, show(c));
    assert.equal(c.stdout, 'x2\nx3\n');
  });

  it('topic describe shows partitions with offsets and configs with sources', async () => {
    const json = await runCli(['topic', 'describe', 'orders', '-f', 'json', ...brokers]);
    assert.equal(json.code, 0, show(json));
    const d = JSON.parse(json.stdout) as {
      partitions: { partition: number; leader: number; logStartOffset: number; highWatermark: number }[];
      configs: { name: string; value: string; source: string }[];
    };
    assert.equal(d.partitions.length, 3);
    assert.equal(
      d.partitions.reduce((n, p) => n + p.highWatermark, 0),
      8,
    );
    assert.deepEqual(
      d.configs.find((c) => c.name === 'retention.ms'),
      { name: 'retention.ms', value: '60000', source: 'TOPIC_CONFIG', readOnly: false, sensitive: false },
    );
    assert.equal(d.configs.find((c) => c.name === 'cleanup.policy')?.source, 'DEFAULT_CONFIG');
    const text = await runCli(['topic', 'describe', 'orders', ...brokers]);
    assert.match(text.stdout, /PARTITION\s+LEADER\s+EPOCH\s+REPLICAS\s+ISR\s+LOG-START\s+HIGH-WATERMARK/);
    assert.match(text.stdout, /retention\.ms\s+60000\s+TOPIC_CONFIG/);
  });

  it('topic alter-config sets and deletes', async () => {
    const r = await runCli(['topic', 'alter-config', 'orders', '-c', 'cleanup.policy=compact', '--delete', 'retention.ms', ...brokers]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Updated topic 'orders': cleanup\.policy=compact, retention\.ms \(deleted\)/);
    assert.deepEqual(cluster.topics.get('orders')?.configs, { 'cleanup.policy': 'compact' });
  });

  it('errors on unknown topics exit 1 and name the Kafka error', async () => {
    for (const args of [
      ['topic', 'describe', 'nope'],
      ['topic', 'delete', 'nope'],
      ['produce', 'nope'],
      ['consume', 'nope', '--timeout-ms', '100'],
    ]) {
      const r = await runCli([...args, ...brokers], { input: 'x\n' });
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /^umbra: UNKNOWN_TOPIC_OR_PARTITION/, show(r));
    }
  });

  it('topic delete', async () => {
    const r = await runCli(['topic', 'delete', 'orders', ...brokers]);
    assert.equal(r.code, 0, show(r));
    assert.equal(cluster.topics.has('orders'), false);
  });
});
