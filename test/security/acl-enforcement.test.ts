// ACL enforcement in every handler, against an in-process broker with `authorization: acl`, a SASL listener, the
// superuser `admin` and the users `bob` and `carol` (SCRAM). Each API is checked where Kafka checks it: which
// operation on which resource, which error code, and where the error goes (per partition, per topic, per group,
// whole response), including the cases where authorization must come before existence (a topic one may not
// describe is TOPIC_AUTHORIZATION_FAILED, never UNKNOWN_TOPIC_OR_PARTITION). ACLs are set through the broker's
// authorizer between tests; every test starts with bob and carol holding no ACLs.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startBroker, type RunningBroker } from '../../src/broker/broker.js';
import { createLogger } from '../../src/log.js';
import { KafkaClient } from '../../src/client/client.js';
import { saslAuthenticator } from '../../src/security/sasl-client.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { ZERO_UUID } from '../../src/protocol/primitives.js';
import {
  ANY_ACL_FILTER,
  AUTHORIZED_OPERATIONS_OMITTED,
  AclOperation,
  AclPermissionType,
  PatternType,
  ResourceType,
  supportedOperations,
  toOperationsBitField,
  type AclOperationName,
} from '../../src/security/acl.js';
import type { Authorizer } from '../../src/security/authorizer.js';

const PASSWORD = 'enforcement-pw-7Qx';
const TOPIC = 'orders';
const OTHER = 'payments';
const GROUP = 'billing';
const CONFIG_TOPIC = 2;
const CONFIG_BROKER = 4;

type Type = 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID';

describe('ACL enforcement per API (in-process broker, authorization: acl)', () => {
  let dir: string;
  let broker: RunningBroker;
  let auth: Authorizer;
  let admin: KafkaClient;
  let bob: KafkaClient;
  let carol: KafkaClient;
  let otherTopicId: string;

  const clientFor = (user: string): KafkaClient =>
    new KafkaClient({
      brokers: `127.0.0.1:${broker.port}`,
      clientId: `acl-${user}`,
      retries: 0,
      authenticate: saslAuthenticator({ mechanism: 'SCRAM-SHA-256', username: user, password: PASSWORD }),
    });

  const acl = (permission: 'ALLOW' | 'DENY', user: string, op: AclOperationName, type: Type, name: string, pattern: 'LITERAL' | 'PREFIXED' = 'LITERAL') => ({
    resourceType: ResourceType[type],
    resourceName: name,
    patternType: PatternType[pattern],
    principal: `User:${user}`,
    host: '*',
    operation: AclOperation[op],
    permissionType: AclPermissionType[permission],
  });
  const allow = async (user: string, op: AclOperationName, type: Type, name: string, pattern: 'LITERAL' | 'PREFIXED' = 'LITERAL'): Promise<void> => {
    const [r] = await auth.createAcls([acl('ALLOW', user, op, type, name, pattern)]);
    assert.equal(r!.errorCode, ErrorCode.NONE);
  };
  const deny = async (user: string, op: AclOperationName, type: Type, name: string): Promise<void> => {
    const [r] = await auth.createAcls([acl('DENY', user, op, type, name)]);
    assert.equal(r!.errorCode, ErrorCode.NONE);
  };
  const ops = (...names: AclOperationName[]): number => toOperationsBitField(names.map((n) => AclOperation[n]));
  const batch = (value: string): Buffer => buildRecordBatch({ records: [{ value }] });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-acl-enforcement-'));
    const config = loadConfig({
      overrides: {
        data_dir: dir,
        listen: '127.0.0.1:0',
        admin_listen: '127.0.0.1:0',
        log_level: 'silent',
        sasl: true,
        authorization: 'acl',
        superusers: ['admin'],
        broker: { 'group.initial.rebalance.delay.ms': 0 },
      },
    });
    broker = await startBroker(config, { logger: createLogger({ level: 'silent' }) });
    assert.ok(broker.services.authorizer, 'authorization: acl starts an authorizer');
    auth = broker.services.authorizer;
    for (const user of ['admin', 'bob', 'carol']) {
      await broker.services.security.credentials.setPasswords(user, PASSWORD, { mechanisms: ['SCRAM-SHA-256'] });
    }
    admin = clientFor('admin');
    bob = clientFor('bob');
    carol = clientFor('carol');
    await admin.createTopics([
      { name: TOPIC, numPartitions: 2 },
      { name: OTHER, numPartitions: 1 },
    ]);
    otherTopicId = broker.services.topics.get(OTHER)!.topicId;
    await admin.produce(TOPIC, 0, batch('first'));
  });
  afterEach(async () => {
    await auth.deleteAcls([
      { ...ANY_ACL_FILTER, principal: 'User:bob' },
      { ...ANY_ACL_FILTER, principal: 'User:carol' },
    ]);
  });
  after(async () => {
    await Promise.all([admin?.close(), bob?.close(), carol?.close()]);
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('data path', () => {
    const produce = (client: KafkaClient, topics: { name: string; partitions: number[] }[], version = 9) =>
      client.request(
        ApiKey.Produce,
        {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5000,
          topicData: topics.map((t) => ({ name: t.name, partitionData: t.partitions.map((index) => ({ index, records: batch(`to ${t.name}`) })) })),
        },
        { version },
      );
    const codes = (res: Awaited<ReturnType<typeof produce>>): Record<string, number[]> =>
      Object.fromEntries(res.responses.map((t) => [t.name, t.partitionResponses.map((p) => p.errorCode)]));

    it('Produce: WRITE on each topic, TOPIC_AUTHORIZATION_FAILED per partition, before existence', async () => {
      const denied = await produce(bob, [
        { name: TOPIC, partitions: [0, 1] },
        { name: 'no-such-topic', partitions: [0] },
      ]);
      assert.deepEqual(codes(denied), {
        [TOPIC]: [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        'no-such-topic': [ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      });

      await allow('bob', 'WRITE', 'TOPIC', TOPIC);
      await allow('bob', 'WRITE', 'TOPIC', 'no-such-topic');
      const mixed = await produce(bob, [
        { name: TOPIC, partitions: [0, 1] },
        { name: OTHER, partitions: [0] },
        { name: 'no-such-topic', partitions: [0] },
      ]);
      assert.deepEqual(codes(mixed), {
        [TOPIC]: [ErrorCode.NONE, ErrorCode.NONE],
        [OTHER]: [ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        'no-such-topic': [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      });
    });

    it('Produce v13 by topic id: an unknown id is UNKNOWN_TOPIC_ID, a known one is checked by its name', async () => {
      const res = await bob.request(
        ApiKey.Produce,
        {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5000,
          topicData: [
            { topicId: otherTopicId, partitionData: [{ index: 0, records: batch('x') }] },
            { topicId: '11111111-2222-3333-4444-555555555555', partitionData: [{ index: 0, records: batch('y') }] },
          ],
        },
        { version: 13 },
      );
      assert.deepEqual(
        res.responses.map((t) => t.partitionResponses[0]!.errorCode),
        [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.UNKNOWN_TOPIC_ID],
      );
    });

    it('Produce and Fetch ask the authorizer once per distinct topic, not per partition', async () => {
      await allow('bob', 'ALL', 'TOPIC', TOPIC);
      const original = auth.authorize.bind(auth);
      let calls = 0;
      auth.authorize = (...args) => {
        calls++;
        return original(...args);
      };
      try {
        await produce(bob, [
          { name: TOPIC, partitions: [0, 1] },
          { name: OTHER, partitions: [0] },
        ]);
        assert.equal(calls, 2, 'two topics, three partitions: two checks');
        calls = 0;
        await bob.request(
          ApiKey.Fetch,
          {
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 1 << 20,
            isolationLevel: 0,
            topics: [{ topic: TOPIC, partitions: [0, 1].map((partition) => ({ partition, fetchOffset: 0, partitionMaxBytes: 1 << 20 })) }],
          },
          { version: 12 },
        );
        assert.equal(calls, 1);
      } finally {
        auth.authorize = original;
      }
    });

    it('a PREFIXED ALLOW grants, and a DENY overrides it', async () => {
      await allow('bob', 'WRITE', 'TOPIC', 'ord', 'PREFIXED');
      assert.deepEqual(codes(await produce(bob, [{ name: TOPIC, partitions: [0] }])), { [TOPIC]: [ErrorCode.NONE] });
      await deny('bob', 'WRITE', 'TOPIC', TOPIC);
      assert.deepEqual(codes(await produce(bob, [{ name: TOPIC, partitions: [0] }])), { [TOPIC]: [ErrorCode.TOPIC_AUTHORIZATION_FAILED] });
    });

    it('acks=0 without WRITE closes the connection (how Kafka tells an acks=0 producer)', async () => {
      const client = clientFor('bob');
      try {
        const conn = await client.connection();
        await conn.sendWithoutResponse(
          ApiKey.Produce,
          { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch('lost') }] }] },
          { version: 9 },
        );
        await assert.rejects(conn.request(ApiKey.Metadata, { topics: [] }, { version: 12 }), 'the broker closed the connection');
        assert.equal(conn.isClosed, true);
      } finally {
        await client.close();
      }
    });

    it('Fetch: READ on each topic (consumer), CLUSTER_ACTION for a follower', async () => {
      const fetch = (replicaId: number, topic = TOPIC) =>
        bob.request(
          ApiKey.Fetch,
          {
            replicaId,
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 1 << 20,
            isolationLevel: 0,
            topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
          },
          { version: 12 },
        );
      const first = (res: Awaited<ReturnType<typeof fetch>>) => res.responses[0]!.partitions[0]!;
      assert.equal(first(await fetch(-1)).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      assert.equal(first(await fetch(-1)).records?.length ?? 0, 0);
      assert.equal(first(await fetch(-1, 'no-such-topic')).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      await allow('bob', 'READ', 'TOPIC', TOPIC);
      const ok = first(await fetch(-1));
      assert.equal(ok.errorCode, ErrorCode.NONE);
      assert.ok((ok.records?.length ?? 0) > 0, "records come back");
      assert.equal(first(await fetch(0)).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'a follower needs CLUSTER_ACTION, not READ');
      await allow('bob', 'CLUSTER_ACTION', 'CLUSTER', 'kafka-cluster');
      await deny('bob', 'READ', 'TOPIC', TOPIC);
      assert.equal(first(await fetch(0)).errorCode, ErrorCode.NONE, 'CLUSTER_ACTION covers every topic for a follower');
    });

    it('ListOffsets: DESCRIBE on the topic (implied by READ), timestamp and offset -1 when refused', async () => {
      const list = () =>
        bob.request(ApiKey.ListOffsets, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
        });
      const refused = (await list()).topics[0]!.partitions[0]!;
      assert.deepEqual([refused.errorCode, refused.timestamp, refused.offset], [ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, -1]);
      await allow('bob', 'READ', 'TOPIC', TOPIC);
      const ok = (await list()).topics[0]!.partitions[0]!;
      assert.equal(ok.errorCode, ErrorCode.NONE);
      assert.ok(ok.offset >= 1);
    });

    it('OffsetForLeaderEpoch: DESCRIBE on the topic, or CLUSTER_ACTION', async () => {
      const ask = () =>
        bob.request(ApiKey.OffsetForLeaderEpoch, {
          replicaId: -1,
          topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
        });
      assert.equal((await ask()).topics[0]!.partitions[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      await allow('bob', 'CLUSTER_ACTION', 'CLUSTER', 'kafka-cluster');
      assert.equal((await ask()).topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    });

    it('DeleteRecords: DELETE on the topic, low watermark -1 when refused', async () => {
      const del = (topic: string) => bob.request(ApiKey.DeleteRecords, { timeoutMs: 5000, topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 0 }] }] });
      const refused = (await del(TOPIC)).topics[0]!.partitions[0]!;
      assert.deepEqual([refused.errorCode, refused.lowWatermark], [ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1]);
      assert.equal((await del('no-such-topic')).topics[0]!.partitions[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      await allow('bob', 'DELETE', 'TOPIC', TOPIC);
      assert.equal((await del(TOPIC)).topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    });

    it('InitProducerId: IDEMPOTENT_WRITE on the cluster, or WRITE on any topic; else CLUSTER_AUTHORIZATION_FAILED', async () => {
      const init = () => bob.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
      const refused = await init();
      assert.deepEqual([refused.errorCode, refused.producerId, refused.producerEpoch], [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, -1, -1]);
      await allow('bob', 'WRITE', 'TOPIC', 'somewhere-', 'PREFIXED');
      assert.equal((await init()).errorCode, ErrorCode.NONE, 'WRITE on some topic is enough (authorizeByResourceType)');
      assert.equal((await carol.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 })).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      await allow('carol', 'IDEMPOTENT_WRITE', 'CLUSTER', 'kafka-cluster');
      assert.equal((await carol.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 })).errorCode, ErrorCode.NONE);
      const txn = await carol.request(ApiKey.InitProducerId, { transactionalId: 'tx-1', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
      assert.equal(txn.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    });
  });

  describe('Metadata', () => {
    const metadata = (client: KafkaClient, topics: { name?: string | null; topicId?: string }[] | null, opts: { allowAutoTopicCreation?: boolean; ops?: boolean } = {}) =>
      client.request(
        ApiKey.Metadata,
        {
          topics: topics === null ? null : topics.map((t) => ({ name: t.name ?? null, topicId: t.topicId ?? ZERO_UUID })),
          allowAutoTopicCreation: opts.allowAutoTopicCreation ?? false,
          includeTopicAuthorizedOperations: opts.ops ?? false,
          includeClusterAuthorizedOperations: opts.ops ?? false,
        },
        { version: opts.ops ? 10 : 12 },
      );

    it('all topics: only those the principal may describe, silently', async () => {
      assert.deepEqual((await metadata(bob, null)).topics.map((t) => t.name), []);
      await allow('bob', 'READ', 'TOPIC', TOPIC);
      assert.deepEqual((await metadata(bob, null)).topics.map((t) => t.name), [TOPIC]);
      const all = (await metadata(admin, null)).topics.map((t) => t.name);
      for (const name of ['__consumer_offsets', OTHER, TOPIC]) assert.ok(all.includes(name), `a superuser sees ${name}`);
    });

    it('named topics: TOPIC_AUTHORIZATION_FAILED with a zero id, existing or not; by id: no name', async () => {
      await allow('bob', 'DESCRIBE', 'TOPIC', TOPIC);
      const res = await metadata(bob, [{ name: TOPIC }, { name: OTHER }, { name: 'no-such-topic' }]);
      const byName = new Map(res.topics.map((t) => [t.name, t]));
      assert.equal(byName.get(TOPIC)!.errorCode, ErrorCode.NONE);
      assert.equal(byName.get(TOPIC)!.partitions.length, 2);
      for (const name of [OTHER, 'no-such-topic']) {
        const t = byName.get(name)!;
        assert.deepEqual([t.errorCode, t.topicId, t.partitions.length], [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ZERO_UUID, 0], name);
      }
      const byId = await metadata(bob, [{ topicId: otherTopicId }, { topicId: '11111111-2222-3333-4444-555555555555' }]);
      assert.deepEqual(
        byId.topics.map((t) => [t.errorCode, t.name, t.topicId]),
        [
          [ErrorCode.TOPIC_AUTHORIZATION_FAILED, null, otherTopicId],
          [ErrorCode.UNKNOWN_TOPIC_ID, null, '11111111-2222-3333-4444-555555555555'],
        ],
      );
    });

    it('auto-creation needs CREATE on the cluster or the topic (after DESCRIBE)', async () => {
      await allow('bob', 'DESCRIBE', 'TOPIC', 'auto-', 'PREFIXED');
      const refused = await metadata(bob, [{ name: 'auto-one' }], { allowAutoTopicCreation: true });
      assert.equal(refused.topics[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      assert.equal(broker.services.topics.has('auto-one'), false, 'not created');
      await allow('bob', 'CREATE', 'TOPIC', 'auto-one');
      const created = await metadata(bob, [{ name: 'auto-one' }], { allowAutoTopicCreation: true });
      assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
      assert.equal(broker.services.topics.has('auto-one'), true);
      await allow('carol', 'CREATE', 'CLUSTER', 'kafka-cluster');
      const noDescribe = await metadata(carol, [{ name: 'auto-two' }], { allowAutoTopicCreation: true });
      assert.equal(noDescribe.topics[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'CREATE without DESCRIBE: still not visible');
      assert.equal(broker.services.topics.has('auto-two'), false);
      await allow('carol', 'DESCRIBE', 'TOPIC', 'auto-two');
      assert.equal((await metadata(carol, [{ name: 'auto-two' }], { allowAutoTopicCreation: true })).topics[0]!.errorCode, ErrorCode.NONE);
    });

    it('authorized operations when asked: topic bit fields, and the cluster only with DESCRIBE on it', async () => {
      await allow('bob', 'READ', 'TOPIC', TOPIC);
      const res = await metadata(bob, [{ name: TOPIC }, { name: OTHER }], { ops: true });
      assert.equal(res.topics[0]!.topicAuthorizedOperations, ops('READ', 'DESCRIBE'));
      assert.equal(res.topics[1]!.topicAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED, 'none for a refused topic');
      assert.equal(res.clusterAuthorizedOperations, 0, 'no DESCRIBE on the cluster: 0');
      const asAdmin = await metadata(admin, null, { ops: true });
      assert.equal(asAdmin.clusterAuthorizedOperations, toOperationsBitField(supportedOperations(ResourceType.CLUSTER)));
      const notAsked = await metadata(bob, [{ name: TOPIC }]);
      assert.equal(notAsked.topics[0]!.topicAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
    });
  });

  describe('groups', () => {
    // straight to the broker (the client's group helpers would stop at FindCoordinator, which needs DESCRIBE)
    const join = (client: KafkaClient, groupId = GROUP, memberId = '') =>
      client.request(
        ApiKey.JoinGroup,
        {
          groupId,
          sessionTimeoutMs: 10000,
          rebalanceTimeoutMs: 10000,
          memberId,
          groupInstanceId: null,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
          reason: null,
        },
        { version: 9, timeoutMs: 20000 },
      );
    const sync = (body: { generationId: number; memberId: string; assignments?: { memberId: string; assignment: Buffer }[] }) =>
      bob.request(ApiKey.SyncGroup, { groupId: GROUP, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [], ...body }, { version: 5 });
    const heartbeat = (generationId: number, memberId: string) => bob.request(ApiKey.Heartbeat, { groupId: GROUP, generationId, memberId, groupInstanceId: null });
    const leave = (memberId: string) => bob.request(ApiKey.LeaveGroup, { groupId: GROUP, members: [{ memberId, groupInstanceId: null, reason: null }] }, { version: 5 });

    it('JoinGroup/SyncGroup/Heartbeat/LeaveGroup: READ on the group, GROUP_AUTHORIZATION_FAILED otherwise', async () => {
      const refused = await join(bob);
      assert.deepEqual([refused.errorCode, refused.generationId, refused.memberId, refused.members.length], [ErrorCode.GROUP_AUTHORIZATION_FAILED, -1, '', 0]);
      assert.equal((await sync({ generationId: 1, memberId: 'm' })).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      assert.equal((await heartbeat(1, 'm')).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      const left = await leave('m');
      assert.deepEqual([left.errorCode, left.members.length], [ErrorCode.GROUP_AUTHORIZATION_FAILED, 0]);
      await allow('bob', 'DESCRIBE', 'GROUP', GROUP);
      assert.equal((await join(bob)).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED, 'DESCRIBE (enough for FindCoordinator) is not READ');
      assert.equal(broker.services.groups.describeGroups([GROUP])[0]!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND, 'the coordinator never saw it');

      await allow('bob', 'READ', 'GROUP', GROUP);
      const first = await join(bob);
      assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
      const joined = await join(bob, GROUP, first.memberId);
      assert.equal(joined.errorCode, ErrorCode.NONE);
      const synced = await sync({ generationId: joined.generationId, memberId: joined.memberId, assignments: [{ memberId: joined.memberId, assignment: Buffer.from('a') }] });
      assert.equal(synced.errorCode, ErrorCode.NONE);
      assert.equal((await heartbeat(joined.generationId, joined.memberId)).errorCode, ErrorCode.NONE);
      assert.equal((await leave(joined.memberId)).errorCode, ErrorCode.NONE);
    });

    it('FindCoordinator: DESCRIBE on the group / transactional id, per key (v4+) or whole answer (v3)', async () => {
      await allow('bob', 'DESCRIBE', 'GROUP', 'visible');
      const v4 = await bob.request(ApiKey.FindCoordinator, { keyType: 0, coordinatorKeys: ['visible', 'hidden'] }, { version: 4 });
      assert.deepEqual(
        v4.coordinators.map((c) => [c.key, c.errorCode, c.nodeId]),
        [
          ['visible', ErrorCode.NONE, broker.services.nodeId],
          ['hidden', ErrorCode.GROUP_AUTHORIZATION_FAILED, -1],
        ],
      );
      const v3 = await bob.request(ApiKey.FindCoordinator, { key: 'hidden', keyType: 0 }, { version: 3 });
      assert.deepEqual([v3.errorCode, v3.nodeId, v3.host, v3.port], [ErrorCode.GROUP_AUTHORIZATION_FAILED, -1, '', -1]);
      const txn = await bob.request(ApiKey.FindCoordinator, { keyType: 1, coordinatorKeys: ['tx'] }, { version: 4 });
      assert.equal(txn.coordinators[0]!.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    });

    it('OffsetCommit: READ on the group first, then READ on each topic', async () => {
      const commit = (groupId: string) =>
        bob.request(ApiKey.OffsetCommit, {
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [TOPIC, OTHER, 'no-such-topic'].map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] })),
        }, { version: 8 });
      const codes = (res: Awaited<ReturnType<typeof commit>>) => res.topics.map((t) => [t.name, t.partitions[0]!.errorCode]);
      assert.deepEqual(codes(await commit('commits')), [
        [TOPIC, ErrorCode.GROUP_AUTHORIZATION_FAILED],
        [OTHER, ErrorCode.GROUP_AUTHORIZATION_FAILED],
        ['no-such-topic', ErrorCode.GROUP_AUTHORIZATION_FAILED],
      ]);
      await allow('bob', 'READ', 'GROUP', 'commits');
      await allow('bob', 'READ', 'TOPIC', TOPIC);
      await allow('bob', 'READ', 'TOPIC', 'no-such-topic');
      assert.deepEqual(codes(await commit('commits')), [
        [TOPIC, ErrorCode.NONE],
        [OTHER, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        ['no-such-topic', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ]);
    });

    it('OffsetFetch: DESCRIBE on each group; listed topics refused per partition; all topics filtered', async () => {
      await admin.request(ApiKey.OffsetCommit, {
        groupId: 'fetched',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [TOPIC, OTHER].map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] })),
      }, { version: 8 });
      const v8 = (topics: string[] | null) =>
        bob.request(ApiKey.OffsetFetch, { groups: [{ groupId: 'fetched', topics: topics === null ? null : topics.map((name) => ({ name, partitionIndexes: [0] })) }, { groupId: 'secret', topics: null }], requireStable: false }, { version: 8 });
      const refused = await v8(null);
      assert.deepEqual(refused.groups.map((g) => [g.groupId, g.errorCode]), [
        ['fetched', ErrorCode.GROUP_AUTHORIZATION_FAILED],
        ['secret', ErrorCode.GROUP_AUTHORIZATION_FAILED],
      ]);
      const v5 = await bob.request(ApiKey.OffsetFetch, { groupId: 'fetched', topics: null, requireStable: false }, { version: 5 });
      assert.equal(v5.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED, 'v2-7: top-level error');
      const v1 = await bob.request(ApiKey.OffsetFetch, { groupId: 'fetched', topics: [{ name: TOPIC, partitionIndexes: [0] }] }, { version: 1 });
      assert.equal(v1.topics[0]!.partitions[0]!.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED, 'v1: on each partition');

      await allow('bob', 'DESCRIBE', 'GROUP', 'fetched');
      await allow('bob', 'DESCRIBE', 'TOPIC', TOPIC);
      const all = (await v8(null)).groups[0]!;
      assert.equal(all.errorCode, ErrorCode.NONE);
      assert.deepEqual(all.topics.map((t) => [t.name, t.partitions[0]!.committedOffset]), [[TOPIC, 1]], 'undescribable topics are left out');
      const listed = (await v8([OTHER, TOPIC])).groups[0]!;
      assert.deepEqual(listed.topics.map((t) => [t.name, t.partitions[0]!.errorCode, t.partitions[0]!.committedOffset]), [
        [TOPIC, ErrorCode.NONE, 1],
        [OTHER, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1],
      ]);
    });

    it('DescribeGroups: DESCRIBE per group, authorized operations when asked; ListGroups filters', async () => {
      await admin.request(ApiKey.OffsetCommit, {
        groupId: 'listed-a',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      await admin.request(ApiKey.OffsetCommit, {
        groupId: 'listed-b',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      await allow('bob', 'READ', 'GROUP', 'listed-a');
      const described = await bob.request(ApiKey.DescribeGroups, { groups: ['listed-b', 'listed-a'], includeAuthorizedOperations: true }, { version: 5 });
      assert.deepEqual(
        described.groups.map((g) => [g.groupId, g.errorCode, g.groupState, g.authorizedOperations]),
        [
          ['listed-b', ErrorCode.GROUP_AUTHORIZATION_FAILED, '', AUTHORIZED_OPERATIONS_OMITTED],
          ['listed-a', ErrorCode.NONE, 'Empty', ops('READ', 'DESCRIBE')],
        ],
      );
      const listed = await bob.request(ApiKey.ListGroups, { statesFilter: [], typesFilter: [] });
      assert.deepEqual(listed.groups.map((g) => g.groupId), ['listed-a']);
      await allow('bob', 'DESCRIBE', 'CLUSTER', 'kafka-cluster');
      const all = (await bob.request(ApiKey.ListGroups, { statesFilter: [], typesFilter: [] })).groups.map((g) => g.groupId);
      assert.ok(all.includes('listed-a') && all.includes('listed-b'), 'DESCRIBE on the cluster lists every group');
    });

    it('DeleteGroups: DELETE per group; OffsetDelete: DELETE on the group, then READ on each topic', async () => {
      for (const groupId of ['doomed-a', 'doomed-b']) {
        await admin.request(ApiKey.OffsetCommit, {
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [TOPIC, OTHER].map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: null }] })),
        });
      }
      const offsetDelete = () =>
        bob.request(ApiKey.OffsetDelete, { groupId: 'doomed-a', topics: [TOPIC, OTHER].map((name) => ({ name, partitions: [{ partitionIndex: 0 }] })) });
      const refused = await offsetDelete();
      assert.deepEqual([refused.errorCode, refused.topics.length], [ErrorCode.GROUP_AUTHORIZATION_FAILED, 0]);
      await allow('bob', 'DELETE', 'GROUP', 'doomed-', 'PREFIXED');
      await allow('bob', 'READ', 'TOPIC', TOPIC);
      const partly = await offsetDelete();
      assert.equal(partly.errorCode, ErrorCode.NONE);
      assert.deepEqual(partly.topics.map((t) => [t.name, t.partitions[0]!.errorCode]), [
        [TOPIC, ErrorCode.NONE],
        [OTHER, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ]);

      const deleted = await bob.request(ApiKey.DeleteGroups, { groupsNames: ['other-group', 'doomed-b'] });
      assert.deepEqual(deleted.results.map((r) => [r.groupId, r.errorCode]), [
        ['other-group', ErrorCode.GROUP_AUTHORIZATION_FAILED],
        ['doomed-b', ErrorCode.NONE],
      ]);
    });
  });

  describe('admin APIs', () => {
    it('CreateTopics: CREATE on the cluster or the topic; without DESCRIBE_CONFIGS the result withholds the configs', async () => {
      const create = (client: KafkaClient, names: string[]) =>
        client.request(ApiKey.CreateTopics, { topics: names.map((name) => ({ name, numPartitions: 3, replicationFactor: -1, assignments: [], configs: [] })), timeoutMs: 5000, validateOnly: false }, { version: 7 });
      const refused = (await create(bob, ['bob-new'])).topics[0]!;
      assert.deepEqual([refused.errorCode, refused.errorMessage, refused.topicId], [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.', ZERO_UUID]);
      assert.equal(broker.services.topics.has('bob-new'), false);

      await allow('bob', 'CREATE', 'TOPIC', 'bob-', 'PREFIXED');
      const created = (await create(bob, ['bob-new'])).topics[0]!;
      assert.equal(created.errorCode, ErrorCode.NONE);
      assert.notEqual(created.topicId, ZERO_UUID);
      assert.deepEqual([created.numPartitions, created.replicationFactor, created.configs?.length ?? 0, created.topicConfigErrorCode], [-1, -1, 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
      assert.equal(broker.services.topics.get('bob-new')!.partitions, 3, 'created all the same');

      await allow('bob', 'DESCRIBE_CONFIGS', 'TOPIC', 'bob-', 'PREFIXED');
      const full = (await create(bob, ['bob-other'])).topics[0]!;
      assert.deepEqual([full.errorCode, full.numPartitions, full.topicConfigErrorCode], [ErrorCode.NONE, 3, ErrorCode.NONE]);
      assert.ok((full.configs?.length ?? 0) > 0);

      await allow('carol', 'CREATE', 'CLUSTER', 'kafka-cluster');
      assert.equal((await create(carol, ['carol-new'])).topics[0]!.errorCode, ErrorCode.NONE, 'CREATE on the cluster: any topic');
    });

    it('DeleteTopics: DESCRIBE before existence, then DELETE; by id the name only when describable', async () => {
      await admin.createTopics([{ name: 'del-a', numPartitions: 1 }, { name: 'del-b', numPartitions: 1 }, { name: 'del-c', numPartitions: 1 }]);
      const delNames = (names: string[]) => bob.request(ApiKey.DeleteTopics, { topics: names.map((name) => ({ name, topicId: ZERO_UUID })), timeoutMs: 5000 }, { version: 6 });
      const codes = (res: Awaited<ReturnType<typeof delNames>>) => res.responses.map((r) => [r.name, r.errorCode]);
      assert.deepEqual(codes(await delNames(['del-a', 'no-such-topic'])), [
        ['del-a', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        ['no-such-topic', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ]);
      await allow('bob', 'DESCRIBE', 'TOPIC', '*');
      assert.deepEqual(codes(await delNames(['del-a', 'no-such-topic'])), [
        ['del-a', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        ['no-such-topic', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ]);
      await allow('bob', 'DELETE', 'TOPIC', 'del-a');
      assert.deepEqual(codes(await delNames(['del-a'])), [['del-a', ErrorCode.NONE]]);

      const idOf = (name: string) => broker.services.topics.get(name)!.topicId;
      const [idB, idC] = [idOf('del-b'), idOf('del-c')];
      await auth.deleteAcls([{ ...ANY_ACL_FILTER, principal: 'User:bob' }]);
      await allow('bob', 'DESCRIBE', 'TOPIC', 'del-b');
      const byId = await bob.request(ApiKey.DeleteTopics, { topics: [{ name: null, topicId: idB }, { name: null, topicId: idC }], timeoutMs: 5000 }, { version: 6 });
      assert.deepEqual(byId.responses.map((r) => [r.name, r.topicId, r.errorCode]), [
        ['del-b', idB, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        [null, idC, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ]);
      await allow('carol', 'DELETE', 'CLUSTER', 'kafka-cluster');
      const asCarol = await carol.request(ApiKey.DeleteTopics, { topics: [{ name: null, topicId: idC }], timeoutMs: 5000 }, { version: 6 });
      assert.deepEqual(asCarol.responses.map((r) => [r.name, r.errorCode]), [['del-c', ErrorCode.NONE]], 'DELETE on the cluster: any topic');
    });

    it('CreatePartitions: ALTER on the topic, before existence', async () => {
      const grow = (name: string) => bob.request(ApiKey.CreatePartitions, { topics: [{ name, count: 4, assignments: null }], timeoutMs: 5000, validateOnly: true });
      const refused = (await grow(TOPIC)).results[0]!;
      assert.deepEqual([refused.errorCode, refused.errorMessage], [ErrorCode.TOPIC_AUTHORIZATION_FAILED, null]);
      assert.equal((await grow('no-such-topic')).results[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      await allow('bob', 'ALTER', 'TOPIC', TOPIC);
      assert.equal((await grow(TOPIC)).results[0]!.errorCode, ErrorCode.NONE);
    });

    it('DescribeConfigs: DESCRIBE_CONFIGS on the topic / cluster, per resource, with the standard messages', async () => {
      const describe = () =>
        bob.request(ApiKey.DescribeConfigs, {
          resources: [
            { resourceType: CONFIG_TOPIC, resourceName: TOPIC, configurationKeys: null },
            { resourceType: CONFIG_TOPIC, resourceName: 'no-such-topic', configurationKeys: null },
            { resourceType: CONFIG_BROKER, resourceName: String(broker.services.nodeId), configurationKeys: null },
          ],
          includeSynonyms: false,
          includeDocumentation: false,
        });
      assert.deepEqual(
        (await describe()).results.map((r) => [r.errorCode, r.errorMessage, r.configs.length]),
        [
          [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.', 0],
          [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.', 0],
          [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.', 0],
        ],
      );
      await allow('bob', 'ALTER_CONFIGS', 'TOPIC', '*'); // implies DESCRIBE_CONFIGS
      await allow('bob', 'DESCRIBE_CONFIGS', 'CLUSTER', 'kafka-cluster');
      const ok = (await describe()).results;
      assert.deepEqual(ok.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NONE]);
      assert.ok(ok[0]!.configs.length > 0 && ok[2]!.configs.length > 0);
    });

    it('AlterConfigs and IncrementalAlterConfigs: ALTER_CONFIGS on the topic / cluster, before validation', async () => {
      const incremental = () =>
        bob.request(ApiKey.IncrementalAlterConfigs, {
          resources: [
            { resourceType: CONFIG_TOPIC, resourceName: TOPIC, configs: [{ name: 'retention.ms', configOperation: 0, value: '3600000' }] },
            { resourceType: CONFIG_TOPIC, resourceName: OTHER, configs: [{ name: 'retention.ms', configOperation: 0, value: 'not a number' }] },
            { resourceType: CONFIG_TOPIC, resourceName: 'no-such-topic', configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }] },
            { resourceType: CONFIG_BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: 1, value: null }] },
          ],
          validateOnly: true,
        });
      assert.deepEqual(
        (await incremental()).responses.map((r) => r.errorCode),
        [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
      );
      const legacy = await bob.request(ApiKey.AlterConfigs, {
        resources: [{ resourceType: CONFIG_TOPIC, resourceName: TOPIC, configs: [{ name: 'retention.ms', value: '3600000' }] }],
        validateOnly: true,
      });
      assert.deepEqual(legacy.responses.map((r) => [r.errorCode, r.errorMessage]), [[ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.']]);
      await allow('bob', 'ALTER_CONFIGS', 'TOPIC', '*');
      await allow('bob', 'ALTER_CONFIGS', 'CLUSTER', 'kafka-cluster');
      assert.deepEqual(
        (await incremental()).responses.map((r) => r.errorCode),
        [ErrorCode.NONE, ErrorCode.INVALID_CONFIG, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NONE],
        'authorized: the ordinary validation answers',
      );
    });

    it('DescribeLogDirs: DESCRIBE on the cluster, top-level CLUSTER_AUTHORIZATION_FAILED and no results', async () => {
      const refused = (await bob.requestUntyped(ApiKey.DescribeLogDirs, { topics: null }, { version: 4 })) as { errorCode: number; results: unknown[] };
      assert.deepEqual([refused.errorCode, refused.results.length], [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 0]);
      await allow('bob', 'DESCRIBE', 'CLUSTER', 'kafka-cluster');
      const ok = (await bob.requestUntyped(ApiKey.DescribeLogDirs, { topics: null }, { version: 4 })) as { errorCode: number; results: unknown[] };
      assert.deepEqual([ok.errorCode, ok.results.length], [ErrorCode.NONE, 1]);
    });

    it('DescribeCluster: no ACL needed; authorized operations only when asked, 0 without DESCRIBE on the cluster', async () => {
      const describe = (client: KafkaClient, include: boolean) => client.request(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: include, endpointType: 1 });
      const plain = await describe(bob, false);
      assert.deepEqual([plain.errorCode, plain.brokers.length, plain.clusterAuthorizedOperations], [ErrorCode.NONE, 1, AUTHORIZED_OPERATIONS_OMITTED]);
      assert.equal((await describe(bob, true)).clusterAuthorizedOperations, 0);
      await allow('bob', 'DESCRIBE', 'CLUSTER', 'kafka-cluster');
      await allow('bob', 'IDEMPOTENT_WRITE', 'CLUSTER', 'kafka-cluster');
      assert.equal((await describe(bob, true)).clusterAuthorizedOperations, ops('DESCRIBE', 'IDEMPOTENT_WRITE'));
      assert.equal((await describe(admin, true)).clusterAuthorizedOperations, toOperationsBitField(supportedOperations(ResourceType.CLUSTER)));
    });

    it('ACL and SCRAM admin APIs: ALTER / DESCRIBE on the cluster', async () => {
      const create = await bob.request(ApiKey.CreateAcls, { creations: [{ ...aclCreation(), principal: 'User:bob' }] });
      assert.equal(create.results[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      const describe = await bob.request(ApiKey.DescribeAcls, {
        resourceTypeFilter: ResourceType.ANY,
        resourceNameFilter: null,
        patternTypeFilter: PatternType.ANY,
        principalFilter: null,
        hostFilter: null,
        operation: AclOperation.ANY,
        permissionType: AclPermissionType.ANY,
      });
      assert.equal(describe.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      const users = await bob.request(ApiKey.DescribeUserScramCredentials, { users: null });
      assert.equal(users.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      const viaAdmin = await admin.request(ApiKey.CreateAcls, { creations: [aclCreation()] });
      assert.equal(viaAdmin.results[0]!.errorCode, ErrorCode.NONE, 'a superuser may');
    });
  });
});

function aclCreation() {
  return {
    resourceType: ResourceType.TOPIC,
    resourceName: 'granted-by-admin',
    resourcePatternType: PatternType.LITERAL,
    principal: 'User:carol',
    host: '*',
    operation: AclOperation.READ,
    permissionType: AclPermissionType.ALLOW,
  };
}
