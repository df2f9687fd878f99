// The credential store (src/security/credentials.ts): what is stored (never a password), persistence across a
// reopen of the embedded store, Kafka's Describe/Alter semantics, PLAIN password checks, and the bootstrap user.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openEmbeddedStore } from '../../src/cluster/embedded-store.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  CredentialStore,
  bootstrapUserFromEnv,
  bootstrapUserInDataDir,
  credentialKey,
  parseBootstrapUser,
  withDataDirCredentials,
} from '../../src/security/credentials.js';
import { SCRAM_SHA_256, SCRAM_SHA_512, generateCredential, saltedPasswordSync } from '../../src/security/scram.js';
import { captureLogger, openStore, readTree, tempDir } from './helpers.js';

const SHA256 = 1;
const SHA512 = 2;

function upsertion(name: string, mechanism: number, password: string, iterations = 4096) {
  const mech = mechanism === SHA256 ? SCRAM_SHA_256 : SCRAM_SHA_512;
  const salt = randomBytes(16);
  return { name, mechanism, iterations, salt, saltedPassword: saltedPasswordSync(mech, password, salt, iterations) };
}

describe('CredentialStore', () => {
  it('stores salt, StoredKey, ServerKey and iterations only, and they survive a reopen', async (t) => {
    const dir = tempDir(t);
    const password = 'P@ssw0rd-never-stored';
    let store = await openEmbeddedStore(dir, { nodeId: 0 });
    await new CredentialStore(store).setPasswords('alice', password, { iterations: 5000 });
    const stored = store.get<Record<string, unknown>>(credentialKey('alice', 'SCRAM-SHA-512'))!;
    assert.deepEqual(Object.keys(stored).sort(), ['iterations', 'salt', 'serverKey', 'storedKey']);
    assert.equal(stored.iterations, 5000);
    await store.close();

    store = await openEmbeddedStore(dir, { nodeId: 0 });
    t.after(() => store.close());
    const creds = new CredentialStore(store);
    assert.deepEqual(creds.credentialsOf('alice'), [
      { mechanism: 'SCRAM-SHA-256', iterations: 5000 },
      { mechanism: 'SCRAM-SHA-512', iterations: 5000 },
    ]);
    assert.equal(await creds.verifyPassword('alice', password), true);
    assert.equal(await creds.verifyPassword('alice', 'nope'), false);
    assert.equal(await creds.verifyPassword('nobody', password), false);

    const disk = readTree(dir);
    assert.ok(!disk.includes(password), 'the password is on disk');
    assert.ok(!disk.includes(Buffer.from(password).toString('base64')), 'the base64 password is on disk');
    const salted = saltedPasswordSync(SCRAM_SHA_512, password, creds.get('alice', 'SCRAM-SHA-512')!.salt, 5000);
    assert.ok(!disk.includes(salted.toString('base64')), 'the SaltedPassword is on disk');
  });

  it('verifyPassword falls back to SCRAM-SHA-256 when the user has no SHA-512 credential', async (t) => {
    const creds = new CredentialStore(await openStore(t, tempDir(t)));
    await creds.setPassword('only256', 'pw', { mechanism: 'SCRAM-SHA-256' });
    assert.equal(await creds.verifyPassword('only256', 'pw'), true);
    assert.equal(await creds.verifyPassword('only256', 'pw!'), false);
  });

  it('lists users (names may contain "/") sorted, and deletes per mechanism or all', async (t) => {
    const creds = new CredentialStore(await openStore(t, tempDir(t)));
    await creds.setPasswords('zed', 'pw');
    await creds.setPassword('team/a', 'pw', { mechanism: 'SCRAM-SHA-256' });
    await creds.setPassword('team', 'pw', { mechanism: 'SCRAM-SHA-512' });
    assert.deepEqual(
      creds.list().map((u) => [u.user, u.credentials.map((c) => c.mechanism)]),
      [
        ['team', ['SCRAM-SHA-512']],
        ['team/a', ['SCRAM-SHA-256']],
        ['zed', ['SCRAM-SHA-256', 'SCRAM-SHA-512']],
      ],
    );
    assert.deepEqual(creds.credentialsOf('team').map((c) => c.mechanism), ['SCRAM-SHA-512']);
    assert.deepEqual(await creds.delete('zed', 'SCRAM-SHA-256'), ['SCRAM-SHA-256']);
    assert.deepEqual(await creds.delete('zed'), ['SCRAM-SHA-512']);
    assert.deepEqual(await creds.delete('zed'), []);
    assert.equal(creds.exists('zed'), false);
  });

  it('refuses empty names, empty passwords and iteration counts outside 4096..16384', async (t) => {
    const creds = new CredentialStore(await openStore(t, tempDir(t)));
    await assert.rejects(creds.setPassword('', 'pw'), /Username must not be empty/);
    await assert.rejects(creds.setPassword('u', ''), /Password must not be empty/);
    await assert.rejects(creds.setPassword('u', 'pw', { iterations: 4095 }), /Too few iterations/);
    await assert.rejects(creds.setPassword('u', 'pw', { iterations: 16385 }), /Too many iterations/);
  });
});

describe('Describe/AlterUserScramCredentials semantics', () => {
  it('upserts store derived keys that authenticate; describe lists mechanisms and iterations', async (t) => {
    const creds = new CredentialStore(await openStore(t, tempDir(t)));
    const r = await creds.alter([], [upsertion('alice', SHA256, 'pw1'), upsertion('bob', SHA512, 'pw2', 8192)]);
    assert.deepEqual(r, [
      { user: 'alice', errorCode: 0, errorMessage: null },
      { user: 'bob', errorCode: 0, errorMessage: null },
    ]);
    assert.equal(await creds.verifyPassword('bob', 'pw2'), true);
    assert.deepEqual(creds.describe(null), [
      { user: 'alice', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: SHA256, iterations: 4096 }] },
      { user: 'bob', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: SHA512, iterations: 8192 }] },
    ]);
    assert.deepEqual(creds.describe([]), creds.describe(null));
  });

  it('describe: unknown → RESOURCE_NOT_FOUND, twice → DUPLICATE_RESOURCE', async (t) => {
    const creds = new CredentialStore(await openStore(t, tempDir(t)));
    await creds.setPasswords('alice', 'pw');
    const r = creds.describe(['ghost', 'alice', 'dup', 'dup']);
    assert.deepEqual(
      r.map((x) => [x.user, x.errorCode, x.credentialInfos.length]),
      [
        ['alice', 0, 2],
        ['dup', ErrorCode.DUPLICATE_RESOURCE, 0],
        ['ghost', ErrorCode.RESOURCE_NOT_FOUND, 0],
      ],
    );
    assert.equal(r[2]!.errorMessage, 'Attempt to describe a user credential that does not exist: ghost');
  });

  it('alter: per-user errors, and only the valid changes are applied', async (t) => {
    const creds = new CredentialStore(await openStore(t, tempDir(t)));
    await creds.setPasswords('carol', 'pw');
    const r = await creds.alter(
      [
        { name: 'carol', mechanism: SHA256 },
        { name: 'ghost', mechanism: SHA512 },
        { name: 'badmech', mechanism: 7 },
        { name: '', mechanism: SHA256 },
      ],
      [
        upsertion('dave', SHA512, 'pw'),
        upsertion('dave', SHA256, 'pw'),
        upsertion('carol', SHA512, 'pw'),
        upsertion('few', SHA256, 'pw', 4095),
        upsertion('many', SHA256, 'pw', 16385),
        { ...upsertion('nosalt', SHA256, 'pw'), salt: Buffer.alloc(0) },
        upsertion('erin', SHA256, 'pw'),
      ],
    );
    const byUser = Object.fromEntries(r.map((x) => [x.user, [x.errorCode, x.errorMessage]]));
    assert.deepEqual(byUser, {
      erin: [0, null],
      ghost: [ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'],
      badmech: [ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism'],
      '': [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty'],
      dave: [ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request'],
      carol: [ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request'],
      few: [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations'],
      many: [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations'],
      nosalt: [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Salt must not be empty'],
    });
    assert.equal(r.length, 9);
    // carol's deletion was cancelled by her duplicate upsertion; dave got nothing; erin was created
    assert.equal(creds.credentialsOf('carol').length, 2);
    assert.equal(creds.exists('dave'), false);
    assert.equal(creds.exists('erin'), true);
  });

  it('alter deletes one mechanism and keeps the other', async (t) => {
    const creds = new CredentialStore(await openStore(t, tempDir(t)));
    await creds.setPasswords('frank', 'pw');
    assert.deepEqual(await creds.alter([{ name: 'frank', mechanism: SHA512 }], []), [{ user: 'frank', errorCode: 0, errorMessage: null }]);
    assert.deepEqual(creds.credentialsOf('frank').map((c) => c.mechanism), ['SCRAM-SHA-256']);
  });
});

describe('bootstrap user', () => {
  it('parses NAME:PASSWORD with ":" in the password and never echoes the value', () => {
    assert.deepEqual(parseBootstrapUser('admin:pa:ss:word'), { name: 'admin', password: 'pa:ss:word' });
    assert.deepEqual(parseBootstrapUser('admin::'), { name: 'admin', password: ':' });
    for (const bad of ['admin', ':secret-value', 'admin:', ' admin:secret-value']) {
      assert.throws(() => parseBootstrapUser(bad), (err: Error) => /UMBRA_BOOTSTRAP_USER/.test(err.message) && !err.message.includes('secret-value'), bad);
    }
  });

  it('creates both mechanisms once and never overwrites an existing user', async (t) => {
    const creds = new CredentialStore(await openStore(t, tempDir(t)));
    const log = captureLogger();
    assert.equal(await bootstrapUserFromEnv(creds, {}, log), null);
    const first = await bootstrapUserFromEnv(creds, { UMBRA_BOOTSTRAP_USER: 'root:first:pw' }, log);
    assert.deepEqual(first, { name: 'root', outcome: 'created' });
    assert.deepEqual(creds.credentialsOf('root').map((c) => c.mechanism), ['SCRAM-SHA-256', 'SCRAM-SHA-512']);
    const again = await bootstrapUserFromEnv(creds, { UMBRA_BOOTSTRAP_USER: 'root:second' }, log);
    assert.deepEqual(again, { name: 'root', outcome: 'exists' });
    assert.equal(await creds.verifyPassword('root', 'first:pw'), true);
    assert.equal(await creds.verifyPassword('root', 'second'), false);
    assert.ok(!log.text().includes('first:pw') && !log.text().includes('second'), log.text());
    assert.match(log.text(), /bootstrap user created/);
    await assert.rejects(bootstrapUserFromEnv(creds, { UMBRA_BOOTSTRAP_USER: 'nocolon' }), /NAME:PASSWORD/);
  });

  it('works on a stopped data directory, new or used, and refuses one a live store holds', async (t) => {
    const dir = tempDir(t);
    assert.equal(await bootstrapUserInDataDir(dir, 'admin', 'pw-1', { nodeId: 3 }), 'created');
    assert.equal(await bootstrapUserInDataDir(dir, 'admin', 'pw-2'), 'exists');
    // the directory now belongs to node 3; the credentials are there for the broker to use
    const store = await openEmbeddedStore(dir, { nodeId: 3 });
    assert.equal(await new CredentialStore(store).verifyPassword('admin', 'pw-1'), true);
    await assert.rejects(withDataDirCredentials(dir, async () => 'x'), /already open in this process|in use/);
    await store.close();
    assert.equal(await withDataDirCredentials(dir, async (c) => c.exists('admin')), true);
  });

  it('SCRAM credentials made from a password match what generateCredential derives', async () => {
    const salt = randomBytes(16);
    const a = await generateCredential(SCRAM_SHA_256, 'x', 4096, salt);
    const b = await generateCredential(SCRAM_SHA_256, 'x', 4096, salt);
    assert.deepEqual(a, b);
  });
});
