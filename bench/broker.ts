// `npm run bench:broker`: produce (acks=1, acks=all) and fetch throughput with 1 KiB records, produce latency and
// resident memory, for Umbra and for Apache Kafka 4.1 on the same workload driven by the same load generator, next
// to bare-Node baselines measured in the same run (loopback in both directions, a TCP-to-file pipe, and a null
// broker that shows what the load generator can drive). Prints a table, the ratios issue 2 sets targets for, and
// (--markdown) the same as a section for bench/RESULTS.md. bench/RESULTS.md explains what each figure means.
//
// Order of a run: baselines; then per broker: start, create topics, produce acks=1 and acks=all at saturation,
// fetch the acks=1 topic back, produce at a fixed rate for latency, stop.
//
// Every party is its own process: this orchestrator, the load generator (bench/lib/loadgen.ts), the baseline
// servers (bench/lib/baseline-server.ts) and the brokers. Everything listens on 127.0.0.1 only; every process and
// temporary directory the run creates is removed at the end, and only those.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { chooseVersions, createTopic, type WireVersions } from './lib/admin.js';
import { javaVersion, startKafka, startUmbra, type BrokerUnderTest } from './lib/brokers.js';
import type { BlastJob, BlastResult, DrainResult, FetchResult, Job, JobResult, ProduceJob, ProduceResult } from './lib/jobs.js';
import { warmUntilCompiled, warmupSummary, type JvmWarmup } from './lib/jvm-warmup.js';
import { parseOptions, type Options } from './lib/options.js';
import { MemorySampler, ownCpuSeconds, readCpuSeconds, readMachineBusySeconds } from './lib/procs.js';
import { renderMarkdown, renderText, type BenchReport, type Phase, type TargetReport } from './lib/report.js';
import { KafkaConnection } from './lib/wire.js';
import { LoadGenerator, brokers, cleanup, cleanupSync, startBaselineServer, tempDirs } from './lib/workers.js';
import { runBench } from './lib/run.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/bench
const repoRoot = path.resolve(here, '../..');

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
  // The pipe runs as long as a produce phase (warmup, then the measured seconds): a few seconds of appends fit in
  // free page cache before the kernel's writeback starts, and a broker's produce phase is measured well past that.
  const pipeJob: BlastJob = { kind: 'blast', host, port: file.port, seconds: opts.seconds, warmupSeconds: opts.warmup, chunkSize: 1 << 20 };
  b.pipe = await measured<BlastResult>(lg, pipeJob, file.pid);
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

/**
 * Warms a broker up before it is measured (bench/lib/jvm-warmup.ts): rounds of the measured workload (produce acks=1,
 * produce acks=all, fetch) on a topic of its own; a Node broker is done after the first, so both get that round.
 */
async function warmUp(lg: LoadGenerator, opts: Options, broker: BrokerUnderTest, partitions: number, versions: WireVersions): Promise<JvmWarmup> {
  const topic = 'bench-warmup';
  const conn = await KafkaConnection.connect({ host: broker.host, port: broker.port });
  try {
    await createTopic(conn, broker.ranges, topic, partitions);
  } finally {
    conn.close();
  }
  const w = await warmUntilCompiled(broker.pid, opts.jvmWarmup, async () => {
    for (const acks of [1, -1]) {
      await lg.run({ ...produceJob(opts, broker.host, broker.port, topic, partitions, acks, versions.produce), warmupSeconds: 0, seconds: 3 });
    }
    await lg.run({
      kind: 'fetch',
      host: broker.host,
      port: broker.port,
      topic,
      partitions,
      seconds: 2,
      version: versions.fetch,
      maxBytes: opts.fetchMaxBytes,
      partitionMaxBytes: opts.fetchPartitionMaxBytes,
      verifyAllCrcs: false,
    });
  });
  progress(`${broker.name}: ${warmupSummary(w)}`);
  return w;
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
    if (opts.jvmWarmup > 0) rep.warmup = await warmUp(lg, opts, broker, partitions, versions);

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
  if (opts.render) {
    const saved = JSON.parse(fs.readFileSync(opts.render, 'utf8')) as BenchReport;
    process.stdout.write(renderText(saved));
    if (opts.markdown) process.stdout.write(`\n${renderMarkdown(saved)}`);
    return;
  }
  cleanup.keepTemp = opts.keep;
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
      pipeWarmup: opts.warmup,
      pipeSeconds: opts.seconds,
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

runBench('bench:broker', main, cleanupSync);
