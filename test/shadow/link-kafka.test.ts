// The production case: an Apache Kafka 4.1 cluster (KRaft, one node, SCRAM-secured, StandardAuthorizer) shadowed
// by Umbra. The link authenticates with SCRAM as a user holding only the ACLs a link needs; topics written by kcat
// under each codec and by an idempotent producer come out identical (kcat printout and raw batches); a confluent
// group's committed offsets carry over and the group resumes there after failover; ACLs and topic configs follow.
// Runs when UMBRA_TEST_KAFKA is set (CI sets it) and the Kafka jars are here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaClient } from '../../src/client/client.js';
import { confluentGroupConsume, confluentProduce, javaProduce, kcatProduce, peerTestGate, runProcess } from '../helpers/peers.js';
import { freePorts, startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';
import { AdminApi, kcatPrint, rawBatches, waitCaughtUp, waitFor } from '../helpers/shadow.js';

const LINK = 'kdr';
const PASSWORD = 'link-secret-Pa55';
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

describe('shadow link from Apache Kafka 4.1 (SCRAM, StandardAuthorizer)', { ...peerTestGate(['kafka', 'java', 'kcat', 'confluent-python']), timeout: 300_000 }, () => {
  let kafka: KafkaBroker;
  let saslPort: number;
  let shadow: UmbraBroker;
  let api: AdminApi;
  let src: KafkaClient;

  before(async () => {
    const [port, controllerPort, sasl] = await freePorts(3);
    saslPort = sasl!;
    const h = '127.0.0.1';
    [kafka, shadow] = await Promise.all([
      startKafka({
        port,
        controllerPort,
        scramCredentials: [`SCRAM-SHA-512=[name=shadow,password=${PASSWORD}]`],
        config: {
          listeners: `PLAINTEXT://${h}:${port},SASL_PLAINTEXT://${h}:${saslPort},CONTROLLER://${h}:${controllerPort}`,
          'advertised.listeners': `PLAINTEXT://${h}:${port},SASL_PLAINTEXT://${h}:${saslPort}`,
          'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
          'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
          'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
          'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
          // the test's own clients (PLAINTEXT) and the controller are ANONYMOUS
          'super.users': 'User:ANONYMOUS',
          // retention and compaction within seconds, for the log-start and compacted-topic cases
          'log.retention.check.interval.ms': 500,
          'log.cleaner.backoff.ms': 300,
          'log.segment.delete.delay.ms': 0,
          'file.delete.delay.ms': 0,
        },
      }),
      startUmbra({ configYaml: 'authorization: acl\nsuperusers: ["ANONYMOUS"]\n' }),
    ]);
    api = new AdminApi(shadow.adminUrl);
    src = new KafkaClient({ brokers: kafka.bootstrap, clientId: 'test-source' });
    await src.createTopics([
      { name: 'a_orders', numPartitions: 3, configs: { 'retention.ms': '7200000' } },
      { name: 'a_idem', numPartitions: 2 },
      { name: 'b_other', numPartitions: 1 },
      ...CODECS.map((c) => ({ name: `a_codec_${c}`, numPartitions: 1 })),
      { name: 'a_compact', numPartitions: 1, configs: { 'cleanup.policy': 'compact', 'segment.ms': '100', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '0' } },
      { name: 'a_retained', numPartitions: 1, configs: { 'retention.ms': '1500', 'segment.ms': '100' } },
    ]);
    // What the link's user may do on the source: read and describe the shadowed topics and groups, describe
    // configs, describe the cluster (ACLs). Plus one application ACL for ACL sync to copy.
    const acl = (resourceType: number, resourceName: string, patternType: number, principal: string, operation: number) => ({
      resourceType,
      resourceName,
      resourcePatternType: patternType,
      principal,
      host: '*',
      operation,
      permissionType: 3,
    });
    const TOPIC = 2;
    const GROUP = 3;
    const CLUSTER = 4;
    const LITERAL = 3;
    const PREFIXED = 4;
    const res = await src.request(30, {
      creations: [
        acl(TOPIC, 'a_', PREFIXED, 'User:shadow', 3), // READ
        acl(TOPIC, 'a_', PREFIXED, 'User:shadow', 8), // DESCRIBE
        acl(TOPIC, 'a_', PREFIXED, 'User:shadow', 10), // DESCRIBE_CONFIGS
        acl(GROUP, '*', LITERAL, 'User:shadow', 8), // DESCRIBE
        acl(CLUSTER, 'kafka-cluster', LITERAL, 'User:shadow', 8), // DESCRIBE
        acl(TOPIC, 'a_orders', LITERAL, 'User:app', 3), // READ: the application ACL to sync
      ],
    } as never);
    for (const r of (res as { results: { errorCode: number; errorMessage: string | null }[] }).results) assert.equal(r.errorCode, 0, r.errorMessage ?? '');

    for (const c of CODECS) {
      await kcatProduce(kafka.bootstrap, `a_codec_${c}`, Array.from({ length: 1500 }, (_, i) => ({ key: `k${i % 30}`, value: `${c}-${i}` })), { compression: c, headers: { codec: c } });
    }
    await confluentProduce(kafka.bootstrap, 'a_idem', 800);
    await confluentProduce(kafka.bootstrap, 'a_orders', 600);
    // an application group reads everything so far and commits; then more records arrive it has not read
    const consumed = await confluentGroupConsume(kafka.bootstrap, 'a_orders', 'g-app', 600, 30_000, { members: 1 });
    assert.equal(consumed.distinct, 600, JSON.stringify(consumed.errors));
    await confluentProduce(kafka.bootstrap, 'a_orders', 300);

    // a compacted topic whose source log already has gaps when the link starts
    await waitFor(
      'Kafka to compact a_compact',
      async () => {
        await kcatProduce(kafka.bootstrap, 'a_compact', Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 10}`, value: `v${Date.now()}-${i}` })));
        const lines = await kcatPrint(kafka.bootstrap, 'a_compact');
        const last = Number(lines[lines.length - 1]!.split(' ')[1]);
        return lines.length < last + 1;
      },
      60_000,
      300,
    );
    // the cleaner may still be at work on a segment the last round rolled: the link starts once the log is still
    let compacted = (await kcatPrint(kafka.bootstrap, 'a_compact')).join('\n');
    await waitFor(
      'Kafka to finish compacting a_compact',
      async () => {
        await new Promise((r) => setTimeout(r, 1000));
        const now = (await kcatPrint(kafka.bootstrap, 'a_compact')).join('\n');
        const still = now === compacted;
        compacted = now;
        return still;
      },
      30_000,
      0,
    );
    await kcatProduce(kafka.bootstrap, 'a_retained', [{ key: 'r', value: 'first' }]);
  });

  after(async () => {
    await src?.close();
    await Promise.all([kafka?.stop(), shadow?.destroy()]);
  });

  it('links over SCRAM and shadows the matching topics identically', async () => {
    const created = await api.ok('POST', '/v1/shadow-links', {
      name: LINK,
      client_options: {
        bootstrap_servers: [`127.0.0.1:${saslPort}`],
        source_cluster_id: kafka.clusterId,
        authentication_configuration: { scram_configuration: { username: 'shadow', password: PASSWORD, scram_mechanism: 'SCRAM-SHA-512' } },
        fetch_wait_max_ms: 100,
      },
      topic_metadata_sync_options: { interval: '1s', auto_create_shadow_topic_filters: [{ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: 'a_' }] },
      consumer_offset_sync_options: { interval: '1s', group_filters: [{ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: '*' }] },
      security_sync_options: {
        interval: '1s',
        acl_filters: [
          {
            resource_filter: { resource_type: 'TOPIC', pattern_type: 'LITERAL', name: 'a_orders' },
            access_filter: { principal: 'User:app', operation: 'ANY', permission_type: 'ANY', host: '' },
          },
        ],
      },
    });
    assert.ok(!JSON.stringify(created).includes(PASSWORD), 'the password is not echoed');
    const topics = ['a_orders', 'a_idem', ...CODECS.map((c) => `a_codec_${c}`)];
    await waitCaughtUp(api, LINK, [...topics, 'a_compact'], src, 60_000);
    // the compacted topic starts from a source log with gaps: identical right after replication
    assert.deepEqual(await kcatPrint(shadow.bootstrap, 'a_compact'), await kcatPrint(kafka.bootstrap, 'a_compact'));
    for (const topic of topics) {
      const [a, b] = await Promise.all([kcatPrint(kafka.bootstrap, topic), kcatPrint(shadow.bootstrap, topic)]);
      assert.ok(a.length > 0);
      assert.deepEqual(b, a, `kcat output of ${topic}`);
      const partitions = topic === 'a_orders' ? 3 : topic === 'a_idem' ? 2 : 1;
      for (let p = 0; p < partitions; p++) {
        const [x, y] = await Promise.all([rawBatches(kafka.bootstrap, topic, p), rawBatches(shadow.bootstrap, topic, p)]);
        assert.equal(y.length, x.length, `${topic}/${p} batch count`);
        for (let i = 0; i < x.length; i++) assert.ok(x[i]!.equals(y[i]!), `${topic}/${p} batch ${i} differs`);
      }
    }
    const status = await api.status(LINK);
    assert.ok(!status.topics.some((t) => t.name === 'b_other'));
  });

  it('copies the application ACL selected by the filter', async () => {
    await waitFor('ACL sync', async () => {
      const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
      try {
        const res = (await dst.request(29, { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 } as never)) as {
          resources: { resourceName: string; acls: { principal: string }[] }[];
        };
        return res.resources.some((r) => r.resourceName === 'a_orders' && r.acls.some((a) => a.principal === 'User:app'));
      } finally {
        await dst.close();
      }
    });
  });

  it('follows the source log start when Kafka retention deletes old segments', async () => {
    const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
    try {
      const start = await waitFor(
        'Kafka retention to delete a segment of a_retained',
        async () => {
          await kcatProduce(kafka.bootstrap, 'a_retained', [{ key: 'r', value: String(Date.now()) }]);
          const o = (await src.listOffsets('a_retained', 0, -2)).offset;
          return o > 0 ? o : undefined;
        },
        60_000,
        300,
      );
      await waitFor('the shadow log start to follow', async () => (await dst.listOffsets('a_retained', 0, -2)).offset >= start, 30_000);
    } finally {
      await dst.close();
    }
  });

  it('removes a synced ACL when the source drops it', async () => {
    const res = (await src.request(31, {
      filters: [{ resourceTypeFilter: 2, resourceNameFilter: 'a_orders', patternTypeFilter: 3, principalFilter: 'User:app', hostFilter: null, operation: 3, permissionType: 3 }],
    } as never)) as { filterResults: { errorCode: number; matchingAcls: unknown[] }[] };
    assert.equal(res.filterResults[0]!.matchingAcls.length, 1);
    await waitFor('ACL removal', async () => {
      const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
      try {
        const d = (await dst.request(29, { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 } as never)) as {
          resources: { resourceName: string; acls: { principal: string }[] }[];
        };
        return !d.resources.some((r) => r.acls.some((a) => a.principal === 'User:app'));
      } finally {
        await dst.close();
      }
    });
  });

  it('goes LINK_UNAVAILABLE while Kafka is down and catches up by itself', async () => {
    await kafka.kill();
    await waitFor('replication LINK_UNAVAILABLE', async () => (await api.status(LINK)).tasks.find((t) => t.name === 'replication')?.state === 'LINK_UNAVAILABLE', 60_000);
    await kafka.restart();
    await src.close();
    src = new KafkaClient({ brokers: kafka.bootstrap, clientId: 'test-source' });
    await confluentProduce(kafka.bootstrap, 'a_idem', 200);
    await waitFor('replication ACTIVE again', async () => (await api.status(LINK)).tasks.find((t) => t.name === 'replication')?.state === 'ACTIVE', 60_000);
    await waitCaughtUp(api, LINK, ['a_idem'], src, 60_000);
    assert.deepEqual(await kcatPrint(shadow.bootstrap, 'a_idem'), await kcatPrint(kafka.bootstrap, 'a_idem'));
  });

  it('follows synced topic config changes on the source', async () => {
    const altered = await src.incrementalAlterConfigs([{ type: 2, name: 'a_orders', ops: [{ name: 'retention.ms', op: 0, value: '5400000' }] }]);
    assert.equal(altered[0]!.errorCode, 0, altered[0]!.errorMessage ?? '');
    await waitFor('retention.ms to follow', async () => {
      const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
      try {
        const [cfg] = await dst.describeConfigs([{ type: 2, name: 'a_orders' }]);
        return cfg!.configs.find((c) => c.name === 'retention.ms')?.value === '5400000';
      } finally {
        await dst.close();
      }
    });
  });

  it('a confluent group resumes on the shadow at the offsets it committed on the source', async () => {
    await waitFor('g-app offsets on the shadow', async () => {
      const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'test-shadow' });
      try {
        const offsets = await dst.offsetFetch('g-app', [0, 1, 2].map((partition) => ({ topic: 'a_orders', partition })));
        return offsets.reduce((n, o) => n + Math.max(0, o.offset), 0) === 600;
      } finally {
        await dst.close();
      }
    });
    const refused = await runProcess('kcat', ['-b', shadow.bootstrap, '-P', '-t', 'a_orders', '-p', '0', '-X', 'message.send.max.retries=0'], { input: 'x', timeoutMs: 20_000, allowFailure: true });
    assert.match(refused.stderr, /Policy violation/i);
    // the Java client (Produce v9+) carries the broker's message: it names the link
    const java = await javaProduce(shadow.bootstrap, 'a_orders', 1, { allowFailure: true, config: { 'delivery.timeout.ms': 10000, 'request.timeout.ms': 5000 } });
    assert.equal(java.acked, 0);
    assert.match(String(java['error']), /PolicyViolation.*topic 'a_orders' is shadowed by link 'kdr' and read-only until failover/);
    await api.ok('POST', `/v1/shadow-links/${LINK}/failover`, { topic: 'a_orders' });
    const resumed = await confluentGroupConsume(shadow.bootstrap, 'a_orders', 'g-app', 300, 30_000, { members: 1 });
    assert.equal(resumed.distinct, 300, JSON.stringify(resumed));
    assert.equal(resumed.deliveries, 300, 'nothing before the committed offsets was read again');
  });

  it('never shows the password in the API, status or metrics', async () => {
    const texts = [
      JSON.stringify(await api.ok('GET', `/v1/shadow-links/${LINK}`)),
      JSON.stringify(await api.ok('GET', '/v1/shadow-links')),
      JSON.stringify(await api.status(LINK)),
      await api.metrics(),
      shadow.logs(),
    ];
    for (const t of texts) assert.ok(!t.includes(PASSWORD));
    assert.match(texts[0]!, /\[REDACTED\]/);
  });
});
