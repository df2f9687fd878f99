// Reusable buffers for fetch responses. Freshly allocated memory is slow on the machines Umbra runs on (first
// touch of a page costs far more than copying into a warm one, PERF-NOTES.md), and a fetch may read tens of MiB
// from segment files per request. Buffers are leased for one response and come back when the socket has taken
// the bytes; the pool keeps at most `maxPooledBytes` idle, in power-of-two size classes. When it is full, the
// buffers released longest ago make room for the one coming back: the pool follows what the fetches of the moment
// ask for (a link fetching 8 MiB pieces must not keep missing because an earlier load left the pool full of 512
// KiB buffers: every miss is fresh memory to fault in and, later, garbage).

const MIN_CLASS = 16; // 64 KiB
const MAX_CLASS = 27; // 128 MiB

export class BufferPool {
  /** per size class, idle buffers oldest first, with when each was released (a counter) */
  private readonly free: Buffer[][] = [];
  private readonly releasedAt: number[][] = [];
  private releases = 0;
  private pooledBytes = 0;
  private readonly maxPooledBytes: number;

  constructor(maxPooledBytes: number) {
    this.maxPooledBytes = maxPooledBytes;
    for (let c = 0; c <= MAX_CLASS; c++) {
      this.free.push([]);
      this.releasedAt.push([]);
    }
  }

  /**
   * A buffer of at least `size` bytes; its contents are garbage. An idle buffer of the next class up serves when
   * the size's own class has none (a Lease carves later allocations out of the rest).
   */
  acquire(size: number): Buffer {
    const c = sizeClass(size);
    if (c > MAX_CLASS) return Buffer.allocUnsafeSlow(size);
    const from = this.free[c]!.length > 0 ? c : c < MAX_CLASS && this.free[c + 1]!.length > 0 ? c + 1 : -1;
    if (from < 0) return Buffer.allocUnsafeSlow(1 << c);
    this.releasedAt[from]!.pop();
    const b = this.free[from]!.pop()!;
    this.pooledBytes -= b.length;
    return b;
  }

  /** Returns a buffer from acquire(); the caller must hold no view of it any more. */
  release(buf: Buffer): void {
    const c = sizeClass(buf.length);
    if (c > MAX_CLASS || buf.length !== 1 << c || buf.length > this.maxPooledBytes) return;
    while (this.pooledBytes + buf.length > this.maxPooledBytes) this.evictOldest();
    this.free[c]!.push(buf);
    this.releasedAt[c]!.push(++this.releases);
    this.pooledBytes += buf.length;
  }

  get idleBytes(): number {
    return this.pooledBytes;
  }

  /** Drops the idle buffer released longest ago (the first of some class's list). */
  private evictOldest(): void {
    let oldest = -1;
    for (let c = MIN_CLASS; c <= MAX_CLASS; c++) {
      const at = this.releasedAt[c]![0];
      if (at !== undefined && (oldest < 0 || at < this.releasedAt[oldest]![0]!)) oldest = c;
    }
    this.releasedAt[oldest]!.shift();
    this.pooledBytes -= this.free[oldest]!.shift()!.length;
  }
}

function sizeClass(size: number): number {
  let c = MIN_CLASS;
  while (1 << c < size && c <= MAX_CLASS) c++;
  return c;
}

/**
 * The buffers one response borrowed; released together once the response is on the socket (or dropped).
 * Allocations are carved one after another out of the last pooled buffer while they fit, so a fetch over many
 * partitions with a little data each (a consumer at the tail) borrows one buffer, not one per partition.
 */
export class Lease {
  private readonly pool: BufferPool;
  private readonly held: Buffer[] = [];
  /** the buffer later allocations are carved from, and how much of it is handed out */
  private current: Buffer | null = null;
  private used = 0;
  /** releases of tail-cache views the response holds (ReadOptions.hold) */
  private readonly releases: (() => void)[] = [];

  constructor(pool: BufferPool) {
    this.pool = pool;
  }

  /** For ReadOptions.hold: the views are released with the buffers. */
  readonly hold = (release: () => void): void => {
    this.releases.push(release);
  };

  /** For ReadOptions.alloc: a view of exactly `size` bytes over a pooled buffer. */
  readonly alloc = (size: number): Buffer => {
    const current = this.current;
    if (current !== null && current.length - this.used >= size) {
      const b = current.subarray(this.used, this.used + size);
      this.used += size;
      return b;
    }
    const b = this.pool.acquire(size);
    this.held.push(b);
    this.current = b;
    this.used = size;
    return b.length === size ? b : b.subarray(0, size);
  };

  /**
   * Lets go of the held tail-cache views only (a request that failed: nothing will send them). Its buffers are
   * left to the garbage collector, since a read may still be writing into them.
   */
  releaseHolds(): void {
    for (const release of this.releases) release();
    this.releases.length = 0;
  }

  releaseAll(): void {
    this.releaseHolds();
    for (const b of this.held) this.pool.release(b);
    this.held.length = 0;
    this.current = null;
    this.used = 0;
  }
}
