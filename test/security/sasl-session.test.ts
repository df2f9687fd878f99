// The per-connection SASL state machine (src/security/sasl-session.ts): handshake v1 + SaslAuthenticate and
// handshake v0 + raw tokens, for SCRAM-SHA-256/512 and PLAIN; failures that do not reveal whether the user
// exists; out-of-order requests; and logs that name the user and address but hold no secret.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { CredentialStore } from '../../src/security/credentials.js';
import { SaslSession, authenticationFailedMessage } from '../../src/security/sasl-session.js';
import { ScramClient, SCRAM_SHA_256, SCRAM_SHA_512 } from '../../src/security/scram.js';
import type { SaslConnection } from '../../src/security/types.js';
import { captureLogger, fakeConnection, openStore, tempDir, RfcScramClient, type CapturedLogger } from './helpers.js';

const PASSWORD = 'Tr0ub4dor&3-session';
let creds: CredentialStore;

const cleanups: (() => unknown)[] = [];
before(async () => {
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  creds = new CredentialStore(await openStore(t, tempDir(t)));
  await creds.setPasswords('alice', PASSWORD);
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

function session(conn: SaslConnection = fakeConnection(), log: CapturedLogger = captureLogger()): { s: SaslSession; conn: SaslConnection; log: CapturedLogger } {
  const s = new SaslSession({
    connection: conn,
    credentials: creds,
    enabledMechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'],
    logger: log,
    failedAuthenticationDelayMs: 0,
  });
  return { s, conn, log };
}

function ok(r: Awaited<ReturnType<SaslSession['authenticate']>>): { token: Buffer; complete: boolean } {
  if (!r.ok) assert.fail(`expected success, got ${r.errorCode} ${r.errorMessage}`);
  return r;
}

function plain(user: string, password: string, authzid = ''): Buffer {
  return Buffer.from(`${authzid}\0${user}\0${password}`);
}

describe('SaslHandshake', () => {
  it('an enabled mechanism is accepted and the enabled list returned', () => {
    const { s } = session();
    assert.deepEqual(s.handshake('SCRAM-SHA-512', 1), { errorCode: 0, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'], close: false });
    assert.equal(s.state, 'AUTHENTICATE');
    assert.equal(s.expectsRawToken, false);
  });

  it('an unknown mechanism → UNSUPPORTED_SASL_MECHANISM with the list, and close', () => {
    const { s } = session();
    const r = s.handshake('GSSAPI', 1);
    assert.equal(r.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(r.mechanisms, ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']);
    assert.equal(r.close, true);
    assert.equal(s.state, 'FAILED');
  });

  it('a second handshake during authentication → ILLEGAL_SASL_STATE and close', () => {
    const { s } = session();
    s.handshake('PLAIN', 1);
    assert.deepEqual([s.handshake('PLAIN', 1).errorCode, s.state], [ErrorCode.ILLEGAL_SASL_STATE, 'FAILED']);
  });

  it('SaslAuthenticate before a handshake → ILLEGAL_SASL_STATE and close', async () => {
    const { s } = session();
    const r = await s.authenticate(plain('alice', PASSWORD));
    assert.ok(!r.ok && r.errorCode === ErrorCode.ILLEGAL_SASL_STATE && r.close);
  });

  it('SaslAuthenticate after a v0 handshake (raw mode) is out of order', async () => {
    const { s } = session();
    s.handshake('PLAIN', 0);
    const r = await s.authenticate(plain('alice', PASSWORD));
    assert.ok(!r.ok && r.errorCode === ErrorCode.ILLEGAL_SASL_STATE);
  });
});

describe('handshake v1 + SaslAuthenticate', () => {
  for (const mech of [SCRAM_SHA_256, SCRAM_SHA_512]) {
    it(`${mech.name} authenticates and sets the principal`, async () => {
      const { s, conn } = session();
      s.handshake(mech.name, 1);
      const c = new ScramClient(mech, 'alice', PASSWORD);
      const first = ok(await s.authenticate(c.firstMessage()));
      assert.equal(first.complete, false);
      assert.equal(conn.authenticated, false);
      const last = ok(await s.authenticate(await c.finalMessage(first.token)));
      assert.equal(last.complete, true);
      c.verifyServerFinal(last.token);
      assert.deepEqual([conn.principal, conn.authenticated, s.state, s.principal], ['User:alice', true, 'COMPLETE', 'User:alice']);
      // after success: ILLEGAL_SASL_STATE, connection kept (KafkaApis)
      const again = await s.authenticate(Buffer.from('x'));
      assert.ok(!again.ok && again.errorCode === ErrorCode.ILLEGAL_SASL_STATE && !again.close);
      assert.deepEqual(s.handshake('PLAIN', 1), { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'], close: false });
      assert.equal(conn.authenticated, true);
    });
  }

  async function scramFailure(user: string, password: string, hashName: 'sha256' | 'sha512' = 'sha256') {
    const { s, conn, log } = session();
    const mech = hashName === 'sha256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512';
    s.handshake(mech, 1);
    const c = new RfcScramClient(hashName, user, password);
    const first = ok(await s.authenticate(c.first()));
    const r = await s.authenticate(c.final(first.token));
    assert.equal(conn.authenticated, false);
    assert.equal(conn.principal, 'User:ANONYMOUS');
    return { r, log, s };
  }

  it('a wrong password and an unknown user fail identically, with Kafka\'s message, and close', async () => {
    const wrong = await scramFailure('alice', 'wrong-password');
    const unknown = await scramFailure('mallory', 'wrong-password');
    for (const { r, s } of [wrong, unknown]) {
      assert.deepEqual(r, { ok: false, errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: authenticationFailedMessage('SCRAM-SHA-256'), close: true });
      assert.equal(s.state, 'FAILED');
    }
    assert.equal(
      authenticationFailedMessage('SCRAM-SHA-256'),
      'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256',
    );
  });

  it('the failure log names the user, the remote address and the reason, and no secret', async () => {
    const { log } = await scramFailure('alice', 'wrong-password-xyz', 'sha512');
    const line = log.lines.find((l) => /SASL authentication failed/.test(l.msg));
    assert.ok(line, log.text());
    assert.deepEqual(line.obj, { user: 'alice', remote: '192.0.2.10:53210', mechanism: 'SCRAM-SHA-512', reason: 'invalid proof' });
    const text = log.text();
    assert.ok(!text.includes('wrong-password-xyz') && !text.includes(PASSWORD));
    const cred = creds.get('alice', 'SCRAM-SHA-512')!;
    for (const secret of [cred.salt, cred.storedKey, cred.serverKey]) assert.ok(!text.includes(secret.toString('base64')));
    assert.ok(!/p=|r=|s=/.test(text), 'no SCRAM message fragments in the log');
  });

  it('a failed answer is delayed (connection.failed.authentication.delay.ms)', async () => {
    const s = new SaslSession({ connection: fakeConnection(), credentials: creds, enabledMechanisms: ['PLAIN'], logger: captureLogger(), failedAuthenticationDelayMs: 60 });
    s.handshake('PLAIN', 1);
    const started = Date.now();
    const r = await s.authenticate(plain('alice', 'bad'));
    assert.ok(!r.ok);
    assert.ok(Date.now() - started >= 55);
  });

  it('a garbage token fails the session', async () => {
    const { s } = session();
    s.handshake('SCRAM-SHA-256', 1);
    const r = await s.authenticate(Buffer.from('hello'));
    assert.ok(!r.ok && r.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED && r.close);
  });
});

describe('PLAIN (checked against the SCRAM credentials)', () => {
  it('the right password authenticates; the answer is empty', async () => {
    const { s, conn } = session();
    s.handshake('PLAIN', 1);
    const r = ok(await s.authenticate(plain('alice', PASSWORD)));
    assert.deepEqual([r.token.length, r.complete, conn.principal, conn.authenticated], [0, true, 'User:alice', true]);
  });

  it('a wrong password and an unknown user get the same Kafka PLAIN message', async () => {
    for (const [user, pw] of [['alice', 'nope'], ['ghost', PASSWORD]] as const) {
      const { s, conn, log } = session();
      s.handshake('PLAIN', 1);
      const r = await s.authenticate(plain(user, pw));
      assert.deepEqual(r, { ok: false, errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: 'Authentication failed: Invalid username or password', close: true });
      assert.equal(conn.authenticated, false);
      assert.ok(!log.text().includes(pw));
    }
  });

  it('authzid must be empty or the user; malformed messages fail', async () => {
    const cases: [Buffer, string][] = [
      [plain('alice', PASSWORD, 'alice'), ''],
      [plain('alice', PASSWORD, 'root'), 'Authentication failed: Client requested an authorization id that is different from username'],
      [plain('', PASSWORD), 'Authentication failed: username not specified'],
      [plain('alice', ''), 'Authentication failed: password not specified'],
      [Buffer.from('alice\0' + PASSWORD), authenticationFailedMessage('PLAIN')],
      [Buffer.from(`\0alice\0${PASSWORD}\0extra`), authenticationFailedMessage('PLAIN')],
    ];
    for (const [token, message] of cases) {
      const { s } = session();
      s.handshake('PLAIN', 1);
      const r = await s.authenticate(token);
      if (message === '') assert.ok(r.ok);
      else assert.deepEqual(r, { ok: false, errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: message, close: true });
    }
  });
});

describe('handshake v0 + raw tokens (kafka-python 2.0)', () => {
  it('SCRAM-SHA-256 over raw tokens; afterwards frames are Kafka requests again', async () => {
    const { s, conn } = session();
    assert.equal(s.handshake('SCRAM-SHA-256', 0).errorCode, 0);
    assert.equal(s.expectsRawToken, true);
    const c = new ScramClient(SCRAM_SHA_256, 'alice', PASSWORD);
    const first = ok(await s.handleRawToken(c.firstMessage()));
    assert.equal(s.expectsRawToken, true);
    const last = ok(await s.handleRawToken(await c.finalMessage(first.token)));
    c.verifyServerFinal(last.token);
    assert.equal(s.expectsRawToken, false);
    assert.equal(conn.principal, 'User:alice');
    const after = await s.handleRawToken(Buffer.from('x'));
    assert.ok(!after.ok && after.errorCode === ErrorCode.ILLEGAL_SASL_STATE);
  });

  it('PLAIN over raw tokens answers an empty token; a failure asks to close', async () => {
    const good = session();
    good.s.handshake('PLAIN', 0);
    assert.equal(ok(await good.s.handleRawToken(plain('alice', PASSWORD))).token.length, 0);
    const bad = session();
    bad.s.handshake('PLAIN', 0);
    const r = await bad.s.handleRawToken(plain('alice', 'bad'));
    assert.ok(!r.ok && r.close);
    assert.equal(bad.s.expectsRawToken, false);
  });

  it('a raw token without a v0 handshake is out of order', async () => {
    const { s } = session();
    const r = await s.handleRawToken(Buffer.from('x'));
    assert.ok(!r.ok && r.errorCode === ErrorCode.ILLEGAL_SASL_STATE);
  });

  it('a second token while the first is being checked is out of order, and the first cannot succeed after it', async () => {
    const { s, conn } = session();
    s.handshake('PLAIN', 0);
    const first = s.handleRawToken(plain('alice', PASSWORD));
    const second = await s.handleRawToken(plain('alice', PASSWORD));
    assert.ok(!second.ok && second.errorCode === ErrorCode.ILLEGAL_SASL_STATE);
    const r = await first;
    assert.ok(!r.ok);
    assert.equal(conn.authenticated, false);
  });
});
