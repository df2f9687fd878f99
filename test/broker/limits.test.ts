// Connection limits against a broker process: connections.max.idle.ms closes a connection that does nothing (but
// not one waiting for a long poll), and max.connections refuses connections beyond the limit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { Writer } from '../../src/protocol/primitives.js';
import * as FetchRequest from '../../src/protocol/generated/messages/FetchRequest.js';
import * as MetadataRequest from '../../src/protocol/generated/messages/MetadataRequest.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';
import { requestFrame } from '../helpers/frames.js';

function open(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, closed }));
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)));
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

function frame(apiKey: number, version: number, body: (w: Writer) => void): Buffer {
  return requestFrame(apiKey, version, 1, body, { clientId: 'limits-test' });
}

describe('connection limits', () => {
  let broker: UmbraBroker;
  before(async () => {
    broker = await startUmbra({ brokerConfigs: { 'connections.max.idle.ms': 1000, 'max.connections': 3 } });
  });
  after(async () => broker?.destroy());

  it('closes an idle connection after connections.max.idle.ms, but not one waiting on a long poll', async () => {
    const idle = await open(broker.port);
    const waiting = await open(broker.port);
    // create the topic, then park a fetch at its end for 2.5 s
    waiting.socket.write(frame(3, 4, (w) => MetadataRequest.write(w, 4, { topics: [{ name: 'idle-test' }], allowAutoTopicCreation: true })));
    await new Promise((r) => setTimeout(r, 200));
    waiting.socket.write(
      frame(1, 4, (w) =>
        FetchRequest.write(w, 4, { replicaId: -1, maxWaitMs: 2500, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, topics: [{ topic: 'idle-test', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] }),
      ),
    );
    const idleFor = await idle.closed;
    assert.ok(idleFor >= 900 && idleFor < 4000, `the idle connection closed after ${idleFor} ms`);
    const stillOpen = await Promise.race([waiting.closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 1500))]);
    assert.equal(stillOpen, true, 'a connection with a fetch pending is not idle');
    waiting.socket.destroy();
  });

  it('refuses connections beyond max.connections', async () => {
    const held = await Promise.all([open(broker.port), open(broker.port), open(broker.port)]);
    const extra = await open(broker.port);
    const closedWithin = await Promise.race([extra.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 800))]);
    assert.equal(closedWithin, true, 'the fourth connection is refused');
    for (const h of held) h.socket.destroy();
  });
});

describe('slow and half-sent requests (slowloris)', () => {
  let broker: UmbraBroker;
  before(async () => {
    broker = await startUmbra({ brokerConfigs: { 'socket.request.max.bytes': 100 * 1024 * 1024 } });
  });
  after(async () => broker?.destroy());

  /** address space (VmSize), MiB: what a buffer sized from the prefix would reserve even untouched */
  function vmMiB(pid: number): number {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmSize:\s+(\d+)/.exec(status)![1]) / 1024;
  }

  it('40 connections announcing 90 MiB requests and trickling bytes hold little memory; others are served', async () => {
    const before = vmMiB(broker.pid);
    const slow = await Promise.all(Array.from({ length: 40 }, () => open(broker.port)));
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(90 * 1024 * 1024);
    for (const c of slow) c.socket.write(Buffer.concat([prefix, Buffer.alloc(1024, 1)]));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for (const c of slow) c.socket.write(Buffer.alloc(512, 2));
    }
    // a well-behaved client is answered meanwhile
    const client = await open(broker.port);
    const answered = new Promise<boolean>((resolve) => client.socket.once('data', () => resolve(true)));
    client.socket.write(frame(3, 4, (w) => MetadataRequest.write(w, 4, { topics: null, allowAutoTopicCreation: false })));
    assert.equal(await Promise.race([answered, new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]), true);
    const grown = vmMiB(broker.pid) - before;
    // 40 × 90 MiB = 3,600 MiB announced; each connection holds the 2 MiB a large frame starts with
    assert.ok(grown < 1024, `the broker's address space grew by ${grown.toFixed(0)} MiB`);
    for (const c of [...slow, client]) c.socket.destroy();
  });
});
