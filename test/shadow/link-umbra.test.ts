// Shadow linking end to end between two real Umbra brokers on loopback: a link created over the admin API picks
// up matching topics, replicates them byte for byte (kcat prints the same records, the raw batches are identical),
// keeps them read-only, syncs consumer offsets, fails over per topic, survives a restart of the shadow and an
// outage of the source, follows the source's log start, and refuses a delete while topics are shadowed.
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { KafkaClient } from '../../src/client/client.js';
import { runCli } from '../cli/run-cli.js';
import { kcatProduce, requirePeers, runProcess } from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';
import { AdminApi, kcatPrint, latestPerKey, rawBatches, waitCaughtUp, waitFor } from '../helpers/shadow.js';

const LINK = 'dr';
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

function linkDoc(bootstrap: string): Record<string, unknown> {
  return {
    name: LINK,
    client_options: { bootstrap_servers: [bootstrap], fetch_wait_max_ms: 100, retry_backoff_ms: 50, connection_timeout_ms: 1000 },
    topic_metadata_sync_options: {
      interval: '500ms',
      auto_create_shadow_topic_filters: [
        { pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: 'a_' },
        { pattern_type: 'LITERAL', filter_type: 'EXCLUDE', name: 'a_scratch' },
      ],
    },
    consumer_offset_sync_options: { interval: '500ms', group_filters: [{ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: '*' }] },
    schema_registry_sync_options: { shadow_schema_registry_topic: {} },
  };
}

function messages(n: number, tag: string): { key: string; value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ key: `k${i % 50}`, value: `${tag}-${i}-${'v'.repeat(i % 40)}` }));
}

describe('shadow link between two Umbra brokers', { timeout: 240_000 }, () => {
  let source: UmbraBroker;
  let shadow: UmbraBroker;
  let api: AdminApi;
  let src: KafkaClient;

  before(async () => {
    requirePeers(['kcat']);
    [source, shadow] = await Promise.all([
      startUmbra({ brokerConfigs: { 'log.retention.check.interval.ms': 500 } }),
      startUmbra({ brokerConfigs: { 'log.retention.check.interval.ms': 500 } }),
    ]);
    api = new AdminApi(shadow.adminUrl);
    src = new KafkaClient({ brokers: source.bootstrap, clientId: 'test-source' });
    const created = await src.createTopics([
      { name: 'a_orders', numPartitions: 3, configs: { 'retention.ms': '3600000', 'max.message.bytes': '2000000' } },
      { name: 'a_scratch', numPartitions: 1 },
      { name: 'other', numPartitions: 1 },
      { name: '_schemas', numPartitions: 1, configs: { 'cleanup.policy': 'compact' } },
      { name: 'a_idem', numPartitions: 2 },
      ...CODECS.map((c) => ({ name: `a_codec_${c}`, numPartitions: 1 })),
      {
        name: 'a_compact',
        numPartitions: 1,
        configs: { 'cleanup.policy': 'compact', 'internal.segment.bytes': '2048', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '0', 'segment.ms': '100' },
      },
    ]);
    for (const t of created) assert.equal(t.errorCode, 0, `${t.name}: ${t.errorMessage}`);
    for (const c of CODECS) await kcatProduce(source.bootstrap, `a_codec_${c}`, messages(2000, c), { compression: c, headers: { codec: c } });
    await kcatProduce(source.bootstrap, 'a_orders', messages(300, 'orders'));
    await kcatProduce(source.bootstrap, 'a_idem', messages(500, 'idem'), { config: { 'enable.idempotence': true, acks: 'all' } });
    await kcatProduce(source.bootstrap, 'a_scratch', messages(10, 'scratch'));
    await kcatProduce(source.bootstrap, 'other', messages(10, 'other'));
    await kcatProduce(source.bootstrap, '_schemas', [{ key: '{"subject":"orders-value","version":1}', value: '{"schema":"\\"string\\""}' }]);
    for (let round = 0; round < 5; round++) await kcatProduce(source.bootstrap, 'a_compact', messages(200, `compact${round}`));
    // the source compacts on its own before the link exists: its log has gaps
    await waitFor(
      'the source to compact a_compact',
      async () => {
        await kcatProduce(source.bootstrap, 'a_compact', [{ key: 'tick', value: String(Date.now()) }]);
        const lines = await kcatPrint(source.bootstrap, 'a_compact');
        const last = Number(lines[lines.length - 1]!.split(' ')[1]);
        return lines.length < last + 1;
      },
      30_000,
      500,
    );
  });

  after(async () => {
    if (process.env.UMBRA_TEST_SHOW_LOGS) process.stderr.write(shadow?.logs() ?? '');
    await src?.close();
    await Promise.all([source?.destroy(), shadow?.destroy()]);
  });

  it('refuses an invalid config naming the field, and a source that is not reachable', async () => {
    const bad = await api.call('POST', '/v1/shadow-links', { ...linkDoc(source.bootstrap), topic_metadata_sync_options: { interval: 'soon' } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /topic_metadata_sync_options\.interval/);
    const unreachable = await api.call('POST', '/v1/shadow-links', { ...linkDoc('127.0.0.1:1'), name: 'nowhere' });
    assert.equal(unreachable.status, 502, JSON.stringify(unreachable.body));
    const self = await api.call('POST', '/v1/shadow-links', { ...linkDoc(shadow.bootstrap), name: 'self' });
    assert.equal(self.status, 400, JSON.stringify(self.body));
  });

  it('creates shadow topics for matching source topics with the same partitions and synced configs', async () => {
    // as a user would: a YAML file and `umbra shadow create`
    const fileDir = mkdtempSync(join(tmpdir(), 'umbra-link-'));
    const file = join(fileDir, 'link.yaml');
    writeFileSync(file, YAML.stringify(linkDoc(source.bootstrap)));
    const created = await runCli(['shadow', 'create', '-c', file, '--admin-url', shadow.adminUrl]);
    rmSync(fileDir, { recursive: true, force: true });
    assert.equal(created.code, 0, created.stderr);
    const listed = await runCli(['shadow', 'list', '--admin-url', shadow.adminUrl, '--format', 'json']);
    assert.equal(JSON.parse(listed.stdout).links[0].name, LINK);
    const wanted = ['a_orders', 'a_idem', 'a_compact', '_schemas', ...CODECS.map((c) => `a_codec_${c}`)];
    await waitCaughtUp(api, LINK, wanted, src);
    const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
    try {
      const md = await dst.metadata();
      const names = md.topics.map((t) => t.name);
      for (const t of wanted) assert.ok(names.includes(t), `shadow has ${t}`);
      assert.ok(!names.includes('a_scratch'), 'excluded topic is not shadowed');
      assert.ok(!names.includes('other'), 'unmatched topic is not shadowed');
      assert.equal(md.topics.find((t) => t.name === 'a_orders')!.partitions.length, 3);
      const [cfg] = await dst.describeConfigs([{ type: 2, name: 'a_orders' }]);
      const value = (n: string): string | null | undefined => cfg!.configs.find((c) => c.name === n)?.value;
      assert.equal(value('retention.ms'), '3600000');
      assert.equal(value('max.message.bytes'), '2000000');
    } finally {
      await dst.close();
    }
  });

  it('refuses a second link whose filters overlap the first, naming both', async () => {
    const r = await api.call<{ code: string; message: string }>('POST', '/v1/shadow-links?validate=false', { ...linkDoc(source.bootstrap), name: 'dr2' });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.match(r.body.message, /dr2/);
    assert.match(r.body.message, /'dr'|\bdr\b/);
  });

  it('kcat prints identical records on source and shadow, and the raw batches are identical', async () => {
    for (const topic of ['a_orders', 'a_idem', '_schemas', ...CODECS.map((c) => `a_codec_${c}`)]) {
      const [a, b] = await Promise.all([kcatPrint(source.bootstrap, topic), kcatPrint(shadow.bootstrap, topic)]);
      assert.ok(a.length > 0);
      assert.deepEqual(b, a, `kcat output of ${topic}`);
      const partitions = topic === 'a_orders' ? 3 : topic === 'a_idem' ? 2 : 1;
      for (let p = 0; p < partitions; p++) {
        const [x, y] = await Promise.all([rawBatches(source.bootstrap, topic, p), rawBatches(shadow.bootstrap, topic, p)]);
        assert.equal(y.length, x.length, `${topic}/${p} batch count`);
        for (let i = 0; i < x.length; i++) assert.ok(x[i]!.equals(y[i]!), `${topic}/${p} batch ${i} differs`);
      }
    }
    // the compacted topic: same latest value per key (each side compacts on its own)
    const [a, b] = await Promise.all([kcatPrint(source.bootstrap, 'a_compact'), kcatPrint(shadow.bootstrap, 'a_compact')]);
    assert.deepEqual(latestPerKey(b), latestPerKey(a));
  });

  it('picks up a topic created later on the source', async () => {
    await src.createTopics([{ name: 'a_late', numPartitions: 2 }]);
    await kcatProduce(source.bootstrap, 'a_late', messages(20, 'late'));
    await waitCaughtUp(api, LINK, ['a_late'], src, 15_000);
  });

  it('keeps shadow topics read-only with the link named in the error', async () => {
    const r = await runProcess('kcat', ['-b', shadow.bootstrap, '-P', '-t', 'a_orders', '-p', '0', '-X', 'message.send.max.retries=0'], { input: 'nope', timeoutMs: 20_000, allowFailure: true });
    assert.match(r.stderr, /Policy violation|POLICY_VIOLATION/i, r.stderr);
    // librdkafka 2.0 produces with v7 (no error message): the broker log names the link
    await waitFor('the refusal in the broker log', async () => /topic 'a_orders' is shadowed by link 'dr'/.test(shadow.logs()));
    const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow', retries: 0 });
    try {
      const res = await dst.request(0, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'a_orders', topicId: '00000000-0000-0000-0000-000000000000', partitionData: [{ index: 0, records: (await rawBatches(source.bootstrap, 'a_orders', 0))[0]! }] }] } as never, { version: 9 } as never);
      const p = (res as { responses: { partitionResponses: { errorCode: number; errorMessage: string | null }[] }[] }).responses[0]!.partitionResponses[0]!;
      assert.equal(p.errorCode, 44); // POLICY_VIOLATION
      assert.match(p.errorMessage ?? '', /shadowed by link 'dr'/);
      const del = await dst.deleteTopics(['a_orders']);
      assert.equal(del[0]!.errorCode, 44);
      assert.match(del[0]!.errorMessage ?? '', /link 'dr'/);
    } finally {
      await dst.close();
    }
  });

  it('syncs committed offsets of source groups, clamped to the shadow', async () => {
    await src.offsetCommit('g1', [
      { topic: 'a_orders', partition: 0, offset: 42 },
      // past the source's own end (a standalone commit may say anything): the shadow clamps it to its HWM
      { topic: 'a_orders', partition: 2, offset: 1_000_000 },
    ]);
    await waitFor('offset sync of g1', async () => {
      const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
      try {
        const offsets = await dst.offsetFetch('g1', [{ topic: 'a_orders', partition: 0 }]);
        const hwm = (await dst.listOffsets('a_orders', 2, -1)).offset;
        const two = await dst.offsetFetch('g1', [{ topic: 'a_orders', partition: 2 }]);
        return offsets.find((o) => o.partition === 0 && o.offset === 42) !== undefined && two[0]?.offset === hwm;
      } finally {
        await dst.close();
      }
    });
  });

  it('follows the source log start (DeleteRecords, retention)', async () => {
    await src.request(21, { topics: [{ name: 'a_orders', partitions: [{ partitionIndex: 1, offset: 10 }] }], timeoutMs: 5000 } as never);
    await waitFor('shadow log start to follow', async () => {
      const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
      try {
        return (await dst.listOffsets('a_orders', 1, -2)).offset === 10;
      } finally {
        await dst.close();
      }
    });
  });

  it('replication resumes after a restart of the shadow with no gap and no duplicate', async () => {
    let stop = false;
    let produced = 0;
    const producer = (async () => {
      while (!stop) {
        await kcatProduce(source.bootstrap, 'a_idem', messages(50, `live${produced}`), { partition: 0 });
        produced += 50;
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    await shadow.stop();
    await new Promise((r) => setTimeout(r, 500));
    shadow = await shadow.restart();
    api = new AdminApi(shadow.adminUrl);
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await producer;
    await waitCaughtUp(api, LINK, ['a_idem'], src);
    const [a, b] = await Promise.all([kcatPrint(source.bootstrap, 'a_idem'), kcatPrint(shadow.bootstrap, 'a_idem')]);
    assert.deepEqual(b, a);
  });

  it('with start_at_latest, a partition keeps its chosen start across a restart (nothing produced meanwhile is skipped)', async () => {
    await src.createTopics([{ name: 'l_fresh', numPartitions: 1 }]);
    await api.ok('POST', '/v1/shadow-links', {
      name: 'latest',
      client_options: { bootstrap_servers: [source.bootstrap], fetch_wait_max_ms: 100 },
      topic_metadata_sync_options: { interval: '500ms', start_at_latest: {}, auto_create_shadow_topic_filters: [{ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: 'l_' }] },
    });
    await waitCaughtUp(api, 'latest', ['l_fresh'], src);
    await shadow.stop();
    await kcatProduce(source.bootstrap, 'l_fresh', messages(5, 'while-down'));
    shadow = await shadow.restart();
    api = new AdminApi(shadow.adminUrl);
    await waitCaughtUp(api, 'latest', ['l_fresh'], src);
    assert.deepEqual(await kcatPrint(shadow.bootstrap, 'l_fresh'), await kcatPrint(source.bootstrap, 'l_fresh'));
    assert.equal((await kcatPrint(shadow.bootstrap, 'l_fresh')).length, 5);
    await api.ok('DELETE', '/v1/shadow-links/latest?force=true');
  });

  it('goes LINK_UNAVAILABLE while the source is down and catches up by itself', async () => {
    await source.stop();
    await waitFor('replication LINK_UNAVAILABLE', async () => (await api.status(LINK)).tasks.find((t) => t.name === 'replication')?.state === 'LINK_UNAVAILABLE', 30_000);
    source = await source.restart();
    await src.close();
    src = new KafkaClient({ brokers: source.bootstrap, clientId: 'test-source' });
    await kcatProduce(source.bootstrap, 'a_orders', messages(30, 'after-outage'));
    await waitFor('replication ACTIVE again', async () => (await api.status(LINK)).tasks.find((t) => t.name === 'replication')?.state === 'ACTIVE', 30_000);
    await waitCaughtUp(api, LINK, ['a_orders'], src);
    assert.deepEqual(await kcatPrint(shadow.bootstrap, 'a_orders'), await kcatPrint(source.bootstrap, 'a_orders'));
  });

  it('shows lag and RPO in status and metrics', async () => {
    const s = await api.status(LINK);
    const p = s.topics.find((t) => t.name === 'a_orders')!.partitions[0]!;
    assert.equal(p.lag, 0);
    assert.equal(typeof p.rpoSeconds, 'number');
    const m = await api.metrics();
    assert.match(m, /umbra_shadow_link_shadow_lag\{link="dr",topic="a_orders",partition="0"\} 0/);
    assert.match(m, /umbra_shadow_link_rpo_seconds\{link="dr",topic="a_orders",partition="0"\}/);
    assert.match(m, /umbra_shadow_link_written_records_total\{link="dr"\} [1-9]/);
    assert.match(m, /umbra_shadow_link_topics\{link="dr",state="ACTIVE"\} [1-9]/);
  });

  it('follows a partition increase on the source', async () => {
    await src.createPartitions([{ topic: 'a_late', count: 4 }]);
    await kcatProduce(source.bootstrap, 'a_late', messages(8, 'more'), { partition: 3 });
    await waitFor('4 shadow partitions', async () => (await api.status(LINK)).topics.find((t) => t.name === 'a_late')!.partitions.length === 4, 15_000);
    await waitCaughtUp(api, LINK, ['a_late'], src, 15_000);
    assert.deepEqual(await kcatPrint(shadow.bootstrap, 'a_late'), await kcatPrint(source.bootstrap, 'a_late'));
  });

  it('pauses and resumes one topic; records a gap when the source deleted data meanwhile', async () => {
    await api.ok('POST', `/v1/shadow-links/${LINK}/pause`, { topic: 'a_late' });
    let s = await api.status(LINK);
    assert.equal(s.topics.find((t) => t.name === 'a_late')!.state, 'PAUSED');
    const shadowEnd = (await src.listOffsets('a_late', 0, -1)).offset;
    // three separate batches while paused; the source then deletes the first two, which the shadow never saw
    await kcatProduce(source.bootstrap, 'a_late', messages(10, 'paused-a'), { partition: 0 });
    await kcatProduce(source.bootstrap, 'a_late', messages(10, 'paused-b'), { partition: 0 });
    const third = (await src.listOffsets('a_late', 0, -1)).offset;
    await kcatProduce(source.bootstrap, 'a_late', messages(10, 'paused-c'), { partition: 0 });
    await src.request(21, { topics: [{ name: 'a_late', partitions: [{ partitionIndex: 0, offset: third }] }], timeoutMs: 5000 } as never);
    await api.ok('POST', `/v1/shadow-links/${LINK}/resume`, { topic: 'a_late' });
    await waitCaughtUp(api, LINK, ['a_late'], src, 15_000);
    s = await api.status(LINK);
    const p0 = s.topics.find((t) => t.name === 'a_late')!.partitions[0]!;
    assert.deepEqual(p0.gaps, [{ from: shadowEnd, to: third }], JSON.stringify(p0));
    assert.match(await api.metrics(), /umbra_shadow_link_gaps_total\{link="dr"\} 1/);
  });

  it('polls the source offsets only of partitions whose fetches have not answered lately (paused ones)', async () => {
    const listOffsetsServed = async (): Promise<number> => {
      const text = await (await fetch(`${source.adminUrl}/metrics`)).text();
      return Number(/^umbra_requests_total\{api="ListOffsets"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    await waitCaughtUp(api, LINK, ['a_orders', 'a_late'], src, 15_000);
    // every replicating partition is fetched (long polls of 100 ms): four polls (500 ms apiece) ask the source
    // nothing. A stall of either broker can leave one partition unheard for a poll, so one quiet window of three is
    // enough; polling every partition (what this guards against) asks in every window.
    let before = await listOffsetsServed();
    const asked: number[] = [];
    for (let window = 0; window < 3; window++) {
      await new Promise((r) => setTimeout(r, 2_000));
      const now = await listOffsetsServed();
      asked.push(now - before);
      if (now === before) break;
      before = now;
    }
    assert.equal(asked.at(-1), 0, `ListOffsets sent to the source while every partition was fetched, per 2 s window: ${asked.join(', ')}`);

    // a paused topic is not fetched: the poll measures its lag against the source
    await api.ok('POST', `/v1/shadow-links/${LINK}/pause`, { topic: 'a_orders' });
    await kcatProduce(source.bootstrap, 'a_orders', messages(5, 'while-paused'), { partition: 1 });
    const s = await waitFor('the paused partition to show its lag', async () => {
      const st = await api.status(LINK);
      return st.topics.find((t) => t.name === 'a_orders')!.partitions[1]!.lag === 5 ? st : undefined;
    });
    assert.equal(s.topics.find((t) => t.name === 'a_orders')!.partitions[0]!.lag, 0);
    assert.ok((await listOffsetsServed()) > before);
    await api.ok('POST', `/v1/shadow-links/${LINK}/resume`, { topic: 'a_orders' });
    await waitCaughtUp(api, LINK, ['a_orders'], src, 15_000);
  });

  it('marks a topic whose source was deleted FAULTED and keeps its data', async () => {
    await src.createTopics([{ name: 'a_doomed', numPartitions: 1 }]);
    await kcatProduce(source.bootstrap, 'a_doomed', messages(10, 'doomed'));
    await waitCaughtUp(api, LINK, ['a_doomed'], src, 15_000);
    await src.deleteTopics(['a_doomed']);
    await waitFor('a_doomed FAULTED', async () => (await api.status(LINK)).topics.find((t) => t.name === 'a_doomed')?.state === 'FAULTED');
    assert.equal((await kcatPrint(shadow.bootstrap, 'a_doomed')).length, 10);
    // resume retries the topic; the cause remains, so the next topic sync faults it again
    const resumed = await api.ok('POST', `/v1/shadow-links/${LINK}/resume`, { topic: 'a_doomed' });
    assert.equal(resumed.topics[0].state, 'ACTIVE');
    await waitFor('a_doomed FAULTED again', async () => (await api.status(LINK)).topics.find((t) => t.name === 'a_doomed')?.state === 'FAULTED');
  });

  it('promotes a topic once it has everything the source had', async () => {
    await kcatProduce(source.bootstrap, 'a_codec_gzip', messages(100, 'before-promote'), { compression: 'gzip' });
    const hwm = (await src.listOffsets('a_codec_gzip', 0, -1)).offset;
    const res = await api.ok('POST', `/v1/shadow-links/${LINK}/promote`, { topic: 'a_codec_gzip' });
    assert.equal(res.topics[0].state, 'PROMOTED');
    const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
    try {
      assert.equal((await dst.listOffsets('a_codec_gzip', 0, -1)).offset, hwm);
    } finally {
      await dst.close();
    }
  });

  it('does not overwrite the offsets of a group with live members on the shadow', async () => {
    // a kcat balanced consumer joins g-live on the shadow and stays
    const member = spawn('kcat', ['-b', shadow.bootstrap, '-G', 'g-live', 'a_idem', '-q', '-o', 'end'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await waitFor('g-live to have a member on the shadow', async () => {
        const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
        try {
          return (await dst.describeGroup('g-live')).members.length > 0;
        } finally {
          await dst.close();
        }
      });
      await src.offsetCommit('g-live', [{ topic: 'a_idem', partition: 1, offset: 3 }]);
      await waitFor('the skip to show in status', async () =>
        (await api.status(LINK)).tasks.find((t) => t.name === 'consumer_offset_sync')?.reason.includes('g-live'),
      );
      const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
      try {
        const offsets = await dst.offsetFetch('g-live', [{ topic: 'a_idem', partition: 1 }]);
        assert.notEqual(offsets[0]?.offset, 3);
      } finally {
        await dst.close();
      }
    } finally {
      member.kill('SIGTERM');
    }
  });

  it('fails over one topic: it becomes writable, the others stay read-only', async () => {
    const res = await api.ok('POST', `/v1/shadow-links/${LINK}/failover`, { topic: 'a_orders' });
    assert.equal(res.topics[0].state, 'FAILED_OVER');
    await kcatProduce(shadow.bootstrap, 'a_orders', [{ key: 'x', value: 'written after failover' }], { partition: 0 });
    // producer ids handed out on the shadow stay above every replicated one (a_idem was written idempotently)
    const replicated = (await rawBatches(shadow.bootstrap, 'a_idem', 0)).map((b) => Number(b.readBigInt64BE(43)));
    const maxReplicated = Math.max(...replicated);
    assert.ok(maxReplicated >= 0, 'a_idem carries producer ids');
    const idClient = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-init-pid' });
    const init = (await idClient.request(22, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 } as never).finally(() => idClient.close())) as { producerId: number };
    assert.ok(init.producerId > maxReplicated, `new producer id ${init.producerId} > replicated ${maxReplicated}`);
    const r = await runProcess('kcat', ['-b', shadow.bootstrap, '-P', '-t', 'a_idem', '-p', '0', '-X', 'message.send.max.retries=0'], { input: 'nope', timeoutMs: 20_000, allowFailure: true });
    assert.match(r.stderr, /Policy violation|POLICY_VIOLATION/i);
    // the group resumes at its synced offset on the shadow
    const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
    try {
      const offsets = await dst.offsetFetch('g1', [{ topic: 'a_orders', partition: 0 }]);
      assert.equal(offsets.find((o) => o.partition === 0)?.offset, 42);
    } finally {
      await dst.close();
    }
  });

  it('refuses to delete the link while topics are shadowed; force fails them over and keeps the topics', async () => {
    const refused = await api.call<{ code: string; message: string }>('DELETE', `/v1/shadow-links/${LINK}`);
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /a_idem/);
    await api.ok('DELETE', `/v1/shadow-links/${LINK}?force=true`);
    const list = await api.ok<{ links: unknown[] }>('GET', '/v1/shadow-links');
    assert.deepEqual(list.links, []);
    await kcatProduce(shadow.bootstrap, 'a_idem', [{ key: 'y', value: 'writable after forced delete' }], { partition: 0 });
    const lines = await kcatPrint(shadow.bootstrap, 'a_codec_zstd');
    assert.equal(lines.length, 2000, 'topics remain with their data');
  });
});
