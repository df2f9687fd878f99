// Fetch responses read into reused buffers.
//
// A Fetch response of a busy link is megabytes (fetch_max_bytes, 20 MiB by default). Read the ordinary way, every
// one costs a fresh buffer of its size, filled by copying the socket's 64 KiB chunks into it; on this machine the
// first touch of fresh memory and the Mark-Compact GCs that external-memory churn triggers cost more than the
// replication itself (PERF-NOTES: a write() from a fresh 20 MiB buffer is ~5-10x slower than from a reused one;
// profiles of the shadow showed a quarter of its time in GC). So a fetch connection's socket reads straight into
// pooled frame buffers (net's `onread`): once a frame's size is known, the rest of it is read into its own buffer
// with no copy at all, and the whole frame (size prefix included) is handed to BrokerConnection as one 'data'
// chunk, which decodes it in place: the `records` of every partition are views of the pooled buffer.
//
// Lifetime. A pooled frame starts with one reference, held by whoever decodes it. The fetcher (fetcher.ts) takes a
// reference per partition answer it hands to a replicator and gives it back through SourceFetch.release once the
// records are appended (the sink copies them into the log and the tail cache) or dropped; it then drops the
// decoding reference. At zero the buffer goes back to the pool. A frame whose references are never all given back
// (a response that failed to decode, a replicator that stopped mid-way) is simply never reused: the garbage
// collector takes it like any buffer, so a missed release costs an allocation, never a corruption. The one rule:
// nobody may read a frame's bytes after giving back its reference.
//
// Only plain TCP sockets are read this way; TLS connections keep the ordinary path.
import type { Socket } from 'node:net';
import { connectSocket, type SocketFactory } from '../../client/connection.js';
import { networkError } from '../../client/errors.js';

/** frames up to this size are copied into a fresh small buffer (handshake responses, empty fetches) */
const SMALL_FRAME = 16 * 1024;
/** pooled buffers are at least this big, and powers of two */
const MIN_POOLED = 64 * 1024;
/** the scratch each connection reads frame headers (and small frames) into */
const SCRATCH_BYTES = 64 * 1024;

export class PooledFrame {
  refs = 0;
  /** when it last went back to the pool */
  freedAt = 0;
  constructor(
    readonly buf: Buffer,
    private readonly pool: FramePool,
  ) {}

  /** One more holder; the returned function gives the reference back (once; later calls do nothing). */
  lease(): () => void {
    this.refs++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.release();
    };
  }

  /** Gives back one reference; at zero the buffer returns to the pool. */
  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) this.pool.recycle(this);
  }
}

/** Which pooled frame a buffer (a view of it) belongs to. */
const owners = new WeakMap<ArrayBufferLike, PooledFrame>();

/** The pooled frame `view` is a view of, if any. */
export function pooledFrameOf(view: Buffer | null | undefined): PooledFrame | undefined {
  return view ? owners.get(view.buffer) : undefined;
}

/** idle buffers unused for this long are let go (a link that was busy once does not keep its buffers for ever) */
const IDLE_RELEASE_MS = 30_000;

export class FramePool {
  private readonly free: PooledFrame[] = [];
  private pruneTimer: NodeJS.Timeout | null = null;
  /** counters for tests and metrics */
  allocated = 0;
  reused = 0;

  /** keeps at most `maxFree` idle buffers */
  constructor(private readonly maxFree = 4) {}

  /** bytes held by idle buffers */
  get freeBytes(): number {
    let n = 0;
    for (const f of this.free) n += f.buf.length;
    return n;
  }

  /** A frame of at least `size` bytes with one reference (the caller's). */
  take(size: number): PooledFrame {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const cap = this.free[i]!.buf.length;
      if (cap >= size && (best < 0 || cap < this.free[best]!.buf.length)) best = i;
    }
    let f: PooledFrame;
    if (best >= 0) {
      f = this.free.splice(best, 1)[0]!;
      this.reused++;
    } else {
      let cap = MIN_POOLED;
      while (cap < size) cap *= 2;
      // a buffer of its own (not a slice of Node's shared pool), so that its ArrayBuffer identifies it
      f = new PooledFrame(Buffer.allocUnsafeSlow(cap), this);
      owners.set(f.buf.buffer, f);
      this.allocated++;
    }
    f.refs = 1;
    return f;
  }

  recycle(f: PooledFrame): void {
    f.freedAt = Date.now();
    this.free.push(f);
    if (this.free.length > this.maxFree) {
      // keep the large ones: a small frame fits in a large buffer, not the other way round
      let smallest = 0;
      for (let i = 1; i < this.free.length; i++) if (this.free[i]!.buf.length < this.free[smallest]!.buf.length) smallest = i;
      this.free.splice(smallest, 1);
    }
    if (this.pruneTimer === null) {
      this.pruneTimer = setInterval(() => this.prune(Date.now()), IDLE_RELEASE_MS);
      this.pruneTimer.unref();
    }
  }

  /** Lets go of buffers idle for IDLE_RELEASE_MS; stops its timer once none is left. */
  prune(now: number): void {
    for (let i = this.free.length - 1; i >= 0; i--) if (now - this.free[i]!.freedAt >= IDLE_RELEASE_MS) this.free.splice(i, 1);
    if (this.free.length === 0 && this.pruneTimer !== null) {
      clearInterval(this.pruneTimer);
      this.pruneTimer = null;
    }
  }
}

/**
 * Reads one socket's stream of size-prefixed frames into pooled frames and emits each whole frame (prefix
 * included) as a single 'data' event, so BrokerConnection cuts it out as a view without copying.
 */
class FrameStreamReader {
  socket: Socket | null = null;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private start = 0;
  private end = 0;
  /** the frame being read directly into its buffer, or null between frames */
  private frame: PooledFrame | null = null;
  private fill = 0;
  private total = 0;

  constructor(
    private readonly pool: FramePool,
    private readonly maxFrameBytes: number,
  ) {}

  /** net's onread.buffer: where the next read lands */
  readonly nextBuffer = (): Buffer => {
    if (this.frame !== null) return this.frame.buf.subarray(this.fill, this.total);
    if (this.end === this.scratch.length) this.compact();
    return this.scratch.subarray(this.end);
  };

  /** net's onread.callback: `buf` is what nextBuffer returned, with `n` new bytes at its start */
  readonly onRead = (n: number): boolean => {
    try {
      if (this.frame !== null) {
        this.fill += n;
        if (this.fill === this.total) {
          const f = this.frame;
          this.frame = null;
          this.emit(f.buf.subarray(0, this.total));
        }
        return true;
      }
      this.end += n;
      this.drain();
    } catch (err) {
      this.socket?.destroy(err as Error);
      return false;
    }
    return true;
  };

  private drain(): void {
    while (this.end - this.start >= 4 && this.frame === null) {
      const size = this.scratch.readInt32BE(this.start);
      if (size < 4 || size > this.maxFrameBytes) throw networkError(`response of ${size} bytes outside 4..${this.maxFrameBytes}`);
      const total = size + 4;
      const avail = this.end - this.start;
      if (total <= SMALL_FRAME) {
        if (avail < total) break; // the rest arrives in the scratch
        const out = Buffer.allocUnsafe(total);
        this.scratch.copy(out, 0, this.start, this.start + total);
        this.start += total;
        this.emit(out);
        continue;
      }
      const f = this.pool.take(total);
      const have = Math.min(avail, total);
      this.scratch.copy(f.buf, 0, this.start, this.start + have);
      this.start += have;
      if (have === total) {
        this.emit(f.buf.subarray(0, total));
        continue;
      }
      // the rest of this frame is read straight into its buffer
      this.frame = f;
      this.fill = have;
      this.total = total;
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    } else if (this.frame === null && this.scratch.length - this.end < SMALL_FRAME) {
      // a partial small frame (< SMALL_FRAME) is pending: make room for the rest of it and more
      this.compact();
    }
  }

  private compact(): void {
    this.scratch.copyWithin(0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
  }

  private emit(frame: Buffer): void {
    this.socket?.emit('data', frame);
  }
}

/**
 * Plain TCP sockets whose responses are read into `pool` (see above), for fetch connections. The socket behaves as
 * net.connect's otherwise: 'error', 'end' and 'close' as usual, writes untouched.
 */
export function pooledSocketFactory(pool: FramePool, maxFrameBytes = 1024 * 1024 * 1024): SocketFactory {
  return async (host, port, timeoutMs) => {
    const reader = new FrameStreamReader(pool, maxFrameBytes);
    // the reader learns its socket in the microtask after 'connect', before any read can reach it
    const socket = await connectSocket(host, port, timeoutMs, { onread: { buffer: reader.nextBuffer, callback: reader.onRead } });
    reader.socket = socket;
    return socket;
  };
}
