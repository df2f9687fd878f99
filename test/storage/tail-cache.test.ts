// The tail cache copies appended batches into a ring shared by all partitions and copies them out again on read, or,
// for a reader that holds them (the fetch path, until its response is on the socket), hands out views of the ring:
// what a read returned must never change when later appends overwrite the ring, held views included, and appending
// from a buffer the caller then reuses must not change what is stored.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordBatch } from '../../src/protocol/record-batch.js';
import { TailCache, TailRing } from '../../src/storage/tail-cache.js';
import type { PartitionLog, ReadOptions } from '../../src/storage/types.js';
import { batch, config, FaultyFs, open, readAll, tempDir, TOPIC_ID, valuesOf } from './helpers.js';

const uncommitted = { maxBytes: 1 << 20, minOneBatch: true, isolation: 'read_uncommitted' } as const;

/** Counts reads of segment files, to tell a tail-cache hit from a segment read. */
class CountingFs extends FaultyFs {
  reads = 0;
  override readSync(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    this.reads++;
    return super.readSync(fd, buf, offset, length, position);
  }
}

/** A batch of `n` records whose values name the partition and their sequence number, padded to `pad` bytes. */
function numbered(tag: string, from: number, n: number, pad = 0): Buffer {
  return batch(Array.from({ length: n }, (_, i) => `${tag}-${from + i}`.padEnd(pad, '.')));
}

/** An allocator like the fetch path's: hands out views of buffers it remembers. */
function recordingAlloc(): { alloc: (size: number) => Buffer; buffers: Buffer[] } {
  const buffers: Buffer[] = [];
  return {
    buffers,
    alloc: (size) => {
      const b = Buffer.alloc(size + 16).subarray(8, 8 + size);
      buffers.push(b);
      return b;
    },
  };
}

/** A repeatable random integer in [0, n) from a seed (the high bits of an LCG: its low bits repeat with short periods). */
function seeded(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 12) % n;
  };
}

/**
 * Three caches over one ring, fed random appends (1-3 records each) for the model checks; `contents[p]` is everything
 * appended to cache p, in order.
 */
function threeCaches(ringBytes: number, limits: [number, number, number]) {
  const ring = new TailRing(ringBytes);
  const caches = limits.map((limit) => new TailCache(limit, ring));
  const contents: Buffer[][] = [[], [], []];
  const next = [0, 0, 0];
  /** appends to a random cache a batch padded up to `maxPad` bytes; returns which cache */
  const appendRandom = (rand: (n: number) => number, maxPad: number): number => {
    const p = rand(3);
    const count = 1 + rand(3);
    const b = numbered(`c${p}`, next[p]!, count, rand(maxPad));
    new RecordBatch(b).baseOffset = next[p]!;
    next[p]! += count;
    caches[p]!.append(b);
    contents[p]!.push(b);
    return p;
  };
  return { ring, caches, contents, appendRandom };
}

function sharesMemory(a: Buffer, b: Buffer): boolean {
  return a.buffer === b.buffer;
}

describe('tail cache', () => {
  it('serves tail reads without touching the segments, into the caller\'s buffer', async (t) => {
    const fs = new CountingFs();
    const storage = await open(t, tempDir(t), { fs });
    const log = storage.openLog({ topic: 't', partition: 0 }, TOPIC_ID, config());
    for (let i = 0; i < 10; i++) log.append(numbered('p0', i * 3, 3), { leaderEpoch: 0 });
    const { alloc, buffers } = recordingAlloc();
    const reads = fs.reads;
    const res = log.read(12, { ...uncommitted, alloc });
    assert.equal(fs.reads, reads, 'served from memory');
    assert.equal(res.batches.length, 6);
    assert.equal(buffers.length, 1, 'one allocation for the whole read');
    for (const b of res.batches) assert.ok(sharesMemory(b, buffers[0]!), 'batches are views of the allocated buffer');
    assert.deepEqual(valuesOf(res.batches).slice(0, 2), ['p0-12', 'p0-13']);

    const plain = log.read(27, uncommitted); // no allocator: a new buffer
    assert.deepEqual(valuesOf(plain.batches), ['p0-27', 'p0-28', 'p0-29']);
  });

  it('keeps what a read returned intact while later appends overwrite the ring', async (t) => {
    const fs = new CountingFs();
    // A ring of 16 KiB: a few batches of ~1.1 KiB wrap it.
    const storage = await open(t, tempDir(t), { fs, tailCacheTotalBytes: 16 * 1024 });
    const log = storage.openLog({ topic: 't', partition: 0 }, TOPIC_ID, config());
    let next = 0;
    const append = (): void => {
      log.append(numbered('p0', next, 4, 250), { leaderEpoch: 0 });
      next += 4;
    };
    for (let i = 0; i < 5; i++) append();
    const reads = fs.reads;
    const held = log.read(16, { ...uncommitted, alloc: recordingAlloc().alloc });
    assert.equal(fs.reads, reads, 'served from the ring');
    const snapshot = held.batches.map((b) => Buffer.from(b));
    for (let i = 0; i < 100; i++) append(); // ~110 KiB: the ring wraps several times
    assert.deepEqual(held.batches, snapshot, 'a returned batch changed after later appends');

    // The cache still answers the tail, and evicted offsets come from the segments with the same bytes.
    const tailReads = fs.reads;
    const tail = log.read(next - 4, uncommitted);
    assert.equal(fs.reads, tailReads);
    assert.deepEqual(valuesOf(tail.batches)[0], 'p0-' + (next - 4) + '.'.repeat(250 - `p0-${next - 4}`.length));
    assert.deepEqual(readAll(log).map((r) => r.offset), Array.from({ length: next }, (_, i) => i));
  });

  it('does not keep the appended buffer: reusing it afterwards changes nothing stored', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog({ topic: 't', partition: 0 }, TOPIC_ID, config());
    const scratch = Buffer.alloc(64 * 1024);
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      const b = numbered('r', i * 2, 2, 1 + (i % 7) * 40);
      b.copy(scratch, 0);
      log.append(scratch.subarray(0, b.length), { leaderEpoch: 0 });
      expected.push(...valuesOf([b]).map(String));
      scratch.fill(0xa5); // the caller reuses its buffer
    }
    assert.deepEqual(readAll(log).map((r) => r.value!.toString()), expected);
    for (const b of log.read(390, uncommitted).batches) assert.ok(new RecordBatch(b).verifyCrc());
  });

  it('shares the ring between partitions: one partition\'s appends evict another\'s oldest batches', async (t) => {
    const dir = tempDir(t);
    const fs = new CountingFs();
    const cached = await open(t, dir + '/a', { fs, tailCacheTotalBytes: 32 * 1024, tailCacheBytes: 24 * 1024 });
    const plain = await open(t, dir + '/b', { tailCacheBytes: 0 });
    const logs = (s: typeof cached): PartitionLog[] => [0, 1, 2].map((p) => s.openLog({ topic: 't', partition: p }, TOPIC_ID, config({ indexIntervalBytes: 512 })));
    const a = logs(cached);
    const b = logs(plain);
    const next = [0, 0, 0];
    // A deterministic mix of partitions and sizes, some appends with several batches.
    const rand = seeded(7);
    for (let i = 0; i < 600; i++) {
      const p = rand(3) === 0 ? rand(3) : 0; // partition 0 is the busy one
      const parts: Buffer[] = [];
      for (let k = 0, n = 1 + rand(3); k < n; k++) {
        const count = 1 + rand(4);
        parts.push(numbered(`p${p}`, next[p]!, count, rand(600)));
        next[p]! += count;
      }
      const records = Buffer.concat(parts);
      a[p]!.append(Buffer.from(records), { leaderEpoch: 0 });
      b[p]!.append(Buffer.from(records), { leaderEpoch: 0 });
      if (i % 50 === 49) {
        // Every read, cached or not, matches the uncached log byte for byte.
        for (let q = 0; q < 3; q++) {
          for (const back of [1, 5, 20, 200]) {
            const offset = Math.max(0, next[q]! - back);
            for (const maxBytes of [1, 3000, 1 << 20]) {
              const opts: ReadOptions = { ...uncommitted, maxBytes, alloc: recordingAlloc().alloc };
              const x = a[q]!.read(offset, opts);
              const y = b[q]!.read(offset, { ...uncommitted, maxBytes });
              assert.deepEqual(Buffer.concat(x.batches), Buffer.concat(y.batches), `p${q} offset ${offset} maxBytes ${maxBytes}`);
              assert.equal(x.bytes, y.bytes);
            }
          }
        }
      }
    }
    // The busy partition's tail is served from memory; its start is not any more.
    const before = fs.reads;
    a[0]!.read(next[0]! - 1, uncommitted);
    assert.equal(fs.reads, before);
    a[0]!.read(0, uncommitted);
    assert.ok(fs.reads > before);
    for (let q = 0; q < 3; q++) assert.deepEqual(readAll(a[q]!), readAll(b[q]!));
  });

  it('evicts whole regions in order when the ring wraps (model check)', () => {
    const { ring, caches, contents, appendRandom } = threeCaches(4096, [4096, 1500, 4096]);
    const rand = seeded(11);
    for (let i = 0; i < 3000; i++) {
      appendRandom(rand, 400);
      // Whatever a cache still holds is a suffix of what was appended to it, byte for byte.
      for (let q = 0; q < 3; q++) {
        const all = contents[q]!;
        if (all.length === 0) continue;
        const out: Buffer[] = [];
        const got = caches[q]!.read(0, 1 << 20, true, Number.MAX_SAFE_INTEGER, out, undefined);
        if (got < 0) {
          // offset 0 is gone; the newest batch must still be there unless the cache was emptied entirely
          const last = all[all.length - 1]!;
          const lastBase = new RecordBatch(last).baseOffset;
          const tail: Buffer[] = [];
          const n = caches[q]!.read(lastBase, 1 << 20, true, Number.MAX_SAFE_INTEGER, tail, undefined);
          if (n >= 0) assert.deepEqual(Buffer.concat(tail), last);
          continue;
        }
        assert.deepEqual(Buffer.concat(out), Buffer.concat(all));
      }
      assert.ok(caches[1]!.cachedBytes <= 1500, 'per-partition limit');
    }
    // Suffix check for the survivors of each cache.
    for (let q = 0; q < 3; q++) {
      const all = contents[q]!;
      for (let k = all.length - 1; k >= 0; k--) {
        const out: Buffer[] = [];
        const n = caches[q]!.read(new RecordBatch(all[k]!).baseOffset, 1 << 20, true, Number.MAX_SAFE_INTEGER, out, undefined);
        if (n < 0) break;
        assert.deepEqual(Buffer.concat(out), Buffer.concat(all.slice(k)));
      }
    }
    assert.equal(ring.allocatedBytes, 4096);
  });

  it('hands a holding reader views of the ring, which later appends go around until released', async (t) => {
    const storage = await open(t, tempDir(t), { tailCacheTotalBytes: 64 * 1024 });
    const busy = storage.openLog({ topic: 't', partition: 0 }, TOPIC_ID, config());
    const other = storage.openLog({ topic: 't', partition: 1 }, TOPIC_ID, config());
    for (let i = 0; i < 4; i++) busy.append(numbered('p0', i * 4, 4, 500), { leaderEpoch: 0 });
    const releases: (() => void)[] = [];
    const { alloc, buffers } = recordingAlloc();
    const held = busy.read(0, { ...uncommitted, alloc, hold: (r) => releases.push(r) });
    assert.equal(buffers.length, 0, 'nothing copied');
    assert.equal(releases.length, 1, 'one held range: the four appends are adjacent in the ring');
    assert.equal(held.batches.length, 4);
    const snapshot = Buffer.concat(held.batches);
    // the other partition laps the 64 KiB ring many times over
    let next = 0;
    for (let i = 0; i < 200; i++) {
      other.append(numbered('p1', next, 5, 400), { leaderEpoch: 0 });
      next += 5;
    }
    assert.deepEqual(Buffer.concat(held.batches), snapshot, 'held views unchanged');
    assert.deepEqual(valuesOf(held.batches).slice(0, 3).map((v) => v!.replace(/\.+$/, '')), ['p0-0', 'p0-1', 'p0-2']);
    // the other partition's tail is still served from memory, around the held range
    const tail = other.read(next - 5, { ...uncommitted, alloc });
    assert.deepEqual(valuesOf(tail.batches).map((v) => v!.replace(/\.+$/, '')), ['p1-995', 'p1-996', 'p1-997', 'p1-998', 'p1-999']);
    assert.equal(buffers.length, 1, 'a read without hold copies');
    for (const release of releases) release();
    releases[0]!(); // a second release does nothing
    for (let i = 0; i < 100; i++) {
      other.append(numbered('p1', next, 5, 400), { leaderEpoch: 0 });
      next += 5;
    }
    assert.notDeepEqual(Buffer.concat(held.batches), snapshot, 'released: the ring writes there again');
  });

  it('holds at most half the ring: past that, reads copy', () => {
    const ring = new TailRing(8192);
    const cache = new TailCache(8192, ring);
    const batches: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const b = numbered('h', i, 1, 1500);
      new RecordBatch(b).baseOffset = i;
      cache.append(b);
      batches.push(b);
    }
    const releases: (() => void)[] = [];
    const first: Buffer[] = [];
    cache.read(0, 1 << 20, true, Number.MAX_SAFE_INTEGER, first, undefined, (r) => releases.push(r)); // ~4.6 KB
    assert.equal(releases.length, 0, 'more than half the ring: copied, not held');
    const some: Buffer[] = [];
    cache.read(1, 1 << 20, true, Number.MAX_SAFE_INTEGER, some, undefined, (r) => releases.push(r)); // ~3 KB
    assert.equal(releases.length, 1, 'held');
    const more: Buffer[] = [];
    cache.read(2, 1 << 20, true, Number.MAX_SAFE_INTEGER, more, undefined, (r) => releases.push(r));
    assert.equal(releases.length, 1, 'would pass half the ring: copied');
    assert.deepEqual(Buffer.concat(more), batches[2]);
    releases[0]!();
    cache.read(2, 1 << 20, true, Number.MAX_SAFE_INTEGER, more, undefined, (r) => releases.push(r));
    assert.equal(releases.length, 2, 'held again once released');
  });

  it('keeps nothing new while held bytes leave no room for it', () => {
    const ring = new TailRing(4096);
    const a = new TailCache(4096, ring);
    const b = new TailCache(4096, ring);
    const first = numbered('a', 0, 1, 1300);
    a.append(first);
    const second = numbered('a', 1, 1, 1500);
    new RecordBatch(second).baseOffset = 1;
    a.append(second);
    const held: (() => void)[] = [];
    const out: Buffer[] = [];
    assert.equal(a.read(1, 1 << 20, true, Number.MAX_SAFE_INTEGER, out, undefined, (r) => held.push(r)), second.length);
    assert.equal(ring.heldRanges, 1);
    // `second` is held in the middle of the ring: a batch as large fits neither after it nor before it
    const third = numbered('b', 0, 1, 1500);
    assert.ok(first.length < third.length && ring.capacity - first.length - second.length < third.length);
    b.append(third);
    assert.equal(b.cachedBytes, 0, 'not kept');
    assert.deepEqual(Buffer.concat(out), second, 'held bytes intact');
    assert.equal(b.read(0, 1 << 20, true, Number.MAX_SAFE_INTEGER, [], undefined), -1);
    held[0]!();
    b.append(third);
    assert.equal(b.cachedBytes, third.length, 'kept once released');
  });

  it('never changes held views while caches share a ring (model check)', () => {
    const { ring, caches, contents, appendRandom } = threeCaches(8192, [8192, 3000, 8192]);
    const holds: { views: Buffer[]; copy: Buffer; releases: (() => void)[] }[] = [];
    const rand = seeded(29);
    let heldReads = 0;
    let skipped = 0;
    const heldEnd = (ring as unknown as { heldEnd(start: number, end: number): number }).heldEnd.bind(ring);
    (ring as unknown as { heldEnd(start: number, end: number): number }).heldEnd = (start, end) => {
      const until = heldEnd(start, end);
      if (until >= 0) skipped++;
      return until;
    };
    for (let i = 0; i < 4000; i++) {
      appendRandom(rand, 500);
      if (rand(4) === 0) {
        // a held read of some partition's cached tail, released a few appends later or many
        const q = rand(3);
        const all = contents[q]!;
        if (all.length > 0) {
          const from = new RecordBatch(all[Math.max(0, all.length - 1 - rand(4))]!).baseOffset;
          const views: Buffer[] = [];
          const releases: (() => void)[] = [];
          if (caches[q]!.read(from, 1 + rand(3000), true, Number.MAX_SAFE_INTEGER, views, undefined, (r) => releases.push(r)) > 0) {
            holds.push({ views, copy: Buffer.concat(views), releases });
            heldReads++;
          }
        }
      }
      if (holds.length > 6 || (holds.length > 0 && rand(5) === 0)) {
        const h = holds.splice(rand(holds.length), 1)[0]!;
        assert.deepEqual(Buffer.concat(h.views), h.copy, `held views unchanged until released (step ${i})`);
        for (const r of h.releases) r();
      }
      for (const h of holds) assert.deepEqual(Buffer.concat(h.views), h.copy, `held views unchanged (step ${i})`);
      // whatever a cache still holds is a suffix of what was appended to it, byte for byte
      for (let q = 0; q < 3; q++) {
        const all = contents[q]!;
        if (all.length === 0) continue;
        const last = all[all.length - 1]!;
        const out: Buffer[] = [];
        const n = caches[q]!.read(new RecordBatch(last).baseOffset, 1 << 20, true, Number.MAX_SAFE_INTEGER, out, undefined);
        if (n >= 0) assert.deepEqual(Buffer.concat(out), last);
        const whole: Buffer[] = [];
        for (let k = all.length - 1; k >= 0; k--) {
          whole.length = 0;
          if (caches[q]!.read(new RecordBatch(all[k]!).baseOffset, 1 << 20, true, Number.MAX_SAFE_INTEGER, whole, undefined) < 0) break;
          assert.deepEqual(Buffer.concat(whole), Buffer.concat(all.slice(k)), `p${q} from batch ${k} (step ${i})`);
        }
      }
    }
    assert.ok(heldReads > 500, `held reads: ${heldReads}`);
    assert.ok(skipped > 200, `appends that went around held bytes: ${skipped}`);
    for (const h of holds) for (const r of h.releases) r();
    assert.equal(ring.heldRanges, 0);
  });
});
