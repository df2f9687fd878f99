// Request framing and the reused frame buffer.
//   FrameReader: frames split anywhere (even inside the size prefix) come out whole and in order; a frame inside
//     one input is a view of it, one that spans inputs is assembled in a buffer reused for the next such frame.
//   A real broker (in-process, 127.0.0.1:0): many pipelined produce requests of every size on one connection,
//     written in arbitrary pieces, are stored exactly as sent; a JoinGroup and a SyncGroup assembled in the reused
//     buffer keep their metadata and assignment after produce requests overwrite that buffer (non-produce frames
//     are copied). Both with socket reads into the server's shared buffer and with Node's buffer per read.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameReader, MAX_RETAINED_FRAME_BUFFER } from '../../src/broker/framing.js';
import { startBroker, type RunningBroker } from '../../src/broker/broker.js';
import { KafkaServer } from '../../src/broker/server.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ProtocolError, Reader, Writer } from '../../src/protocol/primitives.js';
import { buildRecordBatch, decodeRecords, RecordBatch } from '../../src/protocol/record-batch.js';
import { writeRequestHeader } from '../../src/protocol/generated/messages/RequestHeader.js';
import * as ProduceRequest from '../../src/protocol/generated/messages/ProduceRequest.js';
import * as ProduceResponse from '../../src/protocol/generated/messages/ProduceResponse.js';
import * as JoinGroupRequest from '../../src/protocol/generated/messages/JoinGroupRequest.js';
import * as JoinGroupResponse from '../../src/protocol/generated/messages/JoinGroupResponse.js';
import * as SyncGroupRequest from '../../src/protocol/generated/messages/SyncGroupRequest.js';
import * as DescribeGroupsRequest from '../../src/protocol/generated/messages/DescribeGroupsRequest.js';
import * as DescribeGroupsResponse from '../../src/protocol/generated/messages/DescribeGroupsResponse.js';
import * as MetadataRequest from '../../src/protocol/generated/messages/MetadataRequest.js';

/** Deterministic pseudo-random numbers (tests must be reproducible). */
function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

function sized(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

describe('FrameReader', () => {
  it('reassembles frames split at every position, including inside the size prefix', () => {
    const bodies = [Buffer.from('first frame'), Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(70_000, 7), Buffer.from('last')];
    const stream = Buffer.concat(bodies.map(sized));
    for (const cut of [1, 2, 3, 4, 5, 7, 13, 4096, 65_536, stream.length]) {
      const reader = new FrameReader(1 << 20);
      const got: Buffer[] = [];
      for (let pos = 0; pos < stream.length; pos += cut) {
        // a fresh copy per input: the reader must not depend on earlier inputs staying around
        reader.push(Buffer.from(stream.subarray(pos, pos + cut)), true, (f) => got.push(Buffer.from(f)), () => true);
      }
      assert.deepEqual(got, bodies, `pieces of ${cut} bytes`);
    }
  });

  it('passes frames inside one stable input as views, and assembles the others in one reused buffer', () => {
    const reader = new FrameReader(8 << 20);
    const seen: { frame: Buffer; transient: boolean }[] = [];
    const sink = (frame: Buffer, transient: boolean): void => {
      seen.push({ frame, transient });
    };
    const whole = sized(Buffer.from('inside one input'));
    reader.push(whole, true, sink, () => true);
    assert.equal(seen[0]!.transient, false);
    assert.equal(seen[0]!.frame.buffer, whole.buffer, 'a view, not a copy');
    reader.push(whole, false, sink, () => true);
    assert.equal(seen[1]!.transient, true, 'an input that will be overwritten makes its frames transient');

    const big = sized(Buffer.alloc(100_000, 1));
    reader.push(big.subarray(0, 50_000), true, sink, () => true);
    reader.push(big.subarray(50_000), true, sink, () => true);
    const other = sized(Buffer.alloc(90_000, 2));
    reader.push(other.subarray(0, 10), true, sink, () => true);
    reader.push(other.subarray(10), true, sink, () => true);
    assert.equal(seen[2]!.transient, true);
    assert.equal(seen[3]!.transient, true);
    assert.equal(seen[2]!.frame.buffer, seen[3]!.frame.buffer, 'the same memory for both');
    assert.equal(reader.retainedBytes, 128 * 1024);

    // Too big to keep a buffer for: a buffer of its own, not transient.
    const huge = sized(Buffer.alloc(MAX_RETAINED_FRAME_BUFFER + 1, 3));
    reader.push(huge.subarray(0, 100), true, sink, () => true);
    reader.push(huge.subarray(100), true, sink, () => true);
    assert.equal(seen[4]!.transient, false);
    assert.equal(seen[4]!.frame.length, MAX_RETAINED_FRAME_BUFFER + 1);
    assert.equal(reader.retainedBytes, 128 * 1024);
  });

  it('rejects sizes outside 0..max before allocating, and stops when told to', () => {
    const reader = new FrameReader(1000);
    const len = Buffer.alloc(4);
    len.writeInt32BE(1001);
    assert.throws(() => reader.push(len, true, () => {}, () => true), ProtocolError);
    len.writeInt32BE(-1);
    assert.throws(() => new FrameReader(1000).push(len, true, () => {}, () => true), ProtocolError);

    const two = Buffer.concat([sized(Buffer.from('a')), sized(Buffer.from('b'))]);
    let open = true;
    const got: string[] = [];
    new FrameReader(1000).push(two, true, (f) => {
      got.push(f.toString());
      open = false;
    }, () => open);
    assert.deepEqual(got, ['a']);
  });

  it('holds what a large frame has sent so far, not what its size prefix announced (slowloris)', () => {
    const reader = new FrameReader(200 * 1024 * 1024);
    const body = Buffer.alloc(9 * 1024 * 1024 + 7);
    for (let i = 0; i < body.length; i += 4096) body[i] = (i / 4096) & 0xff;
    body[body.length - 1] = 0x5a;
    const whole = sized(body);
    const frames: Buffer[] = [];
    const push = (chunk: Buffer): void => reader.push(Buffer.from(chunk), false, (f, transient) => {
      assert.equal(transient, false, 'a large frame has a buffer of its own');
      frames.push(f);
    }, () => true);
    // the prefix says 9 MiB; 1 KiB arrives
    push(whole.subarray(0, 4 + 1024));
    assert.equal(reader.largeFrameBytes, MAX_RETAINED_FRAME_BUFFER);
    // the rest, in socket-sized chunks: the buffer grows as the bytes come, and the frame is exact
    for (let pos = 4 + 1024; pos < whole.length; pos += 65536) push(whole.subarray(pos, Math.min(pos + 65536, whole.length)));
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.equals(body));
    assert.equal(reader.largeFrameBytes, 0);
  });
});

/** Collects response frames of one raw connection, in order. */
class RawConn {
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  readonly responses: Buffer[] = [];
  private waiter: (() => void) | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const n = this.buf.readInt32BE(0);
        this.responses.push(this.buf.subarray(4, 4 + n));
        this.buf = this.buf.subarray(4 + n);
      }
      this.waiter?.();
    });
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  async waitFor(count: number): Promise<void> {
    while (this.responses.length < count) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.socket.off('close', done);
          resolve();
        };
        this.waiter = done;
        this.socket.once('close', done);
      });
      if (this.socket.destroyed && this.responses.length < count) throw new Error(`connection closed after ${this.responses.length} of ${count} responses`);
    }
  }
}

function request(apiKey: number, version: number, correlationId: number, flexible: boolean, body: (w: Writer) => void): Buffer {
  const w = new Writer();
  const size = w.reserveInt32();
  writeRequestHeader(w, flexible ? 2 : 1, { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: 'framing-test' });
  body(w);
  Writer.patchInt32(size, w.length - 4);
  return w.toBuffer();
}

describe('a reused produce frame buffer against a real broker', () => {
  let dir: string;
  let broker: RunningBroker;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-framing-'));
    const config = loadConfig({
      overrides: {
        data_dir: dir,
        listen: '127.0.0.1:0',
        admin_listen: '127.0.0.1:0',
        log_level: 'silent',
        broker: { 'group.initial.rebalance.delay.ms': 0 },
      },
    });
    broker = await startBroker(config, { logger: createLogger({ level: 'silent' }) });
  });
  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Pipelined produce requests of every size on one connection to `port`, written in arbitrary pieces, are all
   * stored exactly as sent; a JoinGroup and a SyncGroup larger than any read keep their bytes.
   */
  async function produceAndCheck(port: number, topic: string, groupId: string): Promise<void> {
    const partitions = 3;
    await broker.services.partitions.createTopic({ name: topic, partitions });
    const rand = rng(42);
    const sent: Buffer[][] = [[], [], []];
    let correlationId = 0;
    let recordNo = 0;
    const conn = await RawConn.open(port);
    const kinds: string[] = [];

    /** Produce requests from a few hundred bytes to ~2.4 MiB (past the retained buffer size), and some Metadata. */
    const produceFrames = (count: number, frames: Buffer[]): void => {
      for (let i = 0; i < count; i++) {
        if (i % 37 === 5) {
          frames.push(request(3, 12, correlationId++, true, (w) => MetadataRequest.write(w, 12, { topics: [{ name: topic }] })));
          kinds.push('metadata');
        }
        const huge = i % 60 === 59;
        const partitionData: { index: number; records: Buffer }[] = [];
        for (const index of [0, 1, 2]) {
          if (!huge && index > 0 && rand(3) === 0) continue;
          // one batch per partition, as Kafka requires
          const records = Array.from({ length: 1 + rand(huge ? 4 : 20) }, () => {
            const size = huge ? 200_000 : rand(rand(4) === 0 ? 40_000 : 600);
            return { key: `k${recordNo}`, value: `${recordNo++}:`.padEnd(size, String.fromCharCode(97 + rand(26))) };
          });
          const batch = buildRecordBatch({ records });
          sent[index]!.push(batch);
          partitionData.push({ index, records: batch });
        }
        const version = i % 2 === 0 ? 9 : 3;
        frames.push(request(0, version, correlationId++, version >= 9, (w) => ProduceRequest.write(w, version, { acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData }] })));
        kinds.push(`produce v${version}`);
      }
    };
    /** The frames back to back, written in arbitrary pieces without waiting for answers. */
    const send = (frames: Buffer[]): void => {
      const stream = Buffer.concat(frames);
      for (let pos = 0; pos < stream.length; ) {
        const n = 1 + rand(rand(2) === 0 ? 16 : 300_000);
        conn.socket.write(stream.subarray(pos, pos + n));
        pos += n;
      }
    };
    const checkProduced = (): void => {
      for (const [i, res] of conn.responses.entries()) {
        const kind = kinds[i]!;
        if (!kind.startsWith('produce')) continue;
        const r = new Reader(res);
        assert.equal(r.int32(), i, 'responses in request order');
        const version = Number(kind.slice('produce v'.length));
        if (version >= 9) r.skipTaggedFields();
        for (const t of ProduceResponse.read(r, version).responses) {
          for (const p of t.partitionResponses) assert.equal(p.errorCode, ErrorCode.NONE, `request ${i} partition ${p.index}: ${p.errorMessage}`);
        }
      }
    };

    // Phase 1: a JoinGroup whose member metadata is larger than any socket read, so that it is assembled in the
    // reused buffer, then produce requests that overwrite that buffer.
    const memberMetadata = Buffer.alloc(600 * 1024);
    for (let i = 0; i < memberMetadata.length; i++) memberMetadata[i] = (i * 31 + 7) & 0xff;
    const phase1 = [
      request(11, 3, correlationId++, false, (w) =>
        JoinGroupRequest.write(w, 3, {
          groupId,
          sessionTimeoutMs: 30_000,
          rebalanceTimeoutMs: 30_000,
          memberId: '',
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: memberMetadata }],
        }),
      ),
    ];
    kinds.push('join');
    produceFrames(120, phase1);
    send(phase1);
    await conn.waitFor(kinds.length);
    const joinReader = new Reader(conn.responses[0]!);
    assert.equal(joinReader.int32(), 0);
    const joined = JoinGroupResponse.read(joinReader, 3);
    assert.equal(joined.errorCode, ErrorCode.NONE);

    // Phase 2: the same with a SyncGroup carrying a large assignment, then DescribeGroups shows both intact.
    const assignment = Buffer.alloc(300 * 1024);
    for (let i = 0; i < assignment.length; i++) assignment[i] = (i * 17 + 3) & 0xff;
    const phase2 = [
      request(14, 3, correlationId++, false, (w) =>
        SyncGroupRequest.write(w, 3, {
          groupId,
          generationId: joined.generationId,
          memberId: joined.memberId,
          assignments: [{ memberId: joined.memberId, assignment }],
        }),
      ),
    ];
    kinds.push('sync');
    produceFrames(120, phase2);
    phase2.push(request(15, 3, correlationId++, false, (w) => DescribeGroupsRequest.write(w, 3, { groups: [groupId] })));
    kinds.push('describe');
    send(phase2);
    await conn.waitFor(kinds.length);
    conn.socket.destroy();
    checkProduced();
    const describeReader = new Reader(conn.responses[kinds.length - 1]!);
    assert.equal(describeReader.int32(), kinds.length - 1);
    const group = DescribeGroupsResponse.read(describeReader, 3).groups[0]!;
    assert.equal(group.errorCode, ErrorCode.NONE);
    assert.equal(group.groupState, 'Stable');
    assert.equal(group.members.length, 1);
    assert.ok(group.members[0]!.memberMetadata.equals(memberMetadata), 'member metadata survived later produce requests');
    assert.ok(group.members[0]!.memberAssignment.equals(assignment), 'assignment survived later produce requests');

    // Everything stored, batch for batch: only baseOffset and partitionLeaderEpoch differ from what was sent.
    for (let p = 0; p < partitions; p++) {
      const log = broker.services.partitions.log(topic, p)!;
      const stored: Buffer[] = [];
      for (let offset = 0; offset < log.logEndOffset; ) {
        const res = log.read(offset, { maxBytes: 4 << 20, minOneBatch: true, isolation: 'read_uncommitted' });
        for (const b of res.batches) {
          stored.push(b);
          const view = new RecordBatch(b);
          offset = view.baseOffset + view.lastOffsetDelta + 1;
        }
      }
      assert.equal(stored.length, sent[p]!.length, `partition ${p}: batch count`);
      let expectedOffset = 0;
      for (const [k, b] of stored.entries()) {
        const original = sent[p]![k]!;
        const view = new RecordBatch(b);
        assert.equal(view.baseOffset, expectedOffset);
        assert.ok(view.verifyCrc(), `partition ${p} batch ${k}: CRC`);
        assert.ok(b.subarray(16).equals(original.subarray(16)), `partition ${p} batch ${k}: bytes`);
        expectedOffset += decodeRecords(view).length;
      }
    }
  }

  it('stores every batch of many pipelined produce requests exactly as sent (reads into the shared buffer)', async () => {
    await produceAndCheck(broker.port, 'framing-shared', 'framing-shared-group');
  });

  it('does the same when Node allocates a buffer per read', async () => {
    const server = new KafkaServer({
      host: '127.0.0.1',
      port: 0,
      maxRequestBytes: 100 << 20,
      maxConnections: 10,
      registry: broker.services.registry,
      services: () => broker.services,
      sharedReadBuffer: false,
      name: 'PLAINTEXT',
      securityProtocol: 'PLAINTEXT',
      advertised: { host: '127.0.0.1', port: 0 },
      sasl: false,
    });
    const port = await server.listen();
    try {
      await produceAndCheck(port, 'framing-chunks', 'framing-chunks-group');
    } finally {
      await server.close();
    }
  });
});
