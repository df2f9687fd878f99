// The baseline clients. `runBlast`: raw bytes to a bare Node server (discarding, or appending to a file) in
// `chunkSize` writes, honouring backpressure, measured after an optional warmup; the run ends when the server has
// read everything and closed, so the time includes the drain. `runDrain`: the other direction, the way the fetch
// loop reads (into one reused buffer).

import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { CpuMeter } from './stats.js';
import type { BlastJob, BlastResult, DrainJob, DrainResult } from './jobs.js';

export function runBlast(job: BlastJob): Promise<BlastResult> {
  const chunk = randomBytes(job.chunkSize);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: job.host, port: job.port, noDelay: true });
    let bytes = 0;
    let start = 0;
    let cpu: CpuMeter | null = null;
    let warm = false;
    let measureAt = 0;
    let stopAt = 0;
    const write = () => {
      let now = performance.now();
      while (now < stopAt) {
        if (!warm && now >= measureAt) {
          // the measured window starts again here: what was written so far is warmup (the socket buffers hold a
          // few MB of it at most, against seconds of data)
          warm = true;
          start = now;
          bytes = 0;
          cpu = new CpuMeter();
        }
        bytes += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', write);
          return;
        }
        now = performance.now();
      }
      socket.end();
    };
    socket.once('connect', () => {
      start = performance.now();
      cpu = new CpuMeter();
      measureAt = start + (job.warmupSeconds ?? 0) * 1000;
      stopAt = measureAt + job.seconds * 1000;
      write();
    });
    socket.on('error', reject);
    // The server closes its side after it has consumed our end of stream.
    socket.on('end', () => {
      const seconds = (performance.now() - start) / 1000;
      const share = cpu!.read();
      socket.destroy();
      resolve({ kind: 'blast', seconds, bytes, cpu: share });
    });
  });
}

export function runDrain(job: DrainJob): Promise<DrainResult> {
  const buffer = Buffer.alloc(8 << 20);
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let start = 0;
    let cpu: CpuMeter | null = null;
    const socket = net.connect({
      host: job.host,
      port: job.port,
      onread: {
        buffer,
        callback: (n: number) => {
          bytes += n;
          return true;
        },
      },
    });
    socket.once('connect', () => {
      start = performance.now();
      cpu = new CpuMeter();
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const seconds = (performance.now() - start) / 1000;
      const share = cpu!.read();
      socket.destroy();
      resolve({ kind: 'drain', seconds, bytes, cpu: share });
    });
  });
}
