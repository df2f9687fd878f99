// How long a plain buffered append can block on this machine's filesystem, without any broker: appends to many files
// round robin at a fixed rate with fs.writeSync (as a segment append does), printing the write latency distribution,
// the writes slower than 5 ms (when, how long) and the kernel's dirty memory every second. bench/RESULTS.md
// ("Why a segment write can stall") has what it found and why.
//
//   node dist/bench/write-stalls.js [--files 256] [--mb-per-s 280] [--seconds 40] [--write-kib 16] [--dir DIR]
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '256' },
    'mb-per-s': { type: 'string', default: '280' },
    seconds: { type: 'string', default: '40' },
    'write-kib': { type: 'string', default: '16' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const files = Number(values.files);
const mbPerS = Number(values['mb-per-s']);
const seconds = Number(values.seconds);
const writeBytes = Number(values['write-kib']) * 1024;
for (const [name, v] of [['files', files], ['mb-per-s', mbPerS], ['seconds', seconds], ['write-kib', writeBytes]] as const) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
}

const dir = mkdtempSync(join(values.dir, 'umbra-write-stalls-'));
const fds = Array.from({ length: files }, (_, i) => openSync(join(dir, `f${i}`), 'w'));
const positions = new Array<number>(files).fill(0);
const buf = Buffer.alloc(writeBytes, 7);
const writesPerMs = (mbPerS * 1e6) / 1000 / writeBytes;
const dirtyMB = (): number => Number(/Dirty:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024;

const latenciesUs: number[] = [];
const slow: [number, number][] = [];
const dirty: [number, number][] = [];
const t0 = Date.now();
let done = 0;
let next = 0;
const sampler = setInterval(() => dirty.push([Math.round((Date.now() - t0) / 1000), Math.round(dirtyMB())]), 1000);

function tick(): void {
  const now = Date.now();
  if (now - t0 > seconds * 1000) return finish();
  const due = Math.floor((now - t0) * writesPerMs);
  while (done < due) {
    const start = process.hrtime.bigint();
    writeSync(fds[next]!, buf, 0, buf.length, positions[next]!);
    positions[next]! += buf.length;
    next = (next + 1) % files;
    done++;
    const us = Number(process.hrtime.bigint() - start) / 1000;
    latenciesUs.push(us);
    if (us > 5000) slow.push([Date.now() - t0, Math.round(us / 1000)]);
  }
  setImmediate(tick);
}

function finish(): void {
  clearInterval(sampler);
  for (const fd of fds) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  latenciesUs.sort((a, b) => a - b);
  const q = (p: number): string => latenciesUs[Math.floor(p * (latenciesUs.length - 1))]!.toFixed(0);
  console.log(`${files} files, ${mbPerS} MB/s in ${writeBytes / 1024} KiB writeSync calls for ${seconds} s`);
  console.log(`writes ${latenciesUs.length}: p50 ${q(0.5)} µs, p99 ${q(0.99)} µs, p99.9 ${q(0.999)} µs, max ${q(1)} µs; ${slow.length} over 5 ms`);
  console.log(`over 5 ms (ms since start, ms): ${JSON.stringify(slow.slice(0, 60))}`);
  console.log(`dirty MB (s since start, MB): ${JSON.stringify(dirty)}`);
  console.log(`command: node dist/bench/write-stalls.js --files ${files} --mb-per-s ${mbPerS} --seconds ${seconds} --write-kib ${writeBytes / 1024}`);
}

tick();
