// The fetch connections' receive path (src/shadow/source/frame-pool.ts): a stream of size-prefixed frames, cut
// into arbitrary TCP reads, comes out as one 'data' event per whole frame, byte for byte; frames above 16 KiB sit in
// pooled buffers that are reused only once every reference has been given back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { FramePool, pooledFrameOf, pooledSocketFactory } from '../../src/shadow/source/frame-pool.js';

function frame(size: number, seed: number): Buffer {
  const f = Buffer.alloc(4 + size);
  f.writeInt32BE(size, 0);
  for (let i = 4; i < f.length; i++) f[i] = (seed * 31 + i * 7) & 0xff;
  return f;
}

test('frames of every size, cut at random points, come out whole and unchanged', async () => {
  const sizes = [4, 100, 16 * 1024 - 4, 16 * 1024, 70_000, 5, 3 << 20, 12, 200_000, 64 * 1024, 9];
  const frames = sizes.map((s, i) => frame(s, i + 1));
  const wire = Buffer.concat(frames);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const server = createServer((s: Socket) => {
    // write in random pieces, a few bytes to 100 KiB, each on its own turn, so reads end anywhere
    let pos = 0;
    const next = (): void => {
      if (pos >= wire.length) return;
      const n = Math.min(wire.length - pos, 1 + Math.floor(rnd() * (rnd() < 0.3 ? 8 : 100_000)));
      s.write(wire.subarray(pos, pos + n), () => setImmediate(next));
      pos += n;
    };
    next();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const pool = new FramePool();
  const socket = await pooledSocketFactory(pool)('127.0.0.1', (server.address() as AddressInfo).port, 2000);
  const got: Buffer[] = [];
  const pooled: boolean[] = [];
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      const f = pooledFrameOf(chunk);
      pooled.push(f !== undefined);
      got.push(Buffer.from(chunk)); // copy: the pooled buffer is reused once released
      f?.release();
      if (got.length === frames.length) resolve();
    });
  });
  socket.destroy();
  await new Promise((r) => server.close(r));
  assert.equal(got.length, frames.length);
  for (let i = 0; i < frames.length; i++) {
    assert.ok(got[i]!.equals(frames[i]!), `frame ${i} (${sizes[i]} bytes) differs`);
    assert.equal(pooled[i], frames[i]!.length > 16 * 1024, `frame ${i}: pooled only above 16 KiB`);
  }
  assert.ok(pool.reused > 0, 'released buffers are reused');
});

test('a pooled buffer goes back to the pool only when every lease is given back, once', () => {
  const pool = new FramePool(2);
  const a = pool.take(100_000);
  const release1 = a.lease();
  const release2 = a.lease();
  a.release(); // the taker's reference
  release1();
  release1(); // a second call does nothing
  assert.notEqual(pool.take(100_000), a, 'still leased: not handed out again');
  release2();
  assert.equal(pool.take(100_000), a, 'every reference given back: reused');
});
