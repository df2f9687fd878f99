import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { startAdminServer } from '../../src/admin/server.js';
import { BrokerMetrics } from '../../src/admin/metrics.js';
import { brokerAdminDeps } from '../../src/admin/broker-deps.js';
import { AdminError } from '../../src/admin/errors.js';
import { documented } from '../../src/admin/openapi.js';
import { openEmbeddedStore } from '../../src/cluster/embedded-store.js';
import { TopicRegistry } from '../../src/cluster/topics.js';
import type { PartitionLog, TopicPartition } from '../../src/storage/types.js';

/** Just the PartitionLog fields the admin API reads. */
function fakeLog(topic: string, partition: number, logStartOffset: number, logEndOffset: number, sizeInBytes: number): PartitionLog {
  return { topic, partition, logStartOffset, logEndOffset, highWatermark: logEndOffset, sizeInBytes } as unknown as PartitionLog;
}

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-admin-'));
  const store = await openEmbeddedStore(dir, { nodeId: 0 });
  const topics = new TopicRegistry(store, { numPartitions: 1, defaultReplicationFactor: 1 });
  await topics.create({ name: 'orders', partitions: 2, configs: { 'retention.ms': '1000' } });
  await topics.create({ name: '__consumer_offsets', partitions: 1, configs: { 'cleanup.policy': 'compact' } });
  const logs = new Map<string, PartitionLog>([
    ['orders-0', fakeLog('orders', 0, 5, 42, 4096)],
    ['orders-1', fakeLog('orders', 1, 0, 7, 1024)],
    ['__consumer_offsets-0', fakeLog('__consumer_offsets', 0, 0, 3, 300)],
  ]);
  const storage = { getLog: (tp: TopicPartition) => logs.get(`${tp.topic}-${tp.partition}`) };
  const metrics = new BrokerMetrics({ apiNames: ['Produce', 'Fetch'] });
  metrics.setPartitionSource(() => logs.values());
  const deps = brokerAdminDeps({
    clusterId: store.clusterId,
    nodeId: 0,
    brokerVersion: '0.1.0',
    listeners: () => [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 19092, securityProtocol: 'PLAINTEXT' }],
    topics,
    storage,
    metrics,
  });
  const server = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    deps,
    routes: [
      (app) => {
        app.get('/v1/extra/boom', { schema: documented({ summary: 'an extension route', response: { 200: Type.Object({}) } }) }, async () => {
          throw AdminError.of('INVALID_REQUEST', 'boom');
        });
        app.get('/v1/extra/crash', async () => {
          throw new Error('secret internals');
        });
      },
    ],
  });
  t.after(async () => {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${server.port}`;
  const get = async (path: string) => {
    const res = await fetch(base + path);
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as Record<string, unknown> };
  };
  return { store, topics, metrics, server, get };
}

test('GET /v1/cluster and /v1/brokers', async (t) => {
  const { store, get, server } = await setup(t);
  assert.ok(server.port > 0);
  const c = await get('/v1/cluster');
  assert.equal(c.status, 200);
  assert.deepEqual(c.json(), {
    clusterId: store.clusterId,
    nodeId: 0,
    controllerId: 0,
    brokerVersion: '0.1.0',
    listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 19092, securityProtocol: 'PLAINTEXT' }],
  });
  const b = await get('/v1/brokers');
  assert.deepEqual(b.json(), { brokers: [{ nodeId: 0, host: '127.0.0.1', port: 19092, rack: null }] });
});

test('GET /v1/topics lists topics with partition offsets and sizes', async (t) => {
  const { topics, get } = await setup(t);
  await topics.create({ name: 'not-open', partitions: 1 });
  const r = await get('/v1/topics');
  assert.equal(r.status, 200);
  const list = r.json().topics as Record<string, unknown>[];
  assert.deepEqual(
    list.map((x) => x.name),
    ['__consumer_offsets', 'not-open', 'orders'],
  );
  const orders = list.find((x) => x.name === 'orders')!;
  assert.equal(orders.topicId, topics.get('orders')!.topicId);
  assert.equal(orders.internal, false);
  assert.equal(orders.partitionCount, 2);
  assert.equal(orders.sizeBytes, 5120);
  assert.deepEqual(orders.partitions, [
    { partition: 0, leader: 0, logStartOffset: 5, highWatermark: 42, logEndOffset: 42, sizeBytes: 4096 },
    { partition: 1, leader: 0, logStartOffset: 0, highWatermark: 7, logEndOffset: 7, sizeBytes: 1024 },
  ]);
  assert.equal(list.find((x) => x.name === '__consumer_offsets')!.internal, true);
  const notOpen = list.find((x) => x.name === 'not-open')!;
  assert.deepEqual(notOpen.partitions, [{ partition: 0, leader: -1, logStartOffset: null, highWatermark: null, logEndOffset: null, sizeBytes: null }]);
});

test('GET /v1/topics/:name has configs with sources; unknown topic is a 404 JSON error', async (t) => {
  const { get } = await setup(t);
  const r = await get('/v1/topics/orders');
  assert.equal(r.status, 200);
  const body = r.json();
  assert.equal(body.name, 'orders');
  const configs = body.configs as { name: string; value: string | null; source: string }[];
  assert.deepEqual(
    configs.find((c) => c.name === 'retention.ms'),
    { name: 'retention.ms', value: '1000', source: 'TOPIC_CONFIG', sensitive: false },
  );
  assert.equal(configs.find((c) => c.name === 'segment.bytes')!.source, 'DEFAULT_CONFIG');

  const missing = await get('/v1/topics/nope');
  assert.equal(missing.status, 404);
  assert.match(missing.type, /application\/json/);
  assert.deepEqual(missing.json(), { code: 'UNKNOWN_TOPIC_OR_PARTITION', message: "topic 'nope' does not exist" });
});

test('errors: unknown routes, route errors and crashes answer {code, message}', async (t) => {
  const { get } = await setup(t);
  const nf = await get('/v1/nothing?x=1');
  assert.equal(nf.status, 404);
  assert.deepEqual(nf.json(), { code: 'NOT_FOUND', message: 'no route GET /v1/nothing' });
  const boom = await get('/v1/extra/boom');
  assert.equal(boom.status, 400);
  assert.deepEqual(boom.json(), { code: 'INVALID_REQUEST', message: 'boom' });
  const crash = await get('/v1/extra/crash');
  assert.equal(crash.status, 500);
  assert.equal(crash.json().code, 'INTERNAL_ERROR');
  assert.ok(!crash.text.includes('secret internals'));
});

test('GET /metrics is Prometheus text with the broker metrics', async (t) => {
  const { metrics, get } = await setup(t);
  metrics.observeRequest('Produce', 0.0003);
  metrics.observeRequest('Produce', 0.002);
  metrics.observeRequest('Metadata', 0.00005);
  metrics.requestError('Fetch');
  metrics.bytesIn(100);
  metrics.bytesOut(250);
  metrics.connectionOpened();
  metrics.connectionOpened();
  metrics.connectionClosed();
  const r = await get('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/plain/);
  const text = r.text;
  for (const name of [
    'umbra_requests_total',
    'umbra_request_errors_total',
    'umbra_request_latency_seconds',
    'umbra_bytes_in_total',
    'umbra_bytes_out_total',
    'umbra_connections',
    'umbra_partition_log_size_bytes',
    'umbra_partition_high_watermark',
    'umbra_process_cpu_user_seconds_total',
    'umbra_nodejs_heap_size_used_bytes',
  ]) {
    assert.ok(text.includes(`# TYPE ${name} `), name);
  }
  assert.ok(text.includes('umbra_requests_total{api="Produce"} 2'));
  assert.ok(text.includes('umbra_requests_total{api="Fetch"} 0'), 'pre-created APIs export zeros');
  assert.ok(text.includes('umbra_requests_total{api="Metadata"} 1'));
  assert.ok(text.includes('umbra_request_errors_total{api="Fetch"} 1'));
  assert.ok(text.includes('umbra_request_latency_seconds_bucket{le="0.00025",api="Produce"} 0'));
  assert.ok(text.includes('umbra_request_latency_seconds_bucket{le="0.0005",api="Produce"} 1'));
  assert.ok(text.includes('umbra_request_latency_seconds_bucket{le="0.0025",api="Produce"} 2'));
  assert.ok(text.includes('umbra_request_latency_seconds_bucket{le="+Inf",api="Produce"} 2'));
  assert.ok(text.includes('umbra_request_latency_seconds_count{api="Produce"} 2'));
  assert.ok(text.includes('umbra_request_latency_seconds_bucket{le="0.0001",api="Metadata"} 1'));
  assert.ok(text.includes('umbra_bytes_in_total 100'));
  assert.ok(text.includes('umbra_bytes_out_total 250'));
  assert.ok(text.includes('umbra_connections 1'));
  assert.ok(text.includes('umbra_partition_log_size_bytes{topic="orders",partition="0"} 4096'));
  assert.ok(text.includes('umbra_partition_high_watermark{topic="orders",partition="1"} 7'));
  // counters stay counters across scrapes (collect resets and re-adds, it must not accumulate)
  const again = (await get('/metrics')).text;
  assert.ok(again.includes('umbra_requests_total{api="Produce"} 2'));
  assert.ok(again.includes('umbra_bytes_in_total 100'));
});

test('GET /v1/openapi.json documents every route from its schemas', async (t) => {
  const { get } = await setup(t);
  const r = await get('/v1/openapi.json');
  assert.equal(r.status, 200);
  const doc = r.json() as { openapi: string; info: { version: string }; paths: Record<string, Record<string, Record<string, unknown>>> };
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(doc.info.version, '0.1.0');
  for (const p of ['/v1/cluster', '/v1/brokers', '/v1/topics', '/v1/topics/{name}', '/metrics', '/v1/openapi.json', '/v1/extra/boom', '/v1/extra/crash']) {
    assert.ok(doc.paths[p]?.get, p);
    assert.equal(doc.paths[p]?.head, undefined);
  }
  const topic = doc.paths['/v1/topics/{name}']!.get!;
  assert.deepEqual(topic.parameters, [{ name: 'name', in: 'path', required: true, description: 'topic name', schema: { type: 'string' } }]);
  const responses = topic.responses as Record<string, { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }>;
  assert.ok(responses['200']!.content['application/json']!.schema.properties!.configs);
  assert.ok(responses['404']!.content['application/json']!.schema.properties!.code);
  const metrics = doc.paths['/metrics']!.get!.responses as Record<string, { content: Record<string, unknown> }>;
  assert.ok(metrics['200']!.content['text/plain']);
  assert.equal(doc.paths['/v1/extra/boom']!.get!.summary, 'an extension route');
});
