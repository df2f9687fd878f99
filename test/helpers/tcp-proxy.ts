// A loopback TCP proxy that a test controls, for network faults between a client and a broker: listen on
// 127.0.0.1:0, forward every connection to a target port, and on demand stall (pause), sever (dropAll), slow down
// (setDelay), cut one response in the middle (cutNextResponseAfter), or refuse new connections (refuse: an outage,
// as a port with nothing listening looks to a client that got through the TCP handshake).
//
// Bytes are forwarded in order per direction through a small queue: a chunk leaves when its delay has passed and
// the proxy is not paused. Paused, the proxy also stops reading both sockets, so TCP backpressure (not proxy
// memory) holds what the peers keep sending, and a peer's close is held too: a stalled network does not carry
// FINs either. New connections are accepted while paused (as a black-holed route would complete nothing), and
// they stall like the others.
//
// The proxy understands Kafka framing just enough to cut a *response* rather than a chunk: it follows the 4-byte
// size prefixes in both directions and remembers the API key of each request by correlation id, so a test can ask
// for "the next Fetch response, cut after N bytes" and learn which response was cut.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface CutReport {
  /** API key of the request the cut response answered (-1 if the proxy could not tell) */
  apiKey: number;
  correlationId: number;
  /** the response frame's full size, size prefix included */
  frameBytes: number;
  /** bytes of that frame that reached the client */
  forwardedBytes: number;
}

export interface CutOptions {
  /** only a response to a request with this API key (e.g. 1 = Fetch) */
  apiKey?: number;
}

interface PendingCut {
  bytes: number;
  apiKey: number | undefined;
  resolve(r: CutReport): void;
}

interface Chunk {
  data: Buffer;
  dueAt: number;
}

/** Follows 4-byte size-prefixed frames across chunk boundaries. */
class FrameTracker {
  /** bytes left of the current frame (0: at a frame boundary) */
  remaining = 0;
  /** the first bytes of the current frame, up to `want` */
  head = Buffer.alloc(0);
  /** total size of the current frame, size prefix included (-1 until its prefix is read) */
  frameBytes = -1;
  /** offset of the current frame's first byte within everything seen */
  frameStart = 0;
  seen = 0;

  constructor(
    private readonly want: number,
    private readonly onHead: (head: Buffer, frameBytes: number, frameStart: number) => void,
  ) {}

  push(data: Buffer): void {
    let pos = 0;
    while (pos < data.length) {
      if (this.remaining === 0 && this.frameBytes >= 0) {
        // the previous frame ended exactly here
        this.frameBytes = -1;
        this.head = Buffer.alloc(0);
      }
      if (this.frameBytes < 0) {
        if (this.head.length === 0) this.frameStart = this.seen + pos;
        const take = Math.min(this.want - this.head.length, data.length - pos);
        this.head = Buffer.concat([this.head, data.subarray(pos, pos + take)]);
        pos += take;
        if (this.head.length < this.want) break;
        this.frameBytes = this.head.readInt32BE(0) + 4;
        this.remaining = this.frameBytes - this.want;
        this.onHead(this.head, this.frameBytes, this.frameStart);
        continue;
      }
      const take = Math.min(this.remaining, data.length - pos);
      this.remaining -= take;
      pos += take;
    }
    this.seen += data.length;
  }
}

class ProxiedConnection {
  readonly upstream: Socket;
  private readonly up: Chunk[] = [];
  private readonly down: Chunk[] = [];
  private upEnded = false;
  private downEnded = false;
  private timer: NodeJS.Timeout | null = null;
  private destroyed = false;
  /** a response was cut: nothing more goes either way */
  private severed = false;
  /** API key by correlation id of requests sent and not yet answered */
  private readonly requestKeys = new Map<number, number>();
  private readonly requests: FrameTracker;
  private readonly responses: FrameTracker;
  /** a cut in progress on this connection: forward up to `until` bytes of the downstream, then destroy */
  private cutting: { until: number; report: CutReport; resolve(r: CutReport): void } | null = null;
  /** bytes of the downstream handed to the client so far */
  private downForwarded = 0;

  constructor(
    readonly client: Socket,
    target: { host: string; port: number },
    private readonly proxy: TcpProxy,
  ) {
    this.upstream = connect(target.port, target.host);
    this.upstream.setNoDelay(true);
    client.setNoDelay(true);
    this.requests = new FrameTracker(12, (head) => {
      // request header v1+: size, apiKey (int16), apiVersion (int16), correlationId (int32)
      this.requestKeys.set(head.readInt32BE(8), head.readInt16BE(4));
    });
    this.responses = new FrameTracker(8, (head, frameBytes, frameStart) => {
      const correlationId = head.readInt32BE(4);
      const apiKey = this.requestKeys.get(correlationId) ?? -1;
      this.requestKeys.delete(correlationId);
      if (this.cutting !== null) return;
      const cut = this.proxy.claimCut(apiKey, frameBytes);
      if (cut === undefined) return;
      this.cutting = {
        until: frameStart + cut.bytes,
        report: { apiKey, correlationId, frameBytes, forwardedBytes: cut.bytes },
        resolve: cut.resolve,
      };
    });
    client.on('data', (d: Buffer) => {
      this.requests.push(d);
      this.enqueue(this.up, d);
    });
    this.upstream.on('data', (d: Buffer) => {
      this.responses.push(d);
      this.enqueue(this.down, d);
    });
    client.on('end', () => {
      this.upEnded = true;
      this.pump();
    });
    this.upstream.on('end', () => {
      this.downEnded = true;
      this.pump();
    });
    const kill = (): void => this.destroy();
    client.on('error', kill);
    this.upstream.on('error', kill);
    client.on('close', kill);
    this.upstream.on('close', kill);
    if (proxy.paused) this.stopReading();
  }

  private enqueue(queue: Chunk[], data: Buffer): void {
    queue.push({ data, dueAt: Date.now() + this.proxy.delayMs });
    this.pump();
  }

  stopReading(): void {
    this.client.pause();
    this.upstream.pause();
  }

  startReading(): void {
    this.client.resume();
    this.upstream.resume();
    this.pump();
  }

  /** Sends every chunk that is due, in order; schedules itself for the next one. */
  pump(): void {
    if (this.destroyed || this.severed || this.proxy.paused) return;
    const now = Date.now();
    let next = Infinity;
    while (this.up.length > 0 && this.up[0]!.dueAt <= now) this.upstream.write(this.up.shift()!.data);
    if (this.up.length > 0) next = Math.min(next, this.up[0]!.dueAt);
    while (this.down.length > 0 && this.down[0]!.dueAt <= now) {
      const chunk = this.down.shift()!.data;
      if (this.cutting !== null && this.downForwarded + chunk.length >= this.cutting.until) {
        const keep = this.cutting.until - this.downForwarded;
        this.client.write(chunk.subarray(0, keep));
        const { report, resolve } = this.cutting;
        this.severed = true;
        // let the partial response reach the client before the reset
        this.client.end(() => {
          this.destroy();
          resolve(report);
        });
        this.up.length = 0;
        this.down.length = 0;
        return;
      }
      this.downForwarded += chunk.length;
      this.client.write(chunk);
    }
    if (this.down.length > 0) next = Math.min(next, this.down[0]!.dueAt);
    if (this.up.length === 0 && this.upEnded) this.upstream.end();
    if (this.down.length === 0 && this.downEnded) this.client.end();
    if (next !== Infinity && this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, next - now);
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.timer) clearTimeout(this.timer);
    this.client.destroy();
    this.upstream.destroy();
    this.proxy.forget(this);
  }
}

export class TcpProxy {
  paused = false;
  refusing = false;
  delayMs = 0;
  /** connections accepted so far */
  accepted = 0;
  private target: { host: string; port: number };
  private readonly server: Server;
  private readonly connections = new Set<ProxiedConnection>();
  private pendingCut: PendingCut | null = null;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.server = server;
    this.target = target;
  }

  /** Listens on 127.0.0.1:0; the target may be set later (setTarget) when its port is not known yet. */
  static async start(targetPort = 0, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((socket) => proxy!.accept(socket));
    proxy = new TcpProxy(server, { host: targetHost, port: targetPort });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('proxy is not listening');
    return a.port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Where new connections go (existing ones keep their upstream). */
  setTarget(port: number, host = '127.0.0.1'): void {
    this.target = { host, port };
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /** Stops forwarding bytes both ways; sockets stay open. */
  pause(): void {
    this.paused = true;
    for (const c of this.connections) c.stopReading();
  }

  resume(): void {
    this.paused = false;
    for (const c of this.connections) c.startReading();
  }

  /** While on, new connections are closed as soon as they are accepted (existing ones are left alone). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  /** Destroys every connection (both sides see a reset). */
  dropAll(): number {
    const n = this.connections.size;
    for (const c of [...this.connections]) c.destroy();
    return n;
  }

  /** Holds each chunk this long before forwarding it (order kept). */
  setDelay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  /**
   * The next server→client response frame longer than `bytes` (of the API key given, if any) is forwarded only up
   * to `bytes` bytes, then its connection is destroyed. Resolves with what was cut.
   */
  cutNextResponseAfter(bytes: number, opts: CutOptions = {}): Promise<CutReport> {
    if (this.pendingCut) throw new Error('a cut is already armed');
    return new Promise((resolve) => {
      this.pendingCut = { bytes, apiKey: opts.apiKey, resolve };
    });
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** @internal a connection asks whether the response starting now is the one to cut */
  claimCut(apiKey: number, frameBytes: number): { bytes: number; resolve(r: CutReport): void } | undefined {
    const cut = this.pendingCut;
    if (cut === null) return undefined;
    if (cut.apiKey !== undefined && cut.apiKey !== apiKey) return undefined;
    if (frameBytes <= cut.bytes) return undefined;
    this.pendingCut = null;
    return cut;
  }

  /** @internal */
  forget(c: ProxiedConnection): void {
    this.connections.delete(c);
  }

  private accept(socket: Socket): void {
    this.accepted++;
    if (this.refusing || this.target.port === 0) {
      socket.destroy();
      return;
    }
    const c = new ProxiedConnection(socket, this.target, this);
    this.connections.add(c);
  }
}
