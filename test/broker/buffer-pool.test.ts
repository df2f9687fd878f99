// The fetch path's buffer pool and leases: small allocations of one response share a pooled buffer, nothing
// handed out overlaps, and everything goes back to the pool together.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool, Lease } from '../../src/broker/buffer-pool.js';

describe('Lease', () => {
  it('carves small allocations out of one pooled buffer without overlap, and returns it once', () => {
    const pool = new BufferPool(16 << 20);
    const lease = new Lease(pool);
    const views: Buffer[] = [];
    for (let i = 0; i < 60; i++) {
      const b = lease.alloc(1000 + i);
      assert.equal(b.length, 1000 + i);
      b.fill(i);
      views.push(b);
    }
    // 60 allocations of ~1 KiB fit in one 64 KiB buffer.
    assert.equal(new Set(views.map((v) => v.buffer)).size, 1);
    for (const [i, v] of views.entries()) assert.ok(v.every((x) => x === i), `allocation ${i} was overwritten`);
    const big = lease.alloc(200_000);
    assert.equal(big.length, 200_000);
    assert.notEqual(big.buffer, views[0]!.buffer);
    lease.releaseAll();
    assert.equal(pool.idleBytes, 64 * 1024 + 256 * 1024);
    // The next lease gets the same memory back.
    const again = new Lease(pool).alloc(10);
    assert.equal(again.buffer, views[0]!.buffer);
  });
});

describe('BufferPool', () => {
  it('keeps the buffers released most recently when it is full', () => {
    const pool = new BufferPool(4 << 20);
    const small = Array.from({ length: 8 }, () => pool.acquire(512 << 10));
    for (const b of small) pool.release(b);
    assert.equal(pool.idleBytes, 4 << 20);
    // the load changes: 2 MiB buffers now come back, and push out the 512 KiB ones released before them
    const big = [pool.acquire(2 << 20), pool.acquire(2 << 20)];
    assert.equal(pool.idleBytes, 4 << 20, 'no idle 2 MiB buffer yet (a 1 MiB class would not serve either)');
    for (const b of big) pool.release(b);
    assert.equal(pool.idleBytes, 4 << 20);
    assert.equal(pool.acquire(2 << 20), big[1]);
    assert.equal(pool.acquire(2 << 20), big[0]);
    assert.equal(pool.idleBytes, 0, 'the 512 KiB buffers were dropped to make room');
  });

  it('serves a size from the next class up when its own class is empty, not from further up', () => {
    const pool = new BufferPool(64 << 20);
    const twoMiB = pool.acquire(2 << 20);
    const eightMiB = pool.acquire(8 << 20);
    pool.release(twoMiB);
    pool.release(eightMiB);
    assert.equal(pool.acquire(600 << 10), twoMiB, '1 MiB class empty: the idle 2 MiB buffer serves');
    const fresh = pool.acquire(600 << 10);
    assert.equal(fresh.length, 1 << 20, 'nothing idle in the 1 or 2 MiB classes: a new 1 MiB buffer, not the 8 MiB one');
    assert.equal(pool.idleBytes, 8 << 20);
    assert.equal(pool.acquire(4 << 20), eightMiB);
    assert.equal(pool.idleBytes, 0);
  });
});
