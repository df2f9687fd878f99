// What an acks=all produce has to wait for on this machine, without a broker: the latency of appending one batch to
// each of a few files and fdatasync-ing them, the way Umbra answers an acks=all request (one write per partition,
// then one fsync round per partition file on the threadpool, answered when the last returns). `npm run
// bench:broker` compares Umbra's acks=all p99 at a fixed rate with Apache Kafka's, which acknowledges from the page
// cache; this shows how much of Umbra's is the disk's own flush.
//
//   node dist/bench/fsync-floor.js [--files N] [--batch-kib K] [--rate R] [--count C] [--dir DIR]
//
// Cases, each printed with p50 / p90 / p99 / max in ms:
//   - back to back: one file, write + fdatasync in a loop on the main thread (the device's best case);
//   - paced: the same at --rate requests a second (the device and the CPUs idle in between, as at 100 req/s);
//   - paced, --files files: one write per file, then an fdatasync per file in parallel on the threadpool (Umbra's
//     acks=all request);
//   - paced, --files files, overwriting blocks written and synced before (no metadata to update: the floor that
//     preallocated segment files would have).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface Options {
  files: number;
  batchBytes: number;
  rate: number;
  count: number;
  dir: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '4' },
      'batch-kib': { type: 'string', default: '64' },
      rate: { type: 'string', default: '100' },
      count: { type: 'string', default: '500' },
      dir: { type: 'string', default: os.tmpdir() },
    },
  });
  const num = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${v}`);
    return n;
  };
  return {
    files: Math.floor(num('files', values.files)),
    batchBytes: Math.floor(num('batch-kib', values['batch-kib']) * 1024),
    rate: num('rate', values.rate),
    count: Math.floor(num('count', values.count)),
    dir: values.dir!,
  };
}

function summary(label: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): string => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(2);
  return `${label.padEnd(58)} p50 ${at(0.5).padStart(6)}  p90 ${at(0.9).padStart(6)}  p99 ${at(0.99).padStart(6)}  max ${s[s.length - 1]!.toFixed(2).padStart(7)}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** `count` rounds of: one write per file at its end (or at `overwrite` positions), then fdatasync of every file. */
async function paced(o: Options, dir: string, files: number, overwrite: boolean): Promise<number[]> {
  const batch = Buffer.alloc(o.batchBytes, 0x5a);
  const fds: number[] = [];
  for (let i = 0; i < files; i++) {
    const fd = fs.openSync(path.join(dir, `f${files}-${overwrite ? 'o' : 'a'}-${i}`), 'w+');
    if (overwrite) {
      const fill = Buffer.alloc(1 << 20);
      for (let at = 0; at < o.batchBytes * o.count; at += fill.length) fs.writeSync(fd, fill, 0, fill.length, at);
      fs.fsyncSync(fd);
    }
    fds.push(fd);
  }
  const lat: number[] = [];
  const interval = 1000 / o.rate;
  try {
    for (let k = 0; k < o.count; k++) {
      const started = performance.now();
      for (const fd of fds) fs.writeSync(fd, batch, 0, batch.length, k * batch.length);
      await Promise.all(fds.map(fdatasyncAsync));
      const took = performance.now() - started;
      lat.push(took);
      if (took < interval) await sleep(interval - took);
    }
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  return lat;
}

async function main(): Promise<void> {
  const o = options();
  const dir = fs.mkdtempSync(path.join(o.dir, 'umbra-fsync-floor-'));
  try {
    console.log(`fsync floor: ${o.batchBytes / 1024} KiB per write, ${o.count} rounds, data in ${dir}`);
    // back to back on the main thread
    const fd = fs.openSync(path.join(dir, 'loop'), 'w+');
    const batch = Buffer.alloc(o.batchBytes, 0x5a);
    const loop: number[] = [];
    for (let k = 0; k < o.count; k++) {
      const started = performance.now();
      fs.writeSync(fd, batch, 0, batch.length, k * batch.length);
      fs.fdatasyncSync(fd);
      loop.push(performance.now() - started);
    }
    fs.closeSync(fd);
    console.log(summary('1 file, back to back, write + fdatasync', loop));
    console.log(summary(`1 file at ${o.rate}/s, write + fdatasync (threadpool)`, await paced(o, dir, 1, false)));
    console.log(summary(`${o.files} files at ${o.rate}/s, append + fdatasync each`, await paced(o, dir, o.files, false)));
    console.log(summary(`${o.files} files at ${o.rate}/s, overwrite + fdatasync each`, await paced(o, dir, o.files, true)));
    console.log(`command: node dist/bench/fsync-floor.js --files ${o.files} --batch-kib ${o.batchBytes / 1024} --rate ${o.rate} --count ${o.count}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
