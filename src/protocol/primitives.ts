// Wire primitives of the Kafka protocol: a bounds-checked Reader over one request or response body,
// and a Writer that builds a response as a list of buffers (large `records` blobs are referenced, not copied).
//
// Every length or count read from the wire is checked against the bytes actually present before anything is
// allocated for it, so a hostile frame can cost at most its own size. Errors are ProtocolError: the server closes
// the connection that sent the frame and nothing else.
//
// int64 is carried as a JS number. Kafka's int64 values (offsets, timestamps, producer ids) stay far below 2^53;
// values beyond that (Long.MAX_VALUE sentinels) saturate on write and lose low bits on read.

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const TWO_32 = 0x1_0000_0000;
const INT64_MAX_AS_NUMBER = 9223372036854775807; // rounds to 2^63
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** A bytes/records value to write: one buffer, or several written back to back (record batches straight from the log). */
export type BytesInput = Buffer | readonly Buffer[];

function bytesLength(v: BytesInput): number {
  if (Buffer.isBuffer(v)) return v.length;
  let n = 0;
  for (const b of v as readonly Buffer[]) n += b.length;
  return n;
}

/** Deep-optional form of a generated message type, accepted by the generated writers (missing fields take the spec default). */
export type Input<T> = T extends Buffer
  ? BytesInput
  : T extends readonly (infer U)[]
    ? readonly Input<U>[]
    : T extends object
      ? { [K in keyof T]?: Input<T[K]> }
      : T;

export class Reader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtocolError(`truncated: need ${n} bytes at ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }
  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  int64(): number {
    this.need(8);
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }
  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }
  uuid(): string {
    this.need(16);
    const b = this.buf;
    const p = this.pos;
    this.pos += 16;
    let s = '';
    for (let i = 0; i < 16; i++) {
      s += HEX[b[p + i]!];
      if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
    }
    return s;
  }

  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const byte = this.buf[this.pos++]!;
      if (shift === 28 && byte > 0x0f) throw new ProtocolError('uvarint overflows 32 bits');
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  }
  /** zig-zag varint (record fields) */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  /** zig-zag varlong (record fields), exact within 2^53 */
  varlong(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const byte = this.buf[this.pos++]!;
      if (shift > 63) throw new ProtocolError('varlong too long');
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }

  private text(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  private slice(len: number): Buffer {
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  string(): string {
    const len = this.int16();
    if (len < 0) throw new ProtocolError('null string where none is allowed');
    return this.text(len);
  }
  nullableString(): string | null {
    const len = this.int16();
    return len < 0 ? null : this.text(len);
  }
  compactString(): string {
    const len = this.uvarint() - 1;
    if (len < 0) throw new ProtocolError('null string where none is allowed');
    return this.text(len);
  }
  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.text(len);
  }
  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new ProtocolError('null bytes where none are allowed');
    return this.slice(len);
  }
  nullableBytes(): Buffer | null {
    const len = this.int32();
    return len < 0 ? null : this.slice(len);
  }
  compactBytes(): Buffer {
    const len = this.uvarint() - 1;
    if (len < 0) throw new ProtocolError('null bytes where none are allowed');
    return this.slice(len);
  }
  compactNullableBytes(): Buffer | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.slice(len);
  }
  raw(len: number): Buffer {
    return this.slice(len);
  }

  /** Array length: -1 for null. Never more elements than bytes left, so a forged count cannot allocate. */
  arrayLength(compact: boolean): number {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < -1) throw new ProtocolError(`negative array length ${n}`);
    if (n > this.end - this.pos) throw new ProtocolError(`array length ${n} exceeds the ${this.end - this.pos} bytes left`);
    return n;
  }

  skipTaggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      const size = this.uvarint();
      this.need(size);
      this.pos += size;
    }
  }
}

/** parsed UUIDs by their text: a broker and a link write the same few topic ids into every Fetch */
const uuidCache = new Map<string, Buffer>();
const UUID_CACHE_MAX = 4096;

/** The 16 bytes of a UUID given as 32 hex digits, with or without the dashes of the 8-4-4-4-12 form. */
function uuidBytes(v: string): Buffer {
  let bytes = uuidCache.get(v);
  if (bytes !== undefined) return bytes;
  const hex = v.length === 36 ? v.replace(/-/g, '') : v;
  if (hex.length !== 32 || !/^[0-9a-fA-F]{32}$/.test(hex)) throw new ProtocolError(`not a UUID: ${v}`);
  bytes = Buffer.from(hex, 'hex');
  if (uuidCache.size >= UUID_CACHE_MAX) uuidCache.clear();
  uuidCache.set(v, bytes);
  return bytes;
}

/**
 * Builds a message as a list of buffers. Small writes go into a growing scratch buffer; `records()` blobs larger
 * than RAW_COPY_LIMIT are appended by reference, so a Fetch response never copies the log data it carries.
 */
export class Writer {
  static readonly RAW_COPY_LIMIT = 4096;

  private buf: Buffer;
  private pos = 0;
  private start = 0;
  private readonly chunks: Buffer[] = [];
  /** reserveInt32 handles still inside the scratch buffer: moved along when the buffer grows */
  private readonly reserved: { buf: Buffer; pos: number }[] = [];
  private chunkedBytes = 0;

  constructor(initialSize = 512) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** total bytes written so far */
  get length(): number {
    return this.chunkedBytes + (this.pos - this.start);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, used + n, 512));
    this.buf.copy(next, 0, this.start, this.pos);
    // a reserved int32 not yet cut into a chunk now lives in the new buffer: patching the old one would be lost
    for (const h of this.reserved) {
      h.buf = next;
      h.pos -= this.start;
    }
    this.buf = next;
    this.start = 0;
    this.pos = used;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }
  int8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos++);
  }
  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }
  uint16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
  }
  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }
  int64(v: number): void {
    this.ensure(8);
    writeInt64(this.buf, v, this.pos);
    this.pos += 8;
  }
  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  uuid(v: string): void {
    this.ensure(16);
    const bytes = uuidBytes(v);
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < 16; i++) b[p + i] = bytes[i]!;
    this.pos += 16;
  }
  uvarint(v: number): void {
    this.ensure(5);
    let n = v >>> 0;
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }
  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }
  varlong(v: number): void {
    // zig-zag in floating point arithmetic: exact for |v| < 2^52
    let n = v >= 0 ? v * 2 : -v * 2 - 1;
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  private text(v: string): number {
    const len = Buffer.byteLength(v, 'utf8');
    return len;
  }
  private putText(v: string, len: number): void {
    this.ensure(len);
    this.buf.write(v, this.pos, len, 'utf8');
    this.pos += len;
  }

  string(v: string): void {
    const len = this.text(v);
    if (len > 0x7fff) throw new ProtocolError('string longer than 32767 bytes');
    this.int16(len);
    this.putText(v, len);
  }
  nullableString(v: string | null): void {
    if (v === null) return this.int16(-1);
    this.string(v);
  }
  compactString(v: string): void {
    const len = this.text(v);
    this.uvarint(len + 1);
    this.putText(v, len);
  }
  compactNullableString(v: string | null): void {
    if (v === null) return this.uvarint(0);
    this.compactString(v);
  }
  bytes(v: BytesInput): void {
    this.int32(bytesLength(v));
    this.rawAny(v);
  }
  nullableBytes(v: BytesInput | null): void {
    if (v === null) return this.int32(-1);
    this.bytes(v);
  }
  compactBytes(v: BytesInput): void {
    this.uvarint(bytesLength(v) + 1);
    this.rawAny(v);
  }
  compactNullableBytes(v: BytesInput | null): void {
    if (v === null) return this.uvarint(0);
    this.compactBytes(v);
  }
  private rawAny(v: BytesInput): void {
    if (Buffer.isBuffer(v)) this.raw(v);
    else this.rawList(v as readonly Buffer[]);
  }
  arrayLength(n: number | null, compact: boolean): void {
    if (compact) this.uvarint(n === null ? 0 : n + 1);
    else this.int32(n === null ? -1 : n);
  }

  /** Appends bytes: copied when small, referenced when large (the caller must not modify them afterwards). */
  raw(v: Buffer): void {
    if (v.length <= Writer.RAW_COPY_LIMIT) {
      this.ensure(v.length);
      v.copy(this.buf, this.pos);
      this.pos += v.length;
      return;
    }
    this.cut();
    this.chunks.push(v);
    this.chunkedBytes += v.length;
  }
  /** Appends several buffers by reference (record batches read from segments). */
  rawList(list: readonly Buffer[]): void {
    for (const b of list) this.raw(b);
  }

  private cut(): void {
    if (this.pos > this.start) {
      const part = this.buf.subarray(this.start, this.pos);
      this.chunks.push(part);
      this.chunkedBytes += part.length;
      this.start = this.pos;
      // the chunk is a view of this.buf, so handles into it stay valid and never move again
      this.reserved.length = 0;
    }
  }

  /** Reserves an int32 to be filled later (frame sizes); returns a handle for patchInt32. */
  reserveInt32(): { buf: Buffer; pos: number } {
    this.ensure(4);
    const handle = { buf: this.buf, pos: this.pos };
    this.reserved.push(handle);
    this.pos += 4;
    return handle;
  }
  static patchInt32(handle: { buf: Buffer; pos: number }, v: number): void {
    handle.buf.writeInt32BE(v, handle.pos);
  }

  /** The message as buffers, in order. The writer must not be used afterwards. */
  finish(): Buffer[] {
    this.cut();
    return this.chunks;
  }

  /** The message as one buffer (copies when it was built from several). */
  toBuffer(): Buffer {
    const parts = this.finish();
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

export function writeInt64(buf: Buffer, v: number, pos: number): void {
  if (v >= INT64_MAX_AS_NUMBER) {
    buf.writeUInt32BE(0x7fffffff, pos);
    buf.writeUInt32BE(0xffffffff, pos + 4);
    return;
  }
  if (v <= -INT64_MAX_AS_NUMBER) {
    buf.writeUInt32BE(0x80000000, pos);
    buf.writeUInt32BE(0, pos + 4);
    return;
  }
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(v - hi * TWO_32, pos + 4);
}

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

/** Kafka prints topic ids as URL-safe base64 of the 16 bytes; we use the canonical UUID text internally. */
export function uuidFromBase64(s: string): string {
  const b = Buffer.from(s, 'base64url');
  if (b.length !== 16) throw new ProtocolError(`not a base64 UUID: ${s}`);
  return new Reader(b).uuid();
}
export function uuidToBase64(u: string): string {
  return Buffer.from(u.replace(/-/g, ''), 'hex').toString('base64url');
}

/** shared empty buffer for defaults (never written into) */
export const EMPTY: Buffer = Buffer.alloc(0);
