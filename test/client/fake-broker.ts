// A tiny fake Kafka broker for client tests, built on the generated codecs: it frames, parses request headers
// (v1/v2 by the API's flexible versions), hands decoded requests to per-API handlers, and writes responses in
// request order with the right response header (v0 for ApiVersions, v1 for flexible versions).
//
// Test knobs: how responses are written (whole, one byte at a time, or coalesced), a per-API handler that may be
// async (to hold responses back), a log of every request, the most requests seen in flight at once, and hooks to
// drop connections or corrupt a correlation id.
import { createServer, type Server, type Socket } from 'node:net';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import { API_CODECS } from '../../src/protocol/generated/api.js';
import { readRequestHeader } from '../../src/protocol/generated/messages/RequestHeader.js';
import * as ApiVersionsResponse from '../../src/protocol/generated/messages/ApiVersionsResponse.js';

export interface FakeRequest {
  apiKey: number;
  version: number;
  correlationId: number;
  clientId: string | null;
  headerVersion: number;
  body: unknown;
  /** the connection it came on (0, 1, …) */
  connection: number;
}

/** A response body (encoded by the generated codec), or null for no response (acks=0). */
export type FakeHandler = (req: FakeRequest) => unknown | null | Promise<unknown | null>;

export type WriteMode = 'whole' | 'bytewise' | 'coalesce';

export interface FakeBrokerOptions {
  /** advertised ranges; default: every API with a handler, at our codecs' full stable range */
  apiVersions?: Map<number, [number, number]>;
  handlers?: Record<number, FakeHandler>;
}

export class FakeBroker {
  readonly requests: FakeRequest[] = [];
  handlers: Record<number, FakeHandler>;
  apiVersions: Map<number, [number, number]> | undefined;
  writeMode: WriteMode = 'whole';
  maxInFlight = 0;
  /** the next response gets this correlation id instead of the right one */
  corruptNextCorrelationId = false;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private connections = 0;
  port = 0;

  private constructor(opts: FakeBrokerOptions) {
    this.handlers = { ...(opts.handlers ?? {}) };
    this.apiVersions = opts.apiVersions;
    this.server = createServer((s) => this.accept(s));
  }

  static async start(opts: FakeBrokerOptions = {}): Promise<FakeBroker> {
    const b = new FakeBroker(opts);
    await new Promise<void>((resolve) => b.server.listen(0, '127.0.0.1', () => resolve()));
    const addr = b.server.address();
    b.port = typeof addr === 'object' && addr ? addr.port : 0;
    return b;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** requests of one API (ApiVersions excluded unless asked) */
  requestsOf(apiKey: number): FakeRequest[] {
    return this.requests.filter((r) => r.apiKey === apiKey);
  }

  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private ranges(): Map<number, [number, number]> {
    if (this.apiVersions) return this.apiVersions;
    const m = new Map<number, [number, number]>();
    for (const key of [18, ...Object.keys(this.handlers).map(Number)]) {
      const c = API_CODECS.get(key)!;
      m.set(key, [c.minVersion, c.maxStableVersion]);
    }
    return m;
  }

  private accept(socket: Socket): void {
    const connection = this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    const queue: { frame: Buffer | null | undefined }[] = [];
    let inFlight = 0;
    const flush = (): void => {
      const ready: Buffer[] = [];
      while (queue.length > 0 && queue[0]!.frame !== undefined) {
        const f = queue.shift()!.frame;
        if (f) ready.push(f);
      }
      if (ready.length === 0 || socket.destroyed) return;
      if (this.writeMode === 'bytewise') {
        const all = Buffer.concat(ready);
        for (let i = 0; i < all.length; i++) socket.write(all.subarray(i, i + 1));
      } else if (this.writeMode === 'coalesce') {
        socket.write(Buffer.concat(ready));
      } else {
        for (const f of ready) socket.write(f);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        const slot: { frame: Buffer | null | undefined } = { frame: undefined };
        queue.push(slot);
        inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, inFlight);
        void this.handle(frame, connection).then(
          (res) => {
            inFlight--;
            slot.frame = res;
            flush();
          },
          () => {
            inFlight--;
            socket.destroy();
          },
        );
      }
    });
  }

  private async handle(frame: Buffer, connection: number): Promise<Buffer | null> {
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const codec = API_CODECS.get(apiKey)!;
    const ranges = this.ranges();
    const range = ranges.get(apiKey);

    if (apiKey === 18 && (!range || version < range[0] || version > range[1])) {
      // KIP-511: an unsupported ApiVersions version gets a v0-format UNSUPPORTED_VERSION answer with our range
      this.requests.push({ apiKey, version, correlationId, clientId: null, headerVersion: -1, body: null, connection });
      return this.frame(correlationId, false, (w) =>
        ApiVersionsResponse.write(w, 0, { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: range?.[0] ?? 0, maxVersion: range?.[1] ?? 0 }] }),
      );
    }
    const flexible = codec.firstFlexibleVersion >= 0 && version >= codec.firstFlexibleVersion;
    const r = new Reader(frame);
    const headerVersion = flexible ? 2 : 1;
    const header = readRequestHeader(r, headerVersion);
    const body = codec.readRequest(r, version);
    if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after ${codec.name} v${version}`);
    const req: FakeRequest = { apiKey, version, correlationId, clientId: header.clientId, headerVersion, body, connection };
    this.requests.push(req);

    let res: unknown;
    if (apiKey === 18 && !this.handlers[18]) {
      res = {
        errorCode: 0,
        apiKeys: [...ranges].map(([k, [min, max]]) => ({ apiKey: k, minVersion: min, maxVersion: max })),
      };
    } else {
      const h = this.handlers[apiKey];
      if (!h) throw new Error(`no handler for ${codec.name}`);
      res = await h(req);
    }
    if (res === null) return null;
    let cid = correlationId;
    if (this.corruptNextCorrelationId) {
      this.corruptNextCorrelationId = false;
      cid = correlationId + 1000;
    }
    return this.frame(cid, flexible && apiKey !== 18, (w) => codec.writeResponse(w, version, res as never));
  }

  private frame(correlationId: number, flexibleHeader: boolean, body: (w: Writer) => void): Buffer {
    const w = new Writer(256);
    const size = w.reserveInt32();
    w.int32(correlationId);
    if (flexibleHeader) w.uvarint(0);
    body(w);
    Writer.patchInt32(size, w.length - 4);
    return w.toBuffer();
  }
}

/** A Metadata response for one broker (this fake) leading every partition of the given topics. */
export function metadataResponse(
  broker: FakeBroker,
  topics: Record<string, { partitions: number; topicId?: string; leader?: number }>,
  requested: readonly string[] | null,
  opts: { nodeId?: number; extraBrokers?: { nodeId: number; host: string; port: number }[] } = {},
): unknown {
  const nodeId = opts.nodeId ?? 1;
  const names = requested ?? Object.keys(topics);
  return {
    brokers: [{ nodeId, host: '127.0.0.1', port: broker.port, rack: null }, ...(opts.extraBrokers ?? []).map((b) => ({ ...b, rack: null }))],
    clusterId: 'fake-cluster',
    controllerId: nodeId,
    topics: names.map((name) => {
      const t = topics[name];
      if (!t) return { errorCode: 3, name, partitions: [] };
      return {
        errorCode: 0,
        name,
        topicId: t.topicId ?? '00000000-0000-0000-0000-000000000000',
        isInternal: false,
        partitions: Array.from({ length: t.partitions }, (_, i) => ({
          errorCode: 0,
          partitionIndex: i,
          leaderId: t.leader ?? nodeId,
          leaderEpoch: 0,
          replicaNodes: [t.leader ?? nodeId],
          isrNodes: [t.leader ?? nodeId],
          offlineReplicas: [],
        })),
      };
    }),
  };
}

/** Topic names a Metadata request asks for (null = all). */
export function requestedTopics(body: unknown): string[] | null {
  const b = body as { topics: { name: string | null }[] | null };
  return b.topics === null ? null : b.topics.map((t) => t.name ?? '');
}
