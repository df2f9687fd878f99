// `umbra shadow drill` between two real Umbra brokers: a group commits on the source, the link syncs its offsets,
// and the drill promotes the canary topic, finds the group resuming at the synced offsets (one partition mid-log,
// one at its end), produces a canary and reads it back, and writes a markdown report (exit 0). Run again on the
// promoted topic it fails clearly, saying the topic is already promoted (JSON report, exit 1). A group with no
// synced offsets fails the preconditions and nothing is promoted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/client.js';
import type { DrillReport } from '../../src/cli/shadow-drill.js';
import { runCli, show } from '../cli/run-cli.js';
import { kcatProduce, requirePeers } from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';
import { AdminApi, waitCaughtUp, waitFor } from '../helpers/shadow.js';

const LINK = 'dr';
const GROUP = 'g-drill';

function linkDoc(bootstrap: string): Record<string, unknown> {
  return {
    name: LINK,
    client_options: { bootstrap_servers: [bootstrap], fetch_wait_max_ms: 100, retry_backoff_ms: 50, connection_timeout_ms: 1000 },
    topic_metadata_sync_options: { interval: '300ms', auto_create_shadow_topic_filters: [{ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: 'd_' }] },
    consumer_offset_sync_options: { interval: '300ms', group_filters: [{ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: '*' }] },
  };
}

describe('umbra shadow drill between two Umbra brokers', { timeout: 90_000 }, () => {
  let source: UmbraBroker;
  let shadow: UmbraBroker;
  let api: AdminApi;
  let src: KafkaClient;
  let dst: KafkaClient;
  let dir: string;
  let endOfPartition1 = 0;

  before(async () => {
    requirePeers(['kcat']);
    dir = mkdtempSync(join(tmpdir(), 'umbra-drill-'));
    [source, shadow] = await Promise.all([startUmbra(), startUmbra()]);
    api = new AdminApi(shadow.adminUrl);
    src = new KafkaClient({ brokers: source.bootstrap, clientId: 'drill-test' });
    dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'drill-test-shadow' });
    const created = await src.createTopics([
      { name: 'd_canary', numPartitions: 2 },
      { name: 'd_other', numPartitions: 1 },
    ]);
    for (const t of created) assert.equal(t.errorCode, 0, `${t.name}: ${t.errorMessage}`);
    const values = Array.from({ length: 100 }, (_, i) => ({ value: `canary-${i}` }));
    await kcatProduce(source.bootstrap, 'd_canary', values, { partition: 0 });
    await kcatProduce(source.bootstrap, 'd_canary', values, { partition: 1 });
    await kcatProduce(source.bootstrap, 'd_other', values.slice(0, 10));
    endOfPartition1 = (await src.listOffsets('d_canary', 1, -1)).offset;
    // the group has read 42 records of partition 0 and all of partition 1
    await src.offsetCommit(GROUP, [
      { topic: 'd_canary', partition: 0, offset: 42 },
      { topic: 'd_canary', partition: 1, offset: endOfPartition1 },
    ]);
    await api.ok('POST', '/v1/shadow-links', linkDoc(source.bootstrap));
    await waitCaughtUp(api, LINK, ['d_canary', 'd_other'], src);
    await waitFor('the offset sync of g-drill', async () => {
      const offsets = await dst.offsetFetch(GROUP, [
        { topic: 'd_canary', partition: 0 },
        { topic: 'd_canary', partition: 1 },
      ]);
      return offsets.find((o) => o.partition === 0)?.offset === 42 && offsets.find((o) => o.partition === 1)?.offset === endOfPartition1;
    });
  });

  after(async () => {
    if (process.env.UMBRA_TEST_SHOW_LOGS) process.stderr.write(shadow?.logs() ?? '');
    await src?.close();
    await dst?.close();
    await Promise.all([source?.destroy(), shadow?.destroy()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to promote when the group has no synced offsets: preconditions fail, nothing is promoted (exit 1)', async () => {
    const r = await runCli(['shadow', 'drill', LINK, '--topic', 'd_other', '--group', 'g-none', '--admin-url', shadow.adminUrl, '--format', 'json'], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, show(r));
    const report = JSON.parse(r.stdout) as DrillReport;
    assert.equal(report.ok, false);
    assert.deepEqual(report.checks.map((c) => c.status), ['pass', 'fail', 'skip', 'skip', 'skip']);
    assert.match(report.checks[1]!.detail, /group 'g-none' has no committed offset for 'd_other'.*nothing was promoted/);
    assert.equal((await api.status(LINK)).topics.find((t) => t.name === 'd_other')!.state, 'ACTIVE');
  });

  it('promotes the canary topic, resumes the group at its synced offsets, produces, and writes a markdown report (exit 0)', async () => {
    const file = join(dir, 'drill.md');
    const r = await runCli(['shadow', 'drill', LINK, '--topic', 'd_canary', '--group', GROUP, '--report', file, '--admin-url', shadow.adminUrl], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Drill of topic 'd_canary' \(link 'dr', group 'g-drill'\): PASSED/);
    assert.match(r.stdout, /PASS {2}group resumes at its synced offsets +resumed at p0@42, p1@100 \(end: nothing after it\)/);
    assert.match(r.stdout, /report written to /);

    const md = readFileSync(file, 'utf8');
    assert.match(md, /^# Failover drill: topic `d_canary` of shadow link `dr`/);
    assert.match(md, /\*\*Result: PASSED\*\* — 5 of 5 checks passed/);
    for (const check of ['topic is shadowed by the link', 'group offsets synced to the shadow', 'promote', 'group resumes at its synced offsets', 'produce to the promoted topic']) {
      assert.match(md, new RegExp(`\\| ${check} \\| PASS \\|`));
    }
    assert.match(md, /- Promote: \d+ ms/);
    assert.match(md, /- Time to first record after promote: \d+ ms/);
    assert.match(md, /max lag 0 messages, max RPO [\d.]+ s/);
    assert.match(md, /\| 0 \| 100 \| 100 \| 0 \| [\d.]+ \| 42 → 42 \|/);
    const canary = /Canary record: partition (\d+), offset (\d+)/.exec(md);
    assert.ok(canary, md);

    // the topic is promoted and writable; the canary is where the report says; the group's offsets were not touched
    assert.equal((await api.status(LINK)).topics.find((t) => t.name === 'd_canary')!.state, 'PROMOTED');
    const partition = Number(canary[1]);
    assert.equal((await dst.listOffsets('d_canary', partition, -1)).offset, Number(canary[2]) + 1);
    const offsets = await dst.offsetFetch(GROUP, [{ topic: 'd_canary', partition: 0 }]);
    assert.equal(offsets[0]!.offset, 42, 'the drill never commits');
  });

  it('run again on the promoted topic, says it is already promoted and fails (JSON report, exit 1)', async () => {
    const file = join(dir, 'again.json');
    const r = await runCli(['shadow', 'drill', LINK, '--topic', 'd_canary', '--group', GROUP, '--report', file, '--admin-url', shadow.adminUrl], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /FAILED/);
    const report = JSON.parse(readFileSync(file, 'utf8')) as DrillReport;
    assert.equal(report.ok, false);
    assert.equal(report.checks[0]!.status, 'fail');
    assert.match(report.checks[0]!.detail, /topic 'd_canary' is already PROMOTED \(promoted at .*\): a drill needs a topic the link still shadows/);
    assert.ok(report.checks.slice(1).every((c) => c.status === 'skip'));
    assert.equal(report.timings.promoteMs, null);
  });

  it('names an unknown link or topic (exit 1)', async () => {
    const r = await runCli(['shadow', 'drill', 'nope', '--topic', 'd_canary', '--group', GROUP, '--admin-url', shadow.adminUrl], { timeoutMs: 30_000 });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /no shadow link named 'nope'/);
    const t = await runCli(['shadow', 'drill', LINK, '--topic', 'd_none', '--group', GROUP, '--admin-url', shadow.adminUrl], { timeoutMs: 30_000 });
    assert.equal(t.code, 1, show(t));
    assert.match(t.stdout, /link 'dr' does not shadow topic 'd_none'/);
  });
});
