// What a Node server can stream from a file to a loopback socket on this machine: the ceiling for Umbra's fetch
// path, which copies page cache → pooled buffer (threadpool pread) → socket, one event loop writing. A server
// process streams a page-cached file (or memory) to a reader process for a few seconds; the reader either reuses
// one buffer (as the bare loopback baselines of bench:broker do) or assembles large frames the way a consumer
// reads a 40 MiB fetch response. bench/RESULTS.md compares these with the fetch phase of `npm run bench:broker`.
//
//   node dist/bench/fetch-ceiling.js [--seconds N] [--dir DIR]

import { fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

type Source = 'hot' | 'cold' | 'file';

interface Case {
  source: Source;
  chunkMiB: number;
  assemble: boolean;
}

const FILE_MIB = 1024;
const FRAME_BYTES = 54 << 20; // the bench's fetch reader: maxBytes 50 MiB + 4 MiB

/** Server side: writes chunks for `seconds`, keeping two reads ahead when the chunks come from the file. */
function serve(c: Case, seconds: number, file: string): Promise<number> {
  const chunk = c.chunkMiB << 20;
  const buffers: Buffer[] = [];
  let fd = -1;
  if (c.source === 'file') {
    fd = fs.openSync(file, 'r');
    for (let i = 0; i < 8; i++) buffers.push(Buffer.alloc(chunk, 1));
  } else {
    const n = c.source === 'hot' ? 1 : Math.max(1, Math.floor(256 / c.chunkMiB));
    for (let i = 0; i < n; i++) buffers.push(Buffer.alloc(chunk, i));
  }
  let next = 0;
  let position = 0;
  const nextChunk = (): Promise<Buffer> => {
    const b = buffers[next++ % buffers.length]!;
    if (c.source !== 'file') return Promise.resolve(b);
    const at = position;
    position = (position + chunk) % (FILE_MIB << 20);
    return new Promise((resolve, reject) => fs.read(fd, b, 0, chunk, at, (err) => (err ? reject(err) : resolve(b))));
  };
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      const stopAt = performance.now() + seconds * 1000;
      const ahead = [nextChunk(), nextChunk()];
      const pump = async (): Promise<void> => {
        while (performance.now() < stopAt) {
          const b = await ahead.shift()!;
          ahead.push(nextChunk());
          if (!socket.write(b)) {
            socket.once('drain', () => void pump().catch(reject));
            return;
          }
        }
        socket.end();
        server.close();
      };
      void pump().catch(reject);
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      const reader = fork(process.argv[1]!, ['--reader', String(port), ...(c.assemble ? ['--assemble'] : [])], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
      let out = '';
      reader.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      reader.on('exit', (code) => {
        if (fd >= 0) fs.closeSync(fd);
        if (code !== 0) reject(new Error(`reader exited with ${code}`));
        else resolve(Number(out.trim()));
      });
    });
  });
}

/** Reader side: counts bytes until the server ends; prints MiB/s. */
function read(port: number, assemble: boolean): void {
  const buffer = Buffer.alloc(FRAME_BYTES);
  let bytes = 0;
  let offset = 0;
  const start = performance.now();
  const onread = assemble
    ? {
        // successive pieces of one large buffer, as a reader collecting a whole response frame
        buffer: (): Uint8Array => {
          if (offset > buffer.length - (1 << 20)) offset = 0;
          return buffer.subarray(offset, offset + (4 << 20));
        },
        callback: (n: number): boolean => {
          bytes += n;
          offset += n;
          return true;
        },
      }
    : {
        buffer,
        callback: (n: number): boolean => {
          bytes += n;
          return true;
        },
      };
  const socket = net.connect({ host: '127.0.0.1', port, onread });
  socket.on('end', () => {
    process.stdout.write(`${bytes / ((performance.now() - start) / 1000) / (1 << 20)}\n`);
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '4' },
      dir: { type: 'string', default: os.tmpdir() },
      reader: { type: 'string' },
      assemble: { type: 'boolean', default: false },
    },
  });
  if (values.reader !== undefined) return read(Number(values.reader), values.assemble!);
  const seconds = Number(values.seconds);
  const dir = fs.mkdtempSync(path.join(values.dir!, 'umbra-fetch-ceiling-'));
  const file = path.join(dir, 'data');
  try {
    const mib = Buffer.alloc(1 << 20);
    for (let i = 0; i < mib.length; i++) mib[i] = (i * 7) & 0xff;
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < FILE_MIB; i++) fs.writeSync(fd, mib);
    fs.closeSync(fd);
    const cases: Array<Case & { what: string }> = [
      { source: 'hot', chunkMiB: 1, assemble: false, what: 'one 1 MiB buffer written again and again (bench:broker "loopback out")' },
      { source: 'cold', chunkMiB: 4, assemble: false, what: '256 MiB of buffers in turn, 4 MiB writes' },
      { source: 'file', chunkMiB: 4, assemble: false, what: 'a page-cached file, 4 MiB threadpool reads two ahead' },
      { source: 'file', chunkMiB: 4, assemble: true, what: 'the same, read into a 54 MiB frame buffer (a fetch reader)' },
      { source: 'file', chunkMiB: 1, assemble: true, what: 'the same with 1 MiB reads' },
    ];
    console.log(`fetch ceiling: ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}, ${seconds} s per case`);
    for (const c of cases) {
      const rate = await serve(c, seconds, file);
      console.log(`${rate.toFixed(0).padStart(6)} MiB/s  ${c.what}`);
    }
    console.log('command: node dist/bench/fetch-ceiling.js');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
