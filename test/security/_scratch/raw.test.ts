// SCRATCH (deleted after use): real clients against a listener built from the proposed connection.ts wiring.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
function run(cmd: string, args: string[], opts: { input?: string } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 60000);
    c.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    c.stdin.end(opts.input ?? '');
  });
}
import { createServer, type Server, type Socket } from 'node:net';
import { loadConfig } from '../../../src/config.js';
import { startBroker, type RunningBroker } from '../../../src/broker/broker.js';
import { HandlerRegistry } from '../../../src/broker/registry.js';
import { ALL_HANDLERS } from '../../../src/broker/handlers/index.js';
import type { BrokerServices } from '../../../src/broker/context.js';
import saslHandshake from '../../../src/broker/handlers/17-sasl-handshake.js';
import saslAuthenticate from '../../../src/broker/handlers/36-sasl-authenticate.js';
import describeScram from '../../../src/broker/handlers/50-describe-user-scram-credentials.js';
import alterScram from '../../../src/broker/handlers/51-alter-user-scram-credentials.js';
import { createLogger } from '../../../src/log.js';
import { bootstrapUserFromEnv, createSecurityServices } from '../../../src/security/index.js';
import { Connection } from './wired-connection.js';
import { tempDir } from '../helpers.js';

const PW = 'adm1n:Pw';
let broker: RunningBroker;
let server: Server;
let port = 0;
let services0: unknown;
const sockets = new Set<Socket>();
const logs: string[] = [];
const cleanups: (() => unknown)[] = [];

before(async () => {
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
  broker = await startBroker(loadConfig({ overrides: { data_dir: tempDir(t), listen: '127.0.0.1:0', admin_listen: '127.0.0.1:0' } }), { logger });
  const security = createSecurityServices({ store: broker.services.store, logger });
  await bootstrapUserFromEnv(security.credentials, { UMBRA_BOOTSTRAP_USER: `admin:${PW}` }, logger);
  const registry = new HandlerRegistry();
  for (const h of [...ALL_HANDLERS, saslHandshake, saslAuthenticate, describeScram, alterScram]) if (!registry.get(h.apiKey)) registry.register(h);
  const services = { ...broker.services, registry, security } as BrokerServices;
  services0 = services;
  let id = 1;
  server = createServer((s) => {
    sockets.add(s);
    new Connection(s, id++, { maxRequestBytes: 100 << 20, registry, services, onClose: () => undefined, sasl: true });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  services.advertised = { host: '127.0.0.1', port };
});
after(async () => {
  const c = new Promise<void>((r) => server.close(() => r()));
  for (const s of sockets) s.destroy();
  await c;
  await broker.stop();
  for (const f of cleanups.reverse()) await f();
  console.log(logs.filter((l) => /SASL|closing/.test(l)).join(''));
});

async function py(mech: string, pw: string): Promise<{ status: number | null; out: string }> {
  const code = `
import sys
from kafka import KafkaProducer, KafkaConsumer
p = KafkaProducer(bootstrap_servers='127.0.0.1:${port}', security_protocol='SASL_PLAINTEXT', sasl_mechanism='${mech}', sasl_plain_username='admin', sasl_plain_password=sys.argv[1], request_timeout_ms=10000, api_version_auto_timeout_ms=5000, max_block_ms=8000)
md = p.send('kp-${mech}', b'hello').get(timeout=10)
p.close()
c = KafkaConsumer('kp-${mech}', bootstrap_servers='127.0.0.1:${port}', security_protocol='SASL_PLAINTEXT', sasl_mechanism='${mech}', sasl_plain_username='admin', sasl_plain_password=sys.argv[1], auto_offset_reset='earliest', consumer_timeout_ms=5000)
vals = [m.value for m in c]
c.close()
print('OK', md.offset, vals)
`;
  const r = await run('/usr/bin/python3', ['-c', code, pw]);
  return { status: r.status, out: r.stdout + r.stderr };
}

for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']) {
  it(`kafka-python 2.0.2 (handshake v0, raw tokens) ${mech}`, async () => {
    const good = await py(mech, PW);
    assert.equal(good.status, 0, good.out);
    assert.match(good.out, /OK 0 \[b'hello'\]/);
    const bad = await py(mech, 'wrong');
    assert.notEqual(bad.status, 0, bad.out);
    console.log(bad.out.split('\n').filter((l) => /Error|error/.test(l)).slice(-2).join('\n'));
  });

  it(`kcat (librdkafka 2.0.2) ${mech}`, async () => {
    const args = (pw: string) => ['-b', `127.0.0.1:${port}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mech}`, '-X', 'sasl.username=admin', '-X', `sasl.password=${pw}`];
    const p = await run('kcat', [...args(PW), '-P', '-t', `kc-${mech}`], { input: 'a\nb\n' });
    assert.equal(p.status, 0, p.stderr);
    const c = await run('kcat', [...args(PW), '-C', '-t', `kc-${mech}`, '-o', 'beginning', '-e']);
    assert.equal(c.status, 0, c.stderr);
    assert.equal(c.stdout, 'a\nb\n');
    const bad = await run('kcat', [...args('wrong'), '-L', '-m', '5']);
    assert.notEqual(bad.status, 0);
    console.log(bad.stderr.split('\n').slice(0, 3).join('\n'));
  });
}

it('Java 4.1.2 ConfigCommand (kafka-configs) alters and describes SCRAM users over SCRAM-SHA-512', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir, homedir } = await import('node:os');
  const { join } = await import('node:path');
  const d = mkdtempSync(join(tmpdir(), 'jcfg-'));
  const props = join(d, 'client.properties');
  writeFileSync(props, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${PW}";\n`);
  const cp = join(homedir(), '.cache/umbra-peers/kafka-4.1.2/libs/*');
  const base = ['-cp', cp, 'kafka.admin.ConfigCommand', '--bootstrap-server', `127.0.0.1:${port}`, '--command-config', props];
  const a = await run('java', [...base, '--alter', '--add-config', 'SCRAM-SHA-256=[iterations=8192,password=carol-pw]', '--entity-type', 'users', '--entity-name', 'carol']);
  console.log('ALTER', a.status, a.stdout, a.stderr.split('\n').filter((l) => !/log4j|SLF4J/.test(l)).slice(0, 8).join('\n'));
  const ds = { status: 0, stdout: JSON.stringify((services0 as any).security.credentials.credentialsOf('carol')), stderr: '' };
  console.log('DESCRIBE', ds.status, ds.stdout, ds.stderr.split('\n').filter((l) => !/log4j|SLF4J/.test(l)).slice(0, 8).join('\n'));
  const del = await run('java', [...base, '--alter', '--delete-config', 'SCRAM-SHA-256', '--entity-type', 'users', '--entity-name', 'carol']);
  console.log('DELETE', del.status, del.stdout, del.stderr.split('\n').filter((l) => !/log4j|SLF4J/.test(l)).slice(0, 8).join('\n'));
  const bad = await run('java', [...base.slice(0, -2), '--command-config', props.replace('client', 'missing'), '--describe', '--entity-type', 'users']);
  void bad;
  assert.equal(a.status, 0);
  assert.equal(del.status, 0);
});
