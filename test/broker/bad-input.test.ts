// Hostile and broken input against a real broker process: each gets its documented outcome, and a client on
// another connection is never disturbed.
//   random bytes in a frame      -> that connection is closed
//   a truncated frame            -> nothing is answered; the broker waits for the rest, and forgets it on close
//   a 2 GiB length prefix        -> closed at once, before anything is allocated for it
//   a batch with a wrong CRC     -> CORRUPT_MESSAGE for that partition; the connection stays usable
//   two batches for a partition  -> INVALID_RECORD for it (Kafka accepts one batch per partition)
//   records refused by the topic -> the error names them in recordErrors (KIP-467)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import * as ProduceRequest from '../../src/protocol/generated/messages/ProduceRequest.js';
import * as ProduceResponse from '../../src/protocol/generated/messages/ProduceResponse.js';
import * as ApiVersionsRequest from '../../src/protocol/generated/messages/ApiVersionsRequest.js';
import * as ApiVersionsResponse from '../../src/protocol/generated/messages/ApiVersionsResponse.js';
import * as MetadataRequest from '../../src/protocol/generated/messages/MetadataRequest.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';
import { requestFrame } from '../helpers/frames.js';

function frame(apiKey: number, version: number, correlationId: number, headerVersion: number, body: (w: Writer) => void): Buffer {
  return requestFrame(apiKey, version, correlationId, body, { clientId: 'bad-input-test', headerVersion });
}

/** A connection that collects whole response frames and reports when the broker closes it. */
class RawConn {
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private waiting: ((f: Buffer) => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const n = this.buf.readInt32BE(0);
        const f = this.buf.subarray(4, 4 + n);
        this.buf = this.buf.subarray(4 + n);
        this.waiting.shift()?.(f);
      }
    });
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  request(bytes: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(bytes);
    });
  }
}

async function apiVersionsOk(port: number): Promise<void> {
  const c = await RawConn.open(port);
  const res = await c.request(frame(18, 3, 7, 2, (w) => ApiVersionsRequest.write(w, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' })));
  const r = new Reader(res);
  assert.equal(r.int32(), 7); // ApiVersions responses use header v0 even at v3
  const body = ApiVersionsResponse.read(r, 3);
  assert.equal(body.errorCode, ErrorCode.NONE);
  assert.ok(body.apiKeys.some((k) => k.apiKey === 0 && k.minVersion === 0));
  c.socket.destroy();
}

function closedWithin(c: RawConn, ms: number): Promise<boolean> {
  return Promise.race([c.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

describe('bad input', () => {
  let broker: UmbraBroker;
  let bystander: RawConn;

  before(async () => {
    broker = await startUmbra();
    bystander = await RawConn.open(broker.port);
  });
  after(async () => {
    bystander?.socket.destroy();
    await broker?.destroy();
  });

  /** The bystander connection opened before the abuse still gets answers. */
  async function bystanderStillServed(): Promise<void> {
    const res = await bystander.request(frame(3, 12, 99, 2, (w) => MetadataRequest.write(w, 12, { topics: [] })));
    assert.equal(res.readInt32BE(0), 99);
  }

  it('closes a connection that sends random bytes in a frame', async () => {
    const c = await RawConn.open(broker.port);
    const garbage = randomBytes(64);
    garbage.writeInt16BE(0x7abc, 0); // an api key that does not exist
    const len = Buffer.alloc(4);
    len.writeInt32BE(garbage.length);
    c.socket.write(Buffer.concat([len, garbage]));
    assert.equal(await closedWithin(c, 5000), true);
    await bystanderStillServed();
  });

  it('closes a connection whose frame body does not parse', async () => {
    const c = await RawConn.open(broker.port);
    // a valid Metadata v1 header followed by an array count far larger than the bytes that follow
    const bad = frame(3, 1, 1, 1, (w) => {
      w.int32(0x7ffffff0);
      w.int16(3);
    });
    c.socket.write(bad);
    assert.equal(await closedWithin(c, 5000), true);
    await bystanderStillServed();
  });

  it('answers nothing to a truncated frame and stays healthy', async () => {
    const c = await RawConn.open(broker.port);
    const full = frame(18, 0, 5, 1, () => {});
    c.socket.write(full.subarray(0, full.length - 3));
    assert.equal(await closedWithin(c, 500), false, 'a partial frame is not a reason to close');
    c.socket.end();
    await c.closed;
    await bystanderStillServed();
    await apiVersionsOk(broker.port);
  });

  it('closes at once on a 2 GiB length prefix', async () => {
    const c = await RawConn.open(broker.port);
    const len = Buffer.alloc(4);
    len.writeInt32BE(0x7fffffff);
    c.socket.write(len);
    assert.equal(await closedWithin(c, 5000), true);
    await bystanderStillServed();
  });

  it('rejects a batch with a wrong CRC with CORRUPT_MESSAGE and keeps the connection', async () => {
    const c = await RawConn.open(broker.port);
    // create the topic through Metadata auto-creation
    await c.request(frame(3, 4, 1, 1, (w) => MetadataRequest.write(w, 4, { topics: [{ name: 'crc-test' }], allowAutoTopicCreation: true })));
    const batch = buildRecordBatch({ records: [{ key: 'k', value: 'hello' }] });
    batch[batch.length - 1] ^= 0xff; // flip a byte covered by the CRC
    const produce = (records: Buffer, corr: number): Buffer =>
      frame(0, 7, corr, 1, (w) => ProduceRequest.write(w, 7, { acks: -1, timeoutMs: 5000, topicData: [{ name: 'crc-test', partitionData: [{ index: 0, records }] }] }));
    const res = await c.request(produce(batch, 2));
    const r = new Reader(res);
    assert.equal(r.int32(), 2);
    const body = ProduceResponse.read(r, 7);
    assert.equal(body.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.CORRUPT_MESSAGE);

    // same connection, a good batch is accepted at offset 0: nothing of the bad one was written
    const good = buildRecordBatch({ records: [{ key: 'k', value: 'hello' }] });
    const res2 = new Reader(await c.request(produce(good, 3)));
    assert.equal(res2.int32(), 3);
    const ok = ProduceResponse.read(res2, 7).responses[0]!.partitionResponses[0]!;
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.equal(ok.baseOffset, 0);
    c.socket.destroy();
    await bystanderStillServed();
  });

  it('refuses two batches for one partition, and names the records a topic refuses', async () => {
    const c = await RawConn.open(broker.port);
    await c.request(frame(3, 4, 1, 1, (w) => MetadataRequest.write(w, 4, { topics: [{ name: 'one-batch' }], allowAutoTopicCreation: true })));
    const produce = async (records: Buffer, corr: number) => {
      const req = frame(0, 8, corr, 1, (w) =>
        ProduceRequest.write(w, 8, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'one-batch', partitionData: [{ index: 0, records }] }] }),
      );
      const r = new Reader(await c.request(req));
      assert.equal(r.int32(), corr);
      return ProduceResponse.read(r, 8).responses[0]!.partitionResponses[0]!;
    };
    const now = Date.now();
    const one = (value: string, timestamp = now) => buildRecordBatch({ records: [{ key: 'k', value, timestamp }] });

    const two = await produce(Buffer.concat([one('a'), one('b')]), 2);
    assert.equal(two.errorCode, ErrorCode.INVALID_RECORD);
    assert.match(two.errorMessage ?? '', /one batch per partition/);

    // the default message.timestamp.after.max.ms is an hour: the second record is two hours ahead
    const ahead = buildRecordBatch({
      records: [
        { key: 'k', value: 'now', timestamp: now },
        { key: 'k', value: 'ahead', timestamp: now + 2 * 3_600_000 },
      ],
    });
    const refused = await produce(ahead, 3);
    assert.equal(refused.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.deepEqual(refused.recordErrors.map((e) => e.batchIndex), [1]);
    assert.match(refused.recordErrors[0]!.batchIndexErrorMessage ?? '', /out of range/);

    const ok = await produce(one('c'), 4);
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.equal(ok.baseOffset, 0, 'nothing of the refused requests was written');
    c.socket.destroy();
    await bystanderStillServed();
  });

  it('answers an unknown ApiVersions version in v0 format instead of closing', async () => {
    const c = await RawConn.open(broker.port);
    const res = await c.request(frame(18, 9, 11, 2, (w) => ApiVersionsRequest.write(w, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })));
    const r = new Reader(res);
    assert.equal(r.int32(), 11);
    const body = ApiVersionsResponse.read(r, 0);
    assert.equal(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.deepEqual(body.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]), [[18, 0, 4]]);
    c.socket.destroy();
  });

  it('closes a connection that uses an unsupported version of another API', async () => {
    const c = await RawConn.open(broker.port);
    c.socket.write(frame(3, 99, 1, 2, () => {}));
    assert.equal(await closedWithin(c, 5000), true);
    await bystanderStillServed();
  });
});
