// Reusable buffers for fetch responses. Freshly allocated memory is slow on the machines Umbra runs on (first
// touch of a page costs far more than copying into a warm one, PERF-NOTES.md), and a fetch may read tens of MiB
// from segment files per request. Buffers are leased for one response and come back when the socket has taken
// the bytes; the pool keeps at most `maxPooledBytes` idle, in power-of-two size classes.

const MIN_CLASS = 16; // 64 KiB
const MAX_CLASS = 27; // 128 MiB

export class BufferPool {
  private readonly free: Buffer[][] = [];
  private pooledBytes = 0;
  private readonly maxPooledBytes: number;

  constructor(maxPooledBytes: number) {
    this.maxPooledBytes = maxPooledBytes;
    for (let c = 0; c <= MAX_CLASS; c++) this.free.push([]);
  }

  /** A buffer of at least `size` bytes; its contents are garbage. */
  acquire(size: number): Buffer {
    const c = sizeClass(size);
    if (c > MAX_CLASS) return Buffer.allocUnsafeSlow(size);
    const list = this.free[c]!;
    const b = list.pop();
    if (b) {
      this.pooledBytes -= b.length;
      return b;
    }
    return Buffer.allocUnsafeSlow(1 << c);
  }

  /** Returns a buffer from acquire(); the caller must hold no view of it any more. */
  release(buf: Buffer): void {
    const c = sizeClass(buf.length);
    if (c > MAX_CLASS || buf.length !== 1 << c || this.pooledBytes + buf.length > this.maxPooledBytes) return;
    this.free[c]!.push(buf);
    this.pooledBytes += buf.length;
  }

  get idleBytes(): number {
    return this.pooledBytes;
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

  constructor(pool: BufferPool) {
    this.pool = pool;
  }

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

  releaseAll(): void {
    for (const b of this.held) this.pool.release(b);
    this.held.length = 0;
    this.current = null;
    this.used = 0;
  }
}
