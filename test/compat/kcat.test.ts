// librdkafka through kcat: metadata, and 100,000 keyed records with headers under each compression codec, read
// back with every key, value, header and timestamp intact and in order.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kcatConsume, kcatMetadata, kcatProduce, requirePeers } from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

const COUNT = 100_000;
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

describe('kcat (librdkafka 2.0.2)', () => {
  let broker: UmbraBroker;
  before(async () => {
    requirePeers(['kcat']);
    broker = await startUmbra();
  });
  after(async () => broker?.destroy());

  it('kcat -L lists the broker and the topics', async () => {
    await kcatProduce(broker.bootstrap, 'listed', [{ key: 'a', value: 'b' }]);
    const md = await kcatMetadata(broker.bootstrap);
    assert.equal(md.brokers.length, 1);
    assert.equal(md.brokers[0]!.name, broker.bootstrap);
    assert.ok(md.topics.some((t) => t.topic === 'listed'));
  });

  for (const codec of CODECS) {
    it(`round-trips ${COUNT} keyed records with headers under ${codec}`, { timeout: 120_000 }, async () => {
      const topic = `codec-${codec}`;
      const messages = Array.from({ length: COUNT }, (_, i) => ({ key: `key-${i % 1000}`, value: `value-${i}-${'x'.repeat(i % 200)}` }));
      const started = Date.now();
      await kcatProduce(broker.bootstrap, topic, messages, { compression: codec, headers: { codec, trace: `t-${codec}` }, partition: 0, timeoutMs: 120_000 });
      const records = await kcatConsume(broker.bootstrap, topic, { timeoutMs: 120_000 });
      assert.equal(records.length, COUNT);
      let lastTs = 0;
      for (let i = 0; i < COUNT; i++) {
        const r = records[i]!;
        assert.equal(r.offset, i);
        assert.equal(r.key, messages[i]!.key);
        assert.equal(r.payload, messages[i]!.value);
        assert.deepEqual(r.headers, [['codec', codec], ['trace', `t-${codec}`]]);
        assert.equal(r.tstype, 'create');
        assert.ok(r.ts >= started - 1000 && r.ts <= Date.now() && r.ts >= lastTs, `timestamp of offset ${i}`);
        lastTs = r.ts;
      }
    });
  }
});
