// Wire primitives: varints, int64 across the 2^32 boundary, UUID text, and the bounds checks that keep a forged
// length or count from costing more than the frame it arrived in. Expected bytes are derived by hand from the
// encoding rules in kafka-protocol/NOTES.md (c) and (d) (LEB128, zig-zag, big-endian, compact = uvarint(n+1)).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMPTY,
  ProtocolError,
  Reader,
  Writer,
  ZERO_UUID,
  readInt64,
  uuidFromBase64,
  uuidToBase64,
  writeInt64,
} from '../../src/protocol/primitives.js';
import { readMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import { readFetchRequest } from '../../src/protocol/generated/messages/FetchRequest.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const bytesOf = (fill: (w: Writer) => void): string => {
  const w = new Writer(8);
  fill(w);
  return w.toBuffer().toString('hex');
};
const isProtocolError = (re?: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
  if (re) assert.match(err.message, re);
  return true;
};

describe('unsigned varint (uvarint)', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2097151, 'ffff7f'],
    [2097152, '80808001'],
    [268435455, 'ffffff7f'],
    [268435456, '8080808001'],
    [2 ** 31 - 1, 'ffffffff07'],
    [2 ** 32 - 1, 'ffffffff0f'],
  ];
  for (const [value, enc] of cases) {
    it(`${value} <-> ${enc}`, () => {
      assert.equal(bytesOf((w) => w.uvarint(value)), enc);
      const r = new Reader(hex(enc));
      assert.equal(r.uvarint(), value);
      assert.equal(r.remaining, 0);
    });
  }
  it('rejects a fifth byte that carries more than 32 bits', () => {
    assert.throws(() => new Reader(hex('ffffffff1f')).uvarint(), isProtocolError(/overflow/));
    assert.throws(() => new Reader(hex('ffffffff8f01')).uvarint(), isProtocolError(/overflow/));
  });
  it('rejects a varint longer than five bytes without reading on', () => {
    // continuation bits forever: must stop at the fifth byte, not run to the end of the buffer
    assert.throws(() => new Reader(Buffer.alloc(1000, 0x80)).uvarint(), isProtocolError());
  });
  it('throws ProtocolError when the varint is cut off', () => {
    assert.throws(() => new Reader(hex('80')).uvarint(), isProtocolError(/truncated/));
    assert.throws(() => new Reader(hex('ffff')).uvarint(), isProtocolError(/truncated/));
    assert.throws(() => new Reader(EMPTY).uvarint(), isProtocolError(/truncated/));
  });
  it('accepts a non-minimal encoding (as Kafka does)', () => {
    assert.equal(new Reader(hex('8100')).uvarint(), 1);
  });
});

describe('zig-zag varint (record fields)', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [2, '04'],
    [-64, '7f'],
    [64, '8001'],
    [-65, '8101'],
    [2 ** 31 - 1, 'feffffff0f'],
    [-(2 ** 31), 'ffffffff0f'],
  ];
  for (const [value, enc] of cases) {
    it(`${value} <-> ${enc}`, () => {
      assert.equal(bytesOf((w) => w.varint(value)), enc);
      assert.equal(new Reader(hex(enc)).varint(), value);
    });
  }
});

describe('zig-zag varlong (record fields)', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [2 ** 31 - 1, 'feffffff0f'],
    [-(2 ** 31), 'ffffffff0f'],
    [2 ** 31, '8080808010'],
    [2 ** 32, '8080808020'],
    [-(2 ** 32) - 1, '8180808020'],
    // a timestamp in ms (2023-11-14T22:13:20Z), zig-zag = 3.4e12
    [1_700_000_000_000, '80a0abfef962'],
    // 2^52 - 1 and -(2^52): the range the writer documents as exact
    [2 ** 52 - 1, 'feffffffffffff0f'],
    [-(2 ** 52), 'ffffffffffffff0f'],
  ];
  for (const [value, enc] of cases) {
    it(`${value} <-> ${enc}`, () => {
      assert.equal(bytesOf((w) => w.varlong(value)), enc);
      assert.equal(new Reader(hex(enc)).varlong(), value);
    });
  }
  it('round-trips every power of two and its negation up to 2^52', () => {
    for (let e = 0; e <= 52; e++) {
      for (const v of [2 ** e, -(2 ** e), 2 ** e - 1, -(2 ** e) + 1]) {
        const w = new Writer(16);
        w.varlong(v);
        assert.equal(new Reader(w.toBuffer()).varlong(), v, `varlong ${v}`);
      }
    }
  });
  it('rejects a varlong longer than ten bytes', () => {
    assert.throws(() => new Reader(Buffer.alloc(100, 0xff)).varlong(), isProtocolError(/too long/));
  });
  it('throws ProtocolError when cut off', () => {
    assert.throws(() => new Reader(hex('8080')).varlong(), isProtocolError(/truncated/));
  });
});

describe('int64 as a JS number (hi/lo int32 split)', () => {
  const cases: [number, string][] = [
    [0, '0000000000000000'],
    [1, '0000000000000001'],
    [-1, 'ffffffffffffffff'],
    [-2, 'fffffffffffffffe'],
    [2 ** 32 - 1, '00000000ffffffff'],
    [2 ** 32, '0000000100000000'],
    [2 ** 32 + 1, '0000000100000001'],
    [-(2 ** 32), 'ffffffff00000000'],
    [-(2 ** 32) - 1, 'fffffffeffffffff'],
    [-(2 ** 32) + 1, 'ffffffff00000001'],
    [2 ** 31, '0000000080000000'],
    [-(2 ** 31), 'ffffffff80000000'],
    [1_700_000_000_000, '0000018bcfe56800'],
    [Number.MAX_SAFE_INTEGER, '001fffffffffffff'],
    [-Number.MAX_SAFE_INTEGER, 'ffe0000000000001'],
  ];
  for (const [value, enc] of cases) {
    it(`${value} <-> ${enc}`, () => {
      assert.equal(bytesOf((w) => w.int64(value)), enc);
      const r = new Reader(hex(enc));
      assert.equal(r.int64(), value);
      assert.equal(r.remaining, 0);
      const b = Buffer.alloc(10);
      writeInt64(b, value, 1);
      assert.equal(b.subarray(1, 9).toString('hex'), enc);
      assert.equal(readInt64(b, 1), value);
    });
  }
  it('saturates Long.MAX_VALUE / Long.MIN_VALUE sentinels on write', () => {
    assert.equal(bytesOf((w) => w.int64(2 ** 63)), '7fffffffffffffff');
    assert.equal(bytesOf((w) => w.int64(Number.MAX_VALUE)), '7fffffffffffffff');
    assert.equal(bytesOf((w) => w.int64(-(2 ** 63))), '8000000000000000');
    // reading Long.MAX_VALUE gives 2^63 (the nearest double): documented loss beyond 2^53
    assert.equal(new Reader(hex('7fffffffffffffff')).int64(), 2 ** 63);
    assert.equal(new Reader(hex('8000000000000000')).int64(), -(2 ** 63));
  });
});

describe('fixed-width integers and float64', () => {
  it('writes big-endian and reads back signed and unsigned values', () => {
    const w = new Writer(4);
    w.bool(true);
    w.bool(false);
    w.int8(-1);
    w.int16(-2);
    w.uint16(65535);
    w.int32(-3);
    w.uint32(4294967295);
    w.float64(12.34);
    w.float64(-0);
    const b = w.toBuffer();
    assert.equal(b.toString('hex'), '0100ff' + 'fffe' + 'ffff' + 'fffffffd' + 'ffffffff' + '4028ae147ae147ae' + '8000000000000000');
    const r = new Reader(b);
    assert.equal(r.bool(), true);
    assert.equal(r.bool(), false);
    assert.equal(r.int8(), -1);
    assert.equal(r.int16(), -2);
    assert.equal(r.uint16(), 65535);
    assert.equal(r.int32(), -3);
    assert.equal(r.uint32(), 4294967295);
    assert.equal(r.float64(), 12.34);
    assert.ok(Object.is(r.float64(), -0));
    assert.equal(r.remaining, 0);
  });
  it('reads any non-zero byte as true', () => {
    assert.equal(new Reader(hex('02')).bool(), true);
  });
  for (const [name, read, size] of [
    ['int8', (r: Reader) => r.int8(), 1],
    ['int16', (r: Reader) => r.int16(), 2],
    ['uint16', (r: Reader) => r.uint16(), 2],
    ['int32', (r: Reader) => r.int32(), 4],
    ['uint32', (r: Reader) => r.uint32(), 4],
    ['int64', (r: Reader) => r.int64(), 8],
    ['float64', (r: Reader) => r.float64(), 8],
    ['uuid', (r: Reader) => r.uuid(), 16],
  ] as const) {
    it(`${name}: one byte short is a ProtocolError`, () => {
      assert.throws(() => read(new Reader(Buffer.alloc(size - 1))), isProtocolError(/truncated/));
      // the reader's end bound counts, not the buffer's length
      assert.throws(() => read(new Reader(Buffer.alloc(size + 4), 5)), isProtocolError(/truncated/));
      assert.throws(() => read(new Reader(Buffer.alloc(size + 4), 0, size - 1)), isProtocolError(/truncated/));
    });
  }
});

describe('UUID', () => {
  const text = '1f728a3b-8353-44f6-825a-d1269b7bd6ec';
  it('reads 16 bytes as lowercase 8-4-4-4-12 text', () => {
    assert.equal(new Reader(hex('1F728A3B835344F6825AD1269B7BD6EC')).uuid(), text);
    assert.equal(new Reader(Buffer.alloc(16)).uuid(), ZERO_UUID);
  });
  it('writes text with or without dashes, any case', () => {
    for (const v of [text, text.toUpperCase(), text.replace(/-/g, '')]) {
      assert.equal(bytesOf((w) => w.uuid(v)), '1f728a3b835344f6825ad1269b7bd6ec');
    }
  });
  it('writes the same bytes again from its cache of parsed ids, and several ids side by side', () => {
    const other = '00000000-0000-0000-0000-0000000000ff';
    for (let i = 0; i < 3; i++) {
      assert.equal(
        bytesOf((w) => {
          w.uuid(text);
          w.uuid(other);
          w.uuid(text);
        }),
        `1f728a3b835344f6825ad1269b7bd6ec${'0'.repeat(30)}ff1f728a3b835344f6825ad1269b7bd6ec`,
      );
    }
  });
  it('rejects malformed text with ProtocolError', () => {
    new Writer().uuid(text); // a cached valid id does not make its malformed neighbours valid
    for (const bad of ['', 'xyz', text.slice(1), text.replace('1', 'g'), `${text}0`]) {
      assert.throws(() => new Writer().uuid(bad), isProtocolError(/not a UUID/), bad);
    }
  });
  it('converts to and from the URL-safe base64 Kafka prints (Uuid.toString)', () => {
    assert.equal(uuidFromBase64('H3KKO4NTRPaCWtEmm3vW7A'), text);
    assert.equal(uuidToBase64(text), 'H3KKO4NTRPaCWtEmm3vW7A');
    assert.equal(uuidToBase64(ZERO_UUID), 'AAAAAAAAAAAAAAAAAAAAAA');
    assert.throws(() => uuidFromBase64('AAAA'), isProtocolError());
  });
});

describe('strings and bytes', () => {
  it('string: int16 length + UTF-8 (length in bytes, not characters)', () => {
    assert.equal(bytesOf((w) => w.string('')), '0000');
    assert.equal(bytesOf((w) => w.string('abc')), '0003616263');
    assert.equal(bytesOf((w) => w.string('é')), '0002c3a9');
    assert.equal(bytesOf((w) => w.string('🙂')), '0004f09f9982');
    assert.equal(new Reader(hex('0004f09f9982')).string(), '🙂');
  });
  it('nullable string: -1 is null', () => {
    assert.equal(bytesOf((w) => w.nullableString(null)), 'ffff');
    assert.equal(new Reader(hex('ffff')).nullableString(), null);
    assert.throws(() => new Reader(hex('ffff')).string(), isProtocolError(/null string/));
  });
  it('compact string: uvarint(length + 1), 0 is null', () => {
    assert.equal(bytesOf((w) => w.compactString('')), '01');
    assert.equal(bytesOf((w) => w.compactString('abc')), '04616263');
    assert.equal(bytesOf((w) => w.compactNullableString(null)), '00');
    assert.equal(new Reader(hex('00')).compactNullableString(), null);
    assert.throws(() => new Reader(hex('00')).compactString(), isProtocolError(/null string/));
    const long = 'x'.repeat(200);
    assert.equal(bytesOf((w) => w.compactString(long)), 'c901' + Buffer.from(long).toString('hex'));
  });
  it('a string longer than 32767 bytes cannot be written with an int16 length', () => {
    assert.throws(() => new Writer().string('x'.repeat(0x8000)), isProtocolError(/32767/));
    assert.equal(new Writer().compactString('x'.repeat(0x8000)), undefined);
  });
  it('bytes: int32 length, -1 null; compact: uvarint(length + 1), 0 null', () => {
    assert.equal(bytesOf((w) => w.bytes(hex('dead'))), '00000002dead');
    assert.equal(bytesOf((w) => w.nullableBytes(null)), 'ffffffff');
    assert.equal(bytesOf((w) => w.compactBytes(hex('dead'))), '03dead');
    assert.equal(bytesOf((w) => w.compactNullableBytes(null)), '00');
    assert.equal(new Reader(hex('ffffffff')).nullableBytes(), null);
    assert.equal(new Reader(hex('00')).compactNullableBytes(), null);
    assert.throws(() => new Reader(hex('ffffffff')).bytes(), isProtocolError(/null bytes/));
    assert.throws(() => new Reader(hex('00')).compactBytes(), isProtocolError(/null bytes/));
  });
  it('bytes are read as a view of the input (zero copy)', () => {
    const input = hex('00000002dead');
    const b = new Reader(input).bytes();
    assert.equal(b.buffer, input.buffer);
    assert.equal(b.toString('hex'), 'dead');
  });
});

describe('forged lengths and counts: ProtocolError before anything is allocated', () => {
  /** runs fn, asserts a ProtocolError, and that no large buffer was allocated meanwhile */
  function rejectsCheaply(fn: () => unknown, re?: RegExp): void {
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(fn, isProtocolError(re));
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 16 * 1024 * 1024, `allocated ${grown} bytes`);
  }
  const tenBytes = Buffer.alloc(10);

  it('string length beyond the input', () => {
    rejectsCheaply(() => new Reader(Buffer.concat([hex('7fff'), tenBytes])).string(), /truncated/);
    rejectsCheaply(() => new Reader(Buffer.concat([hex('7fff'), tenBytes])).nullableString(), /truncated/);
    // compact: uvarint 2^32-1 -> length 2^32-2
    rejectsCheaply(() => new Reader(Buffer.concat([hex('ffffffff0f'), tenBytes])).compactString(), /truncated/);
    rejectsCheaply(() => new Reader(Buffer.concat([hex('ffffffff0f'), tenBytes])).compactNullableString(), /truncated/);
  });
  it('bytes length beyond the input', () => {
    rejectsCheaply(() => new Reader(Buffer.concat([hex('7fffffff'), tenBytes])).bytes(), /truncated/);
    rejectsCheaply(() => new Reader(Buffer.concat([hex('7fffffff'), tenBytes])).nullableBytes(), /truncated/);
    rejectsCheaply(() => new Reader(Buffer.concat([hex('ffffffff0f'), tenBytes])).compactBytes(), /truncated/);
    rejectsCheaply(() => new Reader(Buffer.concat([hex('ffffffff0f'), tenBytes])).compactNullableBytes(), /truncated/);
  });
  it('bytes length exactly at the end is fine, one more is not', () => {
    assert.equal(new Reader(Buffer.concat([hex('0000000a'), tenBytes])).bytes().length, 10);
    rejectsCheaply(() => new Reader(Buffer.concat([hex('0000000b'), tenBytes])).bytes(), /truncated/);
  });
  it('array count of 2^31-1 with 10 bytes left', () => {
    rejectsCheaply(() => new Reader(Buffer.concat([hex('7fffffff'), tenBytes])).arrayLength(false), /exceeds/);
    rejectsCheaply(() => new Reader(Buffer.concat([hex('ffffffff07'), tenBytes])).arrayLength(true), /exceeds/);
    rejectsCheaply(() => new Reader(Buffer.concat([hex('ffffffff0f'), tenBytes])).arrayLength(true), /exceeds/);
  });
  it('array counts: -1 is null, below -1 is an error, 0 needs no bytes', () => {
    assert.equal(new Reader(hex('ffffffff')).arrayLength(false), -1);
    assert.equal(new Reader(hex('00')).arrayLength(true), -1);
    assert.equal(new Reader(hex('00000000')).arrayLength(false), 0);
    assert.equal(new Reader(hex('01')).arrayLength(true), 0);
    rejectsCheaply(() => new Reader(hex('fffffffe')).arrayLength(false), /negative/);
    rejectsCheaply(() => new Reader(hex('80000000')).arrayLength(false), /negative/);
  });
  it('tagged-field sizes beyond the input', () => {
    // one tagged field, tag 0, size 2^31-1
    rejectsCheaply(() => new Reader(Buffer.concat([hex('0100ffffffff07'), tenBytes])).skipTaggedFields(), /truncated/);
    // 2^31-1 tagged fields: stops at the end of the input, not after 2^31 iterations
    rejectsCheaply(() => new Reader(Buffer.concat([hex('ffffffff07'), tenBytes])).skipTaggedFields(), /truncated/);
  });
  it('through a generated reader: MetadataRequest v1 with a topic count of 2^31-1', () => {
    rejectsCheaply(() => readMetadataRequest(new Reader(Buffer.concat([hex('7fffffff'), tenBytes])), 1), /exceeds/);
    // v9 (flexible): compact count uvarint 2^31
    rejectsCheaply(() => readMetadataRequest(new Reader(Buffer.concat([hex('8080808008'), tenBytes])), 9), /exceeds/);
  });
  it('through a generated reader: FetchRequest v4 with a forged partition count', () => {
    // replicaId, maxWaitMs, minBytes, maxBytes, isolationLevel, topics=[{ topic "t", partitions: count 2^31-1 }]
    const frame = hex('ffffffff 000001f4 00000001 00100000 00 00000001 0001 74 7fffffff') ;
    rejectsCheaply(() => readFetchRequest(new Reader(Buffer.concat([frame, tenBytes])), 4), /exceeds/);
  });
  it('through a generated reader: a tagged field whose size runs past the message', () => {
    // MetadataRequest v9: topics null, allowAuto, includeCluster, includeTopic, 1 tag: tag 5 size 1000
    rejectsCheaply(() => readMetadataRequest(new Reader(hex('00 01 00 00 01 05 e807 00')), 9));
  });
  it('every truncation of a valid message is a ProtocolError', () => {
    // MetadataRequest v12: one topic with a name, flexible, with header-free body
    const body = hex('02' + '00'.repeat(16) + '0474706300' + '01' + '00' + '00');
    assert.deepEqual(readMetadataRequest(new Reader(body), 12).topics?.[0]?.name, 'tpc');
    for (let n = 0; n < body.length; n++) {
      assert.throws(() => readMetadataRequest(new Reader(body.subarray(0, n)), 12), isProtocolError(), `cut at ${n}`);
    }
  });
});

describe('Writer', () => {
  it('grows from a tiny initial buffer', () => {
    const w = new Writer(1);
    for (let i = 0; i < 1000; i++) w.int32(i);
    const b = w.toBuffer();
    assert.equal(b.length, 4000);
    assert.equal(b.readInt32BE(3996), 999);
    assert.equal(w.length, 4000);
  });
  it('references large raw buffers instead of copying them, and copies small ones', () => {
    const big = Buffer.alloc(Writer.RAW_COPY_LIMIT + 1, 7);
    const small = Buffer.alloc(10, 9);
    const w = new Writer();
    w.int32(1);
    w.raw(small);
    w.bytes(big);
    w.int16(2);
    const parts = w.finish();
    assert.ok(parts.includes(big), 'the large buffer is one of the parts');
    assert.ok(!parts.includes(small), 'the small buffer was copied');
    const all = Buffer.concat(parts);
    assert.equal(all.length, 4 + 10 + 4 + big.length + 2);
    assert.equal(all.readInt32BE(14), big.length);
  });
  it('reserveInt32/patchInt32 fill a size written before the body, even after the buffer grew', () => {
    // the broker frames every response this way: the size must survive the scratch buffer being reallocated
    const w = new Writer(4);
    const h = w.reserveInt32();
    w.string('hello');
    for (let i = 0; i < 300; i++) w.int32(i); // grows 4 -> 8 -> ... bytes
    Writer.patchInt32(h, w.length - 4);
    const b = w.toBuffer();
    assert.equal(b.readInt32BE(0), b.length - 4);
    assert.equal(b.readInt32BE(b.length - 4), 299);
  });
  it('reservations before and after a referenced chunk, with growth in between', () => {
    const w = new Writer(8);
    const h1 = w.reserveInt32();
    w.raw(Buffer.alloc(100, 1)); // copied
    const big = Buffer.alloc(Writer.RAW_COPY_LIMIT + 1, 2);
    w.raw(big); // cut: the first part becomes a chunk
    const h2 = w.reserveInt32();
    for (let i = 0; i < 1000; i++) w.int8(3); // grows the scratch buffer after the cut
    Writer.patchInt32(h2, 0x22222222);
    Writer.patchInt32(h1, 0x11111111);
    const b = w.toBuffer();
    assert.equal(b.length, 4 + 100 + big.length + 4 + 1000);
    assert.equal(b.readInt32BE(0), 0x11111111);
    assert.equal(b.readInt32BE(4 + 100 + big.length), 0x22222222);
  });
});
