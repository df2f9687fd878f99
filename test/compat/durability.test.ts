// kill -9 of the broker while producers send with acks=all: after a restart every acknowledged record is
// readable at the offset it was acknowledged at, and what is served passes librdkafka's CRC check.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { kcatConsume, requirePeers } from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

const ROUNDS = 3;

describe('durability', () => {
  let broker: UmbraBroker | undefined;
  after(async () => broker?.destroy());

  it(`loses no acknowledged acks=all record across ${ROUNDS} kill -9 rounds`, { timeout: 180_000 }, async () => {
    requirePeers(['kcat']);
    broker = await startUmbra();
    const acked = new Map<string, { partition: number; offset: number }>();
    for (let round = 0; round < ROUNDS; round++) {
      const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: `dur-${round}`, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const admin = kafka.admin();
      if (round === 0) {
        await admin.connect();
        await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 4 }] });
        await admin.disconnect();
      }
      const producers = await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const p = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
          await p.connect();
          return p;
        }),
      );
      let stop = false;
      const loops = producers.map(async (p, w) => {
        for (let i = 0; !stop; i++) {
          const key = `r${round}-w${w}-${i}`;
          try {
            const [meta] = await p.send({ topic: 'durable', acks: -1, messages: [{ key, value: `value-of-${key}`, partition: w }] });
            acked.set(key, { partition: meta!.partition, offset: Number(meta!.baseOffset) });
          } catch {
            return; // the broker is gone: this record was never acknowledged
          }
        }
      });
      // some acknowledgements first (however slow the machine), then the kill at a random moment
      const roundStart = acked.size;
      for (const started = Date.now(); acked.size < roundStart + 40; await new Promise((r) => setTimeout(r, 20))) {
        assert.ok(Date.now() - started < 60_000, `round ${round}: only ${acked.size - roundStart} records acknowledged in 60 s`);
      }
      await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 800)));
      await broker.kill();
      stop = true;
      await Promise.all(loops);
      await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
      broker = await broker.restart();
    }
    assert.ok(acked.size > 100, `only ${acked.size} records were acknowledged`);

    const records = await kcatConsume(broker.bootstrap, 'durable', { config: { 'check.crcs': true }, timeoutMs: 60_000 });
    const found = new Map(records.map((r) => [r.key, r]));
    for (const [key, where] of acked) {
      const r = found.get(key);
      assert.ok(r, `acknowledged record ${key} is missing after kill -9`);
      assert.equal(r.partition, where.partition);
      assert.equal(r.offset, where.offset, `${key} moved`);
      assert.equal(r.payload, `value-of-${key}`);
    }
  });
});
