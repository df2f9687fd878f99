// One client connection: int32-length framing, request header parsing, dispatch, and responses written back in
// request order.
//
// Requests are dispatched as soon as they arrive (their synchronous part, e.g. a Produce append, runs in arrival
// order), but their responses are released strictly in order: a slow request (a Fetch long poll, an acks=all
// Produce waiting for fsync) holds back the responses behind it, as clients expect. Pipelined acks=all produces
// on one connection therefore share one fsync.
//
// Two tiers of errors: a malformed frame (bad length, unknown API, unsupported version, a body that does not
// parse) closes this connection and nothing else; everything else is an error code inside the response.
import type { Socket } from 'node:net';
import { ProtocolError, Reader, Writer } from '../protocol/primitives.js';
import { readRequestHeader } from '../protocol/generated/messages/RequestHeader.js';
import { API_CODECS } from '../protocol/generated/api.js';
import { FrameReader } from './framing.js';
import { readIntoBuffer } from './socket-read.js';
import type { ApiHandler, HandlerRegistry } from './registry.js';
import type { BrokerServices, ConnectionInfo, ListenerInfo, RequestContext } from './context.js';
import { SASL_MAX_RECEIVE_BYTES } from '../security/sasl-session.js';

const PRODUCE_KEY = 0;
const API_VERSIONS_KEY = 18;
const MAX_IN_FLIGHT = 128;
/**
 * Request bytes one connection may hand in per event-loop turn before its reads pause until the next turn. libuv
 * reads a readable socket up to 32 times in one go (1 MiB each into the shared buffer), and a producer whose acks
 * go out while it is being read keeps it readable: one connection could take 30+ MiB of appends (50-300 ms) in a
 * single turn while every other connection (a consumer, a shadow link's fetches, a long poll's timer) waited.
 */
const TURN_BYTES = 1024 * 1024;

interface Slot {
  correlationId: number;
  /** response frame, or null for "no response" (acks=0); undefined while pending */
  frame: Buffer[] | null | undefined;
  /** callbacks to run once the frame is written (or will never be) */
  done: (() => void)[] | null;
  /** parts of the frame still being filled (RequestContext.deferPart), or null */
  gates?: Map<Buffer, Gate>;
  /** index of the next part of `frame` to write: a response waiting at a gate is written in several goes */
  next?: number;
}

/** A deferred response part: pending until its fill settles, which then flushes the connection again. */
interface Gate {
  state: 'pending' | 'ready' | 'failed';
}

export interface ConnectionOptions {
  maxRequestBytes: number;
  /**
   * memory that socket reads land in, shared by the server's connections (each read is consumed before the next
   * one); absent: Node's own buffer per read
   */
  readBuffer?: Buffer | null;
  registry: HandlerRegistry;
  services: BrokerServices;
  listener: ListenerInfo;
  /** this listener requires SASL authentication before any request but ApiVersions and the SASL ones */
  sasl: boolean;
  /** connections.max.idle.ms: close after this long with no bytes either way and nothing pending; 0 = never */
  idleTimeoutMs?: number;
  onClose(conn: Connection): void;
}

export class Connection {
  readonly info: ConnectionInfo;
  private readonly socket: Socket;
  private readonly opts: ConnectionOptions;
  private readonly frames: FrameReader;
  private readonly slots: Slot[] = [];
  private closed = false;
  private paused = false;
  /** bytes read in the current event-loop turn, and whether reads are paused until the next one (TURN_BYTES) */
  private turnBytes = 0;
  private yielded = false;
  /** a raw SASL token (after SaslHandshake v0) is being answered */
  private rawSaslPending = false;

  constructor(socket: Socket, id: number, opts: ConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    // Before authentication Kafka caps frames at sasl.server.max.receive.size, so an unauthenticated peer cannot
    // make the broker buffer a 100 MiB request.
    this.frames = new FrameReader(opts.sasl ? Math.min(opts.maxRequestBytes, SASL_MAX_RECEIVE_BYTES) : opts.maxRequestBytes);
    this.info = {
      id,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      clientId: null,
      principal: 'User:ANONYMOUS',
      authenticated: !opts.sasl,
      sasl: null,
      listener: opts.listener,
    };
    if (opts.sasl) this.info.sasl = opts.services.security.newSession(this.info);
    socket.setNoDelay(true);
    // Reads land in the server's shared buffer when this Node allows it (socket-read.ts); else Node allocates a
    // chunk per read, which stays as it is, so frames inside one need no copy.
    const shared = opts.readBuffer;
    if (!shared || !readIntoBuffer(socket, shared, (bytes) => this.onData(bytes, false))) {
      socket.on('data', (chunk: Buffer) => this.onData(chunk, true));
    }
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    if (opts.idleTimeoutMs) {
      // Node's socket timeout fires after that long without reads or writes. A long poll or an fsync still
      // pending is not idleness (the client waits for us), so the timer only closes an empty connection.
      socket.setTimeout(opts.idleTimeoutMs, () => {
        if (this.slots.length === 0) this.close(`idle for ${opts.idleTimeoutMs} ms (connections.max.idle.ms)`);
      });
    }
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.opts.services.logger.debug({ conn: this.info.id, remote: this.info.remoteAddress, reason }, 'closing connection');
    this.socket.destroy();
    for (const slot of this.slots.splice(0)) runAll(slot.done);
    this.opts.onClose(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** `stable`: whether `bytes` stays unchanged after this call (see FrameReader.push). */
  private onData(bytes: Buffer, stable: boolean): void {
    this.opts.services.metrics.bytesIn(bytes.length);
    try {
      this.frames.push(bytes, stable, this.onFrame, this.isOpen);
    } catch (err) {
      this.close(err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.turnBytes === 0) setImmediate(this.endTurn);
    this.turnBytes += bytes.length;
    if (this.turnBytes >= TURN_BYTES && !this.yielded && !this.closed) {
      // stops libuv's read loop on this socket for the rest of the turn (see TURN_BYTES)
      this.yielded = true;
      this.socket.pause();
    }
  }

  private readonly endTurn = (): void => {
    this.turnBytes = 0;
    if (!this.yielded) return;
    this.yielded = false;
    if (!this.paused && !this.closed) this.socket.resume();
  };

  private readonly onFrame = (frame: Buffer, transient: boolean): void => this.dispatch(frame, transient);
  private readonly isOpen = (): boolean => !this.closed;

  /** `transient`: the frame's memory is reused once this returns (see FrameReader). */
  private dispatch(frame: Buffer, transient: boolean): void {
    if (this.rawSaslPending) {
      // kafka-python waits for each raw token's answer; anything sent before it is a protocol violation
      throw new ProtocolError('frame sent before the previous SASL token was answered');
    }
    if (this.info.sasl?.expectsRawToken) return this.dispatchRawSaslToken(Buffer.from(frame));
    if (frame.length < 8) throw new ProtocolError('request shorter than its header');
    const apiKey = frame.readInt16BE(0);
    // Decoded requests keep views of the frame (bytes fields, record batches), and most handlers let them outlive
    // this call (the group coordinator stores member metadata and assignments, for one), so a transient frame is
    // copied. Produce is the exception, and the request that matters: everything it does with the request bytes
    // happens before its handler first yields. The handler reads the batches only inside its synchronous part
    // (see 00-produce.ts), and PartitionLog.append() writes them to the segment with a synchronous write and
    // copies them into the tail cache before it returns (storage/types.ts: the log does not keep `records`). The
    // response is built from offsets and error codes, never from request bytes.
    if (transient && apiKey !== PRODUCE_KEY) frame = Buffer.from(frame);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const handler = this.opts.registry.get(apiKey);
    if (!handler) throw new ProtocolError(`unsupported api key ${apiKey}`);

    if (apiKey === API_VERSIONS_KEY && (apiVersion < handler.minVersion || apiVersion > handler.maxVersion)) {
      // KIP-511: never close for an unknown ApiVersions version; answer in v0 format with our range for key 18.
      this.enqueueApiVersionsFallback(correlationId, handler);
      return;
    }
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      throw new ProtocolError(`unsupported version ${apiVersion} of ${handler.name} (${handler.minVersion}-${handler.maxVersion})`);
    }
    if (!this.info.authenticated && !handler.beforeAuth) {
      throw new ProtocolError(`${handler.name} before authentication`);
    }
    if (this.info.authenticated && this.frames.maxFrameBytes !== this.opts.maxRequestBytes) {
      this.frames.maxFrameBytes = this.opts.maxRequestBytes;
    }

    const codec = API_CODECS.get(apiKey)!;
    const flexible = codec.firstFlexibleVersion >= 0 && apiVersion >= codec.firstFlexibleVersion;
    const r = new Reader(frame);
    const header = readRequestHeader(r, flexible ? 2 : 1);
    if (this.info.clientId === null) this.info.clientId = header.clientId;
    const req = handler.readRequest(r, apiVersion);
    if (r.remaining !== 0 && !flexible) {
      // Kafka tolerates trailing bytes from newer clients only via tagged fields; extra bytes mean we misparsed.
      throw new ProtocolError(`${r.remaining} unread bytes after ${handler.name} v${apiVersion}`);
    }

    const slot: Slot = { correlationId, frame: undefined, done: null };
    this.slots.push(slot);
    if (this.slots.length >= MAX_IN_FLIGHT && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    const started = process.hrtime.bigint();
    const ctx: RequestContext = {
      services: this.opts.services,
      connection: this.info,
      apiKey,
      apiVersion,
      correlationId,
      clientId: header.clientId,
      closeConnection: (why: string) => this.close(why),
      onResponseDone: (cb: () => void) => {
        if (this.closed) return cb();
        (slot.done ??= []).push(cb);
      },
      deferPart: (part: Buffer, filled: Promise<void>) => {
        const gate: Gate = { state: 'pending' };
        (slot.gates ??= new Map()).set(part, gate);
        // a flush with nothing to write (the response not encoded yet, or waiting at an earlier part) is cheap
        filled.then(
          () => {
            gate.state = 'ready';
            this.flush();
          },
          () => {
            gate.state = 'failed';
            this.flush();
          },
        );
      },
    };
    let result: ReturnType<ApiHandler['handle']>;
    try {
      result = handler.handle(ctx, req, apiVersion);
    } catch (err) {
      this.failRequest(handler, err);
      return;
    }
    const finish = (res: unknown): void => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.opts.services.metrics.observeRequest(handler.name, seconds);
      try {
        slot.frame = res === null ? null : this.encodeResponse(handler, apiVersion, correlationId, flexible, res);
      } catch (err) {
        // A response this version cannot carry is a handler bug; it costs this connection, never the process
        // (finish also runs from a promise callback, where a throw would be an unhandled rejection).
        this.failRequest(handler, err);
        return;
      }
      this.flush();
    };
    if (result instanceof Promise) {
      result.then(finish, (err: unknown) => this.failRequest(handler, err));
    } else {
      finish(result);
    }
  }

  /**
   * After SaslHandshake v0 (kafka-python 2.0), tokens travel as bare `int32 length + bytes` frames both ways, with
   * no Kafka header. The answer takes a response slot, so it leaves in order with anything still pending. A failed
   * exchange closes the connection, as Kafka does for the raw protocol.
   */
  private dispatchRawSaslToken(token: Buffer): void {
    const slot: Slot = { correlationId: -1, frame: undefined, done: null };
    this.slots.push(slot);
    this.rawSaslPending = true;
    this.info.sasl!.handleRawToken(token).then(
      (res) => {
        this.rawSaslPending = false;
        if (!res.ok) return this.close(`SASL authentication failed (error ${res.errorCode})`);
        const size = Buffer.allocUnsafe(4);
        size.writeInt32BE(res.token.length, 0);
        slot.frame = [size, res.token];
        if (this.info.authenticated) this.frames.maxFrameBytes = this.opts.maxRequestBytes;
        this.flush();
      },
      (err: unknown) => {
        this.opts.services.logger.error({ err, conn: this.info.id }, 'raw SASL token failed; closing connection');
        this.close('raw SASL token failed');
      },
    );
  }

  /** A handler threw instead of answering with an error code: a bug or an invariant break, so close loudly. */
  private failRequest(handler: ApiHandler, err: unknown): void {
    this.opts.services.logger.error({ err, api: handler.name, conn: this.info.id }, 'request handler failed; closing connection');
    this.close(`${handler.name} handler failed`);
  }

  private encodeResponse(handler: ApiHandler, version: number, correlationId: number, flexible: boolean, res: unknown): Buffer[] {
    const w = new Writer(1024);
    const size = w.reserveInt32();
    w.int32(correlationId);
    // Response header v1 carries tagged fields, except ApiVersions, which always uses v0 (KIP-511).
    if (flexible && handler.apiKey !== API_VERSIONS_KEY) w.uvarint(0);
    handler.writeResponse(w, version, res as never);
    Writer.patchInt32(size, w.length - 4);
    return w.finish();
  }

  private enqueueApiVersionsFallback(correlationId: number, handler: ApiHandler): void {
    const w = new Writer(64);
    const size = w.reserveInt32();
    w.int32(correlationId);
    handler.writeResponse(w, 0, {
      errorCode: 35, // UNSUPPORTED_VERSION
      apiKeys: [{ apiKey: API_VERSIONS_KEY, minVersion: handler.minVersion, maxVersion: handler.maxVersion }],
    } as never);
    Writer.patchInt32(size, w.length - 4);
    this.slots.push({ correlationId, frame: w.finish(), done: null });
    this.flush();
  }

  /**
   * Writes every leading completed response, in request order, in one corked burst. A response with a part still
   * being filled (deferPart) is written up to that part; the rest, and everything behind it, follows once it is.
   */
  private flush(): void {
    if (this.closed) return;
    let corked = false;
    while (this.slots.length > 0 && this.slots[0]!.frame !== undefined) {
      const slot = this.slots[0]!;
      const frame = slot.frame;
      if (!frame) {
        this.slots.shift();
        runAll(slot.done);
        continue;
      }
      const last = frame.length - 1;
      let i = slot.next ?? 0;
      for (; i <= last; i++) {
        const part = frame[i]!;
        const gate = slot.gates?.get(part);
        if (gate !== undefined && gate.state !== 'ready') {
          if (gate.state === 'failed') {
            this.close('a fetch read failed after its response had started');
            return;
          }
          break; // its fill flushes again
        }
        if (!corked) {
          this.socket.cork();
          corked = true;
        }
        this.opts.services.metrics.bytesOut(part.length);
        // The write callback fires once the kernel has the bytes (or the socket failed): only then may buffers
        // the response points into be reused.
        if (i === last && slot.done) {
          const done = slot.done;
          this.socket.write(part, () => runAll(done));
        } else {
          this.socket.write(part);
        }
      }
      if (i <= last) {
        slot.next = i;
        break;
      }
      this.slots.shift();
    }
    if (corked) this.socket.uncork();
    if (this.paused && this.slots.length < MAX_IN_FLIGHT / 2) {
      this.paused = false;
      if (!this.yielded) this.socket.resume();
    }
  }
}

function runAll(cbs: (() => void)[] | null): void {
  if (!cbs) return;
  for (const cb of cbs) cb();
}
