// RecordBatch v2 (magic 2): a view that reads and patches header fields in place, CRC32C, framing checks over a
// concatenation of batches, and — off the hot paths — record encode/decode.
//
// Layout (kafka-protocol/NOTES.md §c): baseOffset int64 @0, batchLength int32 @8, partitionLeaderEpoch int32 @12,
// magic int8 @16, crc uint32 @17 (CRC-32C over [21, end)), attributes int16 @21, lastOffsetDelta int32 @23,
// baseTimestamp int64 @27, maxTimestamp int64 @35, producerId int64 @43, producerEpoch int16 @51,
// baseSequence int32 @53, recordsCount int32 @57, records @61.
//
// The CRC leaves out baseOffset, batchLength, partitionLeaderEpoch and magic, so the broker assigns offsets and the
// leader epoch without touching it. Changing attributes or timestamps (LogAppendTime) needs updateCrc().
import { crc32c } from './crc32c.js';
import { ErrorCode, KafkaError } from './errors.js';
import { readInt64, Reader, Writer, writeInt64 } from './primitives.js';
import { Compression, compress, decompress, type CompressionCodec } from './compression.js';

export const LOG_OVERHEAD = 12; // baseOffset + batchLength
export const RECORD_BATCH_OVERHEAD = 61;
export const MAGIC_V2 = 2;

const BATCH_LENGTH_OFFSET = 8;
const PARTITION_LEADER_EPOCH_OFFSET = 12;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const BASE_TIMESTAMP_OFFSET = 27;
const MAX_TIMESTAMP_OFFSET = 35;
const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const BASE_SEQUENCE_OFFSET = 53;
const RECORDS_COUNT_OFFSET = 57;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const TRANSACTIONAL_MASK = 0x10;
const CONTROL_MASK = 0x20;
const DELETE_HORIZON_MASK = 0x40;

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_TIMESTAMP = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

export type TimestampType = 'CreateTime' | 'LogAppendTime';

/** Why the bytes at a position are not a whole batch (negative results of frameSizeAt). */
export const Framing = {
  /** fewer bytes than the header or than batchLength announces: a torn tail */
  TRUNCATED: -1,
  /** batchLength below the header size */
  BAD_LENGTH: -2,
  /** magic other than 2 */
  BAD_MAGIC: -3,
} as const;

export function framingErrorText(code: number): string {
  switch (code) {
    case Framing.TRUNCATED:
      return 'truncated record batch';
    case Framing.BAD_LENGTH:
      return 'record batch length smaller than its header';
    case Framing.BAD_MAGIC:
      return 'record batch magic is not 2';
    default:
      return `framing error ${code}`;
  }
}

/**
 * Size in bytes of the batch starting at `pos`, or a negative Framing code. Checks only what is needed to step to the
 * next batch safely (header present, batchLength sane, magic 2, bytes present); the CRC is a separate check.
 */
export function frameSizeAt(buf: Buffer, pos: number, end: number = buf.length): number {
  if (end - pos < RECORD_BATCH_OVERHEAD) {
    // Still report a bad magic or length when enough of the header is there: garbage is not a torn tail.
    if (end - pos > MAGIC_OFFSET && buf[pos + MAGIC_OFFSET] !== MAGIC_V2) return Framing.BAD_MAGIC;
    return Framing.TRUNCATED;
  }
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) return Framing.BAD_LENGTH;
  if (buf[pos + MAGIC_OFFSET] !== MAGIC_V2) return Framing.BAD_MAGIC;
  const size = LOG_OVERHEAD + batchLength;
  if (size > end - pos) return Framing.TRUNCATED;
  return size;
}

/** CRC-32C of a batch as stored: over attributes .. end. */
export function computeBatchCrc(buf: Buffer, pos: number, size: number): number {
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size));
}

/**
 * A view over one batch inside a buffer. Getters read the header in place; nothing is copied or decoded.
 * `moveTo` repoints the view, so a loop over a concatenation can reuse one object.
 */
export class RecordBatch {
  buf: Buffer;
  pos: number;

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  moveTo(buf: Buffer, pos: number): this {
    this.buf = buf;
    this.pos = pos;
    return this;
  }

  /** total bytes of the batch, including baseOffset and batchLength */
  get size(): number {
    return LOG_OVERHEAD + this.batchLength;
  }
  /** the batch's bytes (a slice, not a copy) */
  get bytes(): Buffer {
    return this.buf.subarray(this.pos, this.pos + this.size);
  }

  get baseOffset(): number {
    return readInt64(this.buf, this.pos);
  }
  set baseOffset(v: number) {
    writeInt64(this.buf, v, this.pos);
  }
  get batchLength(): number {
    return this.buf.readInt32BE(this.pos + BATCH_LENGTH_OFFSET);
  }
  get partitionLeaderEpoch(): number {
    return this.buf.readInt32BE(this.pos + PARTITION_LEADER_EPOCH_OFFSET);
  }
  set partitionLeaderEpoch(v: number) {
    this.buf.writeInt32BE(v, this.pos + PARTITION_LEADER_EPOCH_OFFSET);
  }
  get magic(): number {
    return this.buf.readInt8(this.pos + MAGIC_OFFSET);
  }
  get crc(): number {
    return this.buf.readUInt32BE(this.pos + CRC_OFFSET);
  }
  get attributes(): number {
    return this.buf.readInt16BE(this.pos + ATTRIBUTES_OFFSET);
  }
  get compression(): CompressionCodec {
    return (this.attributes & COMPRESSION_MASK) as CompressionCodec;
  }
  get timestampType(): TimestampType {
    return this.attributes & TIMESTAMP_TYPE_MASK ? 'LogAppendTime' : 'CreateTime';
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_MASK) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & CONTROL_MASK) !== 0;
  }
  /** KIP-534: set by compaction; baseTimestamp then holds the delete horizon */
  get hasDeleteHorizon(): boolean {
    return (this.attributes & DELETE_HORIZON_MASK) !== 0;
  }
  get deleteHorizonMs(): number {
    return this.hasDeleteHorizon ? this.baseTimestamp : NO_TIMESTAMP;
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(this.pos + LAST_OFFSET_DELTA_OFFSET);
  }
  get lastOffset(): number {
    return this.baseOffset + this.lastOffsetDelta;
  }
  get nextOffset(): number {
    return this.baseOffset + this.lastOffsetDelta + 1;
  }
  get baseTimestamp(): number {
    return readInt64(this.buf, this.pos + BASE_TIMESTAMP_OFFSET);
  }
  get maxTimestamp(): number {
    return readInt64(this.buf, this.pos + MAX_TIMESTAMP_OFFSET);
  }
  get producerId(): number {
    return readInt64(this.buf, this.pos + PRODUCER_ID_OFFSET);
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(this.pos + PRODUCER_EPOCH_OFFSET);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(this.pos + BASE_SEQUENCE_OFFSET);
  }
  /** sequence of the last record: baseSequence + lastOffsetDelta, wrapping at INT32_MAX as the producer does */
  get lastSequence(): number {
    const base = this.baseSequence;
    if (base === NO_SEQUENCE) return NO_SEQUENCE;
    return incrementSequence(base, this.lastOffsetDelta);
  }
  get recordCount(): number {
    return this.buf.readInt32BE(this.pos + RECORDS_COUNT_OFFSET);
  }

  computeCrc(): number {
    return computeBatchCrc(this.buf, this.pos, this.size);
  }
  verifyCrc(): boolean {
    return this.computeCrc() === this.crc;
  }
  updateCrc(): void {
    this.buf.writeUInt32BE(this.computeCrc(), this.pos + CRC_OFFSET);
  }

  /** LogAppendTime topics: stamps the broker time as maxTimestamp, sets the timestamp-type bit, recomputes the CRC. */
  setLogAppendTime(timestampMs: number): void {
    const attributes = this.attributes | TIMESTAMP_TYPE_MASK;
    this.buf.writeInt16BE(attributes, this.pos + ATTRIBUTES_OFFSET);
    writeInt64(this.buf, timestampMs, this.pos + MAX_TIMESTAMP_OFFSET);
    this.updateCrc();
  }

  /** Clears the LogAppendTime flag (maxTimestamp stays) and recomputes the CRC. */
  setCreateTime(): void {
    this.buf.writeInt16BE(this.attributes & ~TIMESTAMP_TYPE_MASK, this.pos + ATTRIBUTES_OFFSET);
    this.updateCrc();
  }
}

export function incrementSequence(sequence: number, increment: number): number {
  const INT32_MAX = 0x7fffffff;
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1;
  return sequence + increment;
}

/**
 * The batches of a concatenation, validating framing (magic 2, sane length, nothing truncated) as it goes.
 * Throws KafkaError CORRUPT_MESSAGE on the first bad frame. The same view object is yielded each time (moved).
 */
export function* recordBatches(buf: Buffer, start = 0, end = buf.length): Generator<RecordBatch> {
  const view = new RecordBatch(buf, start);
  let pos = start;
  while (pos < end) {
    const size = frameSizeAt(buf, pos, end);
    if (size < 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${framingErrorText(size)} at byte ${pos}`);
    yield view.moveTo(buf, pos);
    pos += size;
  }
}

// ---- records (encode/decode: CLI, compaction, timestamp lookup, tests; never the hot paths) ----------------

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface DecodedRecord {
  offset: number;
  /** record timestamp; for LogAppendTime batches the batch's maxTimestamp, as consumers see it */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** The records of one batch (decompressing as needed). Throws KafkaError CORRUPT_MESSAGE when they do not parse. */
export function decodeRecords(batch: RecordBatch | Buffer): DecodedRecord[] {
  const view = batch instanceof RecordBatch ? batch : new RecordBatch(batch, 0);
  const size = frameSizeAt(view.buf, view.pos);
  if (size < 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, framingErrorText(size));
  const count = view.recordCount;
  const baseOffset = view.baseOffset;
  const baseTimestamp = view.baseTimestamp;
  const logAppendTime = view.timestampType === 'LogAppendTime' ? view.maxTimestamp : -1;
  const body = recordsSection(view);
  if (count < 0 || count > body.length) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `bad record count ${count}`);
  const records: DecodedRecord[] = [];
  const r = new Reader(body);
  try {
    for (let i = 0; i < count; i++) {
      const length = r.varint();
      const recordEnd = r.pos + length;
      if (length < 0 || recordEnd > body.length) throw new Error(`record length ${length} overruns the batch`);
      r.int8(); // attributes, unused
      const timestampDelta = r.varlong();
      const offsetDelta = r.varint();
      const key = readVarBytes(r);
      const value = readVarBytes(r);
      const headerCount = r.varint();
      if (headerCount < 0 || headerCount > recordEnd - r.pos) throw new Error(`bad header count ${headerCount}`);
      const headers: RecordHeader[] = [];
      for (let h = 0; h < headerCount; h++) {
        const hk = readVarBytes(r);
        if (hk === null) throw new Error('null header key');
        headers.push({ key: hk.toString('utf8'), value: readVarBytes(r) });
      }
      if (r.pos !== recordEnd) throw new Error(`record length ${length} does not match its fields`);
      records.push({
        offset: baseOffset + offsetDelta,
        timestamp: logAppendTime >= 0 ? logAppendTime : baseTimestamp + timestampDelta,
        key,
        value,
        headers,
      });
    }
  } catch (err) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `records do not parse: ${(err as Error).message}`);
  }
  return records;
}

/** The records section of a batch, decompressed; KafkaError CORRUPT_MESSAGE when the codec rejects it. */
function recordsSection(view: RecordBatch): Buffer {
  const body = view.buf.subarray(view.pos + RECORD_BATCH_OVERHEAD, view.pos + view.size);
  try {
    return decompress(view.compression, body);
  } catch (err) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, (err as Error).message);
  }
}

/**
 * The smallest record timestamp of a CreateTime batch (deltas may be negative, so the header cannot tell), reading
 * only each record's length and timestamp delta; records without a timestamp (-1) do not count. Decompresses a
 * compressed batch. -1 when no record has a timestamp.
 */
export function minRecordTimestamp(view: RecordBatch): number {
  const body = recordsSection(view);
  const count = view.recordCount;
  const base = view.baseTimestamp;
  let min = Number.POSITIVE_INFINITY;
  const r = new Reader(body);
  try {
    for (let i = 0; i < count; i++) {
      const length = r.varint();
      const recordEnd = r.pos + length;
      if (length < 0 || recordEnd > body.length) throw new Error(`record length ${length} overruns the batch`);
      r.int8(); // attributes
      const ts = base + r.varlong();
      if (ts !== NO_TIMESTAMP && ts < min) min = ts;
      r.pos = recordEnd;
    }
  } catch (err) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `records do not parse: ${(err as Error).message}`);
  }
  return min === Number.POSITIVE_INFINITY ? NO_TIMESTAMP : min;
}

/**
 * A copy of the batch at `view` with its records section recompressed with `codec` (compression.type of the
 * topic): every header field stays, except the codec bits, the length and the CRC. The records are not decoded.
 */
export function recompressBatch(view: RecordBatch, codec: CompressionCodec, level?: number): Buffer {
  const plain = recordsSection(view);
  const payload = codec === Compression.none ? plain : compress(codec, plain, level);
  const size = RECORD_BATCH_OVERHEAD + payload.length;
  const out = Buffer.allocUnsafe(size);
  view.buf.copy(out, 0, view.pos, view.pos + RECORD_BATCH_OVERHEAD);
  payload.copy(out, RECORD_BATCH_OVERHEAD);
  out.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt16BE((view.attributes & ~COMPRESSION_MASK) | codec, ATTRIBUTES_OFFSET);
  out.writeUInt32BE(computeBatchCrc(out, 0, size), CRC_OFFSET);
  return out;
}

function readVarBytes(r: Reader): Buffer | null {
  const len = r.varint();
  if (len < 0) return null;
  return r.raw(len);
}

export interface RecordInput {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: { key: string; value: Buffer | string | null }[];
  /** defaults to the batch's base timestamp */
  timestamp?: number;
  /** defaults to the record's index; compaction keeps original deltas (gaps) */
  offsetDelta?: number;
}

export interface BuildRecordBatchOptions {
  records: RecordInput[];
  compression?: CompressionCodec;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  /** defaults to the first record's timestamp, else now */
  baseTimestamp?: number;
  /** defaults to the largest record timestamp (-1 when there are no records) */
  maxTimestamp?: number;
  timestampType?: TimestampType;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  /** defaults to the last record's offsetDelta; compaction keeps the original so sequences and next offsets hold */
  lastOffsetDelta?: number;
  /** KIP-534 delete horizon: stored in baseTimestamp with attributes bit 6 (record deltas are relative to it) */
  deleteHorizonMs?: number;
}

/** Encodes a complete RecordBatch v2 with a correct CRC. */
export function buildRecordBatch(opts: BuildRecordBatchOptions): Buffer {
  const records = opts.records;
  const firstTimestamp = records.length > 0 ? records[0]!.timestamp : undefined;
  const baseTimestamp =
    opts.deleteHorizonMs ?? opts.baseTimestamp ?? firstTimestamp ?? (records.length > 0 ? Date.now() : NO_TIMESTAMP);
  const recordTimestampBase = opts.baseTimestamp ?? firstTimestamp ?? baseTimestamp;

  const w = new Writer(256);
  let maxTimestamp = NO_TIMESTAMP;
  let lastDelta = -1;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    const timestamp = rec.timestamp ?? recordTimestampBase;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const offsetDelta = rec.offsetDelta ?? i;
    lastDelta = offsetDelta;
    const body = new Writer(64);
    body.int8(0);
    body.varlong(timestamp - baseTimestamp);
    body.varint(offsetDelta);
    writeVarBytes(body, rec.key ?? null);
    writeVarBytes(body, rec.value);
    const headers = rec.headers ?? [];
    body.varint(headers.length);
    for (const h of headers) {
      writeVarBytes(body, h.key);
      writeVarBytes(body, h.value);
    }
    const bytes = body.toBuffer();
    w.varint(bytes.length);
    w.raw(bytes);
  }
  const codec = opts.compression ?? Compression.none;
  const plain = w.toBuffer();
  const payload = codec === Compression.none ? plain : compress(codec, plain);

  const size = RECORD_BATCH_OVERHEAD + payload.length;
  const buf = Buffer.alloc(size);
  writeInt64(buf, opts.baseOffset ?? 0, 0);
  buf.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(MAGIC_V2, MAGIC_OFFSET);
  let attributes = codec & COMPRESSION_MASK;
  if (opts.timestampType === 'LogAppendTime') attributes |= TIMESTAMP_TYPE_MASK;
  if (opts.isTransactional) attributes |= TRANSACTIONAL_MASK;
  if (opts.isControl) attributes |= CONTROL_MASK;
  if (opts.deleteHorizonMs !== undefined) attributes |= DELETE_HORIZON_MASK;
  buf.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(opts.lastOffsetDelta ?? Math.max(lastDelta, 0), LAST_OFFSET_DELTA_OFFSET);
  writeInt64(buf, baseTimestamp, BASE_TIMESTAMP_OFFSET);
  writeInt64(buf, opts.maxTimestamp ?? maxTimestamp, MAX_TIMESTAMP_OFFSET);
  writeInt64(buf, opts.producerId ?? NO_PRODUCER_ID, PRODUCER_ID_OFFSET);
  buf.writeInt16BE(opts.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(opts.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(records.length, RECORDS_COUNT_OFFSET);
  payload.copy(buf, RECORD_BATCH_OVERHEAD);
  buf.writeUInt32BE(computeBatchCrc(buf, 0, size), CRC_OFFSET);
  return buf;
}

function writeVarBytes(w: Writer, v: Buffer | string | null): void {
  if (v === null) {
    w.varint(-1);
    return;
  }
  const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  w.varint(bytes.length);
  w.raw(bytes);
}

