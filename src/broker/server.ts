// The Kafka listener: accepts TCP connections and hands each to a Connection. Knows nothing about APIs.
import { createServer, type Server, type Socket } from 'node:net';
import { Connection } from './connection.js';
import type { HandlerRegistry } from './registry.js';
import type { BrokerServices } from './context.js';

export interface KafkaServerOptions {
  host: string;
  port: number;
  maxRequestBytes: number;
  maxConnections: number;
  registry: HandlerRegistry;
  services: () => BrokerServices;
  /** read sockets into one shared buffer (socket-read.ts) rather than Node's buffer per read (default true) */
  sharedReadBuffer?: boolean;
}

/** the shared read buffer: large enough that a read usually holds several requests, or most of a big one */
const READ_BUFFER_BYTES = 1024 * 1024;

export class KafkaServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private nextId = 1;
  private readonly opts: KafkaServerOptions;
  private readBuffer: Buffer | null = null;

  constructor(opts: KafkaServerOptions) {
    this.opts = opts;
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.maxConnections = opts.maxConnections;
  }

  /** Resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : this.opts.port);
      });
    });
  }

  private accept(socket: Socket): void {
    const services = this.opts.services();
    if (this.opts.sharedReadBuffer !== false) this.readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    const conn = new Connection(socket, this.nextId++, {
      maxRequestBytes: this.opts.maxRequestBytes,
      readBuffer: this.readBuffer,
      registry: this.opts.registry,
      services,
      onClose: (c) => {
        if (this.connections.delete(c)) services.metrics.connectionClosed();
      },
    });
    this.connections.add(conn);
    services.metrics.connectionOpened();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, then closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of [...this.connections]) c.close();
    await closed;
  }
}
