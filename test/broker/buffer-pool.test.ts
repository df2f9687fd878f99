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
