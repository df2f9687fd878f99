// The fault-injecting TCP proxy against a small framed echo server: it forwards both ways, stalls and resumes
// without losing or reordering bytes, drops every connection, delays, and cuts exactly one response mid-frame.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { TcpProxy } from './tcp-proxy.js';

/** A Kafka-shaped request: size, apiKey, apiVersion, correlationId, then `body` bytes. */
function request(apiKey: number, correlationId: number, bodyBytes: number): Buffer {
  const b = Buffer.alloc(12 + bodyBytes, 7);
  b.writeInt32BE(8 + bodyBytes, 0);
  b.writeInt16BE(apiKey, 4);
  b.writeInt16BE(0, 6);
  b.writeInt32BE(correlationId, 8);
  return b;
}

/**
 * Answers each request with a response of size prefix + correlation id + `responseBytes(apiKey)` bytes; a request
 * with apiKey -1 is echoed raw instead (for byte-order checks).
 */
function startServer(responseBytes: (apiKey: number) => number): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const size = buf.readInt32BE(0);
        const frame = buf.subarray(0, 4 + size);
        buf = buf.subarray(4 + size);
        const apiKey = frame.readInt16BE(4);
        if (apiKey === -1) {
          s.write(frame);
          continue;
        }
        const n = responseBytes(apiKey);
        const res = Buffer.alloc(8 + n, apiKey & 0xff);
        res.writeInt32BE(4 + n, 0);
        res.writeInt32BE(frame.readInt32BE(8), 4);
        s.write(res);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, sockets })));
}

class Client {
  received = Buffer.alloc(0);
  closed: Promise<void>;
  private waiters: (() => void)[] = [];
  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }
  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }
  async waitBytes(n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.received.length} of ${n} bytes`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('TcpProxy', () => {
  let target: Awaited<ReturnType<typeof startServer>>;
  let proxy: TcpProxy;

  before(async () => {
    target = await startServer((apiKey) => (apiKey === 1 ? 5000 : 100));
    // the target is set after the proxy listens, as a test does when the broker must advertise the proxy's port
    proxy = await TcpProxy.start();
    proxy.setTarget(target.port);
  });
  after(async () => {
    await proxy.close();
    for (const s of target.sockets) s.destroy();
    await new Promise((r) => target.server.close(r));
  });

  it('forwards both ways, in order', async () => {
    const c = await Client.open(proxy.port);
    const frames = Array.from({ length: 50 }, (_, i) => request(-1, i, 1000 + i));
    for (const f of frames) c.socket.write(f);
    const all = Buffer.concat(frames);
    await c.waitBytes(all.length);
    assert.ok(c.received.equals(all));
    c.socket.destroy();
  });

  it('pause holds bytes both ways without closing; resume delivers them in order', async () => {
    const c = await Client.open(proxy.port);
    await sleep(20);
    proxy.pause();
    const frames = Array.from({ length: 20 }, (_, i) => request(-1, i, 5000));
    for (const f of frames) c.socket.write(f);
    await sleep(300);
    assert.equal(c.received.length, 0, 'nothing passes while paused');
    assert.equal(c.socket.destroyed, false);
    // a connection opened while paused stalls too
    const late = await Client.open(proxy.port);
    late.socket.write(request(3, 9, 10));
    await sleep(100);
    assert.equal(late.received.length, 0);
    proxy.resume();
    const all = Buffer.concat(frames);
    await c.waitBytes(all.length);
    assert.ok(c.received.equals(all));
    await late.waitBytes(8 + 100);
    assert.equal(late.received.readInt32BE(4), 9);
    c.socket.destroy();
    late.socket.destroy();
  });

  it('dropAll closes every connection', async () => {
    const a = await Client.open(proxy.port);
    const b = await Client.open(proxy.port);
    await sleep(20);
    assert.ok(proxy.openConnections >= 2);
    proxy.dropAll();
    await Promise.all([a.closed, b.closed]);
    assert.equal(proxy.openConnections, 0);
    // and the proxy keeps accepting
    const c = await Client.open(proxy.port);
    c.socket.write(request(3, 1, 0));
    await c.waitBytes(108);
    c.socket.destroy();
  });

  it('refuse closes new connections at once and leaves open ones alone', async () => {
    const open = await Client.open(proxy.port);
    proxy.refuse(true);
    try {
      const refused = await Client.open(proxy.port);
      await refused.closed;
      open.socket.write(request(3, 5, 0));
      await open.waitBytes(108);
    } finally {
      proxy.refuse(false);
    }
    const again = await Client.open(proxy.port);
    again.socket.write(request(3, 6, 0));
    await again.waitBytes(108);
    open.socket.destroy();
    again.socket.destroy();
  });

  it('setDelay delays each direction', async () => {
    const c = await Client.open(proxy.port);
    proxy.setDelay(150);
    try {
      const t0 = Date.now();
      c.socket.write(request(3, 1, 0));
      await c.waitBytes(108);
      const took = Date.now() - t0;
      assert.ok(took >= 280, `round trip took ${took} ms with 150 ms each way`);
    } finally {
      proxy.setDelay(0);
      c.socket.destroy();
    }
  });

  it('cutNextResponseAfter cuts the next matching response mid-frame and closes only that connection', async () => {
    const bystander = await Client.open(proxy.port);
    const c = await Client.open(proxy.port);
    const cut = proxy.cutNextResponseAfter(1000, { apiKey: 1 });
    // a small response (apiKey 3) is not the one: it passes whole
    c.socket.write(request(3, 41, 0));
    await c.waitBytes(108);
    c.socket.write(request(1, 42, 0));
    const report = await cut;
    await c.closed;
    assert.deepEqual(report, { apiKey: 1, correlationId: 42, frameBytes: 5008, forwardedBytes: 1000 });
    assert.equal(c.received.length, 108 + 1000, 'exactly the first 1000 bytes of the fetch response arrived');
    assert.equal(c.received.readInt32BE(108 + 4), 42);
    // the other connection still works, and the next fetch response is whole
    bystander.socket.write(request(1, 43, 0));
    await bystander.waitBytes(5008);
    assert.equal(bystander.received.length, 5008);
    bystander.socket.destroy();
  });
});
