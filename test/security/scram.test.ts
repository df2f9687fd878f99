// SCRAM (src/security/scram.ts): RFC 7677's SCRAM-SHA-256 exchange byte for byte, a SCRAM-SHA-512 round trip with
// an independent client, and every way the server must refuse a client message.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  SCRAM_SHA_256,
  SCRAM_SHA_512,
  ScramAuthError,
  ScramClient,
  ScramServerExchange,
  credentialFromSaltedPassword,
  escapeSaslName,
  generateCredential,
  saltedPasswordSync,
  unescapeSaslName,
  type ScramCredential,
  type ScramMechanism,
} from '../../src/security/scram.js';
import { RfcScramClient } from './helpers.js';

// RFC 7677 §3
const RFC = {
  user: 'user',
  password: 'pencil',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

function rfcCredential(): ScramCredential {
  const salt = Buffer.from(RFC.salt, 'base64');
  return credentialFromSaltedPassword(SCRAM_SHA_256, salt, saltedPasswordSync(SCRAM_SHA_256, RFC.password, salt, 4096), 4096);
}

function server(mech: ScramMechanism, users: Record<string, ScramCredential>, nonce?: () => string): ScramServerExchange {
  return new ScramServerExchange({ mechanism: mech, lookup: (u) => users[u], ...(nonce ? { nonce } : {}), mockSecret: Buffer.alloc(32, 1) });
}

function refuses(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ScramAuthError && reason.test(err.reason));
}

describe('SCRAM-SHA-256: RFC 7677 test vector', () => {
  it('the server answers the RFC client exactly as the RFC server does', () => {
    const s = server(SCRAM_SHA_256, { user: rfcCredential() }, () => RFC.serverNonce);
    assert.equal(s.step(Buffer.from(RFC.clientFirst)).toString(), RFC.serverFirst);
    assert.equal(s.step(Buffer.from(RFC.clientFinal)).toString(), RFC.serverFinal);
    assert.equal(s.isComplete, true);
    assert.equal(s.username, 'user');
  });

  it("Umbra's client produces the RFC client messages and accepts the RFC server signature", async () => {
    const c = new ScramClient(SCRAM_SHA_256, RFC.user, RFC.password, { nonce: RFC.clientNonce });
    assert.equal(c.firstMessage().toString(), RFC.clientFirst);
    assert.equal((await c.finalMessage(Buffer.from(RFC.serverFirst))).toString(), RFC.clientFinal);
    c.verifyServerFinal(Buffer.from(RFC.serverFinal));
    assert.throws(() => c.verifyServerFinal(Buffer.from('v=' + Buffer.alloc(32).toString('base64'))), /signature is invalid/);
  });
});

describe('SCRAM-SHA-512', () => {
  it('round trip with an independent RFC client, server signature verified', async () => {
    const cred = await generateCredential(SCRAM_SHA_512, 'correct horse', 4096);
    assert.equal(cred.storedKey.length, 64);
    const s = server(SCRAM_SHA_512, { alice: cred });
    const c = new RfcScramClient('sha512', 'alice', 'correct horse');
    const serverFirst = s.step(c.first());
    assert.match(serverFirst.toString(), new RegExp(`^r=${c.nonce.replace(/[+/]/g, '\\$&')}[^,]+,s=[A-Za-z0-9+/=]+,i=4096$`));
    const serverFinal = s.step(c.final(serverFirst));
    assert.equal(serverFinal.toString(), `v=${c.serverSignature!.toString('base64')}`);
    assert.ok(s.isComplete);
  });

  it("round trip with Umbra's client", async () => {
    const cred = await generateCredential(SCRAM_SHA_512, 'pw', 8192);
    const s = server(SCRAM_SHA_512, { bob: cred });
    const c = new ScramClient(SCRAM_SHA_512, 'bob', 'pw');
    const final = await c.finalMessage(s.step(c.firstMessage()));
    c.verifyServerFinal(s.step(final));
  });

  it('server nonces are random and extend the client nonce', async () => {
    const cred = await generateCredential(SCRAM_SHA_512, 'pw');
    const nonces = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const sf = server(SCRAM_SHA_512, { bob: cred }).step(Buffer.from('n,,n=bob,r=abc')).toString();
      assert.ok(sf.startsWith('r=abc'));
      nonces.add(sf.split(',')[0]!);
    }
    assert.equal(nonces.size, 20);
  });

  it('new credentials get random salts', async () => {
    const a = await generateCredential(SCRAM_SHA_512, 'same');
    const b = await generateCredential(SCRAM_SHA_512, 'same');
    assert.notDeepEqual(a.salt, b.salt);
    assert.notDeepEqual(a.storedKey, b.storedKey);
  });
});

describe('SCRAM server refusals', () => {
  const users: Record<string, ScramCredential> = {};
  const ready = (async () => {
    users.alice = await generateCredential(SCRAM_SHA_256, 'secret-pw');
    users['a,b=c'] = await generateCredential(SCRAM_SHA_256, 'pw2');
  })();

  it('a wrong password fails at the proof', async () => {
    await ready;
    const s = server(SCRAM_SHA_256, users);
    const c = new RfcScramClient('sha256', 'alice', 'wrong');
    const sf = s.step(c.first());
    refuses(() => s.step(c.final(sf)), /invalid proof/);
    assert.equal(s.state, 'failed');
  });

  it('an unknown user gets a normal-looking, stable server-first and fails at the same step', async () => {
    await ready;
    const first = (user: string) => server(SCRAM_SHA_256, users).step(new RfcScramClient('sha256', user, 'x', 'NONCE').first()).toString().replace(/^r=NONCE[^,]+/, '');
    assert.match(first('nobody'), /^,s=[A-Za-z0-9+/]{43}=,i=4096$/);
    assert.equal(first('nobody'), first('nobody'));
    assert.notEqual(first('nobody'), first('nobody2'));
    assert.match(first('alice'), /^,s=[A-Za-z0-9+/]{43}=,i=4096$/);
    const s = server(SCRAM_SHA_256, users);
    const c = new RfcScramClient('sha256', 'nobody', 'secret-pw');
    const sf = s.step(c.first());
    refuses(() => s.step(c.final(sf)), /unknown user/);
  });

  it('a tampered proof fails', async () => {
    await ready;
    const s = server(SCRAM_SHA_256, users);
    const c = new RfcScramClient('sha256', 'alice', 'secret-pw');
    const sf = s.step(c.first());
    refuses(() => s.step(c.final(sf, { tamper: true })), /invalid proof/);
  });

  it('a nonce that is not the combined nonce fails', async () => {
    await ready;
    const s = server(SCRAM_SHA_256, users);
    const c = new RfcScramClient('sha256', 'alice', 'secret-pw');
    const sf = s.step(c.first());
    refuses(() => s.step(c.final(sf, { nonceOverride: `${c.nonce}forged` })), /nonce mismatch/);
  });

  it("librdkafka < 2.6.1's doubled client nonce is accepted, nothing else extra", async () => {
    await ready;
    const s = server(SCRAM_SHA_256, users);
    const c = new RfcScramClient('sha256', 'alice', 'secret-pw');
    const sf = s.step(c.first());
    const combined = sf.toString().split(',')[0]!.slice(2);
    s.step(c.final(sf, { nonceOverride: c.nonce + combined }));
    assert.ok(s.isComplete);
    const s2 = server(SCRAM_SHA_256, users);
    const sf2 = s2.step(c.first());
    const combined2 = sf2.toString().split(',')[0]!.slice(2);
    refuses(() => s2.step(c.final(sf2, { nonceOverride: `x${combined2}` })), /nonce mismatch/);
  });

  it('channel binding must repeat the gs2 header', async () => {
    await ready;
    const s = server(SCRAM_SHA_256, users);
    const c = new RfcScramClient('sha256', 'alice', 'secret-pw');
    const sf = s.step(c.first('n,,'));
    refuses(() => s.step(c.final(sf, { gs2: 'y,,' })), /channel binding/);
  });

  it('an authzid equal to the user is accepted, a different one refused with Kafka\'s message', async () => {
    await ready;
    const ok = server(SCRAM_SHA_256, users);
    const c = new RfcScramClient('sha256', 'alice', 'secret-pw');
    const sf = ok.step(c.first('n,a=alice,'));
    ok.step(c.final(sf, { gs2: 'n,a=alice,' }));
    assert.ok(ok.isComplete);
    assert.throws(
      () => server(SCRAM_SHA_256, users).step(Buffer.from('n,a=admin,n=alice,r=abc')),
      (err: unknown) => err instanceof ScramAuthError && /authorization id that is different/.test(err.clientMessage ?? ''),
    );
  });

  it('escaped user names (=2C, =3D) log in; bad escapes are refused', async () => {
    await ready;
    const s = server(SCRAM_SHA_256, users);
    const c = new RfcScramClient('sha256', 'a,b=c', 'pw2');
    const first = c.first();
    assert.match(first.toString(), /n=a=2Cb=3Dc,/);
    s.step(c.final(s.step(first)));
    assert.equal(s.username, 'a,b=c');
    refuses(() => server(SCRAM_SHA_256, users).step(Buffer.from('n,,n=a=2Db,r=abc')), /malformed user name/);
  });

  const malformed: [string, string, RegExp][] = [
    ['channel binding requested (p=)', 'p=tls-unique,,n=alice,r=abc', /channel binding/],
    ['a reserved m= extension', 'n,,m=ext,n=alice,r=abc', /mandatory extension/],
    ['no gs2 header', 'n=alice,r=abc', /gs2 header/],
    ['no user', 'n,,r=abc', /no user name/],
    ['an empty user', 'n,,n=,r=abc', /malformed user name/],
    ['no nonce', 'n,,n=alice', /nonce/],
    ['a nonce with a control character', 'n,,n=alice,r=a\u0001b', /nonce/],
    ['a delegation token login', 'n,,n=alice,r=abc,tokenauth=true', /tokenauth/],
    ['a malformed extension', 'n,,n=alice,r=abc,1=2', /extension/],
  ];
  for (const [what, msg, reason] of malformed) {
    it(`client-first with ${what} is refused`, async () => {
      await ready;
      refuses(() => server(SCRAM_SHA_256, users).step(Buffer.from(msg)), reason);
    });
  }

  it('unknown extensions (other than tokenauth) are ignored', async () => {
    await ready;
    const sf = server(SCRAM_SHA_256, users).step(Buffer.from('n,,n=alice,r=abc,ext=1,tokenauth=false'));
    assert.match(sf.toString(), /^r=abc/);
  });

  it('invalid UTF-8 is refused', async () => {
    await ready;
    refuses(() => server(SCRAM_SHA_256, users).step(Buffer.from([0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61])), /UTF-8/);
  });

  it('a malformed client-final is refused', async () => {
    await ready;
    for (const bad of ['c=biws,r=x', 'c=biws,r=x,p=!!!', 'r=x,c=biws,p=AAAA', 'c=b!ws,r=x,p=AAAA']) {
      const s = server(SCRAM_SHA_256, users);
      s.step(Buffer.from('n,,n=alice,r=abc'));
      assert.throws(() => s.step(Buffer.from(bad)), ScramAuthError, bad);
    }
  });

  it('a message after completion is an illegal state', async () => {
    await ready;
    const s = server(SCRAM_SHA_256, users);
    const c = new RfcScramClient('sha256', 'alice', 'secret-pw');
    s.step(c.final(s.step(c.first())));
    assert.throws(() => s.step(Buffer.from('n,,n=alice,r=abc')), (err: unknown) => err instanceof ScramAuthError && err.illegalState);
  });
});

describe('SASL names', () => {
  it('escape and unescape', () => {
    assert.equal(escapeSaslName('a,b=c'), 'a=2Cb=3Dc');
    assert.equal(unescapeSaslName('a=2Cb=3Dc'), 'a,b=c');
    assert.equal(unescapeSaslName('a=3D2C'), 'a=2C');
    assert.equal(unescapeSaslName('a=b'), null);
    assert.equal(unescapeSaslName('a='), null);
  });
});
