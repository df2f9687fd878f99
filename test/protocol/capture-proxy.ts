// A recording TCP proxy for the Kafka protocol, used to capture the frames real clients send to a real broker
// (test/protocol/captures/, decoded by codec-captures.test.ts). It forwards bytes both ways unchanged and, on the
// side, cuts each direction into frames (int32 size + payload): request frames are recorded with their header,
// response frames are matched to their request by correlation id on the same connection.
//
// For every connection to go through the proxy, the broker must *advertise* the proxy's address
// (advertised.listeners=PLAINTEXT://127.0.0.1:<proxy port>) while listening on another port; clients then reach
// the broker only through here, bootstrap or not. Only 127.0.0.1 is used.
//
//   const proxy = new CaptureProxy({ host: '127.0.0.1', port: kafkaPort });
//   const port = await proxy.listen(0);
//   proxy.label = 'kcat';   // frames of connections opened from now on carry this label
//   ... run a client against 127.0.0.1:port ...
//   proxy.frames            // every request and response seen, in order
//   await proxy.close();
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface CapturedFrame {
  /** proxy-wide connection number */
  connection: number;
  /** the proxy's label when the connection was opened (which client opened it) */
  label: string;
  direction: 'request' | 'response';
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** from the request header (a response carries none: the request's) */
  clientId: string | null;
  /** the frame without its int32 size prefix: header + body */
  payload: Buffer;
}

/** Cuts a byte stream into Kafka frames (int32 size + payload). */
export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  constructor(
    private readonly onFrame: (payload: Buffer) => void,
    private readonly maxFrame = 256 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    for (;;) {
      if (this.pendingBytes < 4) return;
      const head = this.peek(4);
      const size = head.readInt32BE(0);
      if (size < 0 || size > this.maxFrame) throw new Error(`bad frame size ${size}`);
      if (this.pendingBytes < 4 + size) return;
      const all = Buffer.concat(this.pending, this.pendingBytes);
      this.onFrame(Buffer.from(all.subarray(4, 4 + size)));
      const rest = all.subarray(4 + size);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
  }

  private peek(n: number): Buffer {
    if (this.pending[0]!.length >= n) return this.pending[0]!;
    return Buffer.concat(this.pending, this.pendingBytes).subarray(0, n);
  }
}

/** The request header fields every version shares: key, version, correlation id, then the int16-length client id (v1+). */
export function peekRequestHeader(payload: Buffer): { apiKey: number; apiVersion: number; correlationId: number; clientId: string | null } {
  const apiKey = payload.readInt16BE(0);
  const apiVersion = payload.readInt16BE(2);
  const correlationId = payload.readInt32BE(4);
  let clientId: string | null = null;
  if (payload.length >= 10) {
    const len = payload.readInt16BE(8);
    if (len >= 0 && 10 + len <= payload.length) clientId = payload.toString('utf8', 10, 10 + len);
  }
  return { apiKey, apiVersion, correlationId, clientId };
}

export class CaptureProxy {
  readonly frames: CapturedFrame[] = [];
  label = 'unlabelled';
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private connections = 0;

  constructor(private readonly upstream: { host: string; port: number }) {}

  /** Listens on 127.0.0.1:port (0 = any free port); returns the port. */
  listen(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const addr = server.address();
        if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
        resolve(addr.port);
      });
    });
  }

  /** Repoints new connections (existing ones keep their upstream socket). */
  setUpstream(host: string, port: number): void {
    this.upstream.host = host;
    this.upstream.port = port;
  }

  private accept(client: Socket): void {
    const connection = ++this.connections;
    const label = this.label;
    const server = connect(this.upstream.port, this.upstream.host);
    this.sockets.add(client);
    this.sockets.add(server);
    // correlation id -> request header, to name each response
    const inFlight = new Map<number, { apiKey: number; apiVersion: number; clientId: string | null }>();
    const requests = new FrameSplitter((payload) => {
      const h = peekRequestHeader(payload);
      inFlight.set(h.correlationId, h);
      this.frames.push({ connection, label, direction: 'request', ...h, payload });
    });
    const responses = new FrameSplitter((payload) => {
      const correlationId = payload.readInt32BE(0);
      const rq = inFlight.get(correlationId);
      if (!rq) return; // not ours to name (should not happen)
      inFlight.delete(correlationId);
      this.frames.push({ connection, label, direction: 'response', apiKey: rq.apiKey, apiVersion: rq.apiVersion, correlationId, clientId: rq.clientId, payload });
    });
    const closeBoth = (): void => {
      client.destroy();
      server.destroy();
      this.sockets.delete(client);
      this.sockets.delete(server);
    };
    client.on('data', (chunk: Buffer) => {
      server.write(chunk);
      try {
        requests.push(chunk);
      } catch {
        // not Kafka framing (or SASL v0 raw tokens): keep forwarding, stop recording this connection
        requests.push = () => {};
      }
    });
    server.on('data', (chunk: Buffer) => {
      client.write(chunk);
      try {
        responses.push(chunk);
      } catch {
        responses.push = () => {};
      }
    });
    client.on('close', closeBoth);
    server.on('close', closeBoth);
    client.on('error', closeBoth);
    server.on('error', closeBoth);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
