// murmur2 must match the Java client bit for bit, or keyed records land on other partitions than Java (and
// librdkafka's murmur2_random) would put them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { defaultPartitioner, murmur2, partitionForKey, toPositive } from '../../src/client/partitioner.js';

describe('murmur2', () => {
  it("matches the Java client's test vectors (UtilsTest.testMurmur2)", () => {
    const cases: [Uint8Array, number][] = [
      [Buffer.from('21'), -973932308],
      [Buffer.from('foobar'), -790332482],
      [Buffer.from('a-little-bit-long-string'), -985981536],
      [Buffer.from('a-little-bit-longer-string'), -1486304829],
      [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
      [new Uint8Array([0x61, 0x62, 0x63]), 479470107],
    ];
    for (const [key, expected] of cases) assert.equal(murmur2(key), expected, Buffer.from(key).toString());
  });

  it('handles the empty key and every tail length', () => {
    assert.equal(typeof murmur2(new Uint8Array(0)), 'number');
    for (let n = 0; n < 9; n++) assert.ok(Number.isInteger(murmur2(randomBytes(n))));
  });

  it("agrees with kafkajs's Java-compatible murmur2 on random keys", () => {
    const require = createRequire(import.meta.url);
    const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;
    for (let i = 0; i < 500; i++) {
      const key = randomBytes(i % 40);
      assert.equal(murmur2(key), kafkajsMurmur2(key), key.toString('hex'));
    }
  });

  it('picks partitions as toPositive(murmur2(key)) % n', () => {
    // toPositive clears the sign bit; it is not Math.abs
    assert.equal(toPositive(-790332482), -790332482 & 0x7fffffff);
    assert.equal(partitionForKey(Buffer.from('foobar'), 4), (-790332482 & 0x7fffffff) % 4);
    assert.equal(partitionForKey(Buffer.from('21'), 10), (-973932308 & 0x7fffffff) % 10);
  });

  it('spreads keyless records round-robin per topic', () => {
    const p = defaultPartitioner();
    assert.deepEqual(
      [0, 1, 2, 3, 4].map(() => p('t', null, 3)),
      [0, 1, 2, 0, 1],
    );
    assert.equal(p('other', null, 3), 0);
    assert.equal(p('t', Buffer.from('foobar'), 4), partitionForKey(Buffer.from('foobar'), 4));
  });
});
