// The most recent batches of a partition, kept in memory so a consumer at the tail is served without a syscall.
//
// Batches are kept as slices of the buffers handed to append(), not copied: allocating fresh memory is the
// expensive part of an append on this machine (PERF-NOTES), and append() already owns those bytes (it patches
// their headers in place; see PartitionLog.append in types.ts). A slice pins its parent buffer (a request frame)
// until it is evicted and the last fetch response using it has been written.
//
// Invariant: the cached batches are contiguous and end at the log end offset (no batch between two cached ones
// is missing), so any fetch offset at or above the first cached base offset is answered from here.
import { LOG_OVERHEAD, RecordBatch } from '../protocol/record-batch.js';

export class TailCache {
  private readonly maxBytes: number;
  private baseOffsets: number[] = [];
  private lastOffsets: number[] = [];
  private slices: Buffer[] = [];
  private head = 0;
  private bytes = 0;
  private readonly view = new RecordBatch(Buffer.alloc(0));

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Adds the batches of an append (already validated, offsets assigned). */
  append(records: Buffer): void {
    if (this.maxBytes <= 0) return;
    if (records.length > this.maxBytes / 2) {
      // Too big to keep; dropping everything keeps the cache contiguous with the log end.
      this.clear();
      return;
    }
    let pos = 0;
    while (pos < records.length) {
      const view = this.view.moveTo(records, pos);
      const size = LOG_OVERHEAD + view.batchLength;
      const base = view.baseOffset;
      this.baseOffsets.push(base);
      this.lastOffsets.push(base + view.lastOffsetDelta);
      this.slices.push(records.subarray(pos, pos + size));
      pos += size;
    }
    this.bytes += records.length;
    while (this.bytes > this.maxBytes && this.head < this.slices.length) this.dropHead();
    this.compactArrays();
  }

  /**
   * Collects batches starting with the one that holds `offset` (or the next one after a gap), up to maxBytes
   * (the first one regardless when minOneBatch) and below `limitOffset`. Returns the bytes collected, or -1 when
   * `offset` is below what the cache holds.
   */
  read(offset: number, maxBytes: number, minOneBatch: boolean, limitOffset: number, out: Buffer[]): number {
    if (this.head >= this.slices.length || offset < this.baseOffsets[this.head]!) return -1;
    let lo = this.head;
    let hi = this.slices.length - 1;
    let first = this.slices.length;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lastOffsets[mid]! >= offset) {
        first = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    let total = 0;
    for (let i = first; i < this.slices.length; i++) {
      if (this.baseOffsets[i]! >= limitOffset) break;
      const slice = this.slices[i]!;
      if (total + slice.length > maxBytes && !(minOneBatch && out.length === 0)) break;
      out.push(slice);
      total += slice.length;
    }
    return total;
  }

  /** Forgets batches below `offset` (compaction rewrote them; log start moved past them). */
  dropBefore(offset: number): void {
    while (this.head < this.slices.length && this.baseOffsets[this.head]! < offset) this.dropHead();
    this.compactArrays();
  }

  clear(): void {
    this.baseOffsets = [];
    this.lastOffsets = [];
    this.slices = [];
    this.head = 0;
    this.bytes = 0;
  }

  private dropHead(): void {
    this.bytes -= this.slices[this.head]!.length;
    this.slices[this.head] = EMPTY;
    this.head++;
  }

  private compactArrays(): void {
    if (this.head > 256 && this.head * 2 > this.slices.length) {
      this.baseOffsets = this.baseOffsets.slice(this.head);
      this.lastOffsets = this.lastOffsets.slice(this.head);
      this.slices = this.slices.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
