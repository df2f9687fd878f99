// Compression codecs of RecordBatch v2 (attributes bits 0–2): gzip, snappy, lz4, zstd.
//
// The broker stores batches exactly as produced, so these run only where a batch must be looked inside:
// compaction, the key check of compacted topics, ListOffsets by timestamp, a topic whose compression.type names a
// codec other than the producer's, the CLI and tests. Never on the default produce or fetch paths.
//
// Wire quirks handled here:
// - snappy: the Java client writes xerial/snappy-java framing (magic 0x82 'SNAPPY' 0x00, two int32 versions,
//   then [int32 length][raw snappy block]...); librdkafka and most others write one raw snappy block. We read
//   both and write raw snappy (which every client reads).
// - lz4: the LZ4 *frame* format (KIP-57 fixed the header checksum for magic >= 1; v2 batches are always right).
// - zstd: a standard frame; the Java client and librdkafka stream it, so the frame header usually carries no
//   content size and the decompressed size has to be discovered (see zstdDecompress).
import { gunzipSync, gzipSync } from 'node:zlib';
import * as snappy from 'snappy';
import * as lz4 from 'lz4-napi';
import * as zstd from '@bokuweb/zstd-wasm';

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof Compression;
export type CompressionCodec = (typeof Compression)[CompressionName];

const NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function compressionName(codec: number): CompressionName {
  const name = NAMES[codec];
  if (name === undefined) throw new CompressionError(`unknown compression codec ${codec}`);
  return name;
}

export function compressionCodec(name: string): CompressionCodec {
  const codec = (Compression as Record<string, CompressionCodec | undefined>)[name];
  if (codec === undefined) throw new CompressionError(`unknown compression type '${name}'`);
  return codec;
}

export class CompressionError extends Error {
  override name = 'CompressionError';
}

let zstdReady: Promise<void> | null = null;
let zstdInitialized = false;

/** Loads the zstd WASM module. Await once at startup; compress/decompress are synchronous afterwards. */
export function initCompression(): Promise<void> {
  zstdReady ??= zstd.init().then(() => {
    zstdInitialized = true;
  });
  return zstdReady;
}

/**
 * `level` is the codec's own scale (gzip 1-9, zstd -131072-22); absent or -1 for gzip means the codec default.
 * lz4 has a single level here (lz4-napi has none to choose).
 */
export function compress(codec: number, data: Buffer, level?: number): Buffer {
  switch (codec) {
    case Compression.none:
      return data;
    case Compression.gzip:
      return level === undefined || level === -1 ? gzipSync(data) : gzipSync(data, { level });
    case Compression.snappy:
      return snappy.compressSync(data);
    case Compression.lz4:
      return lz4.compressFrameSync(data);
    case Compression.zstd:
      requireZstd();
      return toBuffer(zstd.compress(data, level ?? 3));
    default:
      throw new CompressionError(`unknown compression codec ${codec}`);
  }
}

export function decompress(codec: number, data: Buffer): Buffer {
  try {
    switch (codec) {
      case Compression.none:
        return data;
      case Compression.gzip:
        return gunzipSync(data);
      case Compression.snappy:
        return snappyDecompress(data);
      case Compression.lz4:
        return lz4.decompressFrameSync(data);
      case Compression.zstd:
        return zstdDecompress(data);
      default:
        throw new CompressionError(`unknown compression codec ${codec}`);
    }
  } catch (err) {
    if (err instanceof CompressionError) throw err;
    throw new CompressionError(`${compressionName(codec)} decompression failed: ${(err as Error).message}`);
  }
}

// ---- snappy ------------------------------------------------------------------------------------------------

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]); // 0x82 "SNAPPY" 0x00
const XERIAL_HEADER_BYTES = 16; // magic + int32 version + int32 compatible version

export function isXerialSnappy(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_BYTES && data.compare(XERIAL_MAGIC, 0, 8, 0, 8) === 0;
}

function snappyDecompress(data: Buffer): Buffer {
  if (!isXerialSnappy(data)) return snappy.uncompressSync(data, { asBuffer: true }) as Buffer;
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new CompressionError('xerial snappy: truncated block length');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length) throw new CompressionError(`xerial snappy: block of ${len} bytes overruns the input`);
    blocks.push(snappy.uncompressSync(data.subarray(pos, pos + len), { asBuffer: true }) as Buffer);
    pos += len;
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
}

/** The Java client's framing (snappy-java SnappyOutputStream, 32 KiB blocks); for tests and interop tools. */
export function xerialSnappyCompress(data: Buffer, blockSize = 32 * 1024): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const parts: Buffer[] = [header];
  for (let pos = 0; pos < data.length; pos += blockSize) {
    const block = snappy.compressSync(data.subarray(pos, Math.min(data.length, pos + blockSize)));
    const len = Buffer.alloc(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

// ---- zstd --------------------------------------------------------------------------------------------------

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_SKIPPABLE_MASK = 0xfffffff0;
const ZSTD_SKIPPABLE_MAGIC = 0x184d2a50;
/** Upper bound for a frame whose header does not say its size; far above any batch max.message.bytes allows. */
const ZSTD_MAX_UNKNOWN_SIZE = 256 * 1024 * 1024;

function requireZstd(): void {
  if (!zstdInitialized) throw new CompressionError('zstd is not initialized: await initCompression() at startup');
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

interface ZstdFrame {
  start: number;
  end: number;
  /** decompressed size from the frame header, or -1 when the header does not carry it */
  contentSize: number;
  skippable: boolean;
}

/**
 * Walks the frames of a zstd stream. The WASM build exposes only one-shot ZSTD_decompress, which needs an output
 * capacity: frames that carry their content size get exactly that, the others (streamed by the Java client and
 * librdkafka) are tried with growing capacities.
 */
function zstdFrames(data: Buffer): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (pos + 8 > data.length) throw new CompressionError('zstd: truncated frame header');
    const magic = data.readUInt32LE(pos);
    if ((magic & ZSTD_SKIPPABLE_MASK) >>> 0 === ZSTD_SKIPPABLE_MAGIC) {
      const size = data.readUInt32LE(pos + 4);
      frames.push({ start: pos, end: pos + 8 + size, contentSize: 0, skippable: true });
      pos += 8 + size;
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new CompressionError('zstd: bad frame magic');
    const start = pos;
    const fhd = data[pos + 4]!;
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd >> 5) & 1;
    const hasChecksum = (fhd >> 2) & 1;
    const dictIdBytes = [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag]!;
    pos += 5 + (singleSegment ? 0 : 1) + dictIdBytes;
    if (pos + fcsBytes > data.length) throw new CompressionError('zstd: truncated frame header');
    let contentSize = -1;
    if (fcsBytes === 1) contentSize = data[pos]!;
    else if (fcsBytes === 2) contentSize = data.readUInt16LE(pos) + 256;
    else if (fcsBytes === 4) contentSize = data.readUInt32LE(pos);
    else if (fcsBytes === 8) contentSize = data.readUInt32LE(pos) + data.readUInt32LE(pos + 4) * 0x1_0000_0000;
    pos += fcsBytes;
    for (;;) {
      if (pos + 3 > data.length) throw new CompressionError('zstd: truncated block header');
      const header = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16);
      const last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      pos += 3 + (type === 1 ? 1 : size); // an RLE block stores one byte repeated `size` times
      if (type === 3) throw new CompressionError('zstd: reserved block type');
      if (last) break;
    }
    if (hasChecksum) pos += 4;
    if (pos > data.length) throw new CompressionError('zstd: truncated frame');
    frames.push({ start, end: pos, contentSize, skippable: false });
  }
  return frames;
}

function zstdDecompress(data: Buffer): Buffer {
  requireZstd();
  const out: Buffer[] = [];
  for (const frame of zstdFrames(data)) {
    if (frame.skippable) continue;
    const src = data.subarray(frame.start, frame.end);
    if (frame.contentSize >= 0) {
      if (frame.contentSize === 0) continue;
      out.push(toBuffer(zstd.decompress(src)));
      continue;
    }
    let capacity = Math.max(1024 * 1024, nextPowerOfTwo(src.length * 8));
    for (;;) {
      try {
        out.push(toBuffer(zstd.decompress(src, { defaultHeapSize: capacity })));
        break;
      } catch (err) {
        // The only error the one-shot API reports is a code; "destination too small" is the one worth retrying.
        if (capacity >= ZSTD_MAX_UNKNOWN_SIZE) throw err;
        capacity *= 2;
      }
    }
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
