// Processes the benchmark starts: spawning with output to a log file, stopping by pid
// (only the processes we started), and /proc readings of resident memory and CPU time.

import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';

export interface Spawned {
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** null while running; otherwise how it ended */
  exited(): string | null;
  tail(lines?: number): string;
}

export function spawnLogged(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): Spawned {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd], env, cwd });
  fs.closeSync(fd);
  let exit: string | null = null;
  child.on('exit', (code, signal) => {
    exit = `exited with ${signal ?? `code ${code}`}`;
  });
  child.on('error', (err) => {
    exit = `failed to start: ${err.message}`;
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return {
    child,
    pid: child.pid,
    logFile,
    exited: () => exit,
    tail: (lines = 30) => {
      try {
        return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
}

/** SIGTERM, then SIGKILL after `graceMs`. Only ever signals the given child's own pid. */
export async function stopProcess(p: Spawned, graceMs = 30_000): Promise<void> {
  if (p.exited()) return;
  const gone = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!p.exited()) p.child.kill('SIGKILL');
  }, graceMs);
  await gone;
  clearTimeout(timer);
}

/** The process and all its descendants (a launcher may re-exec the real server as a child). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let children = '';
      try {
        children = fs.readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.trim().split(/\s+/)) if (c) visit(Number(c));
    }
  };
  visit(pid);
  return out;
}

/** VmRSS and VmHWM of a process, in bytes; null once it is gone. */
export function readMemory(pid: number): { rss: number; hwm: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** RSS summed over a process tree; `hwm` is the largest single-process high-water mark in it. */
export function readTreeMemory(pid: number): { rss: number; hwm: number } | null {
  let rss = 0;
  let hwm = 0;
  let found = false;
  for (const p of processTree(pid)) {
    const m = readMemory(p);
    if (!m) continue;
    found = true;
    rss += m.rss;
    hwm = Math.max(hwm, m.hwm);
  }
  return found ? { rss, hwm } : null;
}

/** user + system CPU seconds in a /proc …/stat line (of a process or of one of its threads). */
function statCpuSeconds(stat: string): number {
  // fields after the parenthesised command name; utime and stime are fields 14 and 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** user + system CPU seconds of one process (all its threads) so far. */
export function ownCpuSeconds(pid: number): number {
  try {
    return statCpuSeconds(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return 0;
  }
}

/** user + system CPU seconds of a process tree (all threads) so far. Children that already exited are not counted. */
export function readCpuSeconds(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) sum += ownCpuSeconds(p);
  return sum;
}

/**
 * user + system CPU seconds of a JVM's JIT compiler threads so far (HotSpot names them "C1 CompilerThreadN" and
 * "C2 CompilerThreadN"; the kernel keeps the first 15 characters). 0 for a process without them.
 */
export function jitCompilerCpuSeconds(pid: number): number {
  let sum = 0;
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (/^C[12] CompilerThre/.test(comm)) sum += statCpuSeconds(stat);
    } catch {
      // the thread ended meanwhile
    }
  }
  return sum;
}

/**
 * Seconds the process's main thread has spent runnable but waiting for a CPU (the second field of
 * /proc/<pid>/task/<pid>/schedstat; NaN where the kernel does not keep it). For a Node process this is the event
 * loop's thread: time it was ready to run and did not.
 */
export function mainThreadRunDelaySeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ');
    return Number(f[1]) / 1e9;
  } catch {
    return NaN;
  }
}

/**
 * Seconds in which some task waited for I/O and for a CPU, machine-wide (the `some ... total=` line of
 * /proc/pressure/io and /proc/pressure/cpu, in µs; NaN without PSI).
 */
export function readPressureSeconds(): { io: number; cpu: number } {
  const some = (what: string): number => {
    try {
      const m = /^some .*total=(\d+)$/m.exec(fs.readFileSync(`/proc/pressure/${what}`, 'utf8'));
      return m ? Number(m[1]) / 1e6 : NaN;
    } catch {
      return NaN;
    }
  };
  return { io: some('io'), cpu: some('cpu') };
}

/** USER_HZ: 100 on every Linux this runs on */
const CLOCK_TICKS = 100;

/** CPU seconds the whole machine spent busy so far (all cores; steal counts: it is CPU we did not get). */
export function readMachineBusySeconds(): number {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Samples the tree's VmRSS every `intervalMs`, keeping the maximum; VmHWM gives the kernel's own peak. */
export class MemorySampler {
  private timer: NodeJS.Timeout | null = null;
  peakRss = 0;
  lastRss = 0;
  hwm = 0;
  samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 200,
  ) {}

  sample(): void {
    const m = readTreeMemory(this.pid);
    if (!m) return;
    this.samples++;
    this.lastRss = m.rss;
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.hwm = Math.max(this.hwm, m.hwm);
  }

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** the larger of the sampled maximum and the kernel's high-water mark */
  get peak(): number {
    return Math.max(this.peakRss, this.hwm);
  }
}
