// The most recent batches of each partition, kept in memory so a consumer at the tail is served without a syscall.
//
// Appended batches are copied into one ring buffer that storage owns and shares between all its partitions
// (TailRing), rather than kept as slices of the buffers handed to append(): a retained slice pins its whole parent
// (a request frame) long enough to reach V8's old generation, and that external memory churn is what drove
// Mark-Compact GCs on the produce path. The copy is one memcpy per append into memory that is touched over and
// over (cheap on this machine; first-touching fresh memory is not, PERF-NOTES). The ring is allocated on first use
// and bounds the memory of all caches together; each partition's cache also has its own byte limit.
//
// Because the ring is overwritten by later appends (of any partition), a read returns a view of it only to a caller
// that holds the bytes (ReadOptions.hold: the fetch path, until its response is on the socket): the ring then does
// not write over them until released, and appends skip past them meanwhile. Any other read copies the batches
// into the caller's buffer (ReadOptions.alloc) or a new one. Sending views saves the fetch path a copy of
// everything a consumer at the tail reads (2.4 % of the source broker's event loop at 125 MiB/s, bench:shadow).
//
// Invariant: the batches a TailCache holds are contiguous and end at the log end offset (no batch between two
// cached ones is missing), so any fetch offset at or above the first cached base offset is answered from here.
// Batches only ever leave from the front (oldest first), whether by the partition's own limit or by the ring
// wrapping around over them, which keeps that true.
import { LOG_OVERHEAD, RecordBatch } from '../protocol/record-batch.js';

/**
 * Memory shared by the tail caches of one storage: appends are written at a moving position, wrapping to the
 * start when the rest of the buffer is too short (an append is never split). Writing over older regions evicts
 * them from the caches that own them.
 */
export class TailRing {
  readonly capacity: number;
  private buf: Buffer | null = null;
  private writePos = 0;
  private nextRegion = 1;
  // Regions in write order (the oldest at `head`): who owns the bytes [start, end) under which region id.
  private owners: (TailCache | null)[] = [];
  private ids: number[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  private head = 0;
  /** ranges [start, end) that readers hold (pin): never written over until released */
  private readonly pins = new Set<{ start: number; end: number }>();
  private heldBytes = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** bytes of memory the ring holds (0 until the first append) */
  get allocatedBytes(): number {
    return this.buf === null ? 0 : this.buf.length;
  }

  /**
   * Copies `src` into the ring for `owner` and returns where (the position and the region id the owner evicts by),
   * or null when held ranges leave no room for it (nothing is written then). `src.length` must be at most half the
   * capacity (callers check), so a wrap leaves room when nothing is held.
   */
  write(owner: TailCache, src: Buffer): { position: number; region: number } | null {
    // Allocated once, lazily: a storage whose logs are never appended to (tests, tools) pays nothing.
    this.buf ??= Buffer.allocUnsafeSlow(this.capacity);
    const n = src.length;
    let pos = this.writePos;
    let wraps = 0;
    for (;;) {
      if (pos + n > this.capacity) {
        // Wrap: everything still stored after `pos` (the oldest regions, from the previous lap) goes first, so that
        // the regions left stay in ring order from `head`. A second wrap means a whole pass from the start found
        // no room between held ranges.
        if (++wraps > 1 && this.pins.size > 0) return null;
        while (this.head < this.owners.length && this.starts[this.head]! >= pos) this.evictHead();
        pos = 0;
      }
      const heldUntil = this.pins.size === 0 ? -1 : this.heldEnd(pos, pos + n);
      if (heldUntil < 0) break;
      // Skip past held bytes: the regions stored between here and there leave their caches (so the ring order from
      // `head` stays true), their bytes stay as they are until released.
      while (this.head < this.owners.length && this.starts[this.head]! >= pos && this.starts[this.head]! < heldUntil) this.evictHead();
      pos = heldUntil;
    }
    while (this.head < this.owners.length && this.starts[this.head]! < pos + n && this.ends[this.head]! > pos) this.evictHead();
    src.copy(this.buf, pos);
    const region = this.nextRegion++;
    this.owners.push(owner);
    this.ids.push(region);
    this.starts.push(pos);
    this.ends.push(pos + n);
    this.writePos = pos + n;
    this.compact();
    return { position: pos, region };
  }

  /** Copies ring bytes [position, position + length) into `dest` at `at`. */
  copyOut(position: number, length: number, dest: Buffer, at: number): void {
    this.buf!.copy(dest, at, position, position + length);
  }

  /**
   * A view of ring bytes [position, position + length), held: no write goes over them until `release` (returned)
   * is called. Released more than once, it does nothing after the first time.
   */
  hold(position: number, length: number): { view: Buffer; release: () => void } {
    const pin = { start: position, end: position + length };
    this.pins.add(pin);
    this.heldBytes += length;
    const release = (): void => {
      if (this.pins.delete(pin)) this.heldBytes -= length;
    };
    return { view: this.buf!.subarray(position, position + length), release };
  }

  /**
   * Whether `length` more bytes may be held: at most half the ring is, so readers that do not read their sockets
   * (a stalled consumer) leave the other half to the caches; past that, reads copy.
   */
  mayHold(length: number): boolean {
    return this.heldBytes + length <= this.capacity / 2;
  }

  /** ranges held now (for tests and metrics) */
  get heldRanges(): number {
    return this.pins.size;
  }

  /** The furthest end of the held ranges overlapping [start, end), or -1 when none does. */
  private heldEnd(start: number, end: number): number {
    let until = -1;
    for (const pin of this.pins) if (pin.start < end && pin.end > start && pin.end > until) until = pin.end;
    return until;
  }

  private evictHead(): void {
    const owner = this.owners[this.head]!;
    this.owners[this.head] = null;
    owner?.evictRegion(this.ids[this.head]!);
    this.head++;
  }

  private compact(): void {
    if (this.head > 256 && this.head * 2 > this.owners.length) {
      this.owners = this.owners.slice(this.head);
      this.ids = this.ids.slice(this.head);
      this.starts = this.starts.slice(this.head);
      this.ends = this.ends.slice(this.head);
      this.head = 0;
    }
  }
}

/** One partition's view of the ring: per batch, its offsets and where its bytes are. */
export class TailCache {
  private readonly maxBytes: number;
  private readonly ring: TailRing | null;
  private baseOffsets: number[] = [];
  private lastOffsets: number[] = [];
  private positions: number[] = [];
  private sizes: number[] = [];
  private regions: number[] = [];
  private head = 0;
  private bytes = 0;
  private readonly view = new RecordBatch(Buffer.alloc(0));

  /** `maxBytes`: this partition's limit; `ring`: the shared memory (null or a zero limit disables the cache) */
  constructor(maxBytes: number, ring: TailRing | null) {
    this.ring = ring !== null && ring.capacity > 0 && maxBytes > 0 ? ring : null;
    this.maxBytes = maxBytes;
  }

  /**
   * Adds the batches of an append (already validated, offsets assigned), copying them: the caller may reuse
   * `records` as soon as this returns.
   */
  append(records: Buffer): void {
    const ring = this.ring;
    if (ring === null) return;
    if (records.length > this.maxBytes / 2 || records.length > ring.capacity / 2) {
      // Too big to keep; dropping everything keeps the cache contiguous with the log end.
      this.clear();
      return;
    }
    const written = ring.write(this, records);
    if (written === null) {
      // readers hold the room it would need: not kept, and (contiguity) nothing before it either
      this.clear();
      return;
    }
    const { position, region } = written;
    let pos = 0;
    while (pos < records.length) {
      const view = this.view.moveTo(records, pos);
      const size = LOG_OVERHEAD + view.batchLength;
      const base = view.baseOffset;
      this.baseOffsets.push(base);
      this.lastOffsets.push(base + view.lastOffsetDelta);
      this.positions.push(position + pos);
      this.sizes.push(size);
      this.regions.push(region);
      pos += size;
    }
    this.bytes += records.length;
    while (this.bytes > this.maxBytes && this.head < this.sizes.length) this.dropHead();
    this.compactArrays();
  }

  /**
   * Collects batches starting with the one that holds `offset` (or the next one after a gap), up to maxBytes (the
   * first one regardless when minOneBatch) and below `limitOffset`, and pushes one buffer per batch to `out`: views
   * of the ring when `hold` is given and the ring may hold that much more (each held range's release goes to
   * `hold`, see ReadOptions.hold), else copies in one buffer from `alloc` (a new one by default). Returns the bytes
   * collected, or -1 when `offset` is below what the cache holds.
   */
  read(
    offset: number,
    maxBytes: number,
    minOneBatch: boolean,
    limitOffset: number,
    out: Buffer[],
    alloc: ((size: number) => Buffer) | undefined,
    hold?: (release: () => void) => void,
  ): number {
    if (this.ring === null || this.head >= this.sizes.length || offset < this.baseOffsets[this.head]!) return -1;
    let lo = this.head;
    let hi = this.sizes.length - 1;
    let first = this.sizes.length;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lastOffsets[mid]! >= offset) {
        first = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    let total = 0;
    let end = first;
    for (; end < this.sizes.length; end++) {
      if (this.baseOffsets[end]! >= limitOffset) break;
      const size = this.sizes[end]!;
      if (total + size > maxBytes && !(minOneBatch && end === first)) break;
      total += size;
    }
    if (total === 0) return 0;
    // Held views, or one buffer the batches are copied into. Batches of one append are adjacent in the ring: one view
    // (or one copy) per run of adjacent batches.
    const holding = hold !== undefined && this.ring.mayHold(total);
    const dest = holding ? null : alloc ? alloc(total) : Buffer.allocUnsafe(total);
    let at = 0;
    let i = first;
    while (i < end) {
      const runStart = this.positions[i]!;
      let runEnd = i;
      let runLength = 0;
      while (runEnd < end && this.positions[runEnd] === runStart + runLength) runLength += this.sizes[runEnd++]!;
      let src: Buffer;
      let pos: number;
      if (dest === null) {
        const held = this.ring.hold(runStart, runLength);
        hold!(held.release);
        src = held.view;
        pos = 0;
      } else {
        this.ring.copyOut(runStart, runLength, dest, at);
        src = dest;
        pos = at;
      }
      for (; i < runEnd; i++) {
        const size = this.sizes[i]!;
        out.push(src.subarray(pos, pos + size));
        pos += size;
      }
      at += runLength;
    }
    return total;
  }

  /** Forgets batches below `offset` (compaction rewrote them; log start moved past them). */
  dropBefore(offset: number): void {
    while (this.head < this.sizes.length && this.baseOffsets[this.head]! < offset) this.dropHead();
    this.compactArrays();
  }

  /** The ring is about to overwrite region `region`: forget every batch stored in it or an older one. */
  evictRegion(region: number): void {
    while (this.head < this.sizes.length && this.regions[this.head]! <= region) this.dropHead();
    this.compactArrays();
  }

  clear(): void {
    this.baseOffsets = [];
    this.lastOffsets = [];
    this.positions = [];
    this.sizes = [];
    this.regions = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** bytes of batches currently cached */
  get cachedBytes(): number {
    return this.bytes;
  }

  private dropHead(): void {
    this.bytes -= this.sizes[this.head]!;
    this.head++;
  }

  private compactArrays(): void {
    if (this.head > 256 && this.head * 2 > this.sizes.length) {
      this.baseOffsets = this.baseOffsets.slice(this.head);
      this.lastOffsets = this.lastOffsets.slice(this.head);
      this.positions = this.positions.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.regions = this.regions.slice(this.head);
      this.head = 0;
    } else if (this.head === this.sizes.length && this.head > 0) {
      this.clear();
    }
  }
}
