// The Kafka listener: accepts TCP connections and hands each to a Connection. Knows nothing about APIs.
import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { TLSSocket, createServer as createTlsServer } from 'node:tls';
import { Connection } from './connection.js';
import type { HandlerRegistry } from './registry.js';
import type { AdvertisedListener, BrokerServices } from './context.js';

export interface ListenerTls {
  certPath: string;
  keyPath: string;
  caPath: string | undefined;
  clientAuth: 'none' | 'requested' | 'required';
}

export interface KafkaServerOptions {
  host: string;
  port: number;
  maxRequestBytes: number;
  /** of this listener (max.connections); Node refuses further ones at accept */
  maxConnections: number;
  /** close a connection idle this long (connections.max.idle.ms); 0 = never */
  idleTimeoutMs?: number;
  registry: HandlerRegistry;
  services: () => BrokerServices;
  /** read sockets into one shared buffer (socket-read.ts) rather than Node's buffer per read (default true) */
  sharedReadBuffer?: boolean;
  /** listener name and security protocol, as Kafka names them (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) */
  name: string;
  securityProtocol: string;
  /** where clients of this listener are told to connect; port 0 = the bound port */
  advertised: AdvertisedListener;
  sasl: boolean;
  tls?: ListenerTls;
}

/** the shared read buffer: large enough that a read usually holds several requests, or most of a big one */
const READ_BUFFER_BYTES = 1024 * 1024;

export class KafkaServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private nextId = 1;
  private readonly opts: KafkaServerOptions;
  private readBuffer: Buffer | null = null;

  private advertised: AdvertisedListener;

  constructor(opts: KafkaServerOptions) {
    this.opts = opts;
    this.advertised = { ...opts.advertised };
    if (opts.tls) {
      // Certificates are read once at start; a bad path or key fails the start with the file named.
      const t = opts.tls;
      const read = (path: string, what: string): Buffer => {
        try {
          return readFileSync(path);
        } catch (err) {
          throw new Error(`listener ${opts.name}: cannot read TLS ${what} ${path}: ${(err as Error).message}`);
        }
      };
      this.server = createTlsServer(
        {
          cert: read(t.certPath, 'certificate'),
          key: read(t.keyPath, 'key'),
          ...(t.caPath ? { ca: read(t.caPath, 'CA') } : {}),
          requestCert: t.clientAuth !== 'none',
          rejectUnauthorized: t.clientAuth === 'required',
          minVersion: 'TLSv1.2',
        },
        (socket) => this.accept(socket),
      );
      // a failed handshake is the peer's problem: log it and carry on
      this.server.on('tlsClientError', (err, socket) => {
        opts.services().logger.info({ listener: opts.name, remote: socket.remoteAddress, reason: err.message }, 'TLS handshake failed');
      });
    } else {
      this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    }
    this.server.maxConnections = opts.maxConnections;
  }

  /** Resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : this.opts.port;
        if (this.advertised.port === 0) this.advertised.port = port;
        resolve(port);
      });
    });
  }

  private accept(socket: Socket): void {
    const services = this.opts.services();
    // TLS sockets decrypt into their own buffers; the shared read buffer is for plain TCP handles only
    if (this.opts.sharedReadBuffer !== false && !this.opts.tls) this.readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    const conn = new Connection(socket, this.nextId++, {
      maxRequestBytes: this.opts.maxRequestBytes,
      readBuffer: this.readBuffer,
      registry: this.opts.registry,
      services,
      listener: { name: this.opts.name, securityProtocol: this.opts.securityProtocol, advertised: this.advertised },
      sasl: this.opts.sasl,
      idleTimeoutMs: this.opts.idleTimeoutMs ?? 0,
      onClose: (c) => {
        if (this.connections.delete(c)) services.metrics.connectionClosed();
      },
    });
    // On a TLS listener without SASL, a verified client certificate names the principal, as Kafka's default
    // principal builder does: `User:` + the subject's distinguished name (RFC 2253 order, CN first).
    if (!this.opts.sasl && socket instanceof TLSSocket && socket.authorized) {
      const dn = certificateDn(socket);
      if (dn) conn.info.principal = `User:${dn}`;
    }
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

/** The peer certificate's subject as an RFC 2253 distinguished name (most specific first), or null. */
function certificateDn(socket: TLSSocket): string | null {
  const subject = socket.getPeerCertificate()?.subject as Record<string, string | string[]> | undefined;
  if (!subject) return null;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(subject)) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${key}=${v.replace(/([,+"\\<>;=])/g, '\\$1')}`);
  }
  return parts.length > 0 ? parts.reverse().join(',') : null;
}
