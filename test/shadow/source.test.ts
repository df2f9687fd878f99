// The shadow link's source client against real brokers: an Umbra broker as the source (plain), a second one with
// SASL, TLS and mutual-TLS listeners and ACL authorization, and (UMBRA_TEST_KAFKA=1) Apache Kafka 4.1.
//   connect: cluster id, a mismatching source_cluster_id refused naming both ids, an unreachable source named
//   topics, topic configs, groups and committed offsets, DescribeAcls (SECURITY_DISABLED → SourceUnsupportedError)
//   fetch: raw batches byte-identical to a plain client's read_committed fetch; answers are never overwritten later;
//     OFFSET_OUT_OF_RANGE carries the log start; listOffsets earliest/latest/timestamp; offsets()
//   multiplexing: 50 partitions fetched concurrently over a handful of connections (the broker's own gauge)
//   a partition long-polling on an idle source never delays another that gets data; abort settles at once
//   SCRAM over plaintext and TLS, mutual TLS with inline PEMs; a wrong password fails clearly without the password
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { KafkaClient, parseHostPort, IsolationLevel } from '../../src/client/client.js';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ZERO_UUID } from '../../src/protocol/primitives.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { Compression, initCompression, type CompressionCodec } from '../../src/protocol/compression.js';
import { saslAuthenticator } from '../../src/security/sasl-client.js';
import { ANY_ACL_FILTER, AclOperation, AclPermissionType, PatternType, ResourceType } from '../../src/security/acl.js';
import { frameFetchedBatches } from '../../src/shadow/replication/replicator.js';
import { PartitionReplicator } from '../../src/shadow/replication/replicator.js';
import type { ReplicationSink, ReplicationSource, SourceFetch } from '../../src/shadow/replication/types.js';
import { Secret, type SourceClientOptions } from '../../src/shadow/types.js';
import { NodeFetcher } from '../../src/shadow/source/fetcher.js';
import { createSourceCluster, SourceConnectError, SourceUnsupportedError, type SourceCluster } from '../../src/shadow/source/index.js';
import { waitFor as waitUntil } from '../helpers/shadow.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';
import { freePort, isKafkaAvailable, startKafka, type KafkaBroker } from '../helpers/kafka.js';

const USER = 'alice';
const PASSWORD = 'Src-pa55:word-9q';
const WRONG_PASSWORD = 'n0t-the-Passw0rd';

function options(bootstrap: string, over: Partial<SourceClientOptions> = {}): SourceClientOptions {
  return {
    bootstrapServers: bootstrap.split(',').map((s) => parseHostPort(s)),
    sourceClusterId: undefined,
    clientId: 'shadow-source-test',
    tls: { enabled: false, caPath: undefined, certPath: undefined, keyPath: undefined, caPem: undefined, certPem: undefined, keyPem: undefined, doNotSetSniHostname: false },
    authentication: undefined,
    metadataMaxAgeMs: 10_000,
    connectionTimeoutMs: 2000,
    retryBackoffMs: 100,
    fetchWaitMaxMs: 500,
    fetchMinBytes: 1,
    fetchMaxBytes: 20 * 1024 * 1024,
    fetchPartitionMaxBytes: 5 * 1024 * 1024,
    fetchConnectionsPerNode: 2,
    ...over,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A batch of `count` records; `timestamp` for every record when given. */
function batch(tag: string, count: number, opts: { timestamp?: number; compression?: CompressionCodec } = {}): Buffer {
  return buildRecordBatch({
    records: Array.from({ length: count }, (_, i) => ({
      key: `${tag}-k${i}`,
      value: `${tag}-v${i}-${'x'.repeat(40 + (i % 7) * 13)}`,
      headers: i % 3 === 0 ? [{ key: 'h', value: `${i}` }] : [],
      ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
    })),
    ...(opts.compression !== undefined ? { compression: opts.compression } : {}),
  });
}

/** Reads [from, until) through a replication source the way a replicator does; returns the whole batches read. */
async function readThrough(source: ReplicationSource, from: number, until: number, maxBytes = 16 * 1024): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  let offset = from;
  while (offset < until) {
    const a = await source.fetch(offset, maxBytes, AbortSignal.timeout(10_000));
    assert.equal(a.error ?? 0, 0, `fetch at ${offset}: error ${a.error} ${a.errorMessage ?? ''}`);
    const framed = frameFetchedBatches(a.records);
    if (framed.batches.length === 0) continue;
    parts.push(a.records.subarray(0, framed.length));
    offset = framed.batches[framed.batches.length - 1]!.nextOffset;
  }
  return parts;
}

/** The same range through a plain client, read_committed. */
async function readPlain(client: KafkaClient, topic: string, partition: number, from: number, until: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = from;
  while (offset < until) {
    const [r] = await client.fetch([{ topic, partition, fetchOffset: offset }], { isolationLevel: IsolationLevel.READ_COMMITTED, maxWaitMs: 0, partitionMaxBytes: 16 * 1024 });
    assert.equal(r!.errorCode, 0);
    const framed = frameFetchedBatches(r!.records);
    parts.push(r!.records.subarray(0, framed.length));
    offset = framed.batches[framed.batches.length - 1]!.nextOffset;
  }
  return Buffer.concat(parts);
}

/** Fetches until records come (a replicator's loop); resolves with the answer. */
async function fetchData(source: ReplicationSource, offset: number, signal: AbortSignal) {
  for (;;) {
    const a = await source.fetch(offset, 1024 * 1024, signal);
    if (a.records.length > 0 || (a.error ?? 0) !== 0) return a;
  }
}

/** A shadow partition in memory: the bytes appended, in order. */
class MemorySink implements ReplicationSink {
  logStartOffset = 0;
  logEndOffset = 0;
  readonly parts: Buffer[] = [];
  get highWatermark(): number {
    return this.logEndOffset;
  }
  async append(batches: Buffer): Promise<void> {
    const framed = frameFetchedBatches(batches);
    assert.equal(framed.length, batches.length);
    assert.ok(framed.batches[0]!.baseOffset >= this.logEndOffset);
    this.parts.push(Buffer.from(batches));
    this.logEndOffset = framed.batches[framed.batches.length - 1]!.nextOffset;
  }
  async prefixTruncate(newLogStart: number): Promise<void> {
    this.logStartOffset = newLogStart;
    if (newLogStart > this.logEndOffset) this.logEndOffset = newLogStart;
  }
}

/**
 * Partition 0 of `topic` is idle and long-polls (fetch_wait_max_ms 2000); partition 1 gets a record five times
 * while that long poll is at the source, and each must be answered within 300 ms of its produce.
 */
async function longPollScenario(s: SourceCluster, client: KafkaClient, topic: string): Promise<void> {
  const idle = s.partition(topic, 0);
  const busy = s.partition(topic, 1);
  const signal = AbortSignal.timeout(20_000);
  const idleFrom = await idle.listOffsets('latest', signal);
  let offset = await busy.listOffsets('latest', signal);
  const started = Date.now();
  const longPoll = idle.fetch(idleFrom, 1024 * 1024, signal);
  await sleep(100);
  const latencies: number[] = [];
  for (let round = 0; round < 5; round++) {
    const answer = fetchData(busy, offset, signal);
    await sleep(60); // the fetch is waiting at the source when the record arrives
    const t = Date.now();
    await client.produce(topic, 1, batch(`r${round}`, 1));
    const a = await answer;
    latencies.push(Date.now() - t);
    assert.equal(a.error ?? 0, 0);
    offset = frameFetchedBatches(a.records).batches.at(-1)!.nextOffset;
  }
  // the long poll is 2 s: an answer well under that came from the append, not from the poll running out
  for (const l of latencies) assert.ok(l < 1000, `answered ${l} ms after the produce (all: ${latencies.join(', ')})`);
  const idleAnswer = await longPoll;
  const waited = Date.now() - started;
  assert.equal(idleAnswer.error ?? 0, 0);
  assert.equal(idleAnswer.records.length, 0);
  assert.ok(waited >= 1500, `the idle partition was answered after ${waited} ms: it should have waited fetch_wait_max_ms`);
}

async function metricValue(adminUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

async function rejectsWithin(p: Promise<unknown>, ms: number): Promise<unknown> {
  const started = Date.now();
  let error: unknown;
  await p.then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => {
      error = err;
    },
  );
  const took = Date.now() - started;
  assert.ok(took <= ms, `settled after ${took} ms, wanted <= ${ms} ms`);
  return error;
}

/**
 * Reads partitions 0..n-1 of `topic` until `signal` aborts, each from where its last answer ended: `ends` holds each
 * partition's next offset, `answers` how many answers it got; `readers` settle once the signal aborted.
 */
function readEvery(s: SourceCluster, topic: string, n: number, signal: AbortSignal): { ends: number[]; answers: number[]; readers: Promise<void>[] } {
  // every partition listens for this one signal's abort (a replicator has a signal of its own)
  setMaxListeners(n + 10, signal);
  const ends = Array.from({ length: n }, () => 0);
  const answers = Array.from({ length: n }, () => 0);
  const readers = Array.from({ length: n }, async (_, i) => {
    const p = s.partition(topic, i);
    while (!signal.aborted) {
      const a = await p.fetch(ends[i]!, 1024 * 1024, signal).catch(() => null);
      if (a === null) return;
      assert.equal(a.error ?? 0, 0);
      answers[i]!++;
      const framed = frameFetchedBatches(a.records);
      if (framed.batches.length > 0) ends[i] = framed.batches[framed.batches.length - 1]!.nextOffset;
    }
  });
  return { ends, answers, readers };
}

describe('shadow source client against an Umbra source', () => {
  let broker: UmbraBroker;
  let client: KafkaClient;
  let clusterId: string;
  const sources: SourceCluster[] = [];
  const open = (over: Partial<SourceClientOptions> = {}): SourceCluster => {
    const s = createSourceCluster(options(broker.bootstrap, over), {});
    sources.push(s);
    return s;
  };

  before(async () => {
    await initCompression();
    broker = await startUmbra();
    client = new KafkaClient({ brokers: broker.bootstrap });
    clusterId = (await client.metadata([])).clusterId!;
    const created = await client.createTopics([
      { name: 'raw', numPartitions: 1 },
      { name: 'trimmed', numPartitions: 1 },
      { name: 'stamps', numPartitions: 1 },
      { name: 'cfg', numPartitions: 2, configs: { 'cleanup.policy': 'compact', 'retention.ms': '12345' } },
      { name: 'wide', numPartitions: 50 },
      { name: 'idle', numPartitions: 2 },
      { name: 'replicated', numPartitions: 8 },
      { name: 'sessions', numPartitions: 40 },
      { name: 'parked', numPartitions: 60 },
      { name: 'lanes', numPartitions: 4 },
    ]);
    for (const c of created) assert.equal(c.errorCode, 0, `${c.name}: ${c.errorMessage}`);
  });
  after(async () => {
    for (const s of sources) await s.close();
    await client?.close();
    await broker?.destroy();
  });

  it('connects, learns the cluster id, refuses a mismatching source_cluster_id and names an unreachable source', async () => {
    const s = open({ sourceClusterId: clusterId });
    assert.equal(s.clusterId, null);
    await s.connect();
    assert.equal(s.clusterId, clusterId);

    const wrong = open({ sourceClusterId: 'not-this-cluster' });
    const err = await wrong.connect().then(() => assert.fail('connected to the wrong cluster'), (e: unknown) => e);
    assert.ok(err instanceof SourceConnectError);
    assert.equal(err.kind, 'cluster_id_mismatch');
    assert.match(err.message, /not-this-cluster/);
    assert.ok(err.message.includes(clusterId), err.message);
    assert.equal(wrong.clusterId, null);

    const port = await freePort();
    const down = open({ bootstrapServers: [{ host: '127.0.0.1', port }], connectionTimeoutMs: 500, retryBackoffMs: 20 });
    const err2 = await down.connect().then(() => assert.fail('connected to nothing'), (e: unknown) => e);
    assert.ok(err2 instanceof SourceConnectError);
    assert.equal(err2.kind, 'unreachable');
    assert.ok(err2.message.includes(`127.0.0.1:${port}`), err2.message);
  });

  it('lists topics with ids and partitions, and reads effective topic configs', async () => {
    const s = open();
    const topics = await s.topics();
    const byName = new Map(topics.map((t) => [t.name, t]));
    for (const [name, n] of [['raw', 1], ['cfg', 2], ['wide', 50]] as const) {
      const t = byName.get(name);
      assert.ok(t, `topic ${name}`);
      assert.equal(t.partitions.length, n);
      assert.equal(t.internal, false);
      assert.notEqual(t.topicId, ZERO_UUID);
      assert.deepEqual(t.partitions.map((p) => p.partition), Array.from({ length: n }, (_, i) => i));
      for (const p of t.partitions) assert.ok(p.leader >= 0 && p.replicas.includes(p.leader));
    }
    const internal = topics.filter((t) => t.name.startsWith('__'));
    for (const t of internal) assert.equal(t.internal, true, t.name);

    const configs = await s.describeTopicConfigs(['cfg', 'raw', 'no-such-topic']);
    assert.deepEqual([...configs.keys()].sort(), ['cfg', 'raw']);
    assert.equal(configs.get('cfg')!['cleanup.policy'], 'compact');
    assert.equal(configs.get('cfg')!['retention.ms'], '12345');
    assert.equal(configs.get('raw')!['cleanup.policy'], 'delete');
    assert.ok('max.message.bytes' in configs.get('raw')!, 'defaults are included');
  });

  it('lists groups and their committed offsets; DescribeAcls without an authorizer is SourceUnsupportedError', async () => {
    const res = await client.offsetCommit('mirror-me', [
      { topic: 'raw', partition: 0, offset: 2, metadata: 'm' },
      { topic: 'cfg', partition: 1, offset: 7 },
    ]);
    for (const r of res) assert.equal(r.errorCode, 0);
    const s = open();
    assert.ok((await s.listGroups()).includes('mirror-me'));
    const offsets = await s.committedOffsets('mirror-me', ['raw']);
    assert.deepEqual(offsets, [{ topic: 'raw', partition: 0, offset: 2, leaderEpoch: offsets[0]!.leaderEpoch, metadata: 'm' }]);
    assert.equal((await s.committedOffsets('mirror-me', ['raw', 'cfg'])).length, 2);
    assert.deepEqual(await s.committedOffsets('mirror-me', ['elsewhere']), []);

    const err = await s.describeAcls([ANY_ACL_FILTER]).then(() => assert.fail('DescribeAcls answered'), (e: unknown) => e);
    assert.ok(err instanceof SourceUnsupportedError);
    assert.equal(err.api, 'DescribeAcls');
    assert.match(err.message, /no authorizer/);
  });

  it('fetches raw batches byte-identical to what the broker stores, and never overwrites an answer later', async () => {
    const codecs: CompressionCodec[] = [Compression.none, Compression.gzip, Compression.lz4, Compression.zstd, Compression.snappy];
    for (let i = 0; i < 30; i++) await client.produce('raw', 0, batch(`b${i}`, 1 + (i % 9), { compression: codecs[i % codecs.length]! }));
    const hwm = (await client.listOffsets('raw', 0, -1)).offset;
    assert.ok(hwm > 30);

    const s = open();
    const views = await readThrough(s.partition('raw', 0), 0, hwm, 2048);
    const copies = views.map((v) => Buffer.from(v));
    const plain = await readPlain(client, 'raw', 0, 0, hwm);
    assert.ok(views.length > 3, 'read in several answers');
    assert.ok(Buffer.concat(views).equals(plain), 'the same bytes as a plain read_committed fetch');

    // more traffic through the same connections: earlier answers (views of response frames) must stay intact
    for (let round = 0; round < 3; round++) await readThrough(s.partition('raw', 0), 0, hwm, 4096);
    views.forEach((v, i) => assert.ok(v.equals(copies[i]!), `answer ${i} changed after later fetches`));
    const st = s.stats();
    assert.ok(st.fetchRequests > 0 && st.bytesFetched >= plain.length);
  });

  it('answers OFFSET_OUT_OF_RANGE with the log start offset, below the log start and above the high watermark', async () => {
    for (let i = 0; i < 5; i++) await client.produce('trimmed', 0, batch(`t${i}`, 2));
    const del = await client.request(ApiKey.DeleteRecords, { topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset: 4 }] }], timeoutMs: 5000 });
    assert.equal(del.topics[0]!.partitions[0]!.errorCode, 0);
    const s = open();
    const p = s.partition('trimmed', 0);
    const below = await p.fetch(0, 1024 * 1024, AbortSignal.timeout(5000));
    assert.equal(below.error, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(below.logStartOffset, 4);
    assert.equal(below.records.length, 0);
    const above = await p.fetch(1000, 1024 * 1024, AbortSignal.timeout(5000));
    assert.equal(above.error, ErrorCode.OFFSET_OUT_OF_RANGE);
    const ok = await p.fetch(4, 1024 * 1024, AbortSignal.timeout(5000));
    assert.equal(ok.error ?? 0, 0);
    assert.equal(ok.logStartOffset, 4);
    assert.equal(ok.highWatermark, 10);
    assert.ok(ok.records.length > 0);

    assert.equal(await p.listOffsets('earliest', AbortSignal.timeout(5000)), 4);
    assert.equal(await p.listOffsets('latest', AbortSignal.timeout(5000)), 10);
    const marks = await s.offsets([{ topic: 'trimmed', partition: 0 }, { topic: 'raw', partition: 0 }, { topic: 'no-such', partition: 0 }]);
    assert.deepEqual(marks.get('trimmed/0'), { logStartOffset: 4, lastStableOffset: 10, highWatermark: 10 });
    assert.equal(marks.get('raw/0')!.logStartOffset, 0);
    assert.equal(marks.has('no-such/0'), false, 'a partition the source does not have is left out');
  });

  it('finds offsets by timestamp (-1 when no record is that recent), batching calls of the same tick', async () => {
    await client.produce('stamps', 0, batch('s1', 3, { timestamp: 1_000_000 }));
    await client.produce('stamps', 0, batch('s2', 3, { timestamp: 2_000_000 }));
    await client.produce('stamps', 0, batch('s3', 3, { timestamp: 3_000_000 }));
    const s = open();
    const p = s.partition('stamps', 0);
    const signal = AbortSignal.timeout(5000);
    const [a, b, c, early, late] = await Promise.all([
      p.listOffsets(1_500_000, signal),
      p.listOffsets(2_000_000, signal),
      p.listOffsets(9_000_000_000_000, signal),
      p.listOffsets('earliest', signal),
      p.listOffsets('latest', signal),
    ]);
    assert.deepEqual([a, b, c, early, late], [3, 3, -1, 0, 9]);
  });

  it('fetches 50 partitions concurrently over a few connections, in shared Fetch requests', async () => {
    for (let p = 0; p < 50; p++) await client.produce('wide', p, batch(`w${p}`, 1 + (p % 4)));
    await sleep(100);
    const baseline = await metricValue(broker.adminUrl, 'umbra_connections');
    const s = open({ fetchWaitMaxMs: 300 });
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await metricValue(broker.adminUrl, 'umbra_connections'));
        await sleep(20);
      }
    })();
    // each "replicator" reads its partition to the end, then waits for a second batch produced meanwhile
    const ends = new Map<number, number>();
    let firstRound!: () => void;
    const firstRoundDone = new Promise<void>((r) => (firstRound = r));
    let readersAtEnd = 0;
    const readers = Array.from({ length: 50 }, async (_, p) => {
      const src = s.partition('wide', p);
      let offset = 0;
      const first = 1 + (p % 4);
      while (offset < first + 2) {
        const a = await src.fetch(offset, 64 * 1024, AbortSignal.timeout(15_000));
        assert.equal(a.error ?? 0, 0);
        const framed = frameFetchedBatches(a.records);
        if (framed.batches.length > 0) offset = framed.batches[framed.batches.length - 1]!.nextOffset;
        if (offset === first && framed.batches.length > 0 && ++readersAtEnd === 50) firstRound();
      }
      ends.set(p, offset);
    });
    await firstRoundDone;
    // the first fetches of all 50 partitions travelled together
    assert.ok(s.stats().fetchRequests <= 3, `${s.stats().fetchRequests} Fetch requests for the first fetch of 50 partitions`);
    await sleep(100); // now every partition waits in a long poll
    await Promise.all(Array.from({ length: 50 }, (_, p) => client.produce('wide', p, batch(`w2-${p}`, 2))));
    await Promise.all(readers);
    sampling = false;
    await sampler;
    for (let p = 0; p < 50; p++) assert.equal(ends.get(p), 1 + (p % 4) + 2, `partition ${p}`);
    const st = s.stats();
    // one admin connection and at most two fetch connections to the one node
    assert.ok(st.fetchConnections <= 2, `fetch connections ${st.fetchConnections}`);
    assert.ok(peak - baseline <= 3, `the broker saw ${peak - baseline} connections from the source client`);
  });

  it('keeps as many fetch connections as fetch_connections_per_node allows, and a fetch that missed a long poll gets its own', async () => {
    // Four idle partitions whose fetches start 60 ms apart: each finds the long polls before it in flight.
    const openFetches = async (s: SourceCluster, controller: AbortController): Promise<Promise<unknown>[]> => {
      const pending: Promise<unknown>[] = [];
      for (let p = 0; p < 4; p++) {
        pending.push(s.partition('lanes', p).fetch(0, 64 * 1024, controller.signal).catch(() => undefined));
        await sleep(60);
      }
      await sleep(100);
      return pending;
    };
    const one = open({ fetchWaitMaxMs: 2000, fetchConnectionsPerNode: 1 });
    const stopOne = new AbortController();
    const pendingOne = await openFetches(one, stopOne);
    assert.equal(one.stats().fetchConnections, 1);
    stopOne.abort();
    await Promise.all(pendingOne);

    const four = open({ fetchWaitMaxMs: 2000, fetchConnectionsPerNode: 4 });
    const stopFour = new AbortController();
    const pendingFour = await openFetches(four, stopFour);
    // three long polls and the lane that never waits long
    assert.equal(four.stats().fetchConnections, 4);
    // the third partition rides a long poll of its own: its first record ends that poll at once, not after 2 s
    const started = Date.now();
    await client.produce('lanes', 2, batch('lane', 2));
    const a = (await pendingFour[2]) as SourceFetch;
    const waited = Date.now() - started;
    assert.equal(a.error ?? 0, 0);
    assert.equal(frameFetchedBatches(a.records).batches.length, 1);
    assert.ok(waited < 1000, `answered after ${waited} ms`);
    stopFour.abort();
    await Promise.all(pendingFour);
  });

  it('feeds PartitionReplicators: 8 partitions copied byte for byte while records keep arriving', async () => {
    for (let p = 0; p < 8; p++) for (let i = 0; i < 3; i++) await client.produce('replicated', p, batch(`r${p}-${i}`, 1 + i));
    const del = await client.request(ApiKey.DeleteRecords, { topics: [{ name: 'replicated', partitions: [{ partitionIndex: 7, offset: 1 }] }], timeoutMs: 5000 });
    assert.equal(del.topics[0]!.partitions[0]!.errorCode, 0);
    const s = open({ fetchWaitMaxMs: 250 });
    const sinks = Array.from({ length: 8 }, () => new MemorySink());
    const replicators = sinks.map((sink, p) => new PartitionReplicator(s.partition('replicated', p), sink, { name: `replicated/${p}`, idleWaitMs: 20 }));
    for (const r of replicators) r.start();
    try {
      for (let round = 0; round < 5; round++) {
        await Promise.all(Array.from({ length: 8 }, (_, p) => client.produce('replicated', p, batch(`more${round}-${p}`, 2, { compression: Compression.gzip }))));
        await sleep(30);
      }
      const hwms = await s.offsets(Array.from({ length: 8 }, (_, p) => ({ topic: 'replicated', partition: p })));
      await Promise.all(
        replicators.map((r, p) => r.waitFor((st) => st.highWatermark === hwms.get(`replicated/${p}`)!.highWatermark && st.sourceHighWatermark === st.highWatermark, 10_000)),
      );
      for (let p = 0; p < 8; p++) {
        const start = p === 7 ? 1 : 0;
        const hwm = hwms.get(`replicated/${p}`)!.highWatermark;
        assert.ok(Buffer.concat(sinks[p]!.parts).equals(await readPlain(client, 'replicated', p, start, hwm)), `partition ${p}`);
        assert.equal(replicators[p]!.status().state, 'ACTIVE');
      }
    } finally {
      await Promise.all(replicators.map((r) => r.stop()));
    }
  });

  it('a partition long-polling an idle source never delays another partition that gets data', async () => {
    await longPollScenario(open({ fetchWaitMaxMs: 2000 }), client, 'idle');
  });

  it('an idle partition stays in the long polls, and each of their answers counts as hearing from the source', async () => {
    const s = open({ fetchWaitMaxMs: 200 });
    const p = s.partition('idle', 0);
    const ac = new AbortController();
    try {
      const from = await p.listOffsets('latest', ac.signal);
      // the first answer is handed back (the source's offsets are news to us), the next fetch stays at the source
      await p.fetch(from, 1024 * 1024, ac.signal);
      let handedBack = false;
      const pending = p.fetch(from, 1024 * 1024, ac.signal).then(
        () => (handedBack = true),
        () => undefined,
      );
      // heard from again by the empty answers of the long polls alone (waited for, not slept: a loaded machine
      // may answer a 200 ms poll late)
      const heardSince = (t: number): Promise<number> =>
        waitUntil(`an answer from the source after ${t}`, async () => (p.lastHeardAtMs!() > t ? p.lastHeardAtMs!() : undefined), 5000, 10);
      const first = await heardSince(Date.now());
      await heardSince(first);
      assert.equal(handedBack, false, 'nothing moved at the source, so no empty answer was handed back');
      ac.abort(new Error('done'));
      await pending;
    } finally {
      ac.abort(new Error('done'));
    }
  });

  it('keeps a fetch session at the source: idle long polls name no partitions, and records still end them at once', async () => {
    const N = 40;
    // long polls of 400 ms: a wake by the records (well under that) is told apart from a poll running out even when
    // a loaded machine delays an answer by a few tens of ms
    const s = open({ fetchWaitMaxMs: 400 });
    const ac = new AbortController();
    const { ends, readers } = readEvery(s, 'sessions', N, ac.signal);
    const waitFor = async (cond: () => boolean, what: string): Promise<number> => {
      const started = Date.now();
      while (!cond()) {
        assert.ok(Date.now() - started < 5000, what);
        await sleep(5);
      }
      return Date.now() - started;
    };
    try {
      await sleep(600); // the first (full) fetch, then idle long polls
      const bytesBefore = await metricValue(broker.adminUrl, 'umbra_bytes_in_total');
      const requestsBefore = s.stats().fetchRequests;
      await sleep(2000);
      const requests = s.stats().fetchRequests - requestsBefore;
      const perRequest = ((await metricValue(broker.adminUrl, 'umbra_bytes_in_total')) - bytesBefore) / requests;
      assert.ok(requests >= 3, `${requests} long polls of 400 ms in two seconds`);
      // a full request naming 40 partitions takes over 1,300 bytes
      assert.ok(perRequest < 300, `${perRequest.toFixed(0)} bytes per idle Fetch request`);
      assert.ok((await metricValue(broker.adminUrl, 'umbra_fetch_session_partitions')) >= N);

      await client.produce('sessions', 17, batch('one', 2));
      const took = await waitFor(() => ends[17] === 2, 'records on one partition of the session reach its reader');
      assert.ok(took < 300, `answered after ${took} ms: the records should end the long poll (400 ms)`);
      await Promise.all(Array.from({ length: N }, (_, p) => client.produce('sessions', p, batch('all', 1))));
      await waitFor(() => ends.every((e, p) => e === (p === 17 ? 3 : 1)), `every partition reads its records (${ends.join(' ')})`);
    } finally {
      ac.abort(new Error('done'));
      await Promise.all(readers);
    }
  });

  it('a busy partition does not stir the idle ones: they stay parked in the session, not handed back and queued again', async () => {
    const N = 60;
    const BUSY = 7;
    const s = open({ fetchWaitMaxMs: 2000 });
    const ac = new AbortController();
    const { ends, answers, readers } = readEvery(s, 'parked', N, ac.signal);
    // every fetch that goes (back) into a node's queue
    const enqueue = NodeFetcher.prototype.enqueue;
    let queued = 0;
    NodeFetcher.prototype.enqueue = function (this: NodeFetcher, ...args: Parameters<NodeFetcher['enqueue']>) {
      queued++;
      return enqueue.apply(this, args);
    };
    try {
      // the first (full) fetch answers every partition; then they long-poll
      const t0 = Date.now();
      while (!answers.every((a) => a >= 1)) {
        assert.ok(Date.now() - t0 < 5000, `every partition gets its first answer (${answers.join(' ')})`);
        await sleep(5);
      }
      await sleep(100);
      const queuedBefore = queued;
      const answersBefore = answers.reduce((a, b) => a + b, 0);
      const ROUNDS = 20;
      for (let r = 1; r <= ROUNDS; r++) {
        await client.produce('parked', BUSY, batch(`r${r}`, 1));
        const started = Date.now();
        while (ends[BUSY] !== r) {
          assert.ok(Date.now() - started < 3000, `round ${r}: the busy partition's record reaches its reader`);
          await sleep(2);
        }
      }
      const handedOut = answers.reduce((a, b) => a + b, 0) - answersBefore;
      // only the busy partition was answered (once per record), and only its next fetches went into the queue; the
      // 59 idle partitions rode every one of those requests without being handed back or queued again
      assert.equal(handedOut, ROUNDS, `answers per partition: ${answers.join(' ')}`);
      assert.ok(queued - queuedBefore <= ROUNDS + 1, `${queued - queuedBefore} fetches queued for ${ROUNDS} answers`);
      // and an idle partition still gets its record at once
      await client.produce('parked', 42, batch('idle', 1));
      const started = Date.now();
      while (ends[42] !== 1) {
        assert.ok(Date.now() - started < 1000, 'an idle partition reads its record without waiting for the long poll');
        await sleep(2);
      }
    } finally {
      NodeFetcher.prototype.enqueue = enqueue;
      ac.abort(new Error('done'));
      await Promise.all(readers);
    }
  });

  it('settles promptly when the signal aborts, and the partition fetches normally afterwards', async () => {
    const s = open({ fetchWaitMaxMs: 3000 });
    const p = s.partition('idle', 0);
    const ac = new AbortController();
    const pending = p.fetch(0, 1024 * 1024, ac.signal);
    setTimeout(() => ac.abort(new Error('paused')), 100);
    const err = await rejectsWithin(pending, 1500); // well before the 3 s poll ends
    assert.match((err as Error).message, /paused/);
    await assert.rejects(p.fetch(0, 1024 * 1024, AbortSignal.abort()));

    // the aborted fetch's request is still at the source; a new fetch waits for it, then gets the new record
    const t = Date.now();
    const next = fetchData(p, 0, AbortSignal.timeout(10_000));
    await client.produce('idle', 0, batch('after-abort', 2));
    const a = await next;
    assert.equal(frameFetchedBatches(a.records).batches[0]!.baseOffset, 0);
    assert.ok(Date.now() - t < 1500, `took ${Date.now() - t} ms`);

    const ac2 = new AbortController();
    const lo = p.listOffsets('latest', ac2.signal);
    ac2.abort();
    await rejectsWithin(lo, 1000);

    // a run of fetches under one signal (a replicator's) listens for its abort once, not once per fetch, and the
    // abort still ends the fetch in flight
    const ac3 = new AbortController();
    const add = ac3.signal.addEventListener.bind(ac3.signal);
    let listening = 0;
    ac3.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      if (args[0] === 'abort') listening++;
      return add(...args);
    }) as AbortSignal['addEventListener'];
    let offset = 2;
    for (let i = 0; i < 10; i++) {
      const f = p.fetch(offset, 1024 * 1024, ac3.signal);
      await client.produce('idle', 0, batch(`run-${i}`, 1));
      const got = frameFetchedBatches((await f).records).batches;
      offset = got[got.length - 1]!.nextOffset;
    }
    assert.equal(offset, 12);
    assert.equal(listening, 1, 'listeners added to the signal for 10 fetches');
    const last = p.fetch(offset, 1024 * 1024, ac3.signal);
    setTimeout(() => ac3.abort(new Error('stopped')), 50);
    assert.match(((await rejectsWithin(last, 300)) as Error).message, /stopped/);
  });

  it('answers routing errors per partition and follows a topic created, deleted and recreated at the source', async () => {
    const s = open({ retryBackoffMs: 50 });
    const signal = AbortSignal.timeout(10_000);
    assert.equal((await s.partition('not-yet', 0).fetch(0, 1024, signal)).error, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal((await s.partition('raw', 5).fetch(0, 1024, signal)).error, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await assert.rejects(s.partition('not-yet', 0).listOffsets('earliest', signal), /UNKNOWN_TOPIC_OR_PARTITION/);

    const [created] = await client.createTopics([{ name: 'not-yet', numPartitions: 1 }]);
    await client.produce('not-yet', 0, batch('first', 2));
    await sleep(60); // retry_backoff_ms: the source is asked about a missing topic again only after it
    const pinned = s.partition('not-yet', 0, { topicId: created!.topicId });
    const a = await pinned.fetch(0, 1024 * 1024, signal);
    assert.equal(a.error ?? 0, 0);
    assert.equal(frameFetchedBatches(a.records).batches[0]!.nextOffset, 2);

    // deleted and recreated: a fetch pinned to the old topic id never reads the new topic
    assert.equal((await client.deleteTopics(['not-yet']))[0]!.errorCode, 0);
    assert.equal((await client.createTopics([{ name: 'not-yet', numPartitions: 1 }]))[0]!.errorCode, 0);
    await client.produce('not-yet', 0, batch('second life', 5));
    const errors: number[] = [];
    for (let i = 0; i < 50 && errors.at(-1) !== ErrorCode.INCONSISTENT_TOPIC_ID; i++) {
      const r = await pinned.fetch(2, 1024 * 1024, signal);
      assert.equal(r.records.length, 0, 'read the recreated topic');
      errors.push(r.error ?? 0);
      await sleep(60);
    }
    assert.equal(errors.at(-1), ErrorCode.INCONSISTENT_TOPIC_ID, `errors seen: ${errors.join(', ')}`);
    const unpinned = await s.partition('not-yet', 0).fetch(0, 1024 * 1024, signal);
    assert.equal(frameFetchedBatches(unpinned.records).batches[0]!.nextOffset, 5, 'an unpinned source follows the new topic');
  });

  it('close() fails pending fetches and later calls', async () => {
    const s = createSourceCluster(options(broker.bootstrap, { fetchWaitMaxMs: 3000 }), {});
    const p = s.partition('idle', 0);
    const hwm = await p.listOffsets('latest', AbortSignal.timeout(5000));
    const polling = p.fetch(hwm, 1024 * 1024, AbortSignal.timeout(5000)); // long-polling at the source
    const queued = p.fetch(hwm, 1024 * 1024, AbortSignal.timeout(5000)); // waiting behind it
    await sleep(50);
    const closing = s.close();
    await rejectsWithin(polling, 200);
    await rejectsWithin(queued, 200);
    await closing;
    await assert.rejects(p.fetch(0, 1024, AbortSignal.timeout(1000)), /closed/);
    await assert.rejects(s.topics());
  });

  // last in this suite: it restarts the broker
  it('a source restart fails fetches in flight, and fetching resumes once the source is back', async () => {
    const s = open({ fetchWaitMaxMs: 2000, connectionTimeoutMs: 500 });
    const p = s.partition('idle', 1);
    const hwm = await p.listOffsets('latest', AbortSignal.timeout(5000));
    const inFlight = p.fetch(hwm, 1024 * 1024, AbortSignal.timeout(20_000));
    await sleep(100);
    const restarted = broker.restart();
    const err = (await inFlight.then(() => assert.fail('answered across a restart'), (e: unknown) => e)) as Error;
    assert.match(err.message, /NETWORK_EXCEPTION|closed/);
    broker = await restarted;
    await client.produce('idle', 1, batch('after-restart', 3));
    let answer;
    for (let attempt = 0; attempt < 40; attempt++) {
      answer = await p.fetch(hwm, 1024 * 1024, AbortSignal.timeout(5000)).catch((e: unknown) => e as Error);
      if (!(answer instanceof Error) && answer.records.length > 0) break;
      await sleep(100);
    }
    assert.ok(answer && !(answer instanceof Error), `no answer after the restart: ${String(answer)}`);
    assert.equal(frameFetchedBatches(answer.records).batches[0]!.baseOffset, hwm);
    assert.ok(s.stats().errors > 0);
  });
});

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string; clientCert: string; clientKey: string } {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=umbra-source-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=shadow-link', '-keyout', 'client.key', '-out', 'client.csr');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.pem');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCert: join(dir, 'client.pem'), clientKey: join(dir, 'client.key') };
}

/** A debug-level logger whose lines are kept, for tests that look for what was logged. */
function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    }),
  );
  return { logger, lines };
}

describe('shadow source client whose fetch session the source drops', () => {
  let broker: UmbraBroker;
  let client: KafkaClient;
  const { logger, lines: logLines } = captureLogger();

  before(async () => {
    // one session slot: a larger session takes it from a smaller one
    broker = await startUmbra({ brokerConfigs: { 'max.incremental.fetch.session.cache.slots': 1 } });
    client = new KafkaClient({ brokers: broker.bootstrap });
    const created = await client.createTopics([
      { name: 'small', numPartitions: 2 },
      { name: 'large', numPartitions: 3 },
    ]);
    for (const c of created) assert.equal(c.errorCode, 0, `${c.name}: ${c.errorMessage}`);
  });
  after(async () => {
    await client?.close();
    await broker?.destroy();
  });

  it('starts over with a full fetch, and goes on without a session when the source has no slot for it', async () => {
    const small = createSourceCluster(options(broker.bootstrap, { fetchWaitMaxMs: 100 }), { logger });
    const large = createSourceCluster(options(broker.bootstrap, { fetchWaitMaxMs: 100 }), { logger });
    const ac = new AbortController();
    const ends = new Map<string, number>();
    const read = (s: SourceCluster, topic: string, partition: number): Promise<void> =>
      (async () => {
        const key = `${topic}/${partition}`;
        ends.set(key, 0);
        const p = s.partition(topic, partition);
        while (!ac.signal.aborted) {
          const a = await p.fetch(ends.get(key)!, 1024 * 1024, ac.signal).catch(() => null);
          if (a === null) return;
          assert.equal(a.error ?? 0, 0, `${key}: ${a.errorMessage}`);
          const framed = frameFetchedBatches(a.records);
          if (framed.batches.length > 0) ends.set(key, framed.batches[framed.batches.length - 1]!.nextOffset);
        }
      })();
    const readers = [read(small, 'small', 0), read(small, 'small', 1)];
    try {
      // small holds the one slot (waited for: on a loaded machine its first fetches may take longer than a sleep)
      await waitUntil('small to hold the session slot', async () => (await metricValue(broker.adminUrl, 'umbra_fetch_sessions')) === 1 && small.stats().fetchRequests >= 2, 10_000, 20);
      readers.push(read(large, 'large', 0), read(large, 'large', 1), read(large, 'large', 2));
      // large takes it: small's next incremental fetch finds no session, starts over, gets none
      await waitUntil('the session error to be seen', async () => logLines.some((l) => l.includes('source fetch session lost')), 10_000, 20);
      assert.equal(await metricValue(broker.adminUrl, 'umbra_fetch_sessions'), 1);
      for (const [topic, partitions] of [['small', 2], ['large', 3]] as const) {
        await Promise.all(Array.from({ length: partitions }, (_, p) => client.produce(topic, p, batch(`${topic}${p}`, 2))));
      }
      const started = Date.now();
      while ([...ends.values()].some((e) => e !== 2)) {
        assert.ok(Date.now() - started < 5000, `every partition reads its records: ${JSON.stringify([...ends])}`);
        await sleep(10);
      }
    } finally {
      ac.abort(new Error('done'));
      await Promise.all(readers);
      await small.close();
      await large.close();
    }
  });
});

describe('shadow source client with SASL and TLS', () => {
  let broker: UmbraBroker;
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  const { logger, lines: logLines } = captureLogger();
  const sources: SourceCluster[] = [];
  const scram = (password = PASSWORD, mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' = 'SCRAM-SHA-256'): SourceClientOptions['authentication'] => ({
    mechanism,
    username: USER,
    password: new Secret(password),
  });
  const open = (listener: string, over: Partial<SourceClientOptions>): SourceCluster => {
    const s = createSourceCluster(options(`127.0.0.1:${broker.listeners[listener]}`, over), { logger });
    sources.push(s);
    return s;
  };
  const noTls = options('127.0.0.1:1').tls;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-source-tls-'));
    certs = makeCertificates(dir);
    broker = await startUmbra({
      args: ['--authorization', 'acl', '--superuser', USER],
      env: { UMBRA_BOOTSTRAP_USER: `${USER}:${PASSWORD}` },
      configYaml: [
        'listeners:',
        '  - { name: SASL_PLAINTEXT, listen: "127.0.0.1:0", authentication: sasl }',
        `  - { name: SASL_SSL, listen: "127.0.0.1:0", authentication: sasl, tls: { cert_path: "${certs.cert}", key_path: "${certs.key}" } }`,
        `  - { name: MTLS, listen: "127.0.0.1:0", tls: { cert_path: "${certs.cert}", key_path: "${certs.key}", ca_path: "${certs.ca}", client_auth: required } }`,
        '',
      ].join('\n'),
    });
  });
  after(async () => {
    for (const s of sources) await s.close();
    await broker?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates with SCRAM, fetches, and reads ACLs (merged across filters, without duplicates)', async () => {
    const admin = new KafkaClient({ brokers: `127.0.0.1:${broker.listeners['SASL_PLAINTEXT']}`, authenticate: saslAuthenticator({ mechanism: 'SCRAM-SHA-256', username: USER, password: PASSWORD }) });
    try {
      assert.equal((await admin.createTopics([{ name: 'secure', numPartitions: 1 }]))[0]!.errorCode, 0);
      await admin.produce('secure', 0, batch('sec', 3));
      const acl = { resourceType: ResourceType.TOPIC, resourceName: 'secure', resourcePatternType: PatternType.LITERAL, principal: 'User:bob', host: '*', operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW };
      const created = await admin.request(ApiKey.CreateAcls, { creations: [acl, { ...acl, operation: AclOperation.DESCRIBE }] });
      for (const r of created.results) assert.equal(r.errorCode, 0);
    } finally {
      await admin.close();
    }

    const s = open('SASL_PLAINTEXT', { authentication: scram() });
    await s.connect();
    assert.ok(s.clusterId);
    assert.ok((await s.topics()).some((t) => t.name === 'secure'));
    const a = await s.partition('secure', 0).fetch(0, 1024 * 1024, AbortSignal.timeout(5000));
    assert.equal(a.error ?? 0, 0);
    assert.equal(frameFetchedBatches(a.records).batches[0]!.nextOffset, 3);

    const bobFilter = { ...ANY_ACL_FILTER, principal: 'User:bob' };
    const acls = await s.describeAcls([ANY_ACL_FILTER, bobFilter]);
    assert.equal(acls.length, 2);
    assert.deepEqual(acls.map((b) => b.operation).sort(), [AclOperation.READ, AclOperation.DESCRIBE].sort());
    assert.ok(acls.every((b) => b.resourceName === 'secure' && b.principal === 'User:bob' && b.patternType === PatternType.LITERAL));
  });

  it('a wrong password fails with a clear error that never contains a password', async () => {
    const s = open('SASL_PLAINTEXT', { authentication: scram(WRONG_PASSWORD), retryBackoffMs: 20 });
    const err = await s.connect().then(() => assert.fail('authenticated with a wrong password'), (e: unknown) => e);
    assert.ok(err instanceof SourceConnectError);
    assert.equal(err.kind, 'authentication');
    assert.match(err.message, /SCRAM-SHA-256/);
    assert.match(err.message, /'alice'/);
    for (const secret of [PASSWORD, WRONG_PASSWORD]) {
      assert.equal(err.message.includes(secret), false, 'the error names a password');
      assert.equal(logLines.join('').includes(secret), false, 'the log names a password');
      assert.equal(JSON.stringify(s.stats()).includes(secret), false);
    }
    // a fetch fails too (a transport error the replicator retries), also without the password
    const f = await s.partition('secure', 0).fetch(0, 1024, AbortSignal.timeout(5000)).then(() => assert.fail('fetched'), (e: unknown) => e as Error);
    assert.equal(f.message.includes(WRONG_PASSWORD), false);
  });

  it('connects over TLS (SASL_SSL, CA file, SCRAM-SHA-512) and fetches; an untrusted certificate is a TLS error', async () => {
    const tls = { ...noTls, enabled: true, caPath: certs.ca };
    const s = open('SASL_SSL', { tls, authentication: scram(PASSWORD, 'SCRAM-SHA-512') });
    await s.connect();
    const a = await s.partition('secure', 0).fetch(0, 1024 * 1024, AbortSignal.timeout(5000));
    assert.equal(a.error ?? 0, 0);
    assert.ok(a.records.length > 0);

    const untrusted = open('SASL_SSL', { tls: { ...noTls, enabled: true }, authentication: scram(), connectionTimeoutMs: 1000, retryBackoffMs: 20 });
    const err = await untrusted.connect().then(() => assert.fail('trusted a self-signed CA'), (e: unknown) => e);
    assert.ok(err instanceof SourceConnectError);
    assert.equal(err.kind, 'tls');
    assert.match(err.message, /certificate/);
  });

  it('presents a client certificate from inline PEMs to a mutual-TLS listener', async () => {
    const tls = {
      ...noTls,
      enabled: true,
      caPem: readFileSync(certs.ca, 'utf8'),
      certPem: readFileSync(certs.clientCert, 'utf8'),
      keyPem: new Secret(readFileSync(certs.clientKey, 'utf8')),
    };
    const s = open('MTLS', { tls });
    await s.connect();
    assert.ok(s.clusterId);

    const without = open('MTLS', { tls: { ...tls, certPem: undefined, keyPem: undefined }, connectionTimeoutMs: 1000, retryBackoffMs: 20 });
    await assert.rejects(without.connect(), SourceConnectError);
  });
});

describe('shadow source client against Apache Kafka 4.1', { skip: process.env.UMBRA_TEST_KAFKA && isKafkaAvailable() ? false : 'set UMBRA_TEST_KAFKA=1 (with the Kafka jars fetched) to run' }, () => {
  let kafka: KafkaBroker;
  let client: KafkaClient;
  let source: SourceCluster;

  before(async () => {
    await initCompression();
    kafka = await startKafka();
    client = new KafkaClient({ brokers: kafka.bootstrap });
    source = createSourceCluster(options(kafka.bootstrap, { sourceClusterId: kafka.clusterId }), {});
  });
  after(async () => {
    await source?.close();
    await client?.close();
    await kafka?.stop();
  });

  it('connects, lists topics and configs, fetches raw batches, and reports DescribeAcls unsupported', { timeout: 60_000 }, async () => {
    const created = await client.createTopics([{ name: 'orders', numPartitions: 3, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } }]);
    assert.equal(created[0]!.errorCode, 0);
    for (let i = 0; i < 12; i++) await client.produce('orders', i % 3, batch(`k${i}`, 2 + i, { compression: i % 2 ? Compression.gzip : Compression.none }));
    await source.connect();
    assert.equal(source.clusterId, kafka.clusterId);
    const t = (await source.topics()).find((x) => x.name === 'orders');
    assert.ok(t);
    assert.equal(t.partitions.length, 3);
    assert.notEqual(t.topicId, ZERO_UUID);
    const configs = await source.describeTopicConfigs(['orders']);
    assert.equal(configs.get('orders')!['cleanup.policy'], 'compact');
    for (let p = 0; p < 3; p++) {
      const hwm = (await client.listOffsets('orders', p, -1)).offset;
      const views = await readThrough(source.partition('orders', p), 0, hwm);
      assert.ok(Buffer.concat(views).equals(await readPlain(client, 'orders', p, 0, hwm)), `partition ${p}`);
    }
    const marks = await source.offsets([{ topic: 'orders', partition: 0 }]);
    assert.equal(marks.get('orders/0')!.logStartOffset, 0);
    assert.equal(marks.get('orders/0')!.highWatermark, (await client.listOffsets('orders', 0, -1)).offset);
    await assert.rejects(source.describeAcls([ANY_ACL_FILTER]), (err: unknown) => err instanceof SourceUnsupportedError && /no authorizer/.test(err.message));
  });

  it('multiplexes 20 partitions into shared Fetch requests, and a long poll never delays another partition', { timeout: 60_000 }, async () => {
    assert.equal((await client.createTopics([{ name: 'many', numPartitions: 20, replicationFactor: 1 }, { name: 'lp', numPartitions: 2, replicationFactor: 1 }]))[0]!.errorCode, 0);
    for (let p = 0; p < 20; p++) await client.produce('many', p, batch(`m${p}`, 3));
    const s = createSourceCluster(options(kafka.bootstrap, { fetchWaitMaxMs: 2000 }), {});
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, p) => fetchData(s.partition('many', p), 0, AbortSignal.timeout(10_000))));
      for (const a of answers) assert.equal(frameFetchedBatches(a.records).batches[0]!.nextOffset, 3);
      assert.ok(s.stats().fetchRequests <= 3, `${s.stats().fetchRequests} Fetch requests for 20 partitions`);
      await longPollScenario(s, client, 'lp');
      assert.ok(s.stats().fetchConnections <= 2);
    } finally {
      await s.close();
    }
  });
});
