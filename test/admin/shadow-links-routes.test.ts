// The shadow-link admin API (src/admin/routes/shadow-links.ts) over HTTP: every endpoint, the error statuses and
// bodies, YAML request bodies, basic auth, the OpenAPI document, and that no response ever carries a password.
// The service behind it is an in-memory double (shadow-link-double.ts): this tests the HTTP layer only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringify as toYaml } from 'yaml';
import { ShadowLinkError } from '../../src/shadow/service.js';
import { ShadowConfigError } from '../../src/shadow/types.js';
import { toErrorResponse } from '../../src/admin/errors.js';
import type { AdminServer } from '../../src/admin/server.js';
import { InMemoryShadowLinks, SECRET, UNREACHABLE_HOST, linkDoc, startShadowAdmin, topicStatus } from './shadow-link-double.js';

interface Answer {
  status: number;
  type: string;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the documents are checked field by field
  json: any;
}

function client(url: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      if (!('content-type' in headers)) (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(url + path, init);
    const text = await res.text();
    assert.ok(!text.includes(SECRET), `${method} ${path} answered with the password: ${text}`);
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: text ? JSON.parse(text) : undefined };
  };
}

describe('shadow-link admin API', () => {
  const service = new InMemoryShadowLinks();
  let server: AdminServer;
  let call: ReturnType<typeof client>;

  before(async () => {
    const s = await startShadowAdmin(service);
    server = s.server;
    call = client(s.url);
  });
  after(() => server.close());

  it('creates a link from JSON (201) and lists, describes it with the password redacted', async () => {
    const created = await call('POST', '/v1/shadow-links', linkDoc('dr'));
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.name, 'dr');
    assert.equal(created.json.state, 'ACTIVE');
    assert.equal(created.json.config.client_options.authentication_configuration.scram_configuration.password, '[REDACTED]');
    // the free-form config document comes back whole, not stripped by the response schema
    assert.deepEqual(created.json.config, service.describe('dr').config);
    assert.deepEqual(created.json.config.topic_metadata_sync_options.auto_create_shadow_topic_filters, [
      { pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: 'a_' },
    ]);
    assert.deepEqual(service.calls.find((c) => c.method === 'create'), { method: 'create', args: [linkDoc('dr'), { validateSource: true }] });

    const got = await call('GET', '/v1/shadow-links/dr');
    assert.equal(got.status, 200);
    assert.deepEqual(got.json, service.describe('dr'));

    service.seedTopic('dr', topicStatus('a_orders', 'ACTIVE'));
    service.seedTopic('dr', topicStatus('a_payments', 'FAILED_OVER', 1));
    const list = await call('GET', '/v1/shadow-links');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json, { links: service.list() });
    assert.deepEqual(list.json.links[0].topics, { ACTIVE: 1, FAILED_OVER: 1 });
    assert.equal(list.json.links[0].totalLag, 20);
    assert.equal(list.json.links[0].maxRpoSeconds, 2.5);
  });

  it('creates from a YAML body (application/yaml and text/yaml)', async () => {
    const yaml = toYaml(linkDoc('dr-yaml'));
    const r = await call('POST', '/v1/shadow-links?validate=false', yaml, { 'content-type': 'application/yaml' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.name, 'dr-yaml');
    assert.deepEqual(service.calls.filter((c) => c.method === 'create').at(-1), { method: 'create', args: [linkDoc('dr-yaml'), { validateSource: false }] });

    const r2 = await call('POST', '/v1/shadow-links', toYaml(linkDoc('dr-text-yaml')), { 'content-type': 'text/yaml; charset=utf-8' });
    assert.equal(r2.status, 201, r2.text);
  });

  it('rejects a YAML syntax error without quoting the body', async () => {
    const r = await call('POST', '/v1/shadow-links', `name: x\nclient_options: { password: ${SECRET}\n`, { 'content-type': 'application/yaml' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.code, 'INVALID_REQUEST');
    assert.match(r.json.message, /not valid YAML .*line \d+/);
  });

  it('rejects bad JSON and non-objects with 400 and unknown media types with 415', async () => {
    const bad = await call('POST', '/v1/shadow-links', `{"name": "x", "password": ${SECRET}}`);
    assert.equal(bad.status, 400);
    const list = await call('POST', '/v1/shadow-links', '- a\n- b\n', { 'content-type': 'application/yaml' });
    assert.equal(list.status, 400);
    assert.equal(list.json.code, 'INVALID_REQUEST');
    const xml = await call('POST', '/v1/shadow-links', '<link/>', { 'content-type': 'application/xml' });
    assert.equal(xml.status, 415);
  });

  it('answers an invalid config with 400 INVALID_CONFIG naming the field', async () => {
    const doc = linkDoc('broken');
    (doc.client_options as Record<string, unknown>).bootstrap_servers = ['no-port'];
    const r = await call('POST', '/v1/shadow-links', doc);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.code, 'INVALID_CONFIG');
    assert.equal(r.json.field, 'client_options.bootstrap_servers[0]');
    assert.match(r.json.message, /client_options\.bootstrap_servers\[0\]/);
  });

  it('answers 409 for a duplicate, 502 for an unreachable source, and ?validate=false skips the source', async () => {
    const dup = await call('POST', '/v1/shadow-links', linkDoc('dr'));
    assert.equal(dup.status, 409);
    assert.equal(dup.json.code, 'ALREADY_EXISTS');

    const doc = linkDoc('far');
    (doc.client_options as Record<string, unknown>).bootstrap_servers = [`${UNREACHABLE_HOST}:9092`];
    const down = await call('POST', '/v1/shadow-links', doc);
    assert.equal(down.status, 502);
    assert.equal(down.json.code, 'SOURCE_UNAVAILABLE');
    const skipped = await call('POST', '/v1/shadow-links?validate=false', doc);
    assert.equal(skipped.status, 201, skipped.text);
    const badQuery = await call('POST', '/v1/shadow-links?validate=nope', linkDoc('q'));
    assert.equal(badQuery.status, 400);
  });

  it('404 for an unknown link on every per-link endpoint', async () => {
    const paths: [string, string, unknown?][] = [
      ['GET', '/v1/shadow-links/nope'],
      ['PATCH', '/v1/shadow-links/nope', linkDoc('nope')],
      ['DELETE', '/v1/shadow-links/nope'],
      ['GET', '/v1/shadow-links/nope/status'],
      ['GET', '/v1/shadow-links/nope/topics'],
      ['GET', '/v1/shadow-links/nope/topics/a_orders'],
      ['POST', '/v1/shadow-links/nope/failover', {}],
      ['POST', '/v1/shadow-links/nope/promote', {}],
      ['POST', '/v1/shadow-links/nope/pause', {}],
      ['POST', '/v1/shadow-links/nope/resume', {}],
      ['POST', '/v1/shadow-links/nope/verify', {}],
    ];
    for (const [method, path, body] of paths) {
      const r = await call(method, path, body);
      assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
      assert.deepEqual(r.json, { code: 'NOT_FOUND', message: "shadow link 'nope' does not exist" });
    }
    const topic = await call('GET', '/v1/shadow-links/dr/topics/unknown');
    assert.equal(topic.status, 404);
    assert.match(topic.json.message, /does not shadow topic 'unknown'/);
  });

  it('serves the status document and the topics unchanged', async () => {
    const status = await call('GET', '/v1/shadow-links/dr/status');
    assert.equal(status.status, 200);
    assert.deepEqual(status.json, service.status('dr'));
    assert.equal(status.json.topics[0].partitions[1].gaps[0].to, 20);
    assert.equal(status.json.tasks.length, 5);

    const topics = await call('GET', '/v1/shadow-links/dr/topics');
    assert.deepEqual(topics.json, { topics: service.status('dr').topics });
    const one = await call('GET', '/v1/shadow-links/dr/topics/a_orders');
    assert.deepEqual(one.json, service.topic('dr', 'a_orders'));
  });

  it('verifies the still-shadowed topics, or one topic in any state, answering 200 with the report either way', async () => {
    const all = await call('POST', '/v1/shadow-links/dr/verify', {});
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.json, { ...(await service.verify('dr')), startedAt: all.json.startedAt });
    assert.equal(all.json.ok, true);
    // a_payments is FAILED_OVER: no longer shadowed, so not part of a whole-link verify
    assert.deepEqual(all.json.topics.map((t: { name: string }) => t.name), ['a_orders']);
    assert.deepEqual(all.json.topics[0].partitions[0].compared, { from: 0, to: 90 });
    assert.deepEqual(service.calls.filter((c) => c.method === 'verify').at(-2)?.args, ['dr', undefined]);

    // no body at all (curl -X POST) means the whole link
    const bare = await fetch(`http://127.0.0.1:${server.port}/v1/shadow-links/dr/verify`, { method: 'POST' });
    assert.equal(bare.status, 200);

    service.seedVerifyDifference('dr', 'a_orders', 1, 50, "batch at 50: CRC32C recomputed over the shadow's stored bytes is 0x00000001, the header says 0x00000002");
    const one = await call('POST', '/v1/shadow-links/dr/verify', { topic: 'a_orders' });
    assert.equal(one.status, 200, 'differences are a report, not an error');
    assert.equal(one.json.ok, false);
    assert.equal(one.json.summary.differences, 1);
    const p1 = one.json.topics[0].partitions[1];
    assert.equal(p1.firstDifferenceOffset, 50);
    assert.match(p1.difference, /^batch at 50: CRC32C/);
    assert.deepEqual([p1.missingOnShadow, p1.missingOnSource, p1.compactedDifferently], [[], [], []]);

    const promoted = await call('POST', '/v1/shadow-links/dr/verify', { topic: 'a_payments' });
    assert.equal(promoted.status, 200);
    assert.deepEqual(promoted.json.topics.map((t: { name: string }) => t.name), ['a_payments']);

    const unknown = await call('POST', '/v1/shadow-links/dr/verify', { topic: 'a_nope' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.message, /does not shadow topic 'a_nope'/);
    const typo = await call('POST', '/v1/shadow-links/dr/verify', { topics: 'a_orders' });
    assert.equal(typo.status, 400);
    assert.match(typo.json.message, /unknown field 'topics'/);
    const empty = await call('POST', '/v1/shadow-links/dr/verify', { topic: '' });
    assert.equal(empty.status, 400);
  });

  it('updates with PATCH (JSON or YAML), keeping a [REDACTED] password', async () => {
    const doc = linkDoc('dr');
    (doc.client_options as { authentication_configuration: { scram_configuration: { password: string } } }).authentication_configuration.scram_configuration.password = '[REDACTED]';
    (doc.topic_metadata_sync_options as Record<string, unknown>).interval = '10s';
    const r = await call('PATCH', '/v1/shadow-links/dr?validate=false', toYaml(doc), { 'content-type': 'application/yaml' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.config.topic_metadata_sync_options.interval, '10s');
    assert.notEqual(r.json.updatedAt, r.json.createdAt);
    assert.equal(service.storedConfig('dr').clientOptions.authentication?.password?.reveal(), SECRET);
    assert.deepEqual(service.calls.filter((c) => c.method === 'update').at(-1)?.args[2], { validateSource: false });

    const renamed = await call('PATCH', '/v1/shadow-links/dr', linkDoc('other'));
    assert.equal(renamed.status, 400);
    assert.equal(renamed.json.code, 'INVALID_CONFIG');
    assert.equal(renamed.json.field, 'name');
  });

  it('fails over, promotes, pauses and resumes one topic or the whole link', async () => {
    service.seedTopic('dr', topicStatus('a_refunds', 'ACTIVE'));
    service.seedTopic('dr', topicStatus('a_users', 'ACTIVE'));

    const pause = await call('POST', '/v1/shadow-links/dr/pause', { topic: 'a_refunds' });
    assert.equal(pause.status, 200, pause.text);
    assert.deepEqual(pause.json, { name: 'dr', state: 'ACTIVE', topics: [{ name: 'a_refunds', state: 'PAUSED', reason: '' }] });

    // no body at all (curl -X POST) means the whole link
    const pauseAll = await fetch(`http://127.0.0.1:${server.port}/v1/shadow-links/dr/pause`, { method: 'POST' });
    assert.equal(pauseAll.status, 200);
    assert.equal(((await pauseAll.json()) as { state: string }).state, 'PAUSED');
    const resume = await call('POST', '/v1/shadow-links/dr/resume', {});
    assert.equal(resume.json.state, 'ACTIVE');
    assert.deepEqual(service.calls.filter((c) => c.method === 'resume').at(-1)?.args, ['dr', undefined]);

    const failover = await call('POST', '/v1/shadow-links/dr/failover', { topic: 'a_refunds' });
    assert.equal(failover.status, 200);
    assert.deepEqual(failover.json.topics, [{ name: 'a_refunds', state: 'FAILED_OVER', reason: '' }]);

    const promote = await call('POST', '/v1/shadow-links/dr/promote', { topic: 'a_users', timeoutMs: 5000 });
    assert.equal(promote.status, 200, promote.text);
    assert.deepEqual(promote.json.topics, [{ name: 'a_users', state: 'PROMOTED', reason: '' }]);
    assert.deepEqual(service.calls.filter((c) => c.method === 'promote').at(-1)?.args, ['dr', 'a_users', { timeoutMs: 5000 }]);

    // a misspelt field must not widen a one-topic failover to the whole link
    const typo = await call('POST', '/v1/shadow-links/dr/failover', { topics: 'a_orders' });
    assert.equal(typo.status, 400);
    assert.match(typo.json.message, /unknown field 'topics'/);
    const badTimeout = await call('POST', '/v1/shadow-links/dr/promote', { timeoutMs: -1 });
    assert.equal(badTimeout.status, 400);
    assert.equal(service.topic('dr', 'a_orders').state, 'ACTIVE');
  });

  it('refuses to delete a link with shadowed topics (409 naming them) unless force=true', async () => {
    const refused = await call('DELETE', '/v1/shadow-links/dr');
    assert.equal(refused.status, 409);
    assert.equal(refused.json.code, 'CONFLICT');
    assert.match(refused.json.message, /'a_orders'/);
    assert.doesNotMatch(refused.json.message, /'a_payments'/);

    const forced = await call('DELETE', '/v1/shadow-links/dr?force=true');
    assert.equal(forced.status, 204);
    assert.equal(forced.text, '');
    assert.deepEqual(service.calls.filter((c) => c.method === 'delete').at(-1)?.args, ['dr', { force: true }]);
    assert.equal((await call('GET', '/v1/shadow-links/dr')).status, 404);
  });

  it('lists every shadow-link path and method in the OpenAPI document', async () => {
    const r = await call('GET', '/v1/openapi.json');
    assert.equal(r.status, 200);
    const paths = r.json.paths as Record<string, Record<string, { tags?: string[]; responses: Record<string, unknown> }>>;
    const expected: Record<string, string[]> = {
      '/v1/shadow-links': ['get', 'post'],
      '/v1/shadow-links/{name}': ['delete', 'get', 'patch'],
      '/v1/shadow-links/{name}/status': ['get'],
      '/v1/shadow-links/{name}/topics': ['get'],
      '/v1/shadow-links/{name}/topics/{topic}': ['get'],
      '/v1/shadow-links/{name}/failover': ['post'],
      '/v1/shadow-links/{name}/promote': ['post'],
      '/v1/shadow-links/{name}/pause': ['post'],
      '/v1/shadow-links/{name}/resume': ['post'],
      '/v1/shadow-links/{name}/verify': ['post'],
    };
    for (const [path, methods] of Object.entries(expected)) {
      assert.ok(paths[path], `${path} missing from ${Object.keys(paths).join(', ')}`);
      assert.deepEqual(Object.keys(paths[path]!).sort(), methods, path);
      for (const m of methods) assert.deepEqual(paths[path]![m]!.tags, ['shadow-links']);
    }
    assert.ok(paths['/v1/shadow-links/{name}/status']!.get!.responses['200']);
    assert.ok(paths['/v1/shadow-links/{name}/verify']!.post!.responses['200']);
    assert.ok(paths['/v1/topics'], 'the built-in routes are still there');
  });
});

describe('shadow-link admin API behind basic auth', () => {
  it('requires the credentials of a superuser', async () => {
    const service = new InMemoryShadowLinks();
    const { server, url } = await startShadowAdmin(service, {
      basicAuth: { verify: async (u, p) => (u === 'admin' || u === 'bob') && p === 'pw', allowed: (u) => u === 'admin' },
    });
    try {
      const call = client(url);
      assert.equal((await call('GET', '/v1/shadow-links')).status, 401);
      const basic = (u: string) => ({ authorization: `Basic ${Buffer.from(`${u}:pw`).toString('base64')}` });
      assert.equal((await call('GET', '/v1/shadow-links', undefined, basic('bob'))).status, 403);
      const ok = await call('GET', '/v1/shadow-links', undefined, basic('admin'));
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.json, { links: [] });
    } finally {
      await server.close();
    }
  });
});

describe('toErrorResponse for shadow link errors', () => {
  it('uses the status of the code, and maps a raw config error to INVALID_CONFIG', () => {
    assert.deepEqual(toErrorResponse(new ShadowLinkError('TIMEOUT', 'still 5 behind')), { status: 504, body: { code: 'TIMEOUT', message: 'still 5 behind' } });
    assert.deepEqual(toErrorResponse(new ShadowLinkError('INVALID_CONFIG', 'bad', 'name')), { status: 400, body: { code: 'INVALID_CONFIG', message: 'bad', field: 'name' } });
    const raw = toErrorResponse(new ShadowConfigError([{ field: 'client_options', message: 'required' }]));
    assert.equal(raw.status, 400);
    assert.equal(raw.body.field, 'client_options');
  });
});
