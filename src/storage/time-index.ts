// Time index of one segment: (max timestamp so far, relative offset of the batch that raised it), appended beside
// the offset index when the maximum grows, plus a final entry when the segment is rolled or closed so the last
// entry is always the segment's max timestamp. On-disk format is Kafka's (`.timeindex`: int64 ts, int32 relOffset).
//
// Because an entry is written only when the running maximum grows, every record before an entry's offset has a
// timestamp strictly below the entry's: a search for the first record with ts >= T can start at the last entry
// whose timestamp is <= T.
import { lastAtOrBelow } from './offset-index.js';

const ENTRY_BYTES = 12;

export class TimeIndex {
  readonly baseOffset: number;
  private timestamps: Float64Array;
  private relOffsets: Int32Array;
  private n = 0;

  constructor(baseOffset: number, capacity = 16) {
    this.baseOffset = baseOffset;
    this.timestamps = new Float64Array(capacity);
    this.relOffsets = new Int32Array(capacity);
  }

  get entries(): number {
    return this.n;
  }
  get lastTimestamp(): number {
    return this.n === 0 ? -1 : this.timestamps[this.n - 1]!;
  }
  get lastOffset(): number {
    return this.n === 0 ? -1 : this.baseOffset + this.relOffsets[this.n - 1]!;
  }
  offsetAt(i: number): number {
    return this.baseOffset + this.relOffsets[i]!;
  }

  /** Adds (timestamp, offset) when the timestamp is larger than the last entry's. */
  maybeAppend(timestamp: number, offset: number): void {
    if (timestamp < 0) return;
    if (this.n > 0 && (timestamp <= this.timestamps[this.n - 1]! || offset < this.offsetAt(this.n - 1))) return;
    if (this.n === this.timestamps.length) this.grow();
    this.timestamps[this.n] = timestamp;
    this.relOffsets[this.n] = offset - this.baseOffset;
    this.n++;
  }

  /** Offset to start searching from for the first record with timestamp >= ts (the segment base if none). */
  offsetFor(timestamp: number): number {
    const found = lastAtOrBelow(this.timestamps, this.n, timestamp);
    return found < 0 ? this.baseOffset : this.offsetAt(found);
  }

  clear(): void {
    this.n = 0;
  }

  serialize(): Buffer {
    const buf = Buffer.allocUnsafe(this.n * ENTRY_BYTES);
    for (let i = 0; i < this.n; i++) {
      const ts = this.timestamps[i]!;
      const hi = Math.floor(ts / 0x1_0000_0000);
      buf.writeInt32BE(hi, i * ENTRY_BYTES);
      buf.writeUInt32BE(ts - hi * 0x1_0000_0000, i * ENTRY_BYTES + 4);
      buf.writeInt32BE(this.relOffsets[i]!, i * ENTRY_BYTES + 8);
    }
    return buf;
  }

  /** Loads a time index file, or null when it cannot be trusted (torn, not increasing). */
  static parse(baseOffset: number, buf: Buffer): TimeIndex | null {
    if (buf.length % ENTRY_BYTES !== 0) return null;
    const count = buf.length / ENTRY_BYTES;
    const index = new TimeIndex(baseOffset, Math.max(16, count));
    let prevTs = -1;
    let prevRel = -1;
    for (let i = 0; i < count; i++) {
      const ts = buf.readInt32BE(i * ENTRY_BYTES) * 0x1_0000_0000 + buf.readUInt32BE(i * ENTRY_BYTES + 4);
      const rel = buf.readInt32BE(i * ENTRY_BYTES + 8);
      if (ts <= prevTs || rel < prevRel || rel < 0) return null;
      index.timestamps[i] = ts;
      index.relOffsets[i] = rel;
      prevTs = ts;
      prevRel = rel;
    }
    index.n = count;
    return index;
  }

  private grow(): void {
    const cap = this.timestamps.length * 2;
    const ts = new Float64Array(cap);
    ts.set(this.timestamps);
    const rel = new Int32Array(cap);
    rel.set(this.relOffsets);
    this.timestamps = ts;
    this.relOffsets = rel;
  }
}
