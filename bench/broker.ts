// `npm run bench:broker`: produce (acks=1, acks=all) and fetch throughput with 1 KiB records, produce latency and
// resident memory, for Umbra and for Apache Kafka 4.1 on the same workload driven by the same load generator, next
// to two bare-Node baselines measured in the same run (loopback transfer; TCP-to-file pipe). Prints a table, the
// ratios issue 2 sets targets for, and (--markdown) the same as a section for bench/RESULTS.md.
//
// Every party is its own process: this orchestrator, the load generator (bench/lib/loadgen.ts), the baseline
// servers (bench/lib/baseline-server.ts) and the brokers. Everything listens on 127.0.0.1 only; every process and
// temporary directory the run creates is removed at the end, and only those.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { chooseVersions, createTopic, type WireVersions } from './lib/admin.js';
import { javaVersion, startKafka, startUmbra, type BrokerUnderTest } from './lib/brokers.js';
import type { BlastResult, DrainResult, FetchResult, Job, JobReply, JobResult, ProduceJob, ProduceResult } from './lib/jobs.js';
import { MemorySampler, ownCpuSeconds, readCpuSeconds, readMachineBusySeconds } from './lib/procs.js';
import { renderMarkdown, renderText, type BenchReport, type Phase, type TargetReport } from './lib/report.js';
import { KafkaConnection } from './lib/wire.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/bench
const repoRoot = path.resolve(here, '../..');

const HELP = `npm run bench:broker -- [options]

  --target kafka|umbra|all     brokers to measure (default all)
  --seconds N                  measured seconds per produce throughput phase (default 10)
  --warmup N                   unmeasured seconds before each produce throughput phase (default 4: the JVM needs it)
  --latency-rate N             produce requests/s of the fixed-rate latency phases (default 100; 0 skips them)
  --latency-seconds N          measured seconds per latency phase (default 8)
  --fetch-seconds N            cap on the fetch phase (default 30)
  --partitions N               partitions per topic (default 4)
  --record-size N              record value size in bytes (default 1024)
  --batch-records N            records per batch; a request carries one batch per partition (default 64)
  --window N                   produce requests in flight (default 16)
  --fetch-max-bytes N          Fetch maxBytes (default 52428800)
  --fetch-partition-max-bytes N  Fetch partition maxBytes (default 10485760)
  --baseline-seconds N         seconds per baseline (default 5)
  --skip-baselines             measure only the brokers
  --verify-fetch               check the CRC of every fetched batch (costs load generator CPU)
  --dir DIR                    where the temporary data directories go (default: the OS temp dir)
  --markdown                   also print the results as a markdown section for bench/RESULTS.md
  --json FILE                  also write the raw results as JSON
  --keep                       keep the temporary directories (logs, data) for inspection
`;

interface Options {
  targets: Array<'kafka' | 'umbra'>;
  seconds: number;
  warmup: number;
  latencyRate: number;
  latencySeconds: number;
  fetchSeconds: number;
  partitions: number;
  recordSize: number;
  batchRecords: number;
  window: number;
  fetchMaxBytes: number;
  fetchPartitionMaxBytes: number;
  baselineSeconds: number;
  skipBaselines: boolean;
  verifyFetch: boolean;
  dir: string;
  markdown: boolean;
  json: string | null;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string', default: 'all' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '4' },
      'latency-rate': { type: 'string', default: '100' },
      'latency-seconds': { type: 'string', default: '8' },
      'fetch-seconds': { type: 'string', default: '30' },
      partitions: { type: 'string', default: '4' },
      'record-size': { type: 'string', default: '1024' },
      'batch-records': { type: 'string', default: '64' },
      window: { type: 'string', default: '16' },
      'fetch-max-bytes': { type: 'string', default: String(50 << 20) },
      'fetch-partition-max-bytes': { type: 'string', default: String(10 << 20) },
      'baseline-seconds': { type: 'string', default: '5' },
      'skip-baselines': { type: 'boolean', default: false },
      'verify-fetch': { type: 'boolean', default: false },
      dir: { type: 'string', default: os.tmpdir() },
      markdown: { type: 'boolean', default: false },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const num = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, not ${v}`);
    return n;
  };
  const target = values.target!;
  if (!['kafka', 'umbra', 'all'].includes(target)) throw new Error(`--target must be kafka, umbra or all, not ${target}`);
  const opts: Options = {
    targets: target === 'all' ? ['kafka', 'umbra'] : [target as 'kafka' | 'umbra'],
    seconds: num('seconds', values.seconds!, 1),
    warmup: num('warmup', values.warmup!, 0),
    latencyRate: num('latency-rate', values['latency-rate']!, 0),
    latencySeconds: num('latency-seconds', values['latency-seconds']!, 1),
    fetchSeconds: num('fetch-seconds', values['fetch-seconds']!, 1),
    partitions: Math.floor(num('partitions', values.partitions!, 1)),
    recordSize: Math.floor(num('record-size', values['record-size']!, 1)),
    batchRecords: Math.floor(num('batch-records', values['batch-records']!, 1)),
    window: Math.floor(num('window', values.window!, 1)),
    fetchMaxBytes: Math.floor(num('fetch-max-bytes', values['fetch-max-bytes']!, 1024)),
    fetchPartitionMaxBytes: Math.floor(num('fetch-partition-max-bytes', values['fetch-partition-max-bytes']!, 1024)),
    baselineSeconds: num('baseline-seconds', values['baseline-seconds']!, 1),
    skipBaselines: values['skip-baselines']!,
    verifyFetch: values['verify-fetch']!,
    dir: path.resolve(values.dir!),
    markdown: values.markdown!,
    json: values.json ?? null,
    keep: values.keep!,
  };
  // Kafka's default message.max.bytes (1 MiB) bounds a batch.
  if (opts.batchRecords * (opts.recordSize + 16) + 61 > 1_000_000) throw new Error('a batch would exceed 1 MB, the brokers’ default max.message.bytes');
  return opts;
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes: the load generator and the baseline servers. Tracked so that an interrupted run stops them.

const children = new Set<ChildProcess>();
const brokers = new Set<BrokerUnderTest>();
const tempDirs = new Set<string>();
let keepTemp = false;

function cleanupSync(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const b of brokers) {
    try {
      if (!b.exited()) process.kill(b.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (!keepTemp) for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
}

class LoadGenerator {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void }>();

  constructor() {
    this.child = fork(path.join(here, 'lib/loadgen.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

async function startBaselineServer(mode: string, extra: string[] = []): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const child = fork(path.join(here, 'lib/baseline-server.js'), [mode, ...extra], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

// ---------------------------------------------------------------------------------------------------------------

const t0 = performance.now();
function progress(msg: string): void {
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
}
const mib = (bytes: number, seconds: number) => bytes / seconds / (1 << 20);

/** Flush dirty pages left by the previous phase, so its writeback does not land in the next measurement. */
function syncDisks(): void {
  try {
    execFileSync('sync', { stdio: 'ignore', timeout: 120_000 });
  } catch {
    /* best effort */
  }
}

/**
 * Runs a job while measuring the CPU the given server process used, and what the rest of the machine used
 * meanwhile (other people's work on a shared machine makes the figures noisy; the report says how much there was).
 */
async function measured<T extends JobResult>(lg: LoadGenerator, job: Job, serverPid: number): Promise<Phase<T>> {
  const ours = () => readCpuSeconds(serverPid) + readCpuSeconds(lg.pid) + ownCpuSeconds(process.pid);
  const server0 = readCpuSeconds(serverPid);
  const ours0 = ours();
  const machine0 = readMachineBusySeconds();
  const w0 = performance.now();
  const result = await lg.run<T>(job);
  const wall = (performance.now() - w0) / 1000;
  const serverCores = (readCpuSeconds(serverPid) - server0) / wall;
  const otherCores = Math.max(0, (readMachineBusySeconds() - machine0 - (ours() - ours0)) / wall);
  return { result, serverCores, otherCores };
}

async function runBaselines(lg: LoadGenerator, opts: Options, workDir: string, report: BenchReport): Promise<void> {
  const host = '127.0.0.1';
  const seconds = opts.baselineSeconds;
  const blast = (port: number): Job => ({ kind: 'blast', host, port, seconds, chunkSize: 1 << 20 });
  const b = report.baselines;

  const discard = await startBaselineServer('discard');
  b.loopbackIn = await measured<BlastResult>(lg, blast(discard.port), discard.pid);
  await discard.stop();
  progress(`loopback in (load generator → discarding server): ${mib(b.loopbackIn.result.bytes, b.loopbackIn.result.seconds).toFixed(0)} MiB/s`);

  const source = await startBaselineServer('source', [String(seconds)]);
  b.loopbackOut = await measured<DrainResult>(lg, { kind: 'drain', host, port: source.port }, source.pid);
  await source.stop();
  progress(`loopback out (server → load generator): ${mib(b.loopbackOut.result.bytes, b.loopbackOut.result.seconds).toFixed(0)} MiB/s`);

  syncDisks();
  const pipeDir = fs.mkdtempSync(path.join(workDir, 'pipe-'));
  const file = await startBaselineServer('file', [path.join(pipeDir, 'pipe.bin')]);
  b.pipe = await measured<BlastResult>(lg, blast(file.port), file.pid);
  await file.stop();
  fs.rmSync(pipeDir, { recursive: true, force: true });
  progress(`TCP-to-file pipe: ${mib(b.pipe.result.bytes, b.pipe.result.seconds).toFixed(0)} MiB/s`);
  syncDisks();

  const nullBroker = await startBaselineServer('null-broker');
  const job = { ...produceJob(opts, host, nullBroker.port, 'null', opts.partitions, 1, 12), seconds, warmupSeconds: 1 };
  b.nullBroker = await measured<ProduceResult>(lg, job, nullBroker.pid);
  await nullBroker.stop();
  progress(`null broker (load generator ceiling): ${mib(b.nullBroker.result.bytes, b.nullBroker.result.seconds).toFixed(0)} MiB/s`);
}

function produceJob(opts: Options, host: string, port: number, topic: string, partitions: number, acks: number, version: number): ProduceJob {
  return {
    kind: 'produce',
    host,
    port,
    topic,
    partitions,
    acks,
    recordSize: opts.recordSize,
    batchRecords: opts.batchRecords,
    window: opts.window,
    warmupSeconds: opts.warmup,
    seconds: opts.seconds,
    version,
  };
}

async function runTarget(lg: LoadGenerator, opts: Options, target: 'kafka' | 'umbra', workDir: string): Promise<TargetReport> {
  const dir = fs.mkdtempSync(path.join(workDir, `${target}-`));
  const rep: TargetReport = { target, name: target === 'kafka' ? 'Apache Kafka' : 'Umbra' };
  let broker: BrokerUnderTest | null = null;
  let sampler: MemorySampler | null = null;
  try {
    progress(`${target}: starting`);
    broker = target === 'kafka' ? await startKafka(dir) : await startUmbra(repoRoot, dir);
    brokers.add(broker);
    rep.name = broker.name;
    rep.how = broker.how;
    rep.startupSeconds = broker.startupSeconds;
    sampler = new MemorySampler(broker.pid).start();
    const versions: WireVersions = chooseVersions(broker.ranges);
    rep.versions = versions;

    const conn = await KafkaConnection.connect({ host: broker.host, port: broker.port });
    let partitions = opts.partitions;
    try {
      for (const topic of ['bench-acks1', 'bench-acksall']) {
        const n = await createTopic(conn, broker.ranges, topic, opts.partitions);
        if (n !== opts.partitions) rep.notes = [...(rep.notes ?? []), `${topic} has ${n} partitions, not ${opts.partitions}`];
        partitions = Math.min(partitions, n);
      }
    } finally {
      conn.close();
    }
    sampler.sample();
    rep.idleRss = sampler.lastRss;
    progress(`${target}: ${broker.name} ready in ${broker.startupSeconds.toFixed(1)} s (Produce v${versions.produce}, Fetch v${versions.fetch}), RSS ${(rep.idleRss / (1 << 20)).toFixed(0)} MiB`);

    for (const acks of [1, -1]) {
      syncDisks();
      const topic = acks === 1 ? 'bench-acks1' : 'bench-acksall';
      const phase = await measured<ProduceResult>(lg, produceJob(opts, broker.host, broker.port, topic, partitions, acks, versions.produce), broker.pid);
      if (acks === 1) rep.produceAcks1 = phase;
      else rep.produceAcksAll = phase;
      const r = phase.result;
      progress(
        `${target}: produce acks=${acks === 1 ? '1' : 'all'}: ${mib(r.bytes, r.seconds).toFixed(0)} MiB/s, ` +
          `p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms${Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''}`,
      );
    }

    syncDisks();
    const fetch = await measured<FetchResult>(
      lg,
      {
        kind: 'fetch',
        host: broker.host,
        port: broker.port,
        topic: 'bench-acks1',
        partitions,
        seconds: opts.fetchSeconds,
        version: versions.fetch,
        maxBytes: opts.fetchMaxBytes,
        partitionMaxBytes: opts.fetchPartitionMaxBytes,
        verifyAllCrcs: opts.verifyFetch,
      },
      broker.pid,
    );
    rep.fetch = fetch;
    rep.fetchExpectedRecords = rep.produceAcks1?.result.totalRecordsAcked;
    progress(`${target}: fetch: ${mib(fetch.result.bytes, fetch.result.seconds).toFixed(0)} MiB/s, ${fetch.result.records} records (${fetch.result.note})`);

    // Latency under the same offered load for every broker: at saturation, latency mostly mirrors throughput
    // (Little's law with a full window), so the p99 comparison is made at a fixed request rate.
    if (opts.latencyRate > 0) {
      for (const acks of [1, -1]) {
        syncDisks();
        const topic = acks === 1 ? 'bench-acks1' : 'bench-acksall';
        const job: ProduceJob = {
          ...produceJob(opts, broker.host, broker.port, topic, partitions, acks, versions.produce),
          rate: opts.latencyRate,
          warmupSeconds: 1,
          seconds: opts.latencySeconds,
        };
        const phase = await measured<ProduceResult>(lg, job, broker.pid);
        if (acks === 1) rep.latencyAcks1 = phase;
        else rep.latencyAcksAll = phase;
        const l = phase.result.latencyMs;
        progress(
          `${target}: ${opts.latencyRate} req/s acks=${acks === 1 ? '1' : 'all'}: p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(1)} ms` +
            (phase.result.lateSends ? `, ${phase.result.lateSends} sends late` : ''),
        );
      }
    }
  } catch (err) {
    rep.error = (err as Error).message;
    if (broker?.exited()) rep.error += `\n--- the broker ${broker.exited()}; its log ends with ---\n${broker.tail(5)}`;
    progress(`${target}: FAILED: ${rep.error}`);
  } finally {
    if (sampler) {
      sampler.stop();
      rep.peakRss = sampler.peak;
    }
    if (broker) {
      await broker.stop();
      brokers.delete(broker);
    }
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  return rep;
}

function machine(): BenchReport['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: os.totalmem() / (1 << 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    java: javaVersion(),
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  keepTemp = opts.keep;
  fs.mkdirSync(opts.dir, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(opts.dir, 'umbra-bench-'));
  tempDirs.add(workDir);

  const argv = process.argv.slice(2);
  const report: BenchReport = {
    command: `npm run bench:broker${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    date: new Date().toISOString(),
    machine: machine(),
    workload: {
      partitions: opts.partitions,
      recordSize: opts.recordSize,
      batchRecords: opts.batchRecords,
      window: opts.window,
      seconds: opts.seconds,
      warmup: opts.warmup,
      latencyRate: opts.latencyRate,
      latencySeconds: opts.latencySeconds,
      fetchMaxBytes: opts.fetchMaxBytes,
      fetchPartitionMaxBytes: opts.fetchPartitionMaxBytes,
      baselineSeconds: opts.baselineSeconds,
      dataDir: workDir,
      keptDataDir: opts.keep,
    },
    baselines: {},
    targets: [],
    totalSeconds: 0,
  };
  progress(`${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}; data in ${workDir}`);

  const lg = new LoadGenerator();
  report.loadgenPid = lg.pid;
  try {
    if (!opts.skipBaselines) await runBaselines(lg, opts, workDir, report);
    for (const target of opts.targets) report.targets.push(await runTarget(lg, opts, target, workDir));
  } finally {
    lg.stop();
  }
  report.totalSeconds = (performance.now() - t0) / 1000;

  process.stdout.write(renderText(report));
  if (opts.markdown) process.stdout.write(`\n${renderMarkdown(report)}`);
  if (opts.json) fs.writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: stopping the processes this run started\n`);
    cleanupSync();
    process.exit(130);
  });
}

main()
  .then(() => cleanupSync())
  .catch((err) => {
    process.stderr.write(`bench:broker: ${(err as Error).stack ?? err}\n`);
    cleanupSync();
    process.exit(1);
  });
