// CRC-32C: the fast implementation (aws-crt) agrees with the portable one (@node-rs/crc32) on views at every
// alignment and on lengths around the block sizes a folding implementation switches at, and it is the one in use
// where the broker runs (so a dependency upgrade that loses it fails here rather than only in a benchmark).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arch, platform } from 'node:os';
import { crc32c, crc32cImplementation, crc32cPortable } from '../../src/protocol/crc32c.js';
import { buildRecordBatch, computeBatchCrc } from '../../src/protocol/record-batch.js';
import { seededRandom } from '../helpers/random.js';

test('the check value of CRC-32C, and the empty input', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32cPortable(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});

test('on linux-x64 the fast implementation is the one in use', { skip: platform() !== 'linux' || arch() !== 'x64' }, () => {
  assert.equal(crc32cImplementation(), 'aws-crt');
});

test('agrees with the portable implementation on views at every alignment and many lengths', () => {
  const random = seededRandom(0x5eed);
  const big = Buffer.allocUnsafe(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (random() * 256) | 0;
  const lengths = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513];
  for (const edge of [1024, 4096, 8192, 16384, 65536, 1 << 20, 2 << 20]) lengths.push(edge - 1, edge, edge + 1);
  for (let i = 0; i < 200; i++) lengths.push(1 + ((random() * 300_000) | 0));
  let compared = 0;
  for (const length of lengths) {
    for (const offset of [0, 1, 2, 3, 4, 5, 6, 7, 8 + ((random() * 1000) | 0)]) {
      const view = big.subarray(offset, offset + length);
      assert.equal(crc32c(view), crc32cPortable(view), `length ${length} at offset ${offset}`);
      compared++;
    }
  }
  // a Uint8Array that is not a Buffer, and one bit flipped anywhere changes the CRC
  const plain = new Uint8Array(big.buffer, big.byteOffset + 3, 70_000);
  assert.equal(crc32c(plain), crc32cPortable(plain));
  const copy = Buffer.from(big.subarray(0, 70_000));
  const before = crc32c(copy);
  copy[(random() * copy.length) | 0] ^= 1 << ((random() * 8) | 0);
  assert.notEqual(crc32c(copy), before);
  assert.ok(compared > 2000);
});

test('a record batch: the CRC the encoder wrote is the portable CRC-32C of attributes .. end', () => {
  const batch = buildRecordBatch({
    records: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(100 + i, i) })),
  });
  const stored = batch.readUInt32BE(17);
  assert.equal(crc32cPortable(batch.subarray(21)), stored);
  assert.equal(computeBatchCrc(batch, 0, batch.length), stored);
});
