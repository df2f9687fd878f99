// Handlers 17, 36, 50, 51 called directly with a fake request context: what each answers, when the connection
// is closed after the answer, the cluster-authorization hook, and that every answer encodes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writer } from '../../src/protocol/primitives.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { RequestContext } from '../../src/broker/context.js';
import type { ApiHandler } from '../../src/broker/registry.js';
import saslHandshake from '../../src/broker/handlers/17-sasl-handshake.js';
import saslAuthenticate from '../../src/broker/handlers/36-sasl-authenticate.js';
import describeScram from '../../src/broker/handlers/50-describe-user-scram-credentials.js';
import alterScram from '../../src/broker/handlers/51-alter-user-scram-credentials.js';
import { createSecurityServices } from '../../src/security/index.js';
import { SCRAM_SHA_512, ScramClient, saltedPasswordSync } from '../../src/security/scram.js';
import type { SaslSession } from '../../src/security/sasl-session.js';
import type { SecurityServices } from '../../src/security/types.js';
import { captureLogger, openStore, tempDir, type CapturedLogger } from './helpers.js';

const PASSWORD = 'handler-test-password';
let security: SecurityServices;
let log: CapturedLogger;
const cleanups: (() => unknown)[] = [];

before(async () => {
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  log = captureLogger();
  security = createSecurityServices({ store: await openStore(t, tempDir(t)), logger: log, failedAuthenticationDelayMs: 0 });
  await security.credentials.setPasswords('admin', PASSWORD);
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

interface FakeCtx {
  ctx: RequestContext;
  closed: string[];
  /** runs the onResponseDone callbacks, as the connection does once the answer is written */
  written(): void;
}

function fakeCtx(opts: { sasl?: boolean; security?: SecurityServices | null } = {}): FakeCtx {
  const connection = { id: 1, remoteAddress: '127.0.0.1', remotePort: 40000, clientId: 'test', principal: 'User:ANONYMOUS', authenticated: opts.sasl === false, sasl: null as SaslSession | null };
  const sec = opts.security === undefined ? security : opts.security;
  if (opts.sasl !== false && sec) connection.sasl = sec.newSession(connection);
  const closed: string[] = [];
  const done: (() => void)[] = [];
  const ctx = {
    services: sec ? { security: sec } : {},
    connection,
    apiKey: 0,
    apiVersion: 0,
    correlationId: 1,
    clientId: 'test',
    closeConnection: (why: string) => closed.push(why),
    onResponseDone: (cb: () => void) => done.push(cb),
  } as unknown as RequestContext;
  return { ctx, closed, written: () => done.splice(0).forEach((cb) => cb()) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call<Res>(h: ApiHandler<any, any>, f: FakeCtx, req: unknown, version: number): Promise<Res> {
  const res = (await h.handle(f.ctx, req, version)) as Res;
  h.writeResponse(new Writer(256), version, res as never); // every answer must encode at that version
  return res;
}

describe('SaslHandshake (17) and SaslAuthenticate (36)', () => {
  it('are allowed before authentication and cover v0-1 / v0-2', () => {
    assert.deepEqual([saslHandshake.beforeAuth, saslHandshake.minVersion, saslHandshake.maxVersion], [true, 0, 1]);
    assert.deepEqual([saslAuthenticate.beforeAuth, saslAuthenticate.minVersion, saslAuthenticate.maxVersion], [true, 0, 2]);
  });

  for (const version of [0, 1, 2]) {
    it(`SCRAM-SHA-512 through SaslAuthenticate v${version} sets User:admin`, async () => {
      const f = fakeCtx();
      const hs = await call<{ errorCode: number; mechanisms: string[] }>(saslHandshake, f, { mechanism: 'SCRAM-SHA-512' }, 1);
      assert.deepEqual(hs, { errorCode: 0, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'] });
      const c = new ScramClient(SCRAM_SHA_512, 'admin', PASSWORD);
      const r1 = await call<{ errorCode: number; authBytes: Buffer; sessionLifetimeMs: number }>(saslAuthenticate, f, { authBytes: c.firstMessage() }, version);
      assert.equal(r1.errorCode, 0);
      const r2 = await call<{ errorCode: number; authBytes: Buffer; sessionLifetimeMs: number }>(saslAuthenticate, f, { authBytes: await c.finalMessage(r1.authBytes) }, version);
      assert.deepEqual([r2.errorCode, r2.sessionLifetimeMs], [0, 0]);
      c.verifyServerFinal(r2.authBytes);
      assert.deepEqual([f.ctx.connection.principal, f.ctx.connection.authenticated], ['User:admin', true]);
      f.written();
      assert.deepEqual(f.closed, []);
    });
  }

  it('a wrong password answers SASL_AUTHENTICATION_FAILED, then closes once the answer is written', async () => {
    const f = fakeCtx();
    await call(saslHandshake, f, { mechanism: 'PLAIN' }, 1);
    const r = await call<{ errorCode: number; errorMessage: string }>(saslAuthenticate, f, { authBytes: Buffer.from(`\0admin\0wrong`) }, 2);
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(r.errorMessage, 'Authentication failed: Invalid username or password');
    assert.deepEqual(f.closed, [], 'not before the answer is written');
    f.written();
    assert.equal(f.closed.length, 1);
    assert.equal(f.ctx.connection.authenticated, false);
  });

  it('an unknown mechanism answers UNSUPPORTED_SASL_MECHANISM with the list, then closes', async () => {
    const f = fakeCtx();
    const r = await call<{ errorCode: number; mechanisms: string[] }>(saslHandshake, f, { mechanism: 'OAUTHBEARER' }, 1);
    assert.deepEqual(r, { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'] });
    f.written();
    assert.equal(f.closed.length, 1);
  });

  it('SaslAuthenticate before SaslHandshake answers ILLEGAL_SASL_STATE, then closes', async () => {
    const f = fakeCtx();
    const r = await call<{ errorCode: number }>(saslAuthenticate, f, { authBytes: Buffer.from('x') }, 1);
    assert.equal(r.errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    f.written();
    assert.equal(f.closed.length, 1);
  });

  it('on a listener without SASL both answer ILLEGAL_SASL_STATE and keep the connection', async () => {
    const f = fakeCtx({ sasl: false });
    assert.equal((await call<{ errorCode: number }>(saslHandshake, f, { mechanism: 'PLAIN' }, 0)).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal((await call<{ errorCode: number }>(saslAuthenticate, f, { authBytes: Buffer.from('x') }, 0)).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    f.written();
    assert.deepEqual(f.closed, []);
  });

  it('handshake v0 switches the session to raw tokens', async () => {
    const f = fakeCtx();
    await call(saslHandshake, f, { mechanism: 'SCRAM-SHA-256' }, 0);
    const sasl = (f.ctx.connection as unknown as { sasl: SaslSession }).sasl;
    assert.equal(sasl.expectsRawToken, true);
  });
});

describe('DescribeUserScramCredentials (50) and AlterUserScramCredentials (51)', () => {
  type AlterRes = { results: { user: string; errorCode: number; errorMessage: string | null }[] };
  type DescribeRes = { errorCode: number; results: { user: string; errorCode: number; credentialInfos: { mechanism: number; iterations: number }[] }[] };

  it('upsert, describe, delete, with Kafka\'s per-user errors', async () => {
    const f = fakeCtx({ sasl: false });
    const salt = randomBytes(16);
    const up = { name: 'svc', mechanism: 2, iterations: 4096, salt, saltedPassword: saltedPasswordSync(SCRAM_SHA_512, 'svc-pw', salt, 4096) };
    const a = await call<AlterRes>(alterScram, f, { deletions: [{ name: 'ghost', mechanism: 1 }], upsertions: [up, { ...up, name: 'weak', iterations: 100 }] }, 0);
    assert.deepEqual(
      a.results.map((r) => [r.user, r.errorCode]).sort(),
      [
        ['ghost', ErrorCode.RESOURCE_NOT_FOUND],
        ['svc', 0],
        ['weak', ErrorCode.UNACCEPTABLE_CREDENTIAL],
      ],
    );
    assert.equal(await security.credentials.verifyPassword('svc', 'svc-pw'), true);

    const d = await call<DescribeRes>(describeScram, f, { users: [{ name: 'svc' }, { name: 'ghost' }] }, 0);
    assert.equal(d.errorCode, 0);
    assert.deepEqual(
      d.results.map((r) => [r.user, r.errorCode, r.credentialInfos]),
      [
        ['ghost', ErrorCode.RESOURCE_NOT_FOUND, []],
        ['svc', 0, [{ mechanism: 2, iterations: 4096 }]],
      ],
    );
    const all = await call<DescribeRes>(describeScram, f, { users: null }, 0);
    assert.deepEqual(all.results.map((r) => r.user), ['admin', 'svc']);

    const del = await call<AlterRes>(alterScram, f, { deletions: [{ name: 'svc', mechanism: 2 }], upsertions: [] }, 0);
    assert.deepEqual(del.results, [{ user: 'svc', errorCode: 0, errorMessage: null }]);
    assert.equal(security.credentials.exists('svc'), false);
  });

  it('need DESCRIBE / ALTER on CLUSTER once an authorizer is installed (CLUSTER_AUTHORIZATION_FAILED)', async () => {
    const seen: [string, number, number, string][] = [];
    const f = fakeCtx({ sasl: false });
    // the ACL engineer's Authorizer, as authorizer-helpers.ts reads it from services.authorizer; denies everything
    Object.assign(f.ctx.services, {
      authorizer: { authorize: (principal: string, _host: string, op: number, type: number, name: string) => (seen.push([principal, op, type, name]), false) },
      logger: captureLogger(),
    });
    const d = await call<DescribeRes>(describeScram, f, { users: null }, 0);
    assert.deepEqual([d.errorCode, d.results], [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, []]);
    const a = await call<AlterRes>(alterScram, f, { deletions: [{ name: 'admin', mechanism: 1 }], upsertions: [] }, 0);
    assert.deepEqual(a.results.map((r) => [r.user, r.errorCode]), [['admin', ErrorCode.CLUSTER_AUTHORIZATION_FAILED]]);
    // Kafka's AclOperation codes: DESCRIBE 8, ALTER 7; resource type CLUSTER 4, named kafka-cluster
    assert.deepEqual(seen, [
      ['User:ANONYMOUS', 8, 4, 'kafka-cluster'],
      ['User:ANONYMOUS', 7, 4, 'kafka-cluster'],
    ]);
    assert.equal(security.credentials.exists('admin'), true);
  });

  it('responses carry mechanisms and iterations, never salts, keys or passwords', async () => {
    const f = fakeCtx({ sasl: false });
    const d = await call<DescribeRes>(describeScram, f, { users: null }, 0);
    const w = new Writer(256);
    describeScram.writeResponse(w, 0, d as never);
    const bytes = Buffer.concat(w.finish());
    const cred = security.credentials.get('admin', 'SCRAM-SHA-512')!;
    for (const secret of [cred.salt, cred.storedKey, cred.serverKey, Buffer.from(PASSWORD)]) assert.equal(bytes.indexOf(secret), -1);
    assert.ok(!log.text().includes(PASSWORD));
  });

  it('without security services wired the handler fails loudly (the connection closes)', async () => {
    const f = fakeCtx({ sasl: false, security: null });
    await assert.rejects(async () => describeScram.handle(f.ctx, { users: null }, 0), /not wired/);
  });
});
