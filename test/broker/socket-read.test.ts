// Reading accepted sockets into one shared buffer (src/broker/socket-read.ts), on 127.0.0.1: every byte arrives,
// in order, as views of the shared buffer; pause()/resume() still stop and restart reads; 'end' and 'close' still
// come; and a socket without what it needs is left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, Socket, type Server } from 'node:net';
import { readIntoBuffer } from '../../src/broker/socket-read.js';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('readIntoBuffer', () => {
  it('delivers every byte in order as views of the shared buffer, honours pause and resume, and still ends', async () => {
    const shared = Buffer.alloc(64 * 1024);
    const received: Buffer[] = [];
    let installed = false;
    let pausedReads = -1;
    let resumed = false;
    const server = createServer((socket) => {
      installed = readIntoBuffer(socket, shared, (bytes) => {
        assert.equal(bytes.buffer, shared.buffer, 'a view of the shared buffer');
        received.push(Buffer.from(bytes)); // the next read overwrites it
        if (received.length === 2) {
          socket.pause();
          pausedReads = received.length;
          setTimeout(() => {
            assert.equal(received.length, pausedReads, 'no reads while paused');
            resumed = true;
            socket.resume();
          }, 50);
        }
      });
    });
    const port = await listen(server);
    const closed = new Promise<{ ended: boolean }>((resolve) => {
      server.once('connection', (socket: Socket) => {
        let ended = false;
        socket.on('end', () => (ended = true));
        socket.on('close', () => resolve({ ended }));
      });
    });
    const sent = Buffer.alloc(3 << 20);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + (i >> 12)) & 0xff;
    const client = connect(port, '127.0.0.1', () => {
      for (let pos = 0; pos < sent.length; pos += 100_000) client.write(sent.subarray(pos, pos + 100_000));
      client.end();
    });
    const { ended } = await closed;
    server.close();
    assert.equal(installed, true);
    assert.equal(resumed, true);
    assert.equal(ended, true);
    assert.ok(received.length > 2);
    assert.ok(Buffer.concat(received).equals(sent));
  });

  it('leaves a socket without a handle alone', () => {
    const socket = new Socket();
    assert.equal(readIntoBuffer(socket, Buffer.alloc(16), () => {}), false);
  });
});
