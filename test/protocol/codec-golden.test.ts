// Golden tests for the generated codecs, on Kafka's own generator test specs
// (../shared/kafka-protocol/generator-test-specs, generated into test/protocol/generated/) and on a few real APIs.
//
// Every expected byte string below was derived by hand from the encoding rules (kafka-protocol/NOTES.md (d)),
// not by running the writer: compact strings/bytes/arrays are uvarint(n+1) with 0 = null, non-flexible ones carry
// an int16/int32 length with -1 = null, each struct in a flexible version ends with a tagged-field section
// (uvarint count, then uvarint tag, uvarint size, value) in ascending tag order, tagged fields are written only when
// they differ from their default (a null is written when the default is not null), nullable structs carry an int8
// -1/1 prefix, and inside a tagged field that prefix is a uvarint 0/1 (Kafka's MessageDataGenerator).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError, Reader, Writer } from '../../src/protocol/primitives.js';
import * as SimpleExample from './generated/SimpleExampleMessage.js';
import * as NullableStruct from './generated/NullableStructMessage.js';
import * as SimpleArrays from './generated/SimpleArraysMessage.js';
import * as SimpleRecords from './generated/SimpleRecordsMessage.js';
import * as RequestHeader from '../../src/protocol/generated/messages/RequestHeader.js';
import * as ResponseHeader from '../../src/protocol/generated/messages/ResponseHeader.js';
import * as MetadataRequest from '../../src/protocol/generated/messages/MetadataRequest.js';
import * as InitProducerIdRequest from '../../src/protocol/generated/messages/InitProducerIdRequest.js';
import * as FetchResponse from '../../src/protocol/generated/messages/FetchResponse.js';
import * as ApiVersionsResponse from '../../src/protocol/generated/messages/ApiVersionsResponse.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|\|/g, ''), 'hex');

interface Codec<T> {
  read(r: Reader, v: number): T;
  write(w: Writer, v: number, m: never): void;
}

function encode<T>(codec: Codec<T>, v: number, m: unknown): Buffer {
  const w = new Writer(16);
  codec.write(w, v, m as never);
  return w.toBuffer();
}

function decode<T>(codec: Codec<T>, v: number, b: Buffer): T {
  const r = new Reader(b);
  const m = codec.read(r, v);
  assert.equal(r.remaining, 0, 'the reader consumed the whole message');
  return m;
}

/** encode(m) == expected, decode(expected) matches `decoded` (when given), and encode(decode(expected)) == expected */
function golden<T>(codec: Codec<T>, v: number, m: unknown, expectedHex: string, decoded?: Partial<T>): T {
  const expected = hex(expectedHex);
  assert.equal(encode(codec, v, m).toString('hex'), expected.toString('hex'), `encode v${v}`);
  const back = decode(codec, v, expected);
  if (decoded) for (const [k, val] of Object.entries(decoded)) assert.deepEqual((back as Record<string, unknown>)[k], val, k);
  assert.equal(encode(codec, v, back).toString('hex'), expected.toString('hex'), `re-encode v${v}`);
  return back;
}

const ZERO16 = '00'.repeat(16);
const PID = '0123456789abcdef0011223344556677';
const PID_TEXT = '01234567-89ab-cdef-0011-223344556677';
const COMMON_DEFAULT = '0000007b 0000007b'; // TestCommonStruct { foo: 123, bar: 123 }

describe('SimpleExampleMessage (generator test spec)', () => {
  const codec = SimpleExample as unknown as Codec<SimpleExample.SimpleExampleMessage>;

  it('v0: only the two common structs, no tagged section', () => {
    golden(codec, 0, {}, `${COMMON_DEFAULT} ${COMMON_DEFAULT}`);
    golden(
      codec,
      0,
      { myCommonStruct: { foo: 1, bar: 2 }, myOtherCommonStruct: { foo: -1, bar: 0x01020304 } },
      '00000001 00000002 ffffffff 01020304',
      { myCommonStruct: { foo: 1, bar: 2 }, myOtherCommonStruct: { foo: -1, bar: 0x01020304 } },
    );
  });

  it('v0: fields of later versions and tagged fields are not written, and read back as defaults', () => {
    const back = golden(
      codec,
      0,
      { processId: PID_TEXT, myInt16: 5, myString: 'x', myUint16: 1, zeroCopyByteBuffer: hex('ff') },
      `${COMMON_DEFAULT} ${COMMON_DEFAULT}`,
    );
    assert.deepEqual(back, SimpleExample.defaultSimpleExampleMessage());
  });

  it('v1 defaults: uuid, compact bytes, structs with tagged sections, uint16/uint32, no tags', () => {
    golden(
      codec,
      1,
      {},
      // processId | zeroCopyByteBuffer "" | nullableZeroCopyByteBuffer "" (default is empty, not null) |
      // 2x common struct + tags | myUint16 33000 | myUint32 1234567 | no tagged fields
      `${ZERO16} | 01 | 01 | ${COMMON_DEFAULT} 00 | ${COMMON_DEFAULT} 00 | 80e8 | 0012d687 | 00`,
    );
  });

  it('v1: a null nullableZeroCopyByteBuffer and non-empty bytes', () => {
    golden(
      codec,
      1,
      { processId: PID_TEXT, zeroCopyByteBuffer: hex('0102'), nullableZeroCopyByteBuffer: null, myUint16: 65535, myUint32: 4294967295 },
      `${PID} | 03 0102 | 00 | ${COMMON_DEFAULT} 00 | ${COMMON_DEFAULT} 00 | ffff | ffffffff | 00`,
      { processId: PID_TEXT, nullableZeroCopyByteBuffer: null, myUint16: 65535, myUint32: 4294967295 },
    );
  });

  it('v1: tagged fields in ascending tag order, defaults left out, a null with a non-null default written', () => {
    const m = {
      // set in reverse order: the writer must sort by tag
      taggedLong: 1,
      myBytes: null, // default is empty bytes, so null is not the default: written as tag 5, size 1, 00
      myString: 'x',
      myFloat64: 1.5,
      myInt16: 456,
      myNullableString: 'abc',
      myTaggedIntArray: [1, 2],
      taggedUuid: '1f728a3b-8353-44f6-825a-d1269b7bd6ec', // its default: not written
      myTaggedStruct: { structId: 'ignored in v1' }, // tag 8 is a v2+ field
    };
    golden(
      codec,
      1,
      m,
      `${ZERO16} 01 01 ${COMMON_DEFAULT} 00 ${COMMON_DEFAULT} 00 80e8 0012d687` +
        ' 07' + // seven tagged fields
        ' 00 09 03 00000001 00000002' + // tag 0 myTaggedIntArray [1, 2]
        ' 01 04 04 616263' + // tag 1 myNullableString "abc"
        ' 02 02 01c8' + // tag 2 myInt16 456
        ' 03 08 3ff8000000000000' + // tag 3 myFloat64 1.5
        ' 04 02 02 78' + // tag 4 myString "x"
        ' 05 01 00' + // tag 5 myBytes null
        ' 07 08 0000000000000001', // tag 7 taggedLong 1
      {
        myTaggedIntArray: [1, 2],
        myNullableString: 'abc',
        myInt16: 456,
        myFloat64: 1.5,
        myString: 'x',
        myBytes: null,
        taggedLong: 1,
        taggedUuid: '1f728a3b-8353-44f6-825a-d1269b7bd6ec',
      },
    );
  });

  it('v1: tagged fields set to their defaults are not written', () => {
    golden(
      codec,
      1,
      {
        myTaggedIntArray: [],
        myNullableString: null,
        myInt16: 123,
        myFloat64: 12.34,
        myString: '',
        myBytes: Buffer.alloc(0),
        taggedUuid: '1f728a3b-8353-44f6-825a-d1269b7bd6ec',
        taggedLong: SimpleExample.defaultSimpleExampleMessage().taggedLong,
      },
      `${ZERO16} 01 01 ${COMMON_DEFAULT} 00 ${COMMON_DEFAULT} 00 80e8 0012d687 00`,
    );
  });

  it('v1: a non-default uuid tag and non-empty bytes tag', () => {
    golden(
      codec,
      1,
      { taggedUuid: ZERO16.replace(/-/g, ''), myBytes: hex('aabb') },
      `${ZERO16} 01 01 ${COMMON_DEFAULT} 00 ${COMMON_DEFAULT} 00 80e8 0012d687` +
        ' 02 05 03 03aabb 06 10 ' + ZERO16,
      { taggedUuid: '00000000-0000-0000-0000-000000000000' },
    );
  });

  it('v2: nested struct with an array of structs, v1-only fields gone, v2 tags', () => {
    golden(
      codec,
      2,
      {
        processId: PID_TEXT,
        zeroCopyByteBuffer: hex('ff'), // v1 only
        myStruct: { structId: 5, arrayInStruct: [{ arrayFieldId: 7 }, { arrayFieldId: -1 }] },
        myTaggedStruct: { structId: 'hi' },
        taggedLongFlexibleVersionSubset: 300,
      },
      `${PID}` +
        ' 00000005 03 00000007 00 ffffffff 00 00' + // myStruct: structId, [2 elements each + tags], struct tags
        ` ${COMMON_DEFAULT} 00 ${COMMON_DEFAULT} 00 80e8 0012d687` +
        ' 02' +
        ' 08 04 03 6869 00' + // tag 8 myTaggedStruct { structId: "hi" } + its own tagged section
        ' 09 08 000000000000012c', // tag 9 taggedLongFlexibleVersionSubset 300
      {
        myStruct: { structId: 5, arrayInStruct: [{ arrayFieldId: 7 }, { arrayFieldId: -1 }] },
        myTaggedStruct: { structId: 'hi' },
        taggedLongFlexibleVersionSubset: 300,
        zeroCopyByteBuffer: Buffer.alloc(0),
      },
    );
  });

  it('v2 defaults: a tagged struct equal to its default is not written', () => {
    golden(
      codec,
      2,
      { myTaggedStruct: { structId: '' } },
      `${ZERO16} 00000000 01 00 ${COMMON_DEFAULT} 00 ${COMMON_DEFAULT} 00 80e8 0012d687 00`,
    );
  });

  it('reading skips unknown tags (any order, any size) and keeps the known ones', () => {
    const base = `${ZERO16} 01 01 ${COMMON_DEFAULT} 00 ${COMMON_DEFAULT} 00 80e8 0012d687`;
    const withUnknown = hex(
      `${base} 04` +
        ' 0a 03 aabbcc' + // unknown tag 10, 3 bytes
        ' 02 02 01c8' + // myInt16 456
        ' c801 00' + // unknown tag 200, empty
        ' ffffffff07 02 beef', // unknown tag 2^31-1
    );
    const m = decode(codec, 1, withUnknown);
    assert.equal(m.myInt16, 456);
    assert.deepEqual({ ...m, myInt16: 123 }, SimpleExample.defaultSimpleExampleMessage());
    // unknown tags are not kept: re-encoding writes only the known one
    assert.equal(encode(codec, 1, m).toString('hex'), hex(`${base} 01 02 02 01c8`).toString('hex'));
  });

  it('a known tag with a larger size than its value is skipped to its end; a smaller one is an error', () => {
    const base = `${ZERO16} 01 01 ${COMMON_DEFAULT} 00 ${COMMON_DEFAULT} 00 80e8 0012d687`;
    assert.equal(decode(codec, 1, hex(`${base} 01 02 04 01c8ffff`)).myInt16, 456);
    assert.throws(() => decode(codec, 1, hex(`${base} 01 07 04 0000000000000001`)), ProtocolError);
  });

  it('a tagged section cut short is a ProtocolError', () => {
    const full = hex(`${ZERO16} 01 01 ${COMMON_DEFAULT} 00 ${COMMON_DEFAULT} 00 80e8 0012d687 01 04 02 02 78`);
    for (let n = full.length - 5; n < full.length; n++) {
      assert.throws(() => codec.read(new Reader(full.subarray(0, n)), 1), ProtocolError, `cut at ${n}`);
    }
  });
});

describe('NullableStructMessage (generator test spec)', () => {
  const codec = NullableStruct as unknown as Codec<NullableStruct.NullableStructMessage>;

  it('v0: int8 -1/1 prefix for a nullable struct, none for one nullable only from v1', () => {
    golden(codec, 0, {}, 'ff | 0000 00000000', { nullableStruct: null, nullableStruct2: { myString: '', myInt: 0 } });
    golden(
      codec,
      0,
      { nullableStruct: { myString: 'a', myInt: 1 }, nullableStruct2: { myString: 'bc', myInt: 2 } },
      '01 0001 61 00000001 | 0002 6263 00000002',
      { nullableStruct: { myString: 'a', myInt: 1 }, nullableStruct2: { myString: 'bc', myInt: 2 } },
    );
  });

  it('v0: null for a struct that is not nullable in v0 is refused', () => {
    assert.throws(() => encode(codec, 0, { nullableStruct2: null }), ProtocolError);
  });

  it('v1 defaults: struct 3 (default null) and struct 4 (default empty) are not written', () => {
    golden(codec, 1, {}, 'ff | 01 01 00000000 00 | 00', {
      nullableStruct: null,
      nullableStruct2: { myString: '', myInt: 0 },
      nullableStruct3: null,
      nullableStruct4: { myString: '', myInt: 0 },
    });
    golden(codec, 1, { nullableStruct4: { myString: '', myInt: 0 } }, 'ff 01 01 00000000 00 00');
  });

  it('v1: all null; a null tagged struct whose default is not null is written as uvarint 0', () => {
    golden(
      codec,
      1,
      { nullableStruct: null, nullableStruct2: null, nullableStruct3: null, nullableStruct4: null },
      'ff | ff | 01 | 01 01 00',
      { nullableStruct: null, nullableStruct2: null, nullableStruct3: null, nullableStruct4: null },
    );
  });

  it('v1: present tagged structs carry a uvarint 1 marker inside the tagged value', () => {
    golden(
      codec,
      1,
      {
        nullableStruct: { myString: 'a', myInt: 1 },
        nullableStruct3: { myString: 'x', myInt: 3 },
        nullableStruct4: { myString: '', myInt: 9 },
      },
      '01 02 61 00000001 00 | 01 01 00000000 00 | 02' +
        ' 00 08 01 02 78 00000003 00' + // tag 0: marker 1, "x", 3, struct tags
        ' 01 07 01 01 00000009 00', // tag 1: marker 1, "", 9, struct tags
      {
        nullableStruct: { myString: 'a', myInt: 1 },
        nullableStruct3: { myString: 'x', myInt: 3 },
        nullableStruct4: { myString: '', myInt: 9 },
      },
    );
  });
});

describe('SimpleArraysMessage (generator test spec)', () => {
  const codec = SimpleArrays as unknown as Codec<SimpleArrays.SimpleArraysMessage>;

  it('v0: int32 count arrays; a v1+ array is not written', () => {
    golden(codec, 0, { sheep: [1, 2], goats: [{ color: 1 }] }, '00000002 00000001 00000002', { sheep: [1, 2], goats: [] });
    golden(codec, 0, {}, '00000000');
  });

  it('v1: compact arrays; every struct element ends with its tagged section', () => {
    golden(
      codec,
      1,
      { goats: [{ color: 1, name: 'v2 only' }, { color: -2 }], sheep: [] },
      '03 01 00 fe 00 | 01 | 00',
      { goats: [{ color: 1, name: '' }, { color: -2, name: '' }], sheep: [] },
    );
  });

  it('v2: a field added to the element struct', () => {
    golden(codec, 2, { goats: [{ color: 3, name: 'ab' }], sheep: [7] }, '02 03 03 6162 00 | 02 00000007 | 00', {
      goats: [{ color: 3, name: 'ab' }],
      sheep: [7],
    });
  });

  it('null for a non-nullable array is refused on read (the writer takes the default, [])', () => {
    assert.equal(encode(codec, 1, { sheep: null }).toString('hex'), '010100');
    assert.throws(() => decode(codec, 1, hex('01 00 00')), ProtocolError);
    assert.throws(() => decode(codec, 0, hex('ffffffff')), ProtocolError);
  });
});

describe('SimpleRecordsMessage (generator test spec)', () => {
  const codec = SimpleRecords as unknown as Codec<SimpleRecords.SimpleRecordsMessage>;

  it('v0: int16 string, int32-length nullable records', () => {
    golden(codec, 0, { topic: 't', recordSet: null }, '0001 74 | ffffffff', { topic: 't', recordSet: null });
    golden(codec, 0, { topic: 't', recordSet: hex('dead') }, '0001 74 | 00000002 dead', { recordSet: hex('dead') });
  });

  it('v1: compact string and compact nullable records', () => {
    golden(codec, 1, { topic: 't', recordSet: null }, '02 74 | 00 | 00');
    golden(codec, 1, { topic: 't', recordSet: Buffer.alloc(0) }, '02 74 | 01 | 00', { recordSet: Buffer.alloc(0) });
    golden(codec, 1, { topic: 't', recordSet: hex('dead') }, '02 74 | 03 dead | 00');
  });

  it('v1: a large record set gets a multi-byte length and is not copied by the writer', () => {
    const records = Buffer.alloc(5000, 0xab);
    const w = new Writer();
    codec.write(w, 1, { topic: 't', recordSet: records } as never);
    const parts = w.finish();
    assert.ok(parts.includes(records));
    const all = Buffer.concat(parts);
    // uvarint(5001) = 89 27
    assert.equal(all.subarray(0, 4).toString('hex'), '02748927');
    assert.equal(all.length, 4 + 5000 + 1);
    const back = decode(codec, 1, all);
    assert.equal(back.recordSet?.length, 5000);
    assert.equal(back.recordSet?.buffer, all.buffer, 'records are a view of the input');
  });

  it('records written from a list of buffers (batches straight from the log)', () => {
    golden(codec, 1, { topic: 't', recordSet: [hex('de'), hex('ad')] }, '02 74 | 03 dead | 00', { recordSet: hex('dead') });
    golden(codec, 0, { topic: 't', recordSet: [hex('de'), hex('ad')] }, '0001 74 | 00000002 dead');
  });
});

describe('request and response headers', () => {
  const rq = RequestHeader as unknown as Codec<RequestHeader.RequestHeader>;
  const rs = ResponseHeader as unknown as Codec<ResponseHeader.ResponseHeader>;

  it('request header v1: int16 key, int16 version, int32 correlation id, nullable int16 string client id', () => {
    golden(
      rq,
      1,
      { requestApiKey: 3, requestApiVersion: 1, correlationId: 7, clientId: 'kafka-python' },
      '0003 0001 00000007 000c 6b61666b612d707974686f6e',
    );
    golden(rq, 1, { requestApiKey: 18, requestApiVersion: 0, correlationId: 1, clientId: null }, '0012 0000 00000001 ffff', {
      clientId: null,
    });
  });

  it('request header v2: the client id stays an int16 string (flexibleVersions "none"), then tags', () => {
    golden(rq, 2, { requestApiKey: 18, requestApiVersion: 3, correlationId: 2, clientId: 'rdkafka' }, '0012 0003 00000002 0007 72646b61666b61 00');
    golden(rq, 2, { requestApiKey: 0, requestApiVersion: 9, correlationId: -1, clientId: null }, '0000 0009 ffffffff ffff 00', {
      clientId: null,
    });
  });

  it('response header v0 and v1', () => {
    golden(rs, 0, { correlationId: 7 }, '00000007');
    golden(rs, 1, { correlationId: 7 }, '00000007 00');
  });
});

describe('real APIs: nulls that mean something', () => {
  const metadata = MetadataRequest as unknown as Codec<MetadataRequest.MetadataRequest>;
  const initPid = InitProducerIdRequest as unknown as Codec<InitProducerIdRequest.InitProducerIdRequest>;

  it('MetadataRequest: null topics ("all topics", v1+) stays null; an empty list stays empty', () => {
    golden(metadata, 1, { topics: null }, 'ffffffff', { topics: null });
    golden(metadata, 1, { topics: [] }, '00000000', { topics: [] });
    golden(metadata, 4, { topics: null, allowAutoTopicCreation: false }, 'ffffffff 00', { topics: null, allowAutoTopicCreation: false });
    // v9: compact null; allowAutoTopicCreation default true; includeCluster (8-10) and includeTopic authorized ops
    golden(metadata, 9, { topics: null }, '00 01 00 00 00', { topics: null, allowAutoTopicCreation: true });
    golden(metadata, 12, { topics: [{ name: null }] }, `02 ${ZERO16} 00 00 01 00 00`, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: null }] });
    assert.throws(() => encode(metadata, 0, { topics: null }), ProtocolError, 'v0 cannot say "all topics" with null');
  });

  it('InitProducerIdRequest: a null transactional id (idempotent producer) is not written as ""', () => {
    golden(initPid, 0, { transactionalId: null, transactionTimeoutMs: 60000 }, 'ffff 0000ea60', { transactionalId: null });
    golden(initPid, 1, { transactionalId: '', transactionTimeoutMs: 60000 }, '0000 0000ea60', { transactionalId: '' });
    golden(
      initPid,
      4,
      { transactionalId: null, transactionTimeoutMs: 2147483647 },
      '00 7fffffff ffffffffffffffff ffff 00',
      { transactionalId: null, producerId: -1, producerEpoch: -1 },
    );
  });
});

describe('real APIs: tagged structs at their defaults are left out (as Kafka does)', () => {
  const fetch = FetchResponse as unknown as Codec<FetchResponse.FetchResponse>;
  const apiVersions = ApiVersionsResponse as unknown as Codec<ApiVersionsResponse.ApiVersionsResponse>;

  it('FetchResponse v12 partition: default DivergingEpoch/CurrentLeader/SnapshotId are not written', () => {
    const partition = {
      partitionIndex: 0,
      errorCode: 0,
      highWatermark: 10,
      lastStableOffset: 10,
      logStartOffset: 0,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: Buffer.alloc(0),
    };
    golden(
      fetch,
      12,
      { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: 't', partitions: [partition] }] },
      '00000000 0000 00000000 | 02 | 02 74 | 02' +
        ' 00000000 0000 000000000000000a 000000000000000a 0000000000000000 00 ffffffff 01 00' +
        ' 00 | 00',
      { responses: [{ topic: 't', topicId: '00000000-0000-0000-0000-000000000000', partitions: [{
        ...partition,
        divergingEpoch: { epoch: -1, endOffset: -1 },
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
        snapshotId: { endOffset: -1, epoch: -1 },
      }] }] },
    );
  });

  it('FetchResponse v12 partition: a set CurrentLeader is written as tag 1', () => {
    const b = encode(fetch, 12, {
      responses: [{ topic: 't', partitions: [{ currentLeader: { leaderId: 2, leaderEpoch: 5 }, records: null }] }],
    });
    // ... preferredReadReplica, records null (00), 1 tag: tag 1, size 9 = int32 + int32 + struct tags
    assert.ok(b.toString('hex').includes('ffffffff' + '00' + '01' + '01' + '09' + '00000002' + '00000005' + '00'), b.toString('hex'));
    const back = decode(fetch, 12, b);
    assert.deepEqual(back.responses[0]!.partitions[0]!.currentLeader, { leaderId: 2, leaderEpoch: 5 });
  });

  it('ApiVersionsResponse v3: SupportedFeatures (tag 0) only when non-empty', () => {
    golden(
      apiVersions,
      3,
      { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 0 },
      '0000 | 02 0012 0000 0004 00 | 00000000 | 00',
    );
    golden(
      apiVersions,
      3,
      { apiKeys: [], supportedFeatures: [{ name: 'mv', minVersion: 1, maxVersion: 27 }] },
      '0000 | 01 | 00000000 | 01 00 09 02 03 6d76 0001 001b 00',
      { supportedFeatures: [{ name: 'mv', minVersion: 1, maxVersion: 27 }] },
    );
  });
});
