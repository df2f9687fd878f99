// The processes the orchestrator forks (the load generator, the baseline servers), tracked with the brokers and the
// temporary directories so that an interrupted run stops and removes exactly what it started.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fork, type ChildProcess } from 'node:child_process';
import type { BrokerUnderTest } from './brokers.js';
import type { Job, JobReply, JobResult } from './jobs.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/bench/lib

const children = new Set<ChildProcess>();
/** brokers running now, for an interrupted run */
export const brokers = new Set<BrokerUnderTest>();
/** temporary directories to remove at exit (unless kept) */
export const tempDirs = new Set<string>();
export const cleanup = { keepTemp: false };

/** Stops (SIGKILL, by pid) every process this run started that still runs, and removes its temporary directories. */
export function cleanupSync(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const b of brokers) {
    try {
      if (!b.exited()) process.kill(b.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (!cleanup.keepTemp) for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
}

/** The load generator process: jobs go over IPC, one at a time. */
export class LoadGenerator {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void }>();

  constructor() {
    this.child = fork(path.join(here, 'loadgen.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(this.child);
    this.child.on('message', (reply: JobReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.ok) w.resolve(reply.result);
      else w.reject(new Error(`load generator: ${reply.error}`));
    });
    this.child.on('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load generator exited (${signal ?? code})`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  run<T extends JobResult>(job: Job): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: JobResult) => void, reject });
      this.child.send({ id, job });
    });
  }

  stop(): void {
    this.child.disconnect();
  }
}

/** A baseline server process (bench/lib/baseline-server.ts) in the given mode, once it listens. */
export async function startBaselineServer(mode: string, extra: string[] = []): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const child = fork(path.join(here, 'baseline-server.js'), [mode, ...extra], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`baseline server ${mode} exited (${code})`)));
  });
  return {
    port,
    pid: child.pid!,
    stop: async () => {
      const gone = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await gone;
      children.delete(child);
    },
  };
}
