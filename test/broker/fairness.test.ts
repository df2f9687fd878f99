// Fairness between connections, against a broker process: a producer that floods one connection with megabytes of
// pipelined requests does not keep another connection's request waiting until the flood is through. The broker
// takes at most about 1 MiB of requests from one connection per event-loop turn (src/broker/connection.ts,
// TURN_BYTES); without that, libuv read a busy socket up to 32 MiB in one go and everyone else waited for all of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import * as MetadataRequest from '../../src/protocol/generated/messages/MetadataRequest.js';
import * as ProduceRequest from '../../src/protocol/generated/messages/ProduceRequest.js';
import { requestFrame } from '../helpers/frames.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

/** A raw connection that notes when each response frame is complete. */
class Conn {
  readonly arrivals: number[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private waiters: { count: number; resolve: () => void }[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 4) {
        const size = this.pending.readInt32BE(0);
        if (this.pending.length < 4 + size) break;
        this.pending = this.pending.subarray(4 + size);
        this.arrivals.push(performance.now());
      }
      for (const w of this.waiters.filter((x) => this.arrivals.length >= x.count)) w.resolve();
      this.waiters = this.waiters.filter((x) => this.arrivals.length < x.count);
    });
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Conn(socket)));
      socket.once('error', reject);
    });
  }

  responses(count: number, timeoutMs = 30_000): Promise<void> {
    if (this.arrivals.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.arrivals.length} of ${count} responses`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

describe('fairness between connections', () => {
  let broker: UmbraBroker;
  before(async () => {
    broker = await startUmbra();
  });
  after(async () => broker?.destroy());

  it('answers small requests on one connection while another floods it with 64 MiB of pipelined produce requests', async () => {
    const topic = 'fairness';
    const flood = await Conn.open(broker.port);
    const other = await Conn.open(broker.port);
    const metadata = (corr: number) => requestFrame(3, 4, corr, (w) => MetadataRequest.write(w, 4, { topics: [{ name: topic }], allowAutoTopicCreation: true }));
    other.socket.write(metadata(0));
    await other.responses(1);
    await new Promise((r) => setTimeout(r, 200)); // the auto-created topic's log is open

    // 64 requests of one 1 MiB batch each (16 records of 64 KiB), written back to back without waiting
    const batch = buildRecordBatch({ records: Array.from({ length: 16 }, (_, i) => ({ key: null, value: Buffer.alloc(64 * 1024, 97 + i) })) });
    const requests = 64;
    const frames = Array.from({ length: requests }, (_, i) =>
      requestFrame(0, 7, i, (w) => ProduceRequest.write(w, 7, { acks: 1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] })),
    );
    flood.socket.write(Buffer.concat(frames));
    // While the flood is under way, a metadata request every 8 produce answers: each is read in the turn after
    // it arrives, so only the produce requests of a turn or two (plus answers already on their way) are answered
    // before it: 0-7 here. Without the per-turn limit one turn read up to 32 MiB of the flood and a probe waited
    // for all of it: 16-21 in about half the runs.
    const sentAt: number[] = [];
    for (let k = 1; k <= 6; k++) {
      await flood.responses(8 * k);
      sentAt.push(performance.now());
      other.socket.write(metadata(k));
    }
    await Promise.all([flood.responses(requests), other.responses(7)]);
    const between = sentAt.map((t, i) => flood.arrivals.filter((a) => a > t && a < other.arrivals[i + 1]!).length);
    assert.ok(
      Math.max(...between) <= 12,
      `produce answers that arrived while each metadata request waited: ${between.join(', ')} (a turn takes about 1 MiB of one connection)`,
    );
    flood.socket.destroy();
    other.socket.destroy();
  });
});
