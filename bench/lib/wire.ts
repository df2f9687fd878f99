// A minimal Kafka connection for the benchmark: int32 framing over one TCP socket, requests encoded with Umbra's
// generated codecs, and two ways to use it: `request()` (one promise per request, for setup) and `onFrame` (raw
// response frames, for the pipelined produce and fetch loops).
//
// Reads land directly in a reusable assembly buffer (net's `onread`), so a 40 MiB fetch response costs no fresh
// allocation and no copy: on this machine the first touch of new memory is ~30x slower than re-touching it
// (PERF-NOTES.md), which would make the load generator, not the broker, the bottleneck.

import net from 'node:net';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import { API_CODECS, ApiKey } from '../../src/protocol/generated/api.js';
import { writeRequestHeader } from '../../src/protocol/generated/messages/RequestHeader.js';
import { readResponseHeader } from '../../src/protocol/generated/messages/ResponseHeader.js';
import * as ApiVersionsRequest from '../../src/protocol/generated/messages/ApiVersionsRequest.js';
import * as ApiVersionsResponse from '../../src/protocol/generated/messages/ApiVersionsResponse.js';

export const CLIENT_ID = 'umbra-bench';

/** Free space kept ahead of each socket read. */
const MIN_READ_SPACE = 256 * 1024;

/**
 * Splits a byte stream into frames in place. `onFrame` gets the bytes after the size prefix; the buffer is reused,
 * so the frame is valid only during the call.
 */
export class FrameAssembler {
  private buf: Buffer;
  private start = 0;
  private end = 0;

  constructor(
    initialCapacity: number,
    private readonly onFrame: (frame: Buffer) => void,
  ) {
    // Buffer.alloc touches every page now, before the measurement, rather than during it.
    this.buf = Buffer.alloc(Math.max(initialCapacity, 2 * MIN_READ_SPACE));
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** net's onread.buffer: where the next read goes */
  readonly nextReadBuffer = (): Buffer => this.buf.subarray(this.end);

  /** net's onread.callback */
  readonly onRead = (n: number): boolean => {
    this.end += n;
    this.drain();
    return true;
  };

  private drain(): void {
    for (;;) {
      const avail = this.end - this.start;
      if (avail < 4) break;
      const size = this.buf.readInt32BE(this.start);
      if (size < 0) throw new Error(`negative frame size ${size}`);
      if (avail - 4 < size) {
        this.makeRoom(4 + size);
        return;
      }
      const frameStart = this.start + 4;
      this.start = frameStart + size;
      this.onFrame(this.buf.subarray(frameStart, frameStart + size));
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    } else {
      this.makeRoom(4);
    }
  }

  /** Ensures the partial frame at `start` (needing `frameBytes` in all) fits, with room for the next read. */
  private makeRoom(frameBytes: number): void {
    if (this.buf.length - this.start >= frameBytes && this.buf.length - this.end >= MIN_READ_SPACE) return;
    const need = Math.max(frameBytes, this.end - this.start + MIN_READ_SPACE);
    if (need <= this.buf.length) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, need + MIN_READ_SPACE));
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
    }
    this.end -= this.start;
    this.start = 0;
  }
}

/** Request header v2 for flexible versions, v1 otherwise; response header v1 if flexible, except ApiVersions (v0). */
export function isFlexible(apiKey: number, version: number): boolean {
  const codec = API_CODECS.get(apiKey);
  if (!codec) throw new Error(`unknown API key ${apiKey}`);
  return codec.firstFlexibleVersion >= 0 && version >= codec.firstFlexibleVersion;
}

export function responseHeaderVersion(apiKey: number, version: number): number {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexible(apiKey, version) ? 1 : 0;
}

/** A whole request frame (size prefix included). The correlation id sits at bytes 8..11. */
export function encodeRequest(apiKey: number, version: number, correlationId: number, writeBody: (w: Writer) => void, initialSize = 1024): Buffer {
  const w = new Writer(initialSize);
  w.int32(0); // size, patched below
  writeRequestHeader(w, isFlexible(apiKey, version) ? 2 : 1, {
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId,
    clientId: CLIENT_ID,
  });
  writeBody(w);
  const frame = w.toBuffer();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

export const CORRELATION_ID_OFFSET = 8;

/** Reads the response header of a frame; returns a Reader positioned at the body. */
export function openResponse(frame: Buffer, apiKey: number, version: number): { correlationId: number; body: Reader } {
  const r = new Reader(frame);
  const h = readResponseHeader(r, responseHeaderVersion(apiKey, version));
  return { correlationId: h.correlationId, body: r };
}

interface Pending {
  apiKey: number;
  version: number;
  resolve: (body: Reader) => void;
  reject: (err: Error) => void;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** initial size of the receive assembly buffer */
  receiveBuffer?: number;
  connectTimeoutMs?: number;
}

export class KafkaConnection {
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private closedError: Error | null = null;
  /** When set, frames go here instead of to `request()` promises (pipelined loops). */
  onFrame: ((frame: Buffer) => void) | null = null;

  private constructor(readonly socket: net.Socket) {}

  static connect(opts: ConnectOptions): Promise<KafkaConnection> {
    return new Promise((resolve, reject) => {
      let conn: KafkaConnection | null = null;
      const assembler = new FrameAssembler(opts.receiveBuffer ?? 1 << 20, (frame) => {
        try {
          conn!.dispatch(frame);
        } catch (err) {
          conn!.socket.destroy(err as Error);
        }
      });
      const socket = net.connect({
        host: opts.host,
        port: opts.port,
        noDelay: true,
        onread: {
          buffer: assembler.nextReadBuffer,
          callback: (n: number) => {
            try {
              return assembler.onRead(n);
            } catch (err) {
              socket.destroy(err as Error);
              return false;
            }
          },
        },
      });
      conn = new KafkaConnection(socket);
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${opts.host}:${opts.port} timed out`)), opts.connectTimeoutMs ?? 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(conn!);
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        conn!.fail(err);
        reject(err);
      });
      socket.on('close', () => conn!.fail(new Error('connection closed by the broker')));
    });
  }

  private fail(err: Error): void {
    if (!this.closedError) this.closedError = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private dispatch(frame: Buffer): void {
    if (this.onFrame) {
      this.onFrame(frame);
      return;
    }
    const correlationId = frame.readInt32BE(0);
    const p = this.pending.get(correlationId);
    if (!p) throw new Error(`response with unknown correlation id ${correlationId}`);
    this.pending.delete(correlationId);
    // The frame lives in a reused buffer: copy it for the (rare, small) control-plane responses.
    const { body } = openResponse(Buffer.from(frame), p.apiKey, p.version);
    p.resolve(body);
  }

  allocateCorrelationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) | 0;
    return id;
  }

  request<T>(apiKey: number, version: number, writeBody: (w: Writer) => void, readBody: (r: Reader, v: number) => T): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const correlationId = this.allocateCorrelationId();
    const frame = encodeRequest(apiKey, version, correlationId, writeBody);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(correlationId, {
        apiKey,
        version,
        resolve: (body) => {
          try {
            resolve(readBody(body, version));
          } catch (err) {
            reject(err as Error);
          }
        },
        reject,
      });
      this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export type ApiVersionRanges = Map<number, { min: number; max: number }>;

export async function fetchApiVersions(conn: KafkaConnection): Promise<ApiVersionRanges> {
  const res = await conn.request(
    ApiKey.ApiVersions,
    3,
    (w) => ApiVersionsRequest.write(w, 3, { clientSoftwareName: CLIENT_ID, clientSoftwareVersion: '0.1.0' }),
    ApiVersionsResponse.read,
  );
  if (res.errorCode !== 0) throw new Error(`ApiVersions failed with error ${res.errorCode}`);
  const ranges: ApiVersionRanges = new Map();
  for (const k of res.apiKeys) ranges.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
  return ranges;
}

/** Highest version both sides support, capped at `cap`; throws when there is none. */
export function pickVersion(ranges: ApiVersionRanges, apiKey: number, cap: number): number {
  const codec = API_CODECS.get(apiKey)!;
  const broker = ranges.get(apiKey);
  if (!broker) throw new Error(`the broker does not support ${codec.name}`);
  const v = Math.min(cap, broker.max, codec.maxVersion);
  if (v < Math.max(broker.min, codec.minVersion)) throw new Error(`no common ${codec.name} version (broker ${broker.min}-${broker.max})`);
  return v;
}
