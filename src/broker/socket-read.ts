// Reading an accepted socket into a buffer we own, instead of into a fresh buffer per read.
//
// By default Node allocates a new ArrayBuffer of up to 64 KiB for every read of every socket: a produce request of
// a few hundred KiB costs several of them, and at a steady request rate that external memory churn is what makes
// V8 run Mark-Compact GCs with a heap of only ~20 MB (PERF-NOTES: freshly allocated memory is expensive here). Node
// can instead let libuv read straight into one caller-supplied buffer (net.Socket's `onread` option), but offers
// that only for sockets the application constructs, not for the ones a net.Server accepts. So it is installed on
// an accepted socket the way the Socket constructor installs it (lib/net.js: `this[kBuffer]`, `this[kBufferCb]`,
// `this._handle.useUserBuffer(buffer)`), which depends on those Node internals. They are looked up, not assumed:
// when anything is missing, nothing is changed and the caller reads 'data' events as before.
//
// With the user buffer, socket.pause()/resume() keep working (lib/net.js stops and restarts the handle's reads
// when kBuffer is set), and 'end', 'error' and 'close' are emitted as usual.
import type { Socket } from 'node:net';

/** One read: a view of the shared buffer, valid only until the callback returns. */
export type ReadCallback = (bytes: Buffer) => void;

interface HandleWithUserBuffer {
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * Makes every later read of `socket` land in `buffer` and be passed to `onRead` as a view of it. The buffer may be
 * shared by many sockets: each read is handed over synchronously, so `onRead` must copy whatever it keeps. Returns
 * false (and changes nothing) when this Node does not have what that needs, or when the socket has no handle.
 */
export function readIntoBuffer(socket: Socket, buffer: Buffer, onRead: ReadCallback): boolean {
  const symbols = Object.getOwnPropertySymbols(socket);
  const kBuffer = symbols.find((s) => s.description === 'kBuffer');
  const kBufferCb = symbols.find((s) => s.description === 'kBufferCb');
  const kBufferGen = symbols.find((s) => s.description === 'kBufferGen');
  const handle = (socket as unknown as { _handle?: Partial<HandleWithUserBuffer> | null })._handle;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (!kBuffer || !kBufferCb || !kBufferGen || !handle || typeof handle.useUserBuffer !== 'function') return false;
  // Already reading into a user buffer, or a buffer generator: not a socket we know how to take over.
  if (fields[kBuffer] || fields[kBufferGen]) return false;
  fields[kBuffer] = buffer;
  fields[kBufferCb] = (nread: number, buf: Buffer): void => {
    onRead(buf.subarray(0, nread));
  };
  handle.useUserBuffer(buffer);
  return true;
}
