// One CLI scenario, run against any Kafka-API broker (Umbra in-process, or a real Apache Kafka): topic
// create/list/describe/alter-config/delete, produce with keys and every compression codec, consume with and
// without a group (a second group run resumes at the committed offsets).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { partitionForKey } from '../../src/client/partitioner.js';
import { runCli, show, type CliResult } from './run-cli.js';

interface JsonRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
  timestamp: number;
}

function records(r: CliResult): JsonRecord[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JsonRecord);
}

/** Registers the scenario's tests (call inside a describe). `bootstrap()` is read when the tests run. */
export function cliScenario(bootstrap: () => string, prefix: string): void {
  const b = (): string[] => ['--brokers', bootstrap()];
  const topic = `${prefix}-orders`;

  it('topic create / list / describe', async () => {
    const c = await runCli(['topic', 'create', topic, '-p', '3', '-r', '1', '-c', 'retention.ms=3600000', ...b()]);
    assert.equal(c.code, 0, show(c));
    assert.match(c.stdout, new RegExp(`Created topic '${topic}' with 3 partitions`));

    const dup = await runCli(['topic', 'create', topic, '-p', '3', ...b()]);
    assert.equal(dup.code, 1, show(dup));
    assert.match(dup.stderr, /TOPIC_ALREADY_EXISTS/);

    const list = await runCli(['topic', 'list', '-f', 'json', ...b()]);
    assert.equal(list.code, 0, show(list));
    const t = (JSON.parse(list.stdout) as { name: string; partitions: number; internal: boolean }[]).find((x) => x.name === topic);
    assert.equal(t?.partitions, 3, show(list));
    assert.ok(!(JSON.parse(list.stdout) as { internal: boolean }[]).some((x) => x.internal), 'internal topics hidden by default');

    const d = await runCli(['topic', 'describe', topic, '-f', 'json', ...b()]);
    assert.equal(d.code, 0, show(d));
    const desc = JSON.parse(d.stdout) as {
      topicId: string | null;
      partitions: { partition: number; leader: number; logStartOffset: number; highWatermark: number }[];
      configs: { name: string; value: string; source: string }[];
    };
    assert.match(desc.topicId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      desc.partitions.map((p) => [p.partition, p.logStartOffset, p.highWatermark]),
      [
        [0, 0, 0],
        [1, 0, 0],
        [2, 0, 0],
      ],
    );
    assert.ok(desc.partitions.every((p) => p.leader >= 0));
    const retention = desc.configs.find((x) => x.name === 'retention.ms');
    assert.deepEqual([retention?.value, retention?.source], ['3600000', 'TOPIC_CONFIG'], show(d));
    assert.ok(desc.configs.some((x) => x.name === 'cleanup.policy' && x.source !== 'TOPIC_CONFIG'));
  });

  it('produce keyed lines, then consume them all without a group', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `k${i % 10}:v${i}`);
    const p = await runCli(['produce', topic, '-K', ':', '-f', 'json', ...b()], { input: lines.join('\n') + '\n' });
    assert.equal(p.code, 0, show(p));
    assert.equal((JSON.parse(p.stdout) as { records: number }).records, 30);

    const c = await runCli(['consume', topic, '--from-beginning', '-n', '30', '-f', 'json', '--timeout-ms', '15000', ...b()]);
    assert.equal(c.code, 0, show(c));
    const got = records(c);
    assert.equal(got.length, 30, show(c));
    for (const r of got) {
      assert.equal(r.partition, partitionForKey(Buffer.from(r.key!), 3), `key ${r.key} is on its murmur2 partition`);
      assert.equal(r.value, `v${Number(r.value!.slice(1))}`);
    }
    // per key, values keep their produce order
    for (let k = 0; k < 10; k++) {
      const values = got.filter((r) => r.key === `k${k}`).map((r) => Number(r.value!.slice(1)));
      assert.deepEqual(values, [k, k + 10, k + 20]);
    }
    const d = await runCli(['topic', 'describe', topic, '-f', 'json', ...b()]);
    const desc = JSON.parse(d.stdout) as { partitions: { highWatermark: number }[] };
    assert.equal(
      desc.partitions.reduce((n, x) => n + x.highWatermark, 0),
      30,
    );
  });

  it('consume with a group commits what it printed; the next member resumes there', async () => {
    const group = `${prefix}-group`;
    const first = await runCli(['consume', topic, '--group', group, '--from-beginning', '-n', '10', '-f', 'json', '--timeout-ms', '20000', ...b()], {
      timeoutMs: 60_000,
    });
    assert.equal(first.code, 0, show(first));
    assert.equal(records(first).length, 10, show(first));

    const rest = await runCli(['consume', topic, '--group', group, '--from-beginning', '-n', '20', '-f', 'json', '--timeout-ms', '30000', ...b()], {
      timeoutMs: 60_000,
    });
    assert.equal(rest.code, 0, show(rest));
    const seen = [...records(first), ...records(rest)].map((r) => `${r.partition}:${r.offset}`);
    assert.equal(new Set(seen).size, 30, `every record exactly once across the two runs\n${show(first)}\n${show(rest)}`);
    assert.equal(seen.length, 30);

    const none = await runCli(['consume', topic, '--group', group, '-f', 'json', '--timeout-ms', '2000', ...b()], { timeoutMs: 60_000 });
    assert.equal(none.code, 0, show(none));
    assert.equal(records(none).length, 0, show(none));
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    it(`produce and consume ${codec} batches`, async () => {
      const t = `${prefix}-${codec}`;
      const c = await runCli(['topic', 'create', t, '-p', '1', ...b()]);
      assert.equal(c.code, 0, show(c));
      const lines = Array.from({ length: 50 }, (_, i) => `${codec} line ${i} `.repeat(5));
      const p = await runCli(['produce', t, '-z', codec, '-H', 'codec=' + codec, ...b()], { input: lines.join('\n') + '\n' });
      assert.equal(p.code, 0, show(p));
      const r = await runCli(['consume', t, '--from-beginning', '-n', '50', '-f', 'json', '--timeout-ms', '15000', ...b()]);
      assert.equal(r.code, 0, show(r));
      const got = records(r);
      assert.deepEqual(
        got.map((x) => x.value),
        lines,
      );
      assert.deepEqual(got[0]!.headers, [{ key: 'codec', value: codec }]);
      assert.deepEqual(
        got.map((x) => x.offset),
        [...Array(50).keys()],
      );
    });
  }

  it('topic alter-config sets and deletes, describe shows it', async () => {
    const a = await runCli(['topic', 'alter-config', topic, '-c', 'cleanup.policy=compact', '-c', 'retention.ms=7200000', ...b()]);
    assert.equal(a.code, 0, show(a));
    let d = JSON.parse((await runCli(['topic', 'describe', topic, '-f', 'json', ...b()])).stdout) as { configs: { name: string; value: string; source: string }[] };
    assert.deepEqual(
      d.configs.filter((c) => c.source === 'TOPIC_CONFIG').map((c) => [c.name, c.value]),
      [
        ['cleanup.policy', 'compact'],
        ['retention.ms', '7200000'],
      ],
    );
    const del = await runCli(['topic', 'alter-config', topic, '--delete', 'retention.ms', ...b()]);
    assert.equal(del.code, 0, show(del));
    d = JSON.parse((await runCli(['topic', 'describe', topic, '-f', 'json', ...b()])).stdout) as typeof d;
    assert.deepEqual(
      d.configs.filter((c) => c.source === 'TOPIC_CONFIG').map((c) => c.name),
      ['cleanup.policy'],
    );
    const bad = await runCli(['topic', 'alter-config', topic, '-c', 'no.such.config=1', ...b()]);
    assert.equal(bad.code, 1, show(bad));
    assert.match(bad.stderr, /^umbra: [A-Z_]+/);
  });

  it('topic delete', async () => {
    const d = await runCli(['topic', 'delete', topic, ...b()]);
    assert.equal(d.code, 0, show(d));
    const gone = await runCli(['topic', 'describe', topic, ...b()]);
    assert.equal(gone.code, 1, show(gone));
    assert.match(gone.stderr, /UNKNOWN_TOPIC_OR_PARTITION/);
  });
}
