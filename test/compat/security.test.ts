// SASL and TLS with real clients against a broker process started with two listeners: SASL_PLAINTEXT and SASL_SSL
// (a self-signed CA made here with openssl), and a user created from UMBRA_BOOTSTRAP_USER.
//   kcat (librdkafka 2.0.2) with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN, over plaintext and TLS;
//   kafka-python 2.0.2 (SaslHandshake v0 and raw tokens), kafkajs 2.2.4 and the Java client with SCRAM;
//   a wrong password fails cleanly and the broker log names the failure without the password;
//   credentials survive a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT, runJavaMain, javaConsume, javaProduce, kafkaPythonConsume, kafkaPythonProduce, kcatConsume, kcatProduce, requirePeers, runProcess } from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

const USER = 'alice';
const PASSWORD = 'pa55:word-Zq81';

/** A CA and a server certificate for 127.0.0.1/localhost, made with openssl. */
type Certificates = { ca: string; cert: string; key: string; clientCert: string; clientKey: string };

function makeCertificates(dir: string): Certificates {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=umbra-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/O=umbra-test/CN=client-one', '-keyout', 'client.key', '-out', 'client.csr');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.pem');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCert: join(dir, 'client.pem'), clientKey: join(dir, 'client.key') };
}

describe('SASL and TLS with real clients', () => {
  let broker: UmbraBroker;
  let dir: string;
  let certs: Certificates;
  const sasl = (mechanism: string): Record<string, string> => ({
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanisms': mechanism,
    'sasl.username': USER,
    'sasl.password': PASSWORD,
  });
  const plainBootstrap = (): string => `127.0.0.1:${broker.listeners['SASL_PLAINTEXT']}`;
  const tlsBootstrap = (): string => `127.0.0.1:${broker.listeners['SASL_SSL']}`;

  before(async () => {
    requirePeers(['kcat', 'kafka-python', 'java']);
    dir = mkdtempSync(join(tmpdir(), 'umbra-security-'));
    certs = makeCertificates(dir);
    broker = await startUmbra({
      args: ['--superuser', USER],
      env: { UMBRA_BOOTSTRAP_USER: `${USER}:${PASSWORD}` },
      brokerConfigs: { 'group.initial.rebalance.delay.ms': 0 },
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
    await broker?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']) {
    it(`kcat produces and consumes with ${mechanism}`, async () => {
      const topic = `kcat-${mechanism.toLowerCase()}`;
      await kcatProduce(plainBootstrap(), topic, [{ key: 'k', value: `hello over ${mechanism}` }], { config: sasl(mechanism) });
      const records = await kcatConsume(plainBootstrap(), topic, { config: sasl(mechanism) });
      assert.deepEqual(records.map((r) => r.payload), [`hello over ${mechanism}`]);
    });
  }

  it('kcat over TLS (SASL_SSL) verifies the broker against the test CA', async () => {
    const config = { ...sasl('SCRAM-SHA-512'), 'security.protocol': 'SASL_SSL', 'ssl.ca.location': certs.ca };
    await kcatProduce(tlsBootstrap(), 'over-tls', [{ value: 'encrypted' }], { config });
    const records = await kcatConsume(tlsBootstrap(), 'over-tls', { config });
    assert.deepEqual(records.map((r) => r.payload), ['encrypted']);
  });

  it('a TLS listener with client_auth: required admits only clients with a certificate from its CA', async () => {
    const bootstrap = `127.0.0.1:${broker.listeners['MTLS']}`;
    const tls = { 'security.protocol': 'SSL', 'ssl.ca.location': certs.ca };
    const withCert = { ...tls, 'ssl.certificate.location': certs.clientCert, 'ssl.key.location': certs.clientKey };
    await kcatProduce(bootstrap, 'mtls', [{ value: 'with a client certificate' }], { config: withCert });
    const records = await kcatConsume(bootstrap, 'mtls', { config: withCert });
    assert.deepEqual(records.map((r) => r.payload), ['with a client certificate']);
    const without = await runProcess('kcat', ['-b', bootstrap, '-L', '-m', '5', ...Object.entries(tls).flatMap(([k, v]) => ['-X', `${k}=${v}`])], {
      allowFailure: true,
      timeoutMs: 20_000,
    });
    assert.notEqual(without.code, 0, 'a client without a certificate must not get in');
  });

  it('a wrong password fails cleanly, and the log names the failure but never the password', async () => {
    const wrong = { ...sasl('SCRAM-SHA-256'), 'sasl.password': 'not-the-password' };
    const res = await runProcess('kcat', ['-b', plainBootstrap(), '-L', '-m', '5', ...Object.entries(wrong).flatMap(([k, v]) => ['-X', `${k}=${v}`])], {
      allowFailure: true,
      timeoutMs: 20_000,
    });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /Authentication failed/);
    await new Promise((r) => setTimeout(r, 300));
    assert.match(broker.logs(), /SASL authentication failed/);
    assert.match(broker.logs(), /"user":"alice"/);
    assert.equal(broker.logs().includes(PASSWORD), false, 'the password is in the broker log');
    assert.equal(broker.logs().includes('not-the-password'), false, 'a tried password is in the broker log');
  });

  it('kafka-python 2.0.2 authenticates with SCRAM (handshake v0, raw tokens)', { timeout: 60_000 }, async () => {
    const env = {
      ...process.env,
      KAFKA_PYTHON_CLIENT_CONFIG: JSON.stringify({ security_protocol: 'SASL_PLAINTEXT', sasl_mechanism: 'SCRAM-SHA-512', sasl_plain_username: USER, sasl_plain_password: PASSWORD }),
    };
    const produced = await kafkaPythonProduce(plainBootstrap(), 'kp-sasl', 50, { env });
    assert.equal(produced.acked, 50);
    const consumed = await kafkaPythonConsume(plainBootstrap(), 'kp-sasl', 'kp-sasl-group', 50, 20_000, { env });
    assert.equal(consumed.count, 50);
  });

  it('kafkajs authenticates with SCRAM-SHA-256', { timeout: 60_000 }, async () => {
    const kafka = new Kafka({
      brokers: [plainBootstrap()],
      clientId: 'kafkajs-sasl',
      logLevel: logLevel.NOTHING,
      sasl: { mechanism: 'scram-sha-256', username: USER, password: PASSWORD },
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'kjs-sasl', messages: [{ value: 'one' }, { value: 'two' }] });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('kjs-sasl');
    await admin.disconnect();
    assert.equal(offsets[0]!.high, '2');
  });

  it('the Java client authenticates with SCRAM-SHA-512', { timeout: 90_000 }, async () => {
    const config = {
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${USER}" password="${PASSWORD}";`,
    };
    const produced = await javaProduce(plainBootstrap(), 'java-sasl', 100, { config });
    assert.equal(produced.acked, 100);
    const consumed = await javaConsume(plainBootstrap(), 'java-sasl', 'java-sasl-group', 100, 30_000, { config });
    assert.equal(consumed.count, 100);
  });

  it('the umbra CLI logs in with --user and UMBRA_PASSWORD, and creates users', { timeout: 60_000 }, async () => {
    const cli = (args: string[], env: NodeJS.ProcessEnv, input?: string) =>
      runProcess(process.execPath, [join(REPO_ROOT, 'bin', 'umbra.js'), ...args], { env, allowFailure: true, timeoutMs: 30_000, ...(input ? { input } : {}) });
    const withPassword = { ...process.env, UMBRA_PASSWORD: PASSWORD };
    const created = await cli(['topic', 'create', 'cli-sasl', '-p', '2', '--brokers', plainBootstrap(), '--user', USER], withPassword);
    assert.equal(created.code, 0, created.stderr);
    const listed = await cli(['topic', 'list', '--brokers', plainBootstrap(), '--user', USER, '--format', 'json'], withPassword);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /cli-sasl/);
    const noPassword = await cli(['topic', 'list', '--brokers', plainBootstrap(), '--user', USER], { ...process.env, UMBRA_PASSWORD: '' });
    assert.equal(noPassword.code, 2);
    assert.match(noPassword.stderr, /UMBRA_PASSWORD/);
    const bob = await cli(['user', 'create', 'bob', '--password-stdin', '--brokers', plainBootstrap(), '--user', USER], withPassword, 'bobs-Secret-77\n');
    assert.equal(bob.code, 0, bob.stderr);
    for (const r of [created, listed, bob]) assert.equal((r.stdout + r.stderr).includes(PASSWORD), false, 'the CLI printed a password');
  });

  it('the admin API asks a secured broker\'s superusers for HTTP basic credentials', async () => {
    const get = (auth?: string) => fetch(`${broker.adminUrl}/v1/cluster`, auth ? { headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } } : {});
    const none = await get();
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { code: string }).code, 'UNAUTHENTICATED');
    assert.equal((await get(`${USER}:wrong`)).status, 401);
    assert.equal((await get('bob:bobs-Secret-77')).status, 403, 'a valid user who is not a superuser');
    const ok = await get(`${USER}:${PASSWORD}`);
    assert.equal(ok.status, 200);
    assert.ok(((await ok.json()) as { clusterId: string }).clusterId);
    // no secret in any admin response or metric
    for (const path of ['/v1/cluster', '/v1/brokers', '/v1/topics', '/metrics', '/v1/openapi.json']) {
      const res = await fetch(`${broker.adminUrl}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } });
      assert.equal(res.status, 200, path);
      const body = await res.text();
      assert.equal(body.includes(PASSWORD) || body.includes('bobs-Secret-77'), false, `${path} shows a password`);
    }
  });

  it("Kafka's kafka-configs describes the SCRAM users (DescribeUserScramCredentials + DescribeClientQuotas)", { timeout: 60_000 }, async () => {
    const props = join(dir, 'admin.properties');
    writeFileSync(
      props,
      [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-512',
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${USER}" password="${PASSWORD}";`,
        '',
      ].join('\n'),
    );
    const res = await runJavaMain('kafka.admin.ConfigCommand', ['--bootstrap-server', plainBootstrap(), '--command-config', props, '--describe', '--entity-type', 'users'], {
      allowFailure: true,
      timeoutMs: 60_000,
    });
    assert.equal(res.code, 0, res.stderr.slice(-2000));
    assert.match(res.stdout, /SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=\d+, SCRAM-SHA-512=iterations=\d+/);
    assert.equal(res.stdout.includes(PASSWORD), false);
  });

  it('credentials survive a restart; unauthenticated requests are refused', { timeout: 60_000 }, async () => {
    broker = await broker.restart();
    await kcatProduce(plainBootstrap(), 'after-restart', [{ value: 'still here' }], { config: sasl('SCRAM-SHA-256') });
    const records = await kcatConsume(plainBootstrap(), 'after-restart', { config: sasl('SCRAM-SHA-256') });
    assert.deepEqual(records.map((r) => r.payload), ['still here']);
    const anonymous = await runProcess('kcat', ['-b', plainBootstrap(), '-L', '-m', '3'], { allowFailure: true, timeoutMs: 20_000 });
    assert.notEqual(anonymous.code, 0, 'a client without SASL must not get metadata');
    assert.equal(broker.logs().includes(PASSWORD), false);
  });
});
