// Sparse offset index of one segment: (relative offset, file position) of the batch that starts there, one entry
// every index.interval.bytes. The on-disk format is Kafka's (`.index`: int32 relativeOffset, int32 position, BE).
//
// The index lives in memory; the file is written whole when the segment is rolled or the log closed cleanly, and
// rebuilt from the log when it is missing or fails the sanity checks below. An entry is only ever a hint: the
// reader checks that the batch at the position really starts at that offset (see PartitionLog.locate).

const ENTRY_BYTES = 8;

/** Index of the last of the first `n` values (ascending) that is <= target, or -1. */
export function lastAtOrBelow(values: Int32Array | Float64Array, n: number, target: number): number {
  let lo = 0;
  let hi = n - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! <= target) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export class OffsetIndex {
  readonly baseOffset: number;
  private relOffsets: Int32Array;
  private positions: Int32Array;
  private n = 0;

  constructor(baseOffset: number, capacity = 16) {
    this.baseOffset = baseOffset;
    this.relOffsets = new Int32Array(capacity);
    this.positions = new Int32Array(capacity);
  }

  get entries(): number {
    return this.n;
  }
  offsetAt(i: number): number {
    return this.baseOffset + this.relOffsets[i]!;
  }
  positionAt(i: number): number {
    return this.positions[i]!;
  }
  get lastPosition(): number {
    return this.n === 0 ? 0 : this.positions[this.n - 1]!;
  }

  /** Adds an entry; offsets and positions must grow (callers append in log order). */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (this.n > 0 && (rel <= this.relOffsets[this.n - 1]! || position <= this.positions[this.n - 1]!)) return;
    if (this.n === this.relOffsets.length) this.grow();
    this.relOffsets[this.n] = rel;
    this.positions[this.n] = position;
    this.n++;
  }

  /** Slot of the largest entry whose offset is <= offset, or -1 (then read from position 0). */
  lookup(offset: number): number {
    return lastAtOrBelow(this.relOffsets, this.n, offset - this.baseOffset);
  }

  /** Slot of the last entry whose position is <= position, or -1. Positions grow with slots, as offsets do. */
  lookupPosition(position: number): number {
    return lastAtOrBelow(this.positions, this.n, position);
  }

  /** Position to start scanning from for `offset`. */
  positionFor(offset: number): number {
    const slot = this.lookup(offset);
    return slot < 0 ? 0 : this.positions[slot]!;
  }

  /** Drops entries that point at or beyond `position` (log truncated there). */
  truncateToPosition(position: number): void {
    while (this.n > 0 && this.positions[this.n - 1]! >= position) this.n--;
  }

  clear(): void {
    this.n = 0;
  }

  serialize(): Buffer {
    const buf = Buffer.allocUnsafe(this.n * ENTRY_BYTES);
    for (let i = 0; i < this.n; i++) {
      buf.writeInt32BE(this.relOffsets[i]!, i * ENTRY_BYTES);
      buf.writeInt32BE(this.positions[i]!, i * ENTRY_BYTES + 4);
    }
    return buf;
  }

  /**
   * Loads an index file, or returns null when it cannot be trusted: size not a multiple of an entry, offsets or
   * positions not strictly increasing, a position beyond the log's size.
   */
  static parse(baseOffset: number, buf: Buffer, logSize: number): OffsetIndex | null {
    if (buf.length % ENTRY_BYTES !== 0) return null;
    const count = buf.length / ENTRY_BYTES;
    const index = new OffsetIndex(baseOffset, Math.max(16, count));
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < count; i++) {
      const rel = buf.readInt32BE(i * ENTRY_BYTES);
      const pos = buf.readInt32BE(i * ENTRY_BYTES + 4);
      if (rel <= prevRel || pos <= prevPos || pos >= logSize) return null;
      index.relOffsets[i] = rel;
      index.positions[i] = pos;
      prevRel = rel;
      prevPos = pos;
    }
    index.n = count;
    return index;
  }

  private grow(): void {
    const cap = this.relOffsets.length * 2;
    const rel = new Int32Array(cap);
    rel.set(this.relOffsets);
    const pos = new Int32Array(cap);
    pos.set(this.positions);
    this.relOffsets = rel;
    this.positions = pos;
  }
}
