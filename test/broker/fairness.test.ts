// Fairness between connections, against a broker process: a producer that floods one connection with megabytes of
// pipelined requests does not keep another connection's request waiting until the flood is through. The broker
// takes at most about 1 MiB of requests from one connection per event-loop turn (src/broker/connection.ts,
// TURN_BYTES); without that, libuv read a busy socket as long as it had data (up to the 32 MiB receive buffer this
// machine's tcp_rmem allows) and everyone else waited for all of it.
//
// The measure does not depend on how fast this test process runs beside others: the broker is frozen (SIGSTOP)
// while megabytes of the flood pile up in its socket and a ListOffsets request is put beside them; once it runs
// again, the offset that request answers says how many flood requests the broker appended before it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { Reader } from '../../src/protocol/primitives.js';
import * as ListOffsetsRequest from '../../src/protocol/generated/messages/ListOffsetsRequest.js';
import * as ListOffsetsResponse from '../../src/protocol/generated/messages/ListOffsetsResponse.js';
import * as MetadataRequest from '../../src/protocol/generated/messages/MetadataRequest.js';
import * as ProduceRequest from '../../src/protocol/generated/messages/ProduceRequest.js';
import { requestFrame } from '../helpers/frames.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

/** A raw connection that keeps its response frames (without the size prefix). */
class Conn {
  readonly frames: Buffer[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private waiters: { count: number; resolve: () => void }[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 4) {
        const size = this.pending.readInt32BE(0);
        if (this.pending.length < 4 + size) break;
        this.frames.push(this.pending.subarray(4, 4 + size));
        this.pending = this.pending.subarray(4 + size);
      }
      for (const w of this.waiters.filter((x) => this.frames.length >= x.count)) w.resolve();
      this.waiters = this.waiters.filter((x) => this.frames.length < x.count);
    });
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Conn(socket)));
      socket.once('error', reject);
    });
  }

  responses(count: number, timeoutMs = 30_000): Promise<void> {
    if (this.frames.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.frames.length} of ${count} responses`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Resolves once no response has arrived for `quietMs`. */
  async quiet(quietMs: number): Promise<void> {
    for (let seen = -1; seen !== this.frames.length; ) {
      seen = this.frames.length;
      await new Promise((r) => setTimeout(r, quietMs));
      await new Promise((r) => setImmediate(r)); // after a poll phase: what arrived while this process waited is read
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The offset a ListOffsets v1 response gives for its one partition. */
function latestOffset(frame: Buffer): number {
  const res = ListOffsetsResponse.readListOffsetsResponse(new Reader(frame, 4), 1); // after the v0 response header
  const p = res.topics[0]!.partitions[0]!;
  assert.equal(p.errorCode, 0);
  return p.offset;
}

describe('fairness between connections', () => {
  let broker: UmbraBroker;
  before(async () => {
    broker = await startUmbra();
  });
  after(async () => {
    if (broker === undefined) return;
    process.kill(broker.pid, 'SIGCONT'); // in case an assertion failed while it was stopped
    await broker.destroy();
  });

  it('answers a request on one connection while another has 64 MiB of pipelined produce requests waiting', async () => {
    const topic = 'fairness';
    const flood = await Conn.open(broker.port);
    const other = await Conn.open(broker.port);
    other.socket.write(requestFrame(3, 4, 0, (w) => MetadataRequest.write(w, 4, { topics: [{ name: topic }], allowAutoTopicCreation: true })));
    await other.responses(1);
    await sleep(200); // the auto-created topic's log is open

    // 64 requests of one batch of 15 records of 64 KiB each (under max.message.bytes: 1 MiB), written back to back without waiting
    const recordsPerRequest = 15;
    const batch = buildRecordBatch({ records: Array.from({ length: recordsPerRequest }, (_, i) => ({ key: null, value: Buffer.alloc(64 * 1024, 97 + i) })) });
    const requests = 64;
    const frames = Array.from({ length: requests }, (_, i) =>
      requestFrame(0, 7, i, (w) => ProduceRequest.write(w, 7, { acks: 1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] })),
    );
    flood.socket.write(Buffer.concat(frames));
    const listOffsets = (corr: number) =>
      requestFrame(2, 1, corr, (w) => ListOffsetsRequest.write(w, 1, { replicaId: -1, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }] }));

    // Three times during the flood: freeze the broker, let the flood fill its socket, put a ListOffsets beside it,
    // and let the broker go on. Appended before the ListOffsets: the requests the broker had answered when it
    // stopped, those of the turn it was in, and at most the ~1 MiB of flood it takes in the turn that reads the
    // ListOffsets (a turn's reads can reach a frame or two past TURN_BYTES, and a request read across two turns
    // counts in the second): 1-2 here, also with three busy loops beside the test. Without the per-turn limit the
    // broker first appends every request in its socket: the whole rest of the flood (52) at the first freeze.
    const appendedBefore: number[] = [];
    for (let k = 1; k <= 3; k++) {
      await flood.responses(12 * k);
      process.kill(broker.pid, 'SIGSTOP');
      await flood.quiet(100); // the answers the broker had sent before it stopped
      const answered = flood.frames.length;
      other.socket.write(listOffsets(k));
      await sleep(20);
      process.kill(broker.pid, 'SIGCONT');
      await other.responses(k + 1);
      const offset = latestOffset(other.frames[k]!);
      assert.equal(offset % recordsPerRequest, 0);
      appendedBefore.push(offset / recordsPerRequest - answered);
    }
    await flood.responses(requests);
    other.socket.write(listOffsets(4));
    await other.responses(5);
    assert.equal(latestOffset(other.frames[4]!), requests * recordsPerRequest, 'every produce request was appended');
    assert.ok(
      Math.max(...appendedBefore) <= 4,
      `produce requests appended after the broker went on and before it read the ListOffsets beside them: ${appendedBefore.join(', ')} (a turn takes about 1 MiB of one connection)`,
    );
    flood.socket.destroy();
    other.socket.destroy();
  });
});
