// Cuts a byte stream into int32-length-prefixed Kafka frames without allocating per frame.
//
// A frame that arrives whole inside one input buffer is passed on as a view of it. A frame that spans inputs
// (most produce requests: socket reads come in chunks of at most 64 KiB) is copied, as its bytes arrive, into one
// buffer per connection that is reused for the next such frame, rather than into a fresh allocation per frame:
// fresh memory is what costs on this machine (first touch, and the Mark-Compact GCs that external memory churn
// triggers; PERF-NOTES). Frames too large to keep a buffer for get a buffer of their own.
//
// So a frame handed to `onFrame` may be `transient`: its memory is overwritten once onFrame returns. The consumer
// decides what that means per request (see Connection.dispatch).
import { ProtocolError } from '../protocol/primitives.js';

/** the reusable assembly buffer is kept up to this size; larger frames get a buffer of their own */
export const MAX_RETAINED_FRAME_BUFFER = 2 * 1024 * 1024;
const MIN_FRAME_BUFFER = 64 * 1024;

export type FrameSink = (frame: Buffer, transient: boolean) => void;

export class FrameReader {
  /** changes when a connection authenticates (frames before that are capped at sasl.server.max.receive.size) */
  maxFrameBytes: number;
  /** the 4-byte size prefix, when it arrives split across inputs */
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeHave = 0;
  /** the frame being assembled (a view of `reusable` or a buffer of its own), or null between frames */
  private frame: Buffer | null = null;
  private frameHave = 0;
  /** the size the prefix announced (the buffer may still be smaller: large frames grow as their bytes arrive) */
  private frameSize = 0;
  private frameTransient = false;
  private reusable: Buffer | null = null;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * Consumes `data` and calls `onFrame` for every frame it completes, in order, until `more()` says stop (the
   * connection closed). `stable`: whether `data` stays unchanged after this call; when not, frames inside it are
   * passed as transient too. Throws ProtocolError on a size outside 0..maxFrameBytes.
   */
  push(data: Buffer, stable: boolean, onFrame: FrameSink, more: () => boolean): void {
    const end = data.length;
    let pos = 0;
    while (pos < end && more()) {
      if (this.frame === null) {
        let size: number;
        if (this.sizeHave === 0 && end - pos >= 4) {
          size = data.readInt32BE(pos);
          pos += 4;
        } else {
          const n = Math.min(4 - this.sizeHave, end - pos);
          data.copy(this.sizeBytes, this.sizeHave, pos, pos + n);
          this.sizeHave += n;
          pos += n;
          if (this.sizeHave < 4) return;
          this.sizeHave = 0;
          size = this.sizeBytes.readInt32BE(0);
        }
        if (size < 0 || size > this.maxFrameBytes) {
          throw new ProtocolError(`request size ${size} outside 0..${this.maxFrameBytes}`);
        }
        if (end - pos >= size) {
          const frame = data.subarray(pos, pos + size);
          pos += size;
          onFrame(frame, !stable);
          continue;
        }
        this.startFrame(size);
      }
      let frame = this.frame!;
      const n = Math.min(this.frameSize - this.frameHave, end - pos);
      if (this.frameHave + n > frame.length) {
        let capacity = frame.length * 2;
        while (capacity < this.frameHave + n) capacity *= 2;
        const grown = Buffer.allocUnsafeSlow(Math.min(capacity, this.frameSize));
        frame.copy(grown, 0, 0, this.frameHave);
        this.frame = frame = grown;
      }
      data.copy(frame, this.frameHave, pos, pos + n);
      this.frameHave += n;
      pos += n;
      if (this.frameHave === this.frameSize) {
        this.frame = null;
        onFrame(frame.length === this.frameSize ? frame : frame.subarray(0, this.frameSize), this.frameTransient);
      }
    }
  }

  /** bytes held for a large frame being assembled (0 between frames and for frames in the reused buffer) */
  get largeFrameBytes(): number {
    return this.frame !== null && !this.frameTransient ? this.frame.length : 0;
  }

  /** bytes held for assembling frames (for tests and metrics) */
  get retainedBytes(): number {
    return this.reusable === null ? 0 : this.reusable.length;
  }

  private startFrame(size: number): void {
    this.frameHave = 0;
    this.frameSize = size;
    if (size > MAX_RETAINED_FRAME_BUFFER) {
      // The size prefix is the client's word, not bytes received: start small and grow (doubling) as the bytes
      // arrive, so a connection that announces 100 MiB and sends a trickle holds a trickle (slowloris).
      this.frame = Buffer.allocUnsafeSlow(MAX_RETAINED_FRAME_BUFFER);
      this.frameTransient = false;
      return;
    }
    if (this.reusable === null || this.reusable.length < size) {
      let capacity = MIN_FRAME_BUFFER;
      while (capacity < size) capacity *= 2;
      this.reusable = Buffer.allocUnsafeSlow(capacity);
    }
    this.frame = this.reusable.subarray(0, size);
    this.frameTransient = true;
  }
}
