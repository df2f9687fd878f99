// The `umbra` CLI and client against a real Apache Kafka 4.1: the shared CLI scenario, plus interop with the
// Java client: keys land where the Java producer puts them, and consumer-group offsets committed by one client
// are resumed by the other. Slow (a Kafka JVM, a JVM per Java call): runs only with UMBRA_TEST_KAFKA=1.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startKafka, kafkaVersion, type KafkaBroker } from '../helpers/kafka.js';
import { javaConsume, javaProduce, peerTestGate, requirePeers } from '../helpers/peers.js';
import { KafkaClient } from '../../src/client/client.js';
import { Consumer } from '../../src/client/consumer.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { cliScenario } from './scenario.js';
import { runCli, show } from './run-cli.js';

describe(`umbra CLI against Apache Kafka ${kafkaVersion()}`, peerTestGate(['kafka', 'java']), () => {
  let kafka: KafkaBroker;

  before(async () => {
    requirePeers(['kafka', 'java']);
    kafka = await startKafka();
  });
  after(async () => {
    await kafka?.stop();
  });

  cliScenario(() => kafka.bootstrap, 'kafka');

  it('keys produced by the Java client sit on the partitions our murmur2 picks', async () => {
    const topic = 'java-keys';
    const c = await runCli(['topic', 'create', topic, '-p', '5', '--brokers', kafka.bootstrap]);
    assert.equal(c.code, 0, show(c));
    await javaProduce(kafka.bootstrap, topic, 40);
    const client = new KafkaClient({ brokers: kafka.bootstrap });
    const consumer = new Consumer(client, { resetPolicy: 'earliest' });
    try {
      consumer.assign([0, 1, 2, 3, 4].map((partition) => ({ topic, partition })));
      const got = [];
      const deadline = Date.now() + 20_000;
      while (got.length < 40 && Date.now() < deadline) got.push(...(await consumer.poll(500)));
      assert.equal(got.length, 40);
      for (const r of got) assert.equal(r.partition, partitionForKey(r.key!, 5), `key ${r.key!.toString()}`);
    } finally {
      await consumer.close();
      await client.close();
    }
  });

  it('group offsets committed by the CLI are resumed by a Java consumer, and the other way round', async () => {
    const topic = 'group-interop';
    const group = 'interop';
    assert.equal((await runCli(['topic', 'create', topic, '-p', '1', '--brokers', kafka.bootstrap])).code, 0);
    const lines = Array.from({ length: 30 }, (_, i) => `r${i}`);
    assert.equal((await runCli(['produce', topic, '--brokers', kafka.bootstrap], { input: lines.join('\n') + '\n' })).code, 0);

    const ours = await runCli(['consume', topic, '-g', group, '--from-beginning', '-n', '10', '--timeout-ms', '20000', '--brokers', kafka.bootstrap], {
      timeoutMs: 60_000,
    });
    assert.equal(ours.code, 0, show(ours));
    assert.deepEqual(ours.stdout.trim().split('\n'), lines.slice(0, 10));

    // the Java peer reads whole polls: starting at the CLI's committed offset 10 it reads exactly the 20 left
    const java = await javaConsume(kafka.bootstrap, topic, group, 20, 30_000);
    assert.equal(java.count, 20, JSON.stringify(java));
    assert.equal(java.committed['0'], 30, JSON.stringify(java));
    if (java.records) assert.equal(java.records[0]!.offset, 10);

    const more = Array.from({ length: 10 }, (_, i) => `r${30 + i}`);
    assert.equal((await runCli(['produce', topic, '--brokers', kafka.bootstrap], { input: more.join('\n') + '\n' })).code, 0);
    const back = await runCli(['consume', topic, '-g', group, '-n', '10', '-f', 'json', '--timeout-ms', '30000', '--brokers', kafka.bootstrap], { timeoutMs: 60_000 });
    assert.equal(back.code, 0, show(back));
    const got = back.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { offset: number; value: string });
    assert.deepEqual(
      got.map((r) => r.offset),
      [...Array(10).keys()].map((i) => 30 + i),
    );
    assert.deepEqual(
      got.map((r) => r.value),
      more,
    );
  });
});
