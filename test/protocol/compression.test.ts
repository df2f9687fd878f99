import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as snappy from 'snappy';
import {
  Compression,
  compress,
  CompressionError,
  compressionCodec,
  compressionName,
  decompress,
  initCompression,
  isXerialSnappy,
  xerialSnappyCompress,
} from '../../src/protocol/compression.js';

const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(2000));
const random = randomBytes(100_000);
const codecs = [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd] as const;

/** A zstd frame made of raw blocks whose header carries no content size, as streaming encoders write. */
function zstdFrameWithoutContentSize(data: Buffer): Buffer {
  const BLOCK = 128 * 1024;
  const parts: Buffer[] = [];
  const header = Buffer.alloc(6);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0x00; // no content size, no checksum, no dictionary, not single-segment
  header[5] = 7 << 3; // window descriptor: 2^(10+7) = 128 KiB
  parts.push(header);
  for (let pos = 0; pos < data.length; pos += BLOCK) {
    const chunk = data.subarray(pos, Math.min(data.length, pos + BLOCK));
    const last = pos + BLOCK >= data.length ? 1 : 0;
    const blockHeader = (chunk.length << 3) | (0 << 1) | last; // raw block
    parts.push(Buffer.from([blockHeader & 0xff, (blockHeader >> 8) & 0xff, (blockHeader >> 16) & 0xff]), chunk);
  }
  return Buffer.concat(parts);
}

describe('compression codecs', () => {
  before(() => initCompression());

  for (const codec of codecs) {
    it(`round-trips ${compressionName(codec)} on compressible and random data`, () => {
      for (const data of [text, random, Buffer.alloc(0)]) {
        const packed = compress(codec, data);
        assert.deepEqual(decompress(codec, packed), data);
      }
      assert.ok(compress(codec, text).length < text.length / 5, 'compressible input shrinks');
    });
  }

  it('passes data through for codec none', () => {
    assert.equal(compress(Compression.none, text), text);
    assert.equal(decompress(Compression.none, text), text);
  });

  it('reads the Java client snappy framing (xerial) with several blocks', () => {
    const framed = xerialSnappyCompress(text, 8 * 1024);
    assert.ok(isXerialSnappy(framed));
    assert.equal(framed.subarray(0, 8).toString('latin1'), '\x82SNAPPY\x00');
    assert.deepEqual(decompress(Compression.snappy, framed), text);
  });

  it('writes raw snappy that a plain snappy decoder reads', () => {
    const packed = compress(Compression.snappy, text);
    assert.ok(!isXerialSnappy(packed));
    assert.deepEqual(snappy.uncompressSync(packed, { asBuffer: true }), text);
  });

  it('rejects a truncated xerial block', () => {
    const framed = xerialSnappyCompress(text);
    assert.throws(() => decompress(Compression.snappy, framed.subarray(0, framed.length - 10)), CompressionError);
  });

  it('decompresses a zstd frame without a content size larger than the default guess', () => {
    const data = Buffer.alloc(2_500_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    assert.deepEqual(decompress(Compression.zstd, zstdFrameWithoutContentSize(data)), data);
  });

  it('grows its guess for a small zstd frame that expands a lot (RLE blocks, no content size)', () => {
    const BLOCK = 128 * 1024;
    const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3])];
    for (let i = 0; i < 40; i++) {
      const h = (BLOCK << 3) | (1 << 1) | (i === 39 ? 1 : 0); // RLE block: one byte repeated BLOCK times
      parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, 0x61 + (i % 26)]));
    }
    const out = decompress(Compression.zstd, Buffer.concat(parts));
    assert.equal(out.length, 40 * BLOCK);
    assert.equal(out[0], 0x61);
    assert.equal(out[39 * BLOCK], 0x61 + (39 % 26));
  });

  it('decompresses concatenated zstd frames', () => {
    const a = compress(Compression.zstd, text);
    const b = compress(Compression.zstd, random);
    assert.deepEqual(decompress(Compression.zstd, Buffer.concat([a, b])), Buffer.concat([text, random]));
  });

  it('reports corrupt input as CompressionError', () => {
    for (const codec of codecs) {
      assert.throws(() => decompress(codec, Buffer.from('definitely not compressed data')), CompressionError);
    }
  });

  it('maps names and codes', () => {
    assert.equal(compressionCodec('lz4'), 3);
    assert.equal(compressionName(4), 'zstd');
    assert.throws(() => compressionCodec('brotli'), CompressionError);
    assert.throws(() => decompress(6, text), CompressionError);
  });
});
