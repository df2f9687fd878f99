// `umbra shadow …` run as the real binary against the admin server with the shadow-link routes over the in-memory
// service double: JSON output equals the API documents, text/yaml describe output is a valid link file, usage
// errors exit 2, API errors exit 1 with the API's message, basic auth, and no password in any output.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { validateLinkConfig } from '../../src/shadow/config.js';
import type { AdminServer } from '../../src/admin/server.js';
import { InMemoryShadowLinks, SECRET, linkDoc, startShadowAdmin, topicStatus } from '../admin/shadow-link-double.js';
import { runCli, show, type CliResult } from './run-cli.js';

const ADMIN_PASSWORD = 'admin-pw-never-shown';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('umbra shadow', () => {
  const service = new InMemoryShadowLinks();
  let server: AdminServer;
  let url: string;
  let dir: string;
  const outputs: CliResult[] = [];

  /** Runs `umbra shadow …` against the test server; every output is kept to check for passwords at the end. */
  async function shadow(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const r = await runCli(['shadow', ...args], { env: { UMBRA_ADMIN_URL: url, UMBRA_PASSWORD: '', ...env }, timeoutMs: 15_000 });
    outputs.push(r);
    return r;
  }

  async function api(path: string): Promise<unknown> {
    return (await fetch(url + path)).json();
  }

  function file(name: string, text: string): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-shadow-cli-'));
    ({ server, url } = await startShadowAdmin(service));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    for (const r of outputs) {
      assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), `a password was printed:\n${show(r)}`);
      assert.ok(!r.stdout.includes(ADMIN_PASSWORD) && !r.stderr.includes(ADMIN_PASSWORD), `the admin password was printed:\n${show(r)}`);
    }
  });

  it('has --help with --admin-url, --format and --user on every command', async () => {
    const commands = [['config', 'generate'], ['create'], ['update'], ['list'], ['describe'], ['status'], ['failover'], ['promote'], ['pause'], ['resume'], ['delete'], ['verify'], ['drill']];
    const results = await Promise.all(commands.map((c) => shadow([...c, '--help'])));
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, new RegExp(`^Usage: umbra shadow ${commands[i]!.join(' ')}`), show(r));
      for (const opt of ['--admin-url', '--format', '--user']) assert.ok(r.stdout.includes(opt), `${commands[i]!.join(' ')}: ${opt}\n${r.stdout}`);
    }
  });

  it('config generate prints a link file that parses and validates', async () => {
    const [r, json, bad] = await Promise.all([
      shadow(['config', 'generate', '--name', 'east']),
      shadow(['config', 'generate', '--format', 'json']),
      shadow(['config', 'generate', '--name', 'no spaces']),
    ]);
    assert.equal(r.code, 0, show(r));
    const cfg = validateLinkConfig(parseYaml(r.stdout));
    assert.equal(cfg.name, 'east');
    assert.equal(json.code, 0, show(json));
    assert.equal((JSON.parse(json.stdout) as { name: string }).name, 'dr');
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /^umbra: --name/);
  });

  it('create -c FILE sends the YAML file as JSON; --no-validate skips the source', async () => {
    const path = file('dr.yaml', toYaml(linkDoc('dr')));
    const r = await shadow(['create', '-c', path]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, "Created shadow link 'dr' (ACTIVE)\n");
    assert.deepEqual(service.calls.find((c) => c.method === 'create')?.args, [linkDoc('dr'), { validateSource: true }]);

    const jsonFile = file('west.json', JSON.stringify(linkDoc('west')));
    const j = await shadow(['create', '-c', jsonFile, '--no-validate', '--format', 'json']);
    assert.equal(j.code, 0, show(j));
    assert.deepEqual(JSON.parse(j.stdout), await api('/v1/shadow-links/west'));
    assert.deepEqual(service.calls.filter((c) => c.method === 'create').at(-1)?.args[1], { validateSource: false });
  });

  it('create reports a bad file, an invalid config (exit 1, naming the field) and a missing -c (exit 2)', async () => {
    const doc = linkDoc('broken');
    (doc.client_options as Record<string, unknown>).fetch_min_bytes = 'lots';
    const [missing, syntax, invalid, noFile] = await Promise.all([
      shadow(['create', '-c', join(dir, 'nope.yaml')]),
      shadow(['create', '-c', file('bad.yaml', `name: x\nclient_options: { password: ${SECRET}\n`)]),
      shadow(['create', '-c', file('broken.yaml', toYaml(doc))]),
      shadow(['create']),
    ]);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /cannot read link config file .*nope\.yaml/);
    assert.equal(syntax.code, 1, show(syntax));
    assert.match(syntax.stderr, /not valid YAML or JSON .*line \d+/);
    assert.equal(invalid.code, 1, show(invalid));
    assert.match(invalid.stderr, /^umbra: invalid shadow link config: client_options\.fetch_min_bytes/);
    assert.equal(noFile.code, 2, show(noFile));
    assert.match(noFile.stderr, /required option '-c, --config <file>'/);
  });

  it('list --format json prints the API document; text is a table', async () => {
    service.seedTopic('dr', topicStatus('a_orders', 'ACTIVE'));
    service.seedTopic('dr', topicStatus('a_payments', 'ACTIVE', 1));
    service.seedTopic('dr', topicStatus('a_old', 'FAILED_OVER', 1));
    const [json, text] = await Promise.all([shadow(['list', '--format', 'json']), shadow(['list'])]);
    assert.equal(json.code, 0, show(json));
    assert.deepEqual(JSON.parse(json.stdout), await api('/v1/shadow-links'));
    assert.equal(text.code, 0, show(text));
    assert.match(text.stdout, /^NAME\s+STATE\s+SOURCE/);
    assert.match(text.stdout, /\ndr\s+ACTIVE\s+source-1:9092\s+-\s+2 ACTIVE, 1 FAILED_OVER\s+30\s+2\.5s\n/);
  });

  it('describe: json is the API document, text and yaml are a valid link file with the password [REDACTED]', async () => {
    const [json, text, yaml] = await Promise.all([shadow(['describe', 'dr', '-f', 'json']), shadow(['describe', 'dr']), shadow(['describe', 'dr', '-f', 'yaml'])]);
    const view = (await api('/v1/shadow-links/dr')) as { config: unknown };
    assert.equal(json.code, 0, show(json));
    assert.deepEqual(JSON.parse(json.stdout), view);
    for (const r of [text, yaml]) {
      assert.equal(r.code, 0, show(r));
      const doc = parseYaml(r.stdout) as { client_options: { authentication_configuration: { scram_configuration: { password: string } } } };
      assert.deepEqual(doc, view.config);
      assert.equal(doc.client_options.authentication_configuration.scram_configuration.password, '[REDACTED]');
      assert.equal(validateLinkConfig(doc, { allowMissingPasswords: true }).name, 'dr');
    }
    assert.match(text.stdout, /^# shadow link 'dr': ACTIVE/);
  });

  it('update NAME -c FILE with the describe output keeps the stored password', async () => {
    const described = await shadow(['describe', 'dr', '-f', 'yaml']);
    const path = file('dr-update.yaml', described.stdout.replace('interval: 5s', 'interval: 7s'));
    const r = await shadow(['update', 'dr', '-c', path, '--no-validate']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, "Updated shadow link 'dr' (ACTIVE)\n");
    assert.equal(service.storedConfig('dr').topicMetadataSync.intervalMs, 7000);
    assert.equal(service.storedConfig('dr').clientOptions.authentication?.password?.reveal(), SECRET);
    assert.deepEqual(service.calls.filter((c) => c.method === 'update').at(-1)?.args[2], { validateSource: false });

    const other = await shadow(['update', 'other', '-c', path]);
    assert.equal(other.code, 1, show(other));
    assert.equal(other.stderr, "umbra: shadow link 'other' does not exist\n");
  });

  it('status --format json prints exactly the status document; text shows tasks and partitions', async () => {
    const [json, text] = await Promise.all([shadow(['status', 'dr', '--format', 'json']), shadow(['status', 'dr'])]);
    assert.equal(json.code, 0, show(json));
    assert.deepEqual(JSON.parse(json.stdout), await api('/v1/shadow-links/dr/status'));
    assert.equal(text.code, 0, show(text));
    assert.match(text.stdout, /^Shadow link 'dr': ACTIVE\n/);
    assert.match(text.stdout, /\nTASK\s+STATE\s+REASON\n/);
    assert.match(text.stdout, /\nschema_registry_sync\s+NOT_RUNNING\s+schema registry sync is off\n/);
    assert.match(text.stdout, /\nTOPIC\s+STATE\s+PARTITION\s+SOURCE-START\s+SOURCE-LSO\s+SOURCE-HWM\s+SHADOW-HWM\s+LAG\s+RPO\s+LAST-ERROR\n/);
    assert.match(text.stdout, /\na_orders\s+ACTIVE\s+0\s+0\s+100\s+100\s+90\s+10\s+2\.5s\s+NOT_LEADER_OR_FOLLOWER/);
    assert.match(text.stdout, /a_orders-1: gaps .*\[10, 20\)/);

    const unknown = await shadow(['status', 'nope']);
    assert.equal(unknown.code, 1, show(unknown));
    assert.equal(unknown.stderr, "umbra: shadow link 'nope' does not exist\n");
  });

  it('verify: json is the API report, text a table per partition; exit 0 only when source and shadow match', async () => {
    const [json, text] = await Promise.all([shadow(['verify', 'dr', '--format', 'json']), shadow(['verify', 'dr'])]);
    assert.equal(json.code, 0, show(json));
    const report = JSON.parse(json.stdout) as { ok: boolean; startedAt: string; topics: { name: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(report.topics.map((t) => t.name), ['a_orders', 'a_payments'], 'the FAILED_OVER topic is not verified');
    assert.deepEqual(service.calls.filter((c) => c.method === 'verify').at(-1)?.args, ['dr', undefined]);
    assert.equal(text.code, 0, show(text));
    assert.match(text.stdout, /^Shadow link 'dr': OK — 2 topic\(s\), 3 partition\(s\), 28 batches, 28\.0 KiB compared in 0\.0s; 0 difference\(s\), 0 missing range\(s\)\n/);
    assert.match(text.stdout, /\nTOPIC\s+PARTITION\s+COMPARED\s+BATCHES\s+BYTES\s+RESULT\n/);
    assert.match(text.stdout, /\na_orders\s+0\s+\[0, 90\)\s+9\s+9\.0 KiB\s+identical\n/);

    service.seedVerifyDifference('dr', 'a_orders', 1, 50, "batch at 50: CRC32C recomputed over the shadow's stored bytes is 0x0000abcd, the header says 0x0000dcba");
    const [badJson, badText] = await Promise.all([shadow(['verify', 'dr', '--topic', 'a_orders', '-f', 'json']), shadow(['verify', 'dr', '--topic', 'a_orders'])]);
    assert.equal(badJson.code, 1, show(badJson));
    assert.equal((JSON.parse(badJson.stdout) as { ok: boolean }).ok, false);
    assert.deepEqual(service.calls.filter((c) => c.method === 'verify').at(-1)?.args, ['dr', 'a_orders']);
    assert.equal(badText.code, 1, show(badText));
    assert.match(badText.stdout, /^Shadow link 'dr': NOT OK/);
    assert.match(badText.stdout, /\na_orders\s+1\s+\[0, 100\)\s+10\s+10\.0 KiB\s+DIFFERS at 50\n/);
    assert.match(badText.stdout, /\nDifferences \(first per partition\):\n {2}a_orders\/1: batch at 50: CRC32C recomputed over the shadow's stored bytes is 0x0000abcd/);

    const [unknown, empty] = await Promise.all([shadow(['verify', 'dr', '--topic', 'a_nope']), shadow(['verify', 'dr', '--topic', ''])]);
    assert.equal(unknown.code, 1, show(unknown));
    assert.equal(unknown.stderr, "umbra: shadow link 'dr' does not shadow topic 'a_nope'\n");
    assert.equal(empty.code, 2, show(empty));
  });

  it('drill: refuses a topic that is not shadowed or already failed over, and promotes nothing when a precondition fails (exit 1)', async () => {
    const [failedOver, unknown, noGroup, noListener] = await Promise.all([
      shadow(['drill', 'dr', '--topic', 'a_old', '--group', 'g', '--format', 'json']),
      shadow(['drill', 'dr', '--topic', 'a_nope', '--group', 'g']),
      shadow(['drill', 'dr', '--topic', 'a_orders']),
      // the double's admin API reports no Kafka listener: the drill cannot read the group's offsets
      shadow(['drill', 'dr', '--topic', 'a_orders', '--group', 'g', '--report', join(dir, 'drill.md')]),
    ]);
    assert.equal(failedOver.code, 1, show(failedOver));
    const report = JSON.parse(failedOver.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string }[] };
    assert.equal(report.ok, false);
    assert.deepEqual(report.checks.map((c) => c.status), ['fail', 'skip', 'skip', 'skip', 'skip']);
    assert.match(report.checks[0]!.detail, /^topic 'a_old' is already FAILED_OVER: a drill needs a topic the link still shadows/);
    assert.equal(unknown.code, 1, show(unknown));
    assert.match(unknown.stdout, /FAIL {2}topic is shadowed by the link\s+link 'dr' does not shadow topic 'a_nope'/);
    assert.equal(noGroup.code, 2, show(noGroup));
    assert.match(noGroup.stderr, /required option '-g, --group <group>'/);
    assert.equal(noListener.code, 1, show(noListener));
    assert.match(noListener.stdout, /FAIL {2}group offsets synced to the shadow\s+the shadow broker reports no PLAINTEXT or SASL_PLAINTEXT listener/);
    assert.match(readFileSync(join(dir, 'drill.md'), 'utf8'), /\*\*Result: FAILED\*\* — 1 of 5 checks passed/);
    assert.equal(service.calls.filter((c) => c.method === 'promote').length, 0, 'nothing was promoted');
    assert.equal(service.topic('dr', 'a_orders').state, 'ACTIVE');
  });

  it('failover and promote require exactly one of --topic and --all (exit 2)', async () => {
    const results = await Promise.all([
      shadow(['failover', 'dr']),
      shadow(['failover', 'dr', '--topic', 'a_orders', '--all']),
      shadow(['promote', 'dr']),
      shadow(['promote', 'dr', '--all', '--timeout', 'soon']),
    ]);
    for (const r of results) {
      assert.equal(r.code, 2, show(r));
      assert.equal(r.stdout, '');
    }
    assert.match(results[0]!.stderr, /^umbra: failover: give --topic TOPIC for one topic or --all/);
    assert.match(results[1]!.stderr, /either --topic or --all, not both/);
    assert.match(results[3]!.stderr, /--timeout must be a duration/);
    assert.equal(service.calls.filter((c) => c.method === 'failover' || c.method === 'promote').length, 0);
  });

  it('pause, resume, failover and promote call the API with the topic and timeout', async () => {
    const pause = await shadow(['pause', 'dr', '--topic', 'a_orders']);
    assert.equal(pause.code, 0, show(pause));
    assert.match(pause.stdout, /^Paused topic 'a_orders' of shadow link 'dr'/);
    assert.match(pause.stdout, /\na_orders\s+PAUSED/);
    const resume = await shadow(['resume', 'dr', '--format', 'json']);
    assert.equal(resume.code, 0, show(resume));
    assert.equal((JSON.parse(resume.stdout) as { state: string }).state, 'ACTIVE');
    assert.deepEqual(service.calls.filter((c) => c.method === 'resume').at(-1)?.args, ['dr', undefined]);

    const failover = await shadow(['failover', 'dr', '--topic', 'a_orders', '-f', 'json']);
    assert.equal(failover.code, 0, show(failover));
    assert.deepEqual(JSON.parse(failover.stdout), { name: 'dr', state: 'ACTIVE', topics: [{ name: 'a_orders', state: 'FAILED_OVER', reason: '' }] });

    const promote = await shadow(['promote', 'dr', '--all', '--timeout', '5s']);
    assert.equal(promote.code, 0, show(promote));
    assert.match(promote.stdout, /^Promoted shadow link 'dr'/);
    assert.match(promote.stdout, /\na_payments\s+PROMOTED/);
    assert.deepEqual(service.calls.filter((c) => c.method === 'promote').at(-1)?.args, ['dr', undefined, { timeoutMs: 5000 }]);
  });

  it('delete is refused while topics are shadowed (exit 1 with the message), then --force deletes', async () => {
    service.seedTopic('dr', topicStatus('a_new', 'ACTIVE', 1));
    const refused = await shadow(['delete', 'dr']);
    assert.equal(refused.code, 1, show(refused));
    assert.equal(refused.stderr, "umbra: shadow link 'dr' still shadows 'a_new': fail them over first, or delete with force\n");
    const forced = await shadow(['delete', 'dr', '--force']);
    assert.equal(forced.code, 0, show(forced));
    assert.equal(forced.stdout, "Deleted shadow link 'dr' (its topics are kept)\n");
    assert.deepEqual(service.calls.filter((c) => c.method === 'delete').at(-1)?.args, ['dr', { force: true }]);
  });

  it('names the admin URL when it cannot be reached, and rejects a bad one (exit 2)', async () => {
    const port = await closedPort();
    const [r, bad] = await Promise.all([shadow(['list', '--admin-url', `http://127.0.0.1:${port}`]), shadow(['list', '--admin-url', 'nonsense'])]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, new RegExp(`^umbra: cannot reach the admin API at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /--admin-url 'nonsense' is not a URL/);
  });

  it('--user needs UMBRA_PASSWORD (exit 2)', async () => {
    const r = await shadow(['list', '--user', 'admin']);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stderr, 'umbra: --user admin: set the password in UMBRA_PASSWORD\n');
  });

  it('logs in with --user and UMBRA_PASSWORD when the admin API requires it', async () => {
    const secured = await startShadowAdmin(new InMemoryShadowLinks(), {
      basicAuth: { verify: async (u, p) => u === 'admin' && p === ADMIN_PASSWORD, allowed: (u) => u === 'admin' },
    });
    try {
      const env = { UMBRA_ADMIN_URL: secured.url };
      const [anonymous, wrong, ok] = await Promise.all([
        shadow(['list'], env),
        shadow(['list', '--user', 'admin'], { ...env, UMBRA_PASSWORD: 'wrong' }),
        shadow(['list', '--user', 'admin', '--format', 'json'], { ...env, UMBRA_PASSWORD: ADMIN_PASSWORD }),
      ]);
      assert.equal(anonymous.code, 1, show(anonymous));
      assert.match(anonymous.stderr, /requires the credentials of a superuser.*use --user NAME with the password in UMBRA_PASSWORD/);
      assert.equal(wrong.code, 1, show(wrong));
      assert.equal(ok.code, 0, show(ok));
      assert.deepEqual(JSON.parse(ok.stdout), { links: [] });
    } finally {
      await secured.server.close();
    }
  });
});
