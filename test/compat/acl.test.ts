// ACLs with real clients against a broker process started as a new user would start a locked-down one:
//   umbra start --sasl --authorization acl --superuser admin   (UMBRA_BOOTSTRAP_USER creates admin)
// then `umbra user create bob --password-stdin --user admin` over the Kafka API.
//   - kafkajs's admin, kafka-python 2.0.2's KafkaAdminClient and the Java AdminClient each create, describe and
//     delete ACLs (as the superuser; bob may not);
//   - bob (kafkajs, SCRAM) gets TOPIC_AUTHORIZATION_FAILED producing to a topic he may only describe; a PREFIXED
//     ALLOW lets him; a DENY on the topic overrides it;
//   - without READ on the group bob cannot join it (and with it he can consume);
//   - bob's metadata (kafkajs, kcat) shows only the topics he may describe;
//   - ACLs survive a restart; no password appears in the broker log or the CLI's output.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import kafkajs, { type Kafka as KafkaType } from 'kafkajs';
import {
  REPO_ROOT,
  aclArgs,
  javaAdmin,
  kafkaPythonCreateAcls,
  kafkaPythonDeleteAcls,
  kafkaPythonDescribeAcls,
  requirePeers,
  runProcess,
  type AclJson,
  type KcatMetadata,
} from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

const ADMIN_PASSWORD = 'adm1n-Secret:x9';
const BOB_PASSWORD = 'b0b-Secret-Pw4';

/** Every `type` (kafkajs error type) and message along an error's cause chain, for matching. */
function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 6; depth++) {
    const o = e as { type?: string; name?: string; message?: string; cause?: unknown; originalError?: unknown };
    parts.push([o.type, o.name, o.message].filter(Boolean).join(' '));
    e = o.cause ?? o.originalError;
  }
  return parts.join(' <- ');
}

describe('ACLs with real clients (SASL, authorization: acl)', () => {
  let broker: UmbraBroker;
  const cliOutput: string[] = [];

  const kafkaFor = (user: string, password: string): KafkaType =>
    new Kafka({
      brokers: [broker.bootstrap],
      clientId: `acl-compat-${user}`,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      sasl: { mechanism: 'scram-sha-256', username: user, password },
    });
  const asAdmin = (): KafkaType => kafkaFor('admin', ADMIN_PASSWORD);
  const asBob = (): KafkaType => kafkaFor('bob', BOB_PASSWORD);

  /** An ACL through kafkajs's admin, as the superuser. */
  async function grant(acl: { resourceType: number; resourceName: string; resourcePatternType?: number; principal?: string; operation: number; permissionType?: number }): Promise<void> {
    const admin = asAdmin().admin();
    await admin.connect();
    try {
      await admin.createAcls({
        acl: [
          {
            resourcePatternType: ResourcePatternTypes.LITERAL,
            principal: 'User:bob',
            host: '*',
            permissionType: AclPermissionTypes.ALLOW,
            ...acl,
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
  }

  async function bobProduces(topic: string): Promise<void> {
    const producer = asBob().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: `to ${topic}` }] });
    } finally {
      await producer.disconnect();
    }
  }

  const javaSasl = (user: string, password: string): Record<string, string> => ({
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`,
  });
  const pythonSasl = (user: string, password: string): NodeJS.ProcessEnv => ({
    ...process.env,
    KAFKA_PYTHON_CLIENT_CONFIG: JSON.stringify({ security_protocol: 'SASL_PLAINTEXT', sasl_mechanism: 'SCRAM-SHA-512', sasl_plain_username: user, sasl_plain_password: password }),
  });

  before(async () => {
    requirePeers(['kcat', 'kafka-python', 'java']);
    broker = await startUmbra({
      args: ['--sasl', '--authorization', 'acl', '--superuser', 'admin'],
      env: { UMBRA_BOOTSTRAP_USER: `admin:${ADMIN_PASSWORD}` },
      brokerConfigs: { 'group.initial.rebalance.delay.ms': 0 },
    });
    const created = await runProcess(process.execPath, [join(REPO_ROOT, 'bin', 'umbra.js'), 'user', 'create', 'bob', '--password-stdin', '--user', 'admin', '--brokers', broker.bootstrap], {
      input: `${BOB_PASSWORD}\n`,
      env: { ...process.env, UMBRA_PASSWORD: ADMIN_PASSWORD },
    });
    cliOutput.push(created.stdout, created.stderr);

    const admin = asAdmin().admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: ['sales-eu', 'sales-us', 'hr-salaries'].map((topic) => ({ topic, numPartitions: 1 })),
    });
    await admin.disconnect();
  });
  after(async () => {
    await broker?.destroy();
  });

  it('kafkajs admin creates, describes and deletes ACLs; bob may not', async () => {
    const admin = asAdmin().admin();
    await admin.connect();
    try {
      await admin.createAcls({
        acl: [
          {
            resourceType: AclResourceTypes.TOPIC,
            resourceName: 'kjs-',
            resourcePatternType: ResourcePatternTypes.PREFIXED,
            principal: 'User:carol',
            host: '*',
            operation: AclOperationTypes.READ,
            permissionType: AclPermissionTypes.ALLOW,
          },
        ],
      });
      const described = await admin.describeAcls({
        resourceType: AclResourceTypes.TOPIC,
        resourceName: 'kjs-orders',
        resourcePatternType: ResourcePatternTypes.MATCH,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      assert.deepEqual(
        described.resources.map((r) => [r.resourceName, r.resourcePatternType, r.acls.map((a) => [a.principal, a.operation])]),
        [['kjs-', ResourcePatternTypes.PREFIXED, [['User:carol', AclOperationTypes.READ]]]],
      );
      const deleted = await admin.deleteAcls({
        filters: [{ resourceType: AclResourceTypes.TOPIC, resourceName: 'kjs-', resourcePatternType: ResourcePatternTypes.PREFIXED, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }],
      });
      assert.equal(deleted.filterResponses[0]!.matchingAcls.length, 1);
      const after = await admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, principal: 'User:carol', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
      assert.deepEqual(after.resources, []);
    } finally {
      await admin.disconnect();
    }

    const bobAdmin = asBob().admin();
    await bobAdmin.connect();
    try {
      await assert.rejects(
        bobAdmin.createAcls({
          acl: [{ resourceType: AclResourceTypes.TOPIC, resourceName: '*', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:bob', host: '*', operation: AclOperationTypes.ALL, permissionType: AclPermissionTypes.ALLOW }],
        }),
        (err) => /CLUSTER_AUTHORIZATION_FAILED/.test(describeError(err)),
        'bob cannot grant himself anything',
      );
    } finally {
      await bobAdmin.disconnect();
    }
  });

  it("kafka-python's KafkaAdminClient creates, describes and deletes ACLs", { timeout: 60_000 }, async () => {
    const env = pythonSasl('admin', ADMIN_PASSWORD);
    const acl: Partial<AclJson> = { resourceType: 'GROUP', name: 'kp-group', patternType: 'LITERAL', principal: 'User:carol', host: '*', operation: 'READ', permission: 'ALLOW' };
    const created = await kafkaPythonCreateAcls(broker.bootstrap, [acl], { env });
    assert.deepEqual(created.failed, []);
    assert.equal(created.created.length, 1);
    const described = await kafkaPythonDescribeAcls(broker.bootstrap, { resourceType: 'GROUP', principal: 'User:carol' }, { env });
    assert.deepEqual(described.acls, [acl]);
    const deleted = await kafkaPythonDeleteAcls(broker.bootstrap, { resourceType: 'GROUP', name: 'kp-group', patternType: 'LITERAL' }, { env });
    assert.deepEqual(deleted.deleted, [acl]);
    assert.deepEqual((await kafkaPythonDescribeAcls(broker.bootstrap, { principal: 'User:carol' }, { env })).acls, []);
  });

  it('the Java AdminClient creates, describes and deletes ACLs', { timeout: 90_000 }, async () => {
    const clientConfig = javaSasl('admin', ADMIN_PASSWORD);
    const acl: AclJson = { resourceType: 'TOPIC', name: 'java-', patternType: 'PREFIXED', principal: 'User:carol', host: '*', operation: 'WRITE', permission: 'DENY' };
    const created = await javaAdmin<{ created: AclJson }>(broker.bootstrap, ['create-acl', ...aclArgs(acl)], { clientConfig });
    assert.deepEqual(created.created, acl);
    const described = await javaAdmin<{ acls: AclJson[] }>(broker.bootstrap, ['describe-acls', ...aclArgs({ principal: 'User:carol' })], { clientConfig });
    assert.deepEqual(described.acls, [acl]);
    const deleted = await javaAdmin<{ acls: AclJson[] }>(broker.bootstrap, ['delete-acls', ...aclArgs({ resourceType: 'TOPIC', name: 'java-orders', patternType: 'MATCH' })], { clientConfig });
    assert.deepEqual(deleted.acls, [acl]);
    const none = await javaAdmin<{ acls: AclJson[] }>(broker.bootstrap, ['describe-acls', ...aclArgs({ principal: 'User:carol' })], { clientConfig });
    assert.deepEqual(none.acls, []);
  });

  it('bob without WRITE gets TOPIC_AUTHORIZATION_FAILED; a PREFIXED ALLOW lets him produce; a DENY overrides it', { timeout: 60_000 }, async () => {
    // DESCRIBE only: Metadata answers, the Produce itself is refused
    await grant({ resourceType: AclResourceTypes.TOPIC, resourceName: 'sales-eu', operation: AclOperationTypes.DESCRIBE });
    await assert.rejects(bobProduces('sales-eu'), (err) => /TOPIC_AUTHORIZATION_FAILED/.test(describeError(err)));

    await grant({ resourceType: AclResourceTypes.TOPIC, resourceName: 'sales-', resourcePatternType: ResourcePatternTypes.PREFIXED, operation: AclOperationTypes.WRITE });
    await bobProduces('sales-eu');
    await bobProduces('sales-us');

    await grant({ resourceType: AclResourceTypes.TOPIC, resourceName: 'sales-eu', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.DENY });
    await assert.rejects(bobProduces('sales-eu'), (err) => /TOPIC_AUTHORIZATION_FAILED/.test(describeError(err)));
    await bobProduces('sales-us');
  });

  it('without READ on the group bob cannot join it; with it he consumes', { timeout: 60_000 }, async () => {
    await grant({ resourceType: AclResourceTypes.TOPIC, resourceName: 'sales-', resourcePatternType: ResourcePatternTypes.PREFIXED, operation: AclOperationTypes.READ });
    // DESCRIBE on the group gets bob through FindCoordinator, so the refusal is JoinGroup's own
    await grant({ resourceType: AclResourceTypes.GROUP, resourceName: 'reports', operation: AclOperationTypes.DESCRIBE });

    const refused = asBob().consumer({ groupId: 'reports', retry: { retries: 0, restartOnFailure: async () => false } });
    const crashed = new Promise<unknown>((resolve) => refused.on(refused.events.CRASH, (e) => resolve(e.payload.error)));
    await refused.connect();
    await refused.subscribe({ topic: 'sales-us', fromBeginning: true });
    await refused.run({ eachMessage: async () => undefined });
    const error = await crashed;
    await refused.disconnect();
    assert.match(describeError(error), /GROUP_AUTHORIZATION_FAILED/);
    // and it was JoinGroup (key 11) that refused, not FindCoordinator: the broker logs the denial
    const joinDenied = /"principal":"User:bob"[^\n]*"operation":"READ","resource":"GROUP:reports","apiKey":11/;
    for (let i = 0; i < 50 && !joinDenied.test(broker.logs()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(broker.logs(), joinDenied);

    await grant({ resourceType: AclResourceTypes.GROUP, resourceName: 'reports', operation: AclOperationTypes.READ });
    const consumer = asBob().consumer({ groupId: 'reports' });
    const values: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'sales-us', fromBeginning: true });
    const gotTwo = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value?.toString() ?? '');
          if (values.length >= 2) resolve();
        },
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bob's consumer read ${values.length} of 2 records in 30 s`)), 30_000);
    });
    try {
      await Promise.race([gotTwo, timedOut]);
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
    }
    assert.deepEqual(values, ['to sales-us', 'to sales-us']);
  });

  it('bob sees only the topics he may describe (kafkajs and kcat)', { timeout: 60_000 }, async () => {
    const admin = asBob().admin();
    await admin.connect();
    try {
      assert.deepEqual((await admin.listTopics()).sort(), ['sales-eu', 'sales-us']);
      await assert.rejects(admin.fetchTopicMetadata({ topics: ['hr-salaries'] }), (err) => /TOPIC_AUTHORIZATION_FAILED/.test(describeError(err)));
    } finally {
      await admin.disconnect();
    }
    const sasl = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=SCRAM-SHA-256', '-X', 'sasl.username=bob', '-X', `sasl.password=${BOB_PASSWORD}`];
    const r = await runProcess('kcat', ['-b', broker.bootstrap, '-L', '-J', ...sasl], { timeoutMs: 30_000 });
    const md = JSON.parse(r.stdout.trim().split('\n').pop()!) as KcatMetadata;
    assert.deepEqual(md.topics.map((t) => t.topic).sort(), ['sales-eu', 'sales-us']);
    const asAdminMd = JSON.parse(
      (await runProcess('kcat', ['-b', broker.bootstrap, '-L', '-J', ...sasl.slice(0, 4), '-X', 'sasl.username=admin', '-X', `sasl.password=${ADMIN_PASSWORD}`], { timeoutMs: 30_000 })).stdout.trim().split('\n').pop()!,
    ) as KcatMetadata;
    assert.ok(asAdminMd.topics.some((t) => t.topic === 'hr-salaries'), 'the superuser sees it');
  });

  it('ACLs survive a restart, and no password is in the broker log or the CLI output', { timeout: 90_000 }, async () => {
    const logsBefore = broker.logs();
    broker = await broker.restart();
    const persisted = await javaAdmin<{ acls: AclJson[] }>(broker.bootstrap, ['describe-acls', ...aclArgs({ principal: 'User:bob' })], { clientConfig: javaSasl('admin', ADMIN_PASSWORD) });
    const summary = persisted.acls.map((a) => `${a.permission} ${a.operation} ${a.resourceType}:${a.patternType}:${a.name}`).sort();
    assert.deepEqual(summary, [
      'ALLOW DESCRIBE GROUP:LITERAL:reports',
      'ALLOW DESCRIBE TOPIC:LITERAL:sales-eu',
      'ALLOW READ GROUP:LITERAL:reports',
      'ALLOW READ TOPIC:PREFIXED:sales-',
      'ALLOW WRITE TOPIC:PREFIXED:sales-',
      'DENY WRITE TOPIC:LITERAL:sales-eu',
    ]);
    await bobProduces('sales-us');
    await assert.rejects(bobProduces('sales-eu'), (err) => /TOPIC_AUTHORIZATION_FAILED/.test(describeError(err)), 'the DENY is still enforced');

    const logs = logsBefore + broker.logs();
    assert.match(logs, /authorization denied/, 'denials are logged');
    for (const secret of [ADMIN_PASSWORD, BOB_PASSWORD]) {
      assert.equal(logs.includes(secret), false, 'a password is in the broker log');
      assert.equal(cliOutput.join('\n').includes(secret), false, 'a password is in the CLI output');
    }
  });
});
