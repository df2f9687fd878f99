// `umbra user` against a STOPPED broker's data directory (--data-dir): create with the password on stdin, list,
// delete, usage errors, and no password anywhere in the output or on disk.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openEmbeddedStore } from '../../src/cluster/embedded-store.js';
import { CredentialStore } from '../../src/security/credentials.js';
import { readTree, tempDir } from './helpers.js';
import { show, userCli } from './cli-helpers.js';

const PASSWORD = 'cli-secret-Xy9:with:colons';

describe('umbra user --data-dir (stopped broker)', () => {
  it('create, list, delete; the password never appears in output or on disk', async (t) => {
    const dir = tempDir(t);
    const outputs: string[] = [];
    const run = async (args: string[], input?: string) => {
      const r = await userCli([...args, '--data-dir', dir], input !== undefined ? { input } : {});
      outputs.push(r.stdout, r.stderr);
      return r;
    };

    let r = await run(['create', 'admin', '--password-stdin'], `${PASSWORD}\n`);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Set SCRAM-SHA-256 and SCRAM-SHA-512 credentials for user 'admin' \(4096 iterations\)/);

    r = await run(['create', 'app', '--password-stdin', '--mechanism', 'SCRAM-SHA-256', '--iterations', '8192', '--format', 'json'], PASSWORD);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(JSON.parse(r.stdout), { user: 'app', mechanisms: ['SCRAM-SHA-256'], iterations: 8192 });

    r = await run(['list']);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(
      r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)),
      [
        ['USER', 'MECHANISM', 'ITERATIONS'],
        ['admin', 'SCRAM-SHA-256', '4096'],
        ['admin', 'SCRAM-SHA-512', '4096'],
        ['app', 'SCRAM-SHA-256', '8192'],
      ],
    );
    r = await run(['list', 'app', '--format', 'json']);
    assert.deepEqual(JSON.parse(r.stdout), [{ user: 'app', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 8192 }] }]);

    r = await run(['delete', 'admin', '--mechanism', 'SCRAM-SHA-256']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Deleted SCRAM-SHA-256 credentials of user 'admin'/);
    r = await run(['delete', 'app']);
    assert.equal(r.code, 0, show(r));
    r = await run(['delete', 'app']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /RESOURCE_NOT_FOUND/);

    // the broker will find the user there: the password checks out against the stored credential
    const store = await openEmbeddedStore(dir, { nodeId: 0 });
    try {
      const creds = new CredentialStore(store);
      assert.deepEqual(creds.credentialsOf('admin').map((c) => c.mechanism), ['SCRAM-SHA-512']);
      assert.equal(await creds.verifyPassword('admin', PASSWORD), true);
    } finally {
      await store.close();
    }

    for (const text of [...outputs, readTree(dir)]) assert.ok(!text.includes(PASSWORD) && !text.includes('cli-secret'), 'the password leaked');
  });

  it('a data directory in use by a running broker is refused with a hint', async (t) => {
    const dir = tempDir(t);
    const store = await openEmbeddedStore(dir, { nodeId: 0 });
    t.after(() => store.close());
    const r = await userCli(['list', '--data-dir', dir]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /in use by process .*\n.*--data-dir works on a stopped broker only/);
  });

  it('usage errors: no --password-stdin, empty or multi-line stdin, bad iterations, --brokers with --data-dir', async (t) => {
    const dir = tempDir(t);
    const cases: [string[], string, RegExp][] = [
      [['create', 'u', '--data-dir', dir], PASSWORD, /--password-stdin/],
      [['create', 'u', '--password-stdin', '--data-dir', dir], '', /no password on stdin/],
      [['create', 'u', '--password-stdin', '--data-dir', dir], 'a\nb\n', /single line/],
      [['create', 'u', '--password-stdin', '--iterations', '100', '--data-dir', dir], PASSWORD, /--iterations must be between 4096 and 16384/],
      [['create', 'u', '--password-stdin', '--mechanism', 'MD5', '--data-dir', dir], PASSWORD, /Allowed choices/],
      [['list', '--data-dir', dir, '--brokers', '127.0.0.1:1'], '', /either --brokers or --data-dir/],
      [['create', 'u', '--password', 'x'], '', /unknown option '--password'/],
    ];
    for (const [args, input, message] of cases) {
      const r = await userCli(args, { input });
      assert.equal(r.code, 2, `${args.join(' ')}\n${show(r)}`);
      assert.match(r.stderr, message, show(r));
      assert.ok(!r.stderr.includes(PASSWORD));
    }
  });
});
