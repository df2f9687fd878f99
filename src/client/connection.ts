// One TCP connection from the client to one broker: int32 framing, correlation ids, pipelining, version
// negotiation.
//
// Many requests may be in flight at once. Kafka answers the requests of one connection strictly in order, so the
// response to arrive next always belongs to the oldest request still waiting; its correlation id is checked, and a
// mismatch means the stream can no longer be trusted: the connection closes.
//
// On connect the client sends ApiVersions v3 (header v2, but the response always comes back with header v0,
// KIP-511). A broker that does not know v3 answers in the v0 format with UNSUPPORTED_VERSION and its own range for
// ApiVersions; the client then retries at the broker's highest version. Every later request is sent at the highest
// version both sides support, capped at what our generated codecs declare stable.
//
// A request that gets no answer in time fails with REQUEST_TIMED_OUT and closes the connection, as the Java client
// does: later responses on an ordered stream cannot overtake the missing one. A closed connection rejects every
// request still pending with NETWORK_EXCEPTION; the owner (KafkaClient) opens a new one on the next request.
//
// Seams for later: `socketFactory` (TLS: return a tls.connect socket) and `authenticate` (SASL: runs after
// ApiVersions and before the connection is handed out, and may send SaslHandshake/SaslAuthenticate through
// `request`).
import { EventEmitter } from 'node:events';
import { connect as netConnect, type NetConnectOpts, type Socket } from 'node:net';
import { Reader, Writer } from '../protocol/primitives.js';
import { API_CODECS, ApiKey } from '../protocol/generated/api.js';
import { writeRequestHeader } from '../protocol/generated/messages/RequestHeader.js';
import * as ApiVersionsRequestCodec from '../protocol/generated/messages/ApiVersionsRequest.js';
import * as ApiVersionsResponseCodec from '../protocol/generated/messages/ApiVersionsResponse.js';
import type { ApiVersionsResponse } from '../protocol/generated/messages/ApiVersionsResponse.js';
import { ErrorCode, KafkaError, kafkaError, networkError } from './errors.js';
import type { ClientApiKey, RequestOf, ResponseOf } from './apis.js';

/** Opens a connected socket (plain TCP by default; a TLS factory goes here later). */
export type SocketFactory = (host: string, port: number, timeoutMs: number) => Promise<Socket>;

/** Runs once after ApiVersions, before the connection is used (SASL goes here later). */
export type Authenticator = (conn: BrokerConnection) => Promise<void>;

export interface BrokerConnectionOptions {
  host: string;
  port: number;
  /** sent in every request header; default "umbra" */
  clientId?: string;
  /** default 10 s */
  connectTimeoutMs?: number;
  /** default 30 s; a request can ask for more (a Fetch long poll adds its maxWaitMs) */
  requestTimeoutMs?: number;
  /** largest response accepted; default 1 GiB */
  maxResponseBytes?: number;
  /** highest version to use per API key, below what broker and codecs both support */
  versionCaps?: Readonly<Partial<Record<number, number>>>;
  socketFactory?: SocketFactory;
  authenticate?: Authenticator;
}

export interface RequestOptions {
  /** exact version to send; default: negotiated */
  version?: number;
  /** cap on the negotiated version (e.g. Fetch ≤12 when a topic has no id) */
  maxVersion?: number;
  /** overrides the connection's requestTimeoutMs */
  timeoutMs?: number;
}

export interface VersionRange {
  minVersion: number;
  maxVersion: number;
}

interface InFlight {
  correlationId: number;
  apiKey: number;
  version: number;
  /** response header v1 (tagged fields) follows the correlation id */
  flexibleHeader: boolean;
  decode(r: Reader): unknown;
  resolve(v: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | null;
}

const CLIENT_SOFTWARE_NAME = 'umbra';
const CLIENT_SOFTWARE_VERSION = '0.1.0';
/** the ApiVersions version we try first (librdkafka does the same; Java sends 4) */
const API_VERSIONS_FIRST = 3;

/**
 * Connects with a timeout; `options` are net.connect's besides host and port (e.g. `onread`, to read into buffers
 * the caller owns). Errors are network errors naming the address.
 */
export function connectSocket(host: string, port: number, timeoutMs: number, options: Omit<NetConnectOpts, 'host' | 'port'> = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ ...options, host, port } as NetConnectOpts);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(networkError(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(networkError(`connect to ${host}:${port} failed: ${err.message}`));
    });
  });
}

const defaultSocketFactory: SocketFactory = (host, port, timeoutMs) => connectSocket(host, port, timeoutMs);

export interface BrokerConnectionEvents {
  close: [err: KafkaError];
}

export class BrokerConnection extends EventEmitter<BrokerConnectionEvents> {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  private readonly socket: Socket;
  private readonly requestTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly versionCaps: Readonly<Partial<Record<number, number>>>;
  private nextCorrelationId = 1;
  private readonly inFlight: InFlight[] = [];
  private closedWith: KafkaError | null = null;
  /** the broker's ranges from ApiVersions */
  private brokerVersions = new Map<number, VersionRange>();
  private apiVersionsResponse: ApiVersionsResponse | null = null;

  // receive state: a frame is either cut from one chunk (no copy) or assembled into a buffer of its exact size
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeFill = 0;
  private frame: Buffer | null = null;
  private frameFill = 0;

  private constructor(socket: Socket, opts: BrokerConnectionOptions) {
    super();
    this.socket = socket;
    this.host = opts.host;
    this.port = opts.port;
    this.clientId = opts.clientId ?? 'umbra';
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.maxResponseBytes = opts.maxResponseBytes ?? 1024 * 1024 * 1024;
    this.versionCaps = opts.versionCaps ?? {};
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(networkError(`connection to ${this.address} failed: ${err.message}`)));
    socket.on('close', () => this.close(networkError(`connection to ${this.address} closed by the broker`)));
  }

  /** Connects, negotiates versions (and authenticates, when asked); resolves when the connection is ready. */
  static async connect(opts: BrokerConnectionOptions): Promise<BrokerConnection> {
    const factory = opts.socketFactory ?? defaultSocketFactory;
    const socket = await factory(opts.host, opts.port, opts.connectTimeoutMs ?? 10_000);
    const conn = new BrokerConnection(socket, opts);
    try {
      await conn.negotiateVersions();
      if (opts.authenticate) await opts.authenticate(conn);
    } catch (err) {
      conn.close(err instanceof KafkaError ? err : networkError(`handshake with ${conn.address} failed: ${String(err)}`));
      throw err;
    }
    return conn;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get isClosed(): boolean {
    return this.closedWith !== null;
  }

  /** requests sent and not yet answered */
  get pendingRequests(): number {
    return this.inFlight.length;
  }

  /** The broker's ApiVersions answer (ranges, features). */
  get apiVersions(): ApiVersionsResponse {
    if (!this.apiVersionsResponse) throw new Error('ApiVersions not negotiated yet');
    return this.apiVersionsResponse;
  }

  /** The broker's range for an API, or undefined when it does not offer the API. */
  brokerRange(apiKey: number): VersionRange | undefined {
    return this.brokerVersions.get(apiKey);
  }

  /**
   * The version to send: the highest that the broker and our codecs both support, capped by `maxVersion` and the
   * connection's caps. Throws UNSUPPORTED_VERSION when the ranges do not overlap.
   */
  versionFor(apiKey: number, maxVersion?: number): number {
    const codec = API_CODECS.get(apiKey);
    const name = codec?.name ?? `api ${apiKey}`;
    if (!codec) throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `no codec for API key ${apiKey}`);
    const broker = this.brokerVersions.get(apiKey);
    if (!broker) throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `broker ${this.address} does not offer ${name}`);
    let max = Math.min(codec.maxStableVersion, broker.maxVersion);
    const cap = this.versionCaps[apiKey];
    if (cap !== undefined) max = Math.min(max, cap);
    if (maxVersion !== undefined) max = Math.min(max, maxVersion);
    const min = Math.max(codec.minVersion, broker.minVersion);
    if (max < min) {
      throw kafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${name}: broker ${this.address} supports v${broker.minVersion}-${broker.maxVersion}, client v${codec.minVersion}-${Math.min(codec.maxStableVersion, cap ?? Infinity, maxVersion ?? Infinity)}`,
      );
    }
    return max;
  }

  /** Sends a typed request at the negotiated version and resolves with the decoded response. */
  request<K extends ClientApiKey>(apiKey: K, body: RequestOf<K>, opts: RequestOptions = {}): Promise<ResponseOf<K>> {
    return this.requestUntyped(apiKey, body, opts) as Promise<ResponseOf<K>>;
  }

  /** Same as request, for APIs without an entry in ClientApis. */
  requestUntyped(apiKey: number, body: unknown, opts: RequestOptions = {}): Promise<unknown> {
    let version: number;
    try {
      version = opts.version ?? this.versionFor(apiKey, opts.maxVersion);
    } catch (err) {
      return Promise.reject(err);
    }
    const codec = API_CODECS.get(apiKey)!;
    return this.send(
      apiKey,
      version,
      (w) => codec.writeRequest(w, version, body as never),
      (r) => codec.readResponse(r, version),
      'auto',
      opts.timeoutMs,
    );
  }

  /**
   * Sends a request that gets no response (Produce with acks=0). Resolves once the bytes are handed to the socket.
   */
  sendWithoutResponse<K extends ClientApiKey>(apiKey: K, body: RequestOf<K>, opts: RequestOptions = {}): Promise<void> {
    let version: number;
    try {
      version = opts.version ?? this.versionFor(apiKey, opts.maxVersion);
    } catch (err) {
      return Promise.reject(err);
    }
    const codec = API_CODECS.get(apiKey)!;
    return this.send(apiKey, version, (w) => codec.writeRequest(w, version, body as never), null, 'auto', opts.timeoutMs) as Promise<void>;
  }

  /**
   * The framing core: writes one request frame and registers its decoder. `decode` null = no response expected.
   * Exposed for the handshake and for tests; callers normally use request().
   */
  send(
    apiKey: number,
    version: number,
    writeBody: (w: Writer) => void,
    decode: ((r: Reader) => unknown) | null,
    flexibleResponseHeader: boolean | 'auto' = 'auto',
    timeoutMs?: number,
  ): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const codec = API_CODECS.get(apiKey);
    const flexible = codec !== undefined && codec.firstFlexibleVersion >= 0 && version >= codec.firstFlexibleVersion;
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = this.nextCorrelationId === 0x7fffffff ? 1 : this.nextCorrelationId + 1;

    let parts: Buffer[];
    try {
      const w = new Writer(256);
      const size = w.reserveInt32();
      writeRequestHeader(w, flexible ? 2 : 1, { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: this.clientId });
      writeBody(w);
      Writer.patchInt32(size, w.length - 4);
      parts = w.finish();
    } catch (err) {
      return Promise.reject(err);
    }

    if (decode === null) {
      return new Promise<void>((resolve, reject) => {
        this.writeFrame(parts, (err) => (err ? reject(networkError(`write to ${this.address} failed: ${err.message}`)) : resolve()));
      });
    }

    return new Promise((resolve, reject) => {
      const entry: InFlight = {
        correlationId,
        apiKey,
        version,
        // KIP-511: ApiVersions responses always use header v0, whatever the request version
        flexibleHeader: flexibleResponseHeader === 'auto' ? flexible && apiKey !== ApiKey.ApiVersions : flexibleResponseHeader,
        decode,
        resolve,
        reject,
        timer: null,
      };
      const limit = timeoutMs ?? this.requestTimeoutMs;
      if (limit > 0 && Number.isFinite(limit)) {
        entry.timer = setTimeout(() => this.onTimeout(entry, limit), limit);
        entry.timer.unref?.();
      }
      this.inFlight.push(entry);
      this.writeFrame(parts);
    });
  }

  private writeFrame(parts: Buffer[], cb?: (err?: Error | null) => void): void {
    // cork/uncork hands all parts of a frame to the kernel in one writev
    this.socket.cork();
    for (let i = 0; i < parts.length; i++) {
      if (i === parts.length - 1 && cb) this.socket.write(parts[i]!, cb);
      else this.socket.write(parts[i]!);
    }
    this.socket.uncork();
  }

  private onTimeout(entry: InFlight, limit: number): void {
    entry.timer = null;
    const name = API_CODECS.get(entry.apiKey)?.name ?? `api ${entry.apiKey}`;
    const err = new KafkaError(
      ErrorCode.REQUEST_TIMED_OUT,
      `REQUEST_TIMED_OUT: ${name} v${entry.version} to ${this.address} got no response in ${limit} ms`,
    );
    const i = this.inFlight.indexOf(entry);
    if (i >= 0) this.inFlight.splice(i, 1);
    entry.reject(err);
    // responses arrive in order: the stream cannot be resynchronised past a missing one
    this.close(networkError(`connection to ${this.address} closed after a request timed out`));
  }

  /** Closes the connection; every pending request fails with `err`. Idempotent. */
  close(err: KafkaError = networkError(`connection to ${this.address} closed`)): void {
    if (this.closedWith) return;
    this.closedWith = err;
    this.socket.destroy();
    const pending = this.inFlight.splice(0);
    for (const p of pending) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.frame = null;
    this.emit('close', err);
  }

  // ---- receiving -------------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    let off = 0;
    const len = chunk.length;
    while (off < len && !this.closedWith) {
      if (this.frame !== null) {
        const n = Math.min(this.frame.length - this.frameFill, len - off);
        chunk.copy(this.frame, this.frameFill, off, off + n);
        this.frameFill += n;
        off += n;
        if (this.frameFill === this.frame.length) {
          const frame = this.frame;
          this.frame = null;
          this.deliver(frame);
        }
        continue;
      }
      let size: number;
      if (this.sizeFill === 0 && len - off >= 4) {
        size = chunk.readInt32BE(off);
        off += 4;
      } else {
        const n = Math.min(4 - this.sizeFill, len - off);
        chunk.copy(this.sizeBytes, this.sizeFill, off, off + n);
        this.sizeFill += n;
        off += n;
        if (this.sizeFill < 4) return;
        this.sizeFill = 0;
        size = this.sizeBytes.readInt32BE(0);
      }
      if (size < 4 || size > this.maxResponseBytes) {
        this.close(networkError(`response of ${size} bytes from ${this.address} outside 4..${this.maxResponseBytes}`));
        return;
      }
      if (len - off >= size) {
        // the whole frame is in this chunk: hand out a view, no copy
        const frame = chunk.subarray(off, off + size);
        off += size;
        this.deliver(frame);
      } else {
        this.frame = Buffer.allocUnsafe(size);
        this.frameFill = 0;
      }
    }
  }

  private deliver(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const entry = this.inFlight[0];
    if (!entry || entry.correlationId !== correlationId) {
      this.close(
        networkError(
          `response with correlation id ${correlationId} from ${this.address} does not match the oldest request (${entry ? entry.correlationId : 'none'})`,
        ),
      );
      return;
    }
    this.inFlight.shift();
    if (entry.timer) clearTimeout(entry.timer);
    let value: unknown;
    try {
      const r = new Reader(frame, 4);
      if (entry.flexibleHeader) r.skipTaggedFields();
      value = entry.decode(r);
    } catch (err) {
      // the frame boundary is intact, so the stream stays usable; only this request fails
      const name = API_CODECS.get(entry.apiKey)?.name ?? `api ${entry.apiKey}`;
      entry.reject(
        new KafkaError(ErrorCode.CORRUPT_MESSAGE, `cannot decode ${name} v${entry.version} response from ${this.address}: ${(err as Error).message}`),
      );
      return;
    }
    entry.resolve(value);
  }

  // ---- ApiVersions ------------------------------------------------------------------------------------------

  private async negotiateVersions(): Promise<void> {
    let version = API_VERSIONS_FIRST;
    for (let attempt = 0; attempt < 4; attempt++) {
      const v = version;
      const res = (await this.send(
        ApiKey.ApiVersions,
        v,
        (w) => ApiVersionsRequestCodec.write(w, v, { clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: CLIENT_SOFTWARE_VERSION }),
        (r) => {
          // An UNSUPPORTED_VERSION answer is in the v0 format whatever we sent (KIP-511); the error code comes first
          // in every version, so peek at it to pick the layout.
          const errorCode = r.buf.readInt16BE(r.pos);
          return ApiVersionsResponseCodec.read(r, errorCode === ErrorCode.UNSUPPORTED_VERSION ? 0 : v);
        },
        false,
      )) as ApiVersionsResponse;
      if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION && v > 0) {
        const theirs = res.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
        version = theirs ? Math.min(theirs.maxVersion, v - 1) : 0;
        continue;
      }
      if (res.errorCode !== ErrorCode.NONE) throw kafkaError(res.errorCode, `ApiVersions v${v} to ${this.address}`);
      this.apiVersionsResponse = res;
      this.brokerVersions = new Map(res.apiKeys.map((k) => [k.apiKey, { minVersion: k.minVersion, maxVersion: k.maxVersion }]));
      return;
    }
    throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `no ApiVersions version accepted by ${this.address}`);
  }
}
