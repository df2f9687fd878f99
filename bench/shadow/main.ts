// `npm run bench:shadow`: how fast a shadow link replicates, next to MirrorMaker 2 on the same workload between the
// same clusters, measured in one run on one machine (issue 6). bench/RESULTS.md ("Shadow replication") explains
// every figure; `--help` lists the options.
//
// A scenario is one (source cluster, partitions, record size). In it, with fresh brokers:
//   0. an Apache Kafka source is warmed up (warmUpKafkaSource), as MirrorMaker 2 is before its phases (warmJvm):
//      a fresh JVM compiles for about a minute, which a long-running deployment is past.
//   1. no link: the load generator saturates the source (acks=1) → the source's max ingest; that topic (`bk`) is
//      the backlog for step 4.
//   2. Umbra's shadow link (a fresh shadow broker, the link created over REST, topics `lv_u` + probe `pr_u`):
//      saturated ingest with the link replicating (the reference max ingest), then open-loop ingest at 25/50/100 %
//      of it; lag sampled every 10 ms, latency probes, CPU of every process.
//   3. MirrorMaker 2 (dedicated mode; a fresh target broker; topics `lv_m` + `pr_m`): the same fixed-rate phases at
//      the same offered rates, then saturated (last: it may fall behind for good).
//   4. catch-up: each replicator copies the backlog `bk` (the link on its shadow; MirrorMaker 2 on another fresh
//      target), no ingest meanwhile: replication throughput with nothing else competing.
// Then the idle cost: a link over 1,000 idle partitions, CPU of both brokers over 30 s.
//
// Processes: this orchestrator, the load generator and the monitor (bench/shadow/agent.ts), the source (Umbra or
// Apache Kafka 4.1), the shadow / target Umbra, MirrorMaker 2. Only 127.0.0.1; only what this run started is
// stopped (by pid); temporary directories are removed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { javaVersion } from '../lib/brokers.js';
import type { LatencySummary } from '../lib/jobs.js';
import { percentile, summarizeLatency } from '../lib/stats.js';
import { KafkaConnection, pickVersion } from '../lib/wire.js';
import {
  Agent,
  CpuTimeline,
  adminCall,
  cleanup,
  cleanupSync,
  createTopics,
  deleteTopicsOf,
  eventLoopDelay,
  linkDocument,
  metricSum,
  mm2Properties,
  primeAndWait,
  startKafkaBroker,
  startMm2,
  startUmbraBroker,
  listOffsets,
  sumHighWatermarks,
  tempDirs,
  Trimmer,
  waitForLink,
  type Broker,
  type Mm2Settings,
  type RunningMm2,
} from './cluster.js';
import type { MonitorJob, MonitorResult, ShadowProduceJob, ShadowProduceResult } from './jobs.js';
import { batchRecordsFor, logSettings, trimPlan, mm2HeapMb, parseShadowOptions, type ShadowOptions } from './options.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { renderMarkdown, renderText, waitingText } from './report.js';
import type { CatchUp, IdleLinkCost, IdleReport, LagStats, LivePhase, NoLinkIngest, ReplicatorRun, Scenario, ShadowBenchReport } from './types.js';
import { warmUntilCompiled, warmupSummary, type JvmWarmup } from '../lib/jvm-warmup.js';
import { runBench } from '../lib/run.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/bench/shadow
const ownRoot = path.resolve(here, '../../..');
/** the Umbra every broker of the run is started from: this checkout, or --umbra-root (an A/B against another build) */
let repoRoot = ownRoot;
const GiB = 1 << 30;
const MiB = 1 << 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wallNow = () => performance.timeOrigin + performance.now();

const t0 = performance.now();
function progress(msg: string): void {
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s] ${msg}\n`);
}

/** Flush dirty pages of the previous phase, so its writeback does not land in the next measurement. */
function syncDisks(): void {
  try {
    execFileSync('sync', { stdio: 'ignore', timeout: 120_000 });
  } catch {
    /* best effort */
  }
}

interface Ctx {
  opts: ShadowOptions;
  loadgen: Agent;
  monitor: Agent;
  timeline: CpuTimeline;
  trimmer: Trimmer;
  workDir: string;
  profiles: string[];
}

/** Processes whose CPU a phase reports, by label. */
type Pids = Record<string, number>;

function coresOver(ctx: Ctx, pids: Pids, from: number, to: number): { cores: Record<string, number>; cpuSeconds: Record<string, number>; otherCores: number } {
  const secs = (to - from) / 1000;
  const cores: Record<string, number> = {};
  const cpuSeconds: Record<string, number> = {};
  let ours = 0;
  for (const [label, pid] of Object.entries(pids)) {
    const s = ctx.timeline.between(pid, from, to);
    cpuSeconds[label] = s;
    cores[label] = s / secs;
    ours += s;
  }
  // the orchestrator itself is ours too
  ours += ctx.timeline.between(process.pid, from, to);
  const other = Math.max(0, (ctx.timeline.machineBetween(from, to) - ours) / secs);
  return { cores, cpuSeconds, otherCores: other };
}

/**
 * Shares of the window in which the Node processes' main threads (Umbra brokers, load generator, monitor) were
 * ready to run but had no CPU, and in which some task on the machine waited for I/O or a CPU (PSI).
 */
function waitingOver(ctx: Ctx, s: PhaseSetup, from: number, to: number): NonNullable<LivePhase['waiting']> {
  const secs = (to - from) / 1000;
  const mainThreads: Record<string, number> = {};
  for (const [label, pid] of Object.entries(s.pids)) {
    const node = label === 'loadgen' || label === 'monitor' || (label === 'source' && s.source.kind === 'umbra') || (label === 'shadow' && s.target.kind === 'umbra');
    if (!node) continue;
    const w = ctx.timeline.mainThreadWaitBetween(pid, from, to);
    if (Number.isFinite(w)) mainThreads[label] = w / secs;
  }
  const p = ctx.timeline.pressureBetween(from, to);
  return { mainThreads, ioPressure: p.io / secs, cpuPressure: p.cpu / secs };
}

function perGiB(cpuSeconds: Record<string, number>, bytes: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpuSeconds)) out[k] = bytes > 0 ? v / (bytes / GiB) : NaN;
  return out;
}

function lagStats(m: MonitorResult, from: number, to: number): { lag: LagStats; first: number; last: number } {
  const idx: number[] = [];
  for (let i = 0; i < m.t.length; i++) if (m.t[i]! >= from && m.t[i]! <= to) idx.push(i);
  const lags = idx.map((i) => Math.max(0, m.source[i]! - m.target[i]!));
  const sorted = Float64Array.from(lags).sort();
  let mean = 0;
  for (const l of lags) mean += l;
  mean = lags.length ? mean / lags.length : NaN;
  // least squares slope, messages per second
  let slope = NaN;
  if (idx.length > 2) {
    const xs = idx.map((i) => (m.t[i]! - from) / 1000);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    let num = 0;
    let den = 0;
    for (let k = 0; k < xs.length; k++) {
      num += (xs[k]! - mx) * (lags[k]! - mean);
      den += (xs[k]! - mx) ** 2;
    }
    slope = den > 0 ? num / den : NaN;
  }
  return {
    lag: {
      samples: lags.length,
      max: lags.length ? sorted[sorted.length - 1]! : NaN,
      p99: percentile(sorted, 99),
      mean,
      end: lags.length ? lags[lags.length - 1]! : NaN,
      slopePerSec: slope,
      skippedTicks: m.skippedTicks,
    },
    first: idx[0] ?? -1,
    last: idx[idx.length - 1] ?? -1,
  };
}

interface PhaseSetup {
  source: Broker;
  target: Broker;
  topic: string;
  probeTopic: string;
  partitions: number;
  recordBytes: number;
  batchRecords: number;
  perRequest: number;
  pids: Pids;
  /** gaps so far (link: its gaps counter; MirrorMaker 2: offset resets in its log) */
  gapCount: () => Promise<number>;
}

/** Waits until the target's Σ HWM of the topic reaches the source's; seconds taken, null when the cap passed. */
async function waitDrained(s: PhaseSetup, capSeconds: number): Promise<number | null> {
  const started = performance.now();
  const [sc, tc] = await Promise.all([KafkaConnection.connect(s.source), KafkaConnection.connect(s.target)]);
  try {
    const want = await sumHighWatermarks(sc, s.source.ranges, s.topic, s.partitions);
    for (;;) {
      const got = await sumHighWatermarks(tc, s.target.ranges, s.topic, s.partitions);
      if (got >= want) return (performance.now() - started) / 1000;
      if (performance.now() - started > capSeconds * 1000) return null;
      await sleep(10);
    }
  } finally {
    sc.close();
    tc.close();
  }
}

async function livePhase(
  ctx: Ctx,
  s: PhaseSetup,
  label: string,
  percent: number | null,
  rate: number | null,
  seconds = ctx.opts.seconds,
): Promise<{ phase: LivePhase; produce: ShadowProduceResult }> {
  const o = ctx.opts;
  const monitorJob: MonitorJob = {
    kind: 'monitor',
    source: { host: s.source.host, port: s.source.port },
    target: { host: s.target.host, port: s.target.port },
    topic: s.topic,
    partitions: s.partitions,
    sampleIntervalMs: o.sampleMs,
    probe: { topic: s.probeTopic, intervalMs: o.probeMs },
    versions: {
      sourceListOffsets: pickVersion(s.source.ranges, ApiKey.ListOffsets, 7),
      targetListOffsets: pickVersion(s.target.ranges, ApiKey.ListOffsets, 7),
      produce: pickVersion(s.source.ranges, ApiKey.Produce, 12),
      fetch: pickVersion(s.target.ranges, ApiKey.Fetch, 12),
    },
  };
  const gaps0 = await s.gapCount();
  await Promise.all([eventLoopDelay(s.source), eventLoopDelay(s.target)]); // resets the histograms
  const mon = ctx.monitor.monitor(monitorJob);
  const job: ShadowProduceJob = {
    kind: 'produce',
    broker: { host: s.source.host, port: s.source.port },
    topic: s.topic,
    partitions: s.partitions,
    perRequest: s.perRequest,
    recordSize: s.recordBytes,
    batchRecords: s.batchRecords,
    window: o.window,
    acks: 1,
    warmupSeconds: o.warmup,
    seconds,
    ...(rate !== null ? { rate } : {}),
    version: pickVersion(s.source.ranges, ApiKey.Produce, 12),
  };
  let produce: ShadowProduceResult;
  try {
    produce = await ctx.loadgen.run<ShadowProduceResult>(job);
  } catch (err) {
    await mon.stop().catch(() => undefined);
    throw err;
  }
  const [loopSource, loopTarget] = await Promise.all([eventLoopDelay(s.source), eventLoopDelay(s.target)]);
  const drainSeconds = await waitDrained(s, o.drainSeconds);
  const m = await mon.stop();
  const gaps = (await s.gapCount()) - gaps0;
  const from = produce.windowStartMs;
  const to = produce.windowEndMs;
  const { lag, first, last } = lagStats(m, from, to);
  const span = first >= 0 && last > first ? (m.t[last]! - m.t[first]!) / 1000 : NaN;
  const replRecPerSec = span > 0 ? (m.target[last]! - m.target[first]!) / span : NaN;
  const sampledIngest = span > 0 ? (m.source[last]! - m.source[first]!) / span : NaN;
  const probeIdx: number[] = [];
  for (let i = 0; i < m.probeAckAt.length; i++) if (m.probeAckAt[i]! >= from && m.probeAckAt[i]! <= to) probeIdx.push(i);
  const latency: LatencySummary | null = probeIdx.length ? summarizeLatency(Float64Array.from(probeIdx.map((i) => m.probeMs[i]!))) : null;
  const { cores, cpuSeconds, otherCores } = coresOver(ctx, s.pids, from, to);
  const waiting = waitingOver(ctx, s, from, to);
  const windowSeconds = (to - from) / 1000;
  const replBytes = replRecPerSec * windowSeconds * produce.bytesPerRecord;
  const phase: LivePhase = {
    label,
    percent,
    offeredReqPerSec: rate,
    seconds: windowSeconds,
    ingestRecPerSec: produce.records / windowSeconds,
    ingestMiBps: produce.bytes / windowSeconds / MiB,
    replRecPerSec,
    replMiBps: (replRecPerSec * produce.bytesPerRecord) / MiB,
    sampledIngestRecPerSec: sampledIngest,
    lag,
    latency,
    probes: probeIdx.length,
    probesUnanswered: m.probesUnanswered,
    probeOddities: m.probeOddities,
    cores,
    cpuSecPerGiB: perGiB(cpuSeconds, replBytes),
    otherCores,
    produceLatencyMs: produce.latencyMs,
    lateSends: produce.lateSends,
    produceErrors: produce.errors,
    drainSeconds,
    monitorErrors: m.errors,
    gaps,
    eventLoop: { ...(loopSource ? { source: loopSource } : {}), ...(loopTarget ? { shadow: loopTarget } : {}) },
    waiting,
    ...(process.env.UMBRA_BENCH_TRACE === '1'
      ? {
          trace: {
            startEpochMs: from,
            // the same moment on CLOCK_MONOTONIC, which `perf trace -T` prints
            startMonotonicMs: Number(process.hrtime.bigint()) / 1e6 - (wallNow() - from),
            probeAt: probeIdx.map((i) => m.probeAckAt[i]! - from),
            probeMs: probeIdx.map((i) => m.probeMs[i]!),
            lagAt: m.t.filter((t) => t >= from && t <= to).map((t) => t - from),
            lag: m.t.flatMap((t, i) => (t >= from && t <= to ? [m.source[i]! - m.target[i]!] : [])),
          },
        }
      : {}),
  };
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 1) : '—');
  progress(
    `  ${label}: ingest ${f(phase.ingestMiBps)} MiB/s, replicated ${f(phase.replMiBps)} MiB/s, lag max ${f(lag.max)} p99 ${f(lag.p99)}, ` +
      `latency p50 ${latency ? latency.p50.toFixed(2) : '—'} p99 ${latency ? latency.p99.toFixed(2) : '—'} ms (${probeIdx.length} probes), ` +
      `cores ${Object.entries(cores)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(' ')}, other ${otherCores.toFixed(2)}${drainSeconds === null ? ', NOT drained' : `, drained in ${drainSeconds.toFixed(2)} s`}` +
      (produce.lateSends ? `, ${produce.lateSends} late sends` : '') +
      (Object.keys(produce.errors).length ? `, produce errors ${JSON.stringify(produce.errors)}` : '') +
      (m.errors.length ? `, monitor: ${m.errors[0]}` : '') +
      (gaps ? `, ${gaps} GAPS (retention deleted unreplicated data)` : '') +
      (loopSource || loopTarget
        ? `, event loop p99/max ms: source ${loopSource ? `${loopSource.p99.toFixed(0)}/${loopSource.max.toFixed(0)}` : '—'}, shadow ${loopTarget ? `${loopTarget.p99.toFixed(0)}/${loopTarget.max.toFixed(0)}` : '—'}`
        : '') +
      `, ${waitingText(waiting)}`,
  );
  return { phase, produce };
}

/**
 * Catch-up: `start()` starts the replicator over the backlog topic; the target is polled every 20 ms, and the rate is
 * taken from the first replicated record to the last (or to the cap). With `sameOffsets` (the link) a partition's
 * progress counts from the source's log start, where an empty shadow starts at once; MirrorMaker 2 writes from
 * offset 0 whatever the source offsets are, so there the target's high watermark is the progress.
 */
async function catchUp(
  ctx: Ctx,
  source: Broker,
  target: Broker,
  topic: string,
  partitions: number,
  bytesPerRecord: number,
  sameOffsets: boolean,
  pids: () => Pids,
  start: () => Promise<void>,
): Promise<CatchUp> {
  const { starts, ends } = await (async () => {
    const c = await KafkaConnection.connect(source);
    try {
      const st = await listOffsets(c, source.ranges, topic, partitions, -2);
      const en = await listOffsets(c, source.ranges, topic, partitions, -1);
      if (!st || !en) throw new Error(`cannot read the offsets of ${topic} on the source`);
      return { starts: st, ends: en };
    } finally {
      c.close();
    }
  })();
  const backlog = ends.reduce((a, e, p) => a + (e - starts[p]!), 0);
  const progressOf = (hw: number[] | null): number => (hw === null ? -1 : hw.reduce((a, h, p) => a + Math.max(0, h - (sameOffsets ? starts[p]! : 0)), 0));
  const started = wallNow();
  await start();
  const tc = await KafkaConnection.connect(target);
  let first = NaN;
  let firstCount = 0;
  let last = NaN;
  let lastCount = 0;
  try {
    for (;;) {
      const now = wallNow();
      const got = progressOf(await listOffsets(tc, target.ranges, topic, partitions, -1).catch(() => null));
      if (got > 0 && Number.isNaN(first)) {
        first = now;
        firstCount = got;
      }
      if (!Number.isNaN(first)) {
        last = now;
        lastCount = got;
        if (got >= backlog || now - first > ctx.opts.catchupSeconds * 1000) break;
      } else if (now - started > 300_000) {
        throw new Error('no record replicated within 300 s');
      }
      await sleep(20);
    }
  } finally {
    tc.close();
  }
  const records = lastCount - firstCount;
  const seconds = (last - first) / 1000;
  const { cores, cpuSeconds, otherCores } = coresOver(ctx, pids(), first, last);
  return {
    backlogRecords: backlog,
    records,
    bytes: records * bytesPerRecord,
    seconds,
    complete: lastCount >= backlog,
    recPerSec: records / seconds,
    MiBps: (records * bytesPerRecord) / seconds / MiB,
    firstRecordSeconds: (first - started) / 1000,
    cores,
    cpuSecPerGiB: perGiB(cpuSeconds, records * bytesPerRecord),
    otherCores,
  };
}

function profileArgs(ctx: Ctx, name: string): string[] {
  const extra = (process.env.UMBRA_BENCH_SHADOW_NODE_ARGS ?? '').split(' ').filter(Boolean);
  if (!ctx.opts.profileDir) return extra;
  fs.mkdirSync(ctx.opts.profileDir, { recursive: true });
  const file = `${name}.cpuprofile`;
  ctx.profiles.push(path.join(ctx.opts.profileDir, file));
  return [...extra, '--cpu-prof', `--cpu-prof-dir=${ctx.opts.profileDir}`, `--cpu-prof-name=${file}`];
}

/** The scenario's trimming in records per partition: kept after a cut, and how many more it takes to cut (Trimmer.add). */
function trimRecords(sc: Scenario): { keep: number; step: number } {
  if (sc.trim === undefined) return { keep: Infinity, step: Infinity };
  return { keep: sc.trim.keepBytes / sc.bytesPerRecord, step: sc.trim.stepBytes / sc.bytesPerRecord };
}

function mm2Settings(opts: ShadowOptions, partitions: number): Mm2Settings {
  return { tasksMax: partitions, ...opts.mm2, heapMb: mm2HeapMb(opts, partitions) };
}

type ScenarioSetup = Omit<PhaseSetup, 'target' | 'topic' | 'probeTopic' | 'pids' | 'gapCount'>;

/** A phase in which replication kept up: target growth ≥ 0.98 x source growth, caught up within 1 s after it. */
function keptUp(p: LivePhase, offeredReqPerSec: number | null, recordsPerRequest: number): boolean {
  const offered = offeredReqPerSec === null ? p.ingestRecPerSec : offeredReqPerSec * recordsPerRequest;
  return p.replRecPerSec >= 0.98 * p.sampledIngestRecPerSec && p.drainSeconds !== null && p.drainSeconds <= 1 && p.ingestRecPerSec >= 0.95 * offered && p.gaps === 0;
}

/**
 * The max ingest the link keeps up with. Saturated, the source takes every produce request it can and serves the
 * link's fetches with what is left; when the link fell behind there, short fixed-rate probes (4 s) search between
 * what it replicated and what was produced: up to four, each kept-up rate raising the floor, each failed one
 * lowering the ceiling. The fixed-rate phases are percentages of the result, for the link and MirrorMaker 2 alike.
 */
async function sustainedRate(ctx: Ctx, s: PhaseSetup, sat: LivePhase, saturatedReqPerSec: number, sc: Scenario): Promise<number> {
  const perRequest = s.batchRecords * s.perRequest;
  sc.search = [];
  if (keptUp(sat, null, perRequest)) return saturatedReqPerSec;
  let floor = 0;
  let ceiling = saturatedReqPerSec;
  let rate = Math.max(1, (sat.replRecPerSec / perRequest) * 0.95);
  for (let i = 0; i < 4; i++) {
    syncDisks();
    const p = (await livePhase(ctx, s, `search ${i + 1}`, null, rate, Math.min(4, ctx.opts.seconds))).phase;
    const ok = keptUp(p, rate, perRequest);
    sc.search.push({ reqPerSec: rate, MiBps: (rate * perRequest * sc.bytesPerRecord) / MiB, keptUp: ok, lagMax: p.lag.max, latencyP99: p.latency?.p99 ?? NaN });
    if (ok) floor = rate;
    else ceiling = rate;
    if (ceiling - floor < 0.05 * ceiling) break;
    rate = floor > 0 ? (floor + ceiling) / 2 : rate * 0.6;
  }
  if (floor === 0) floor = rate; // nothing kept up: the lowest rate tried
  progress(`  sustained max ingest with the link keeping up: ${((floor * perRequest * sc.bytesPerRecord) / MiB).toFixed(0)} MiB/s`);
  return floor;
}

/** Warms a JVM up before it is measured (bench/lib/jvm-warmup.ts), unless --jvm-warmup is 0. */
async function warmJvm(ctx: Ctx, what: string, pid: number, round: () => Promise<void>): Promise<JvmWarmup | undefined> {
  if (ctx.opts.jvmWarmup <= 0) return undefined;
  const w = await warmUntilCompiled(pid, ctx.opts.jvmWarmup, round);
  progress(`  ${what} ${warmupSummary(w)}`);
  return w;
}

/**
 * Warms an Apache Kafka source up the way the scenario will use it: a throwaway shadow broker with a link over a
 * throwaway topic of the scenario's partitions, saturated ingest, the monitor's lag samples and probes; then the
 * topics are deleted and the shadow stopped.
 */
async function warmUpKafkaSource(ctx: Ctx, sc: Scenario, source: Broker, dir: string, setup: ScenarioSetup): Promise<JvmWarmup | undefined> {
  if (ctx.opts.jvmWarmup <= 0) return undefined;
  const topics = [
    { name: 'wu', partitions: sc.partitions },
    { name: 'wp', partitions: 1 },
  ];
  let shadow: Broker | null = null;
  try {
    shadow = await startUmbraBroker(repoRoot, dir, 'warmup-shadow', [], sc.brokerSettings);
    ctx.timeline.watch(shadow.pid, 'shadow');
    await createTopics(source, topics);
    await adminCall(shadow, 'POST', '/v1/shadow-links', linkDocument('warmup', source, topics.map((t) => t.name), ctx.opts.linkOptions));
    ctx.trimmer.add(source, 'wu', sc.partitions, trimRecords(sc), { broker: shadow, topic: 'wu' });
    await waitForLink(shadow, 'warmup', topics, 60_000);
    await primeAndWait(source, shadow, topics, 60_000);
    const s: PhaseSetup = {
      ...setup,
      source,
      target: shadow,
      topic: 'wu',
      probeTopic: 'wp',
      pids: { source: source.pid, shadow: shadow.pid, loadgen: ctx.loadgen.pid, monitor: ctx.monitor.pid },
      gapCount: async () => 0,
    };
    return await warmJvm(ctx, 'the Kafka source', source.pid, async () => {
      await livePhase(ctx, s, 'warm-up', null, null, 4);
    });
  } finally {
    ctx.trimmer.dropTopic(source, 'wu');
    if (shadow) {
      ctx.timeline.unwatch(shadow.pid);
      ctx.trimmer.drop(shadow);
      await shadow.stop();
    }
    // a failure here must not hide the one that brought us here; the scenario goes on with two extra topics
    await deleteTopicsOf(source, topics.map((t) => t.name)).catch((err: Error) => progress(`  could not delete the warm-up topics: ${err.message}`));
  }
}

async function runLink(ctx: Ctx, sc: Scenario, source: Broker, dir: string, setup: ScenarioSetup): Promise<ReplicatorRun> {
  const o = ctx.opts;
  const tag = `${sc.source}-p${sc.partitions}-r${sc.recordBytes}`;
  const run: ReplicatorRun = { kind: 'link', name: 'Umbra shadow link', how: '', readySeconds: NaN, phases: [], notes: [] };
  let shadow: Broker | null = null;
  try {
    shadow = await startUmbraBroker(repoRoot, dir, 'shadow', profileArgs(ctx, `shadow-${tag}`), sc.brokerSettings);
    ctx.timeline.watch(shadow.pid, 'shadow');
    const topics = [
      { name: 'lv_u', partitions: sc.partitions },
      { name: 'pr_u', partitions: 1 },
    ];
    await createTopics(source, topics);
    const doc = linkDocument('bench', source, topics.map((t) => t.name), o.linkOptions);
    run.how = `POST /v1/shadow-links ${JSON.stringify(doc)} (other client_options at their defaults: fetch_wait_max_ms 500, fetch_min_bytes 1, fetch_max_bytes 20 MiB, fetch_partition_max_bytes 5 MiB, fetch_connections_per_node 2)`;
    const tReady = performance.now();
    await adminCall(shadow, 'POST', '/v1/shadow-links', doc);
    ctx.trimmer.add(source, 'lv_u', sc.partitions, trimRecords(sc), { broker: shadow, topic: 'lv_u' });
    await waitForLink(shadow, 'bench', topics, 60_000);
    await primeAndWait(source, shadow, topics, 60_000);
    run.readySeconds = (performance.now() - tReady) / 1000;
    progress(`  link ready in ${run.readySeconds.toFixed(1)} s`);

    const sh = shadow;
    const s: PhaseSetup = {
      ...setup,
      source,
      target: shadow,
      topic: 'lv_u',
      probeTopic: 'pr_u',
      pids: { source: source.pid, shadow: shadow.pid, loadgen: ctx.loadgen.pid, monitor: ctx.monitor.pid },
      gapCount: () => metricSum(sh, 'umbra_shadow_link_gaps_total'),
    };
    syncDisks();
    const sat = await livePhase(ctx, s, 'saturated', null, null);
    run.phases.push(sat.phase);
    sc.saturatedReqPerSec = sat.produce.requests / sat.produce.seconds;
    sc.referenceReqPerSec =
      o.referenceMiB !== null
        ? (o.referenceMiB * MiB) / (sc.batchRecords * sc.perRequest * sc.bytesPerRecord)
        : await sustainedRate(ctx, s, sat.phase, sc.saturatedReqPerSec, sc);
    for (const pct of o.rates) {
      syncDisks();
      run.phases.push((await livePhase(ctx, s, `${pct} %`, pct, (sc.referenceReqPerSec * pct) / 100)).phase);
    }

    syncDisks();
    const backlogTopics = [{ name: 'bk', partitions: sc.partitions }];
    run.catchUp = await catchUp(ctx, source, shadow, 'bk', sc.partitions, sc.bytesPerRecord, true, () => ({ source: source.pid, shadow: shadow!.pid }), async () => {
      await adminCall(shadow!, 'POST', '/v1/shadow-links', linkDocument('backlog', source, backlogTopics.map((t) => t.name), o.linkOptions));
    });
    progress(`  link catch-up: ${run.catchUp.MiBps.toFixed(0)} MiB/s over ${run.catchUp.seconds.toFixed(1)} s${run.catchUp.complete ? '' : ' (capped)'}`);
    if (!run.catchUp.complete) {
      // what the partitions of the backlog link report (state, lag, last error), for the notes
      const st = await adminCall<{ topics: { partitions: { partition: number; lag: number; state: string; lastError: string }[] }[] }>(shadow, 'GET', '/v1/shadow-links/backlog/status').catch(() => null);
      const parts = st?.topics[0]?.partitions ?? [];
      run.notes.push(
        `catch-up stopped at the cap; partitions still behind: ${parts
          .filter((p) => p.lag > 0)
          .map((p) => `${p.partition} (lag ${p.lag}, ${p.state}${p.lastError ? `, ${p.lastError}` : ''})`)
          .join('; ')}`,
      );
      progress(`  ${run.notes[run.notes.length - 1]}`);
    }
  } catch (err) {
    run.error = (err as Error).message;
    if (shadow?.exited()) run.error += `\n--- the shadow ${shadow.exited()}; its log ends with ---\n${shadow.tail(10)}`;
    progress(`  link: FAILED: ${run.error}`);
  } finally {
    if (shadow) {
      ctx.timeline.unwatch(shadow.pid);
      ctx.trimmer.drop(shadow);
      await shadow.stop();
    }
  }
  return run;
}

async function runMm2(ctx: Ctx, sc: Scenario, source: Broker, dir: string, setup: ScenarioSetup): Promise<ReplicatorRun> {
  const o = ctx.opts;
  const run: ReplicatorRun = { kind: 'mm2', name: 'MirrorMaker 2', how: '', readySeconds: NaN, phases: [], notes: [] };
  let target: Broker | null = null;
  let mm2: RunningMm2 | null = null;
  const stopAll = async () => {
    if (mm2) {
      ctx.timeline.unwatch(mm2.pid);
      await mm2.stop();
      mm2 = null;
    }
    if (target) {
      ctx.timeline.unwatch(target.pid);
      ctx.trimmer.drop(target);
      await target.stop();
      target = null;
    }
  };
  try {
    target = await startUmbraBroker(repoRoot, dir, 'mm2-target', [], sc.brokerSettings);
    ctx.timeline.watch(target.pid, 'shadow');
    const topics = [
      { name: 'lv_m', partitions: sc.partitions },
      { name: 'pr_m', partitions: 1 },
    ];
    await createTopics(source, topics);
    ctx.trimmer.add(source, 'lv_m', sc.partitions, trimRecords(sc), { broker: target, topic: 'lv_m' });
    ctx.trimmer.add(target, 'lv_m', sc.partitions, trimRecords(sc));
    const tReady = performance.now();
    mm2 = await startMm2(source, target, topics.map((t) => t.name), mm2Settings(o, sc.partitions), path.join(dir, 'mm2-live'));
    run.how = mm2.how;
    ctx.timeline.watch(mm2.pid, 'mm2');
    await primeAndWait(source, target, topics, 300_000);
    run.readySeconds = (performance.now() - tReady) / 1000;
    progress(`  MirrorMaker 2 ready in ${run.readySeconds.toFixed(1)} s`);
    const m = mm2 as RunningMm2;
    // the first assignment of every partition resets to the earliest offset too (no committed position yet)
    const resetsAtStart = m.countLog(/out of range|Resetting offset for partition lv_m/i);
    const s: PhaseSetup = {
      ...setup,
      source,
      target,
      topic: 'lv_m',
      probeTopic: 'pr_m',
      pids: { source: source.pid, shadow: target.pid, mm2: m.pid, loadgen: ctx.loadgen.pid, monitor: ctx.monitor.pid },
      // the consumer resets to the earliest offset after OFFSET_OUT_OF_RANGE (retention overtook it)
      gapCount: async () => m.countLog(/out of range|Resetting offset for partition lv_m/i) - resetsAtStart,
    };
    const ref =
      sc.referenceReqPerSec ??
      (o.referenceMiB !== null
        ? (o.referenceMiB * MiB) / (sc.batchRecords * sc.perRequest * sc.bytesPerRecord)
        : sc.noLink
          ? sc.noLink.recPerSec / (sc.batchRecords * sc.perRequest)
          : NaN);
    if (sc.referenceReqPerSec === undefined) run.notes.push('no link run: the rates are % of the no-link max ingest');
    // warm MirrorMaker 2 up at the first phase's rate (it keeps up there, so each round ends caught up)
    run.warmup = await warmJvm(ctx, 'MirrorMaker 2', m.pid, async () => {
      await livePhase(ctx, s, 'warm-up', null, Number.isFinite(ref) ? (ref * Math.min(...o.rates)) / 100 : null, 4);
    });
    for (const pct of o.rates) {
      syncDisks();
      const p = (await livePhase(ctx, s, `${pct} %`, pct, (ref * pct) / 100)).phase;
      run.phases.push(p);
      if (p.drainSeconds === null) run.notes.push(`after the ${p.label} phase MirrorMaker 2 had not caught up within ${o.drainSeconds} s; the next phase started behind`);
    }
    syncDisks();
    run.phases.push((await livePhase(ctx, s, 'saturated', null, null)).phase);
    // a baseline that ran out of heap is not MirrorMaker 2 at its best: say so next to its figures (--mm2-heap-mb)
    const ooms = m.countLog(/java\.lang\.OutOfMemoryError/);
    if (ooms > 0) run.notes.push(`MirrorMaker 2 ran out of heap (${ooms} OutOfMemoryError in its log, heap ${mm2HeapMb(o, sc.partitions)} MiB): its tasks failed and its figures from then on understate it; give it more with --mm2-heap-mb`);
    await stopAll();

    // catch-up on a fresh target, with a MirrorMaker 2 of its own over the backlog topic only
    syncDisks();
    const cTarget = await startUmbraBroker(repoRoot, dir, 'mm2-catchup-target', [], sc.brokerSettings);
    target = cTarget;
    ctx.timeline.watch(cTarget.pid, 'shadow');
    ctx.trimmer.add(cTarget, 'bk', sc.partitions, trimRecords(sc));
    let cMm2: RunningMm2 | null = null;
    run.catchUp = await catchUp(
      ctx,
      source,
      cTarget,
      'bk',
      sc.partitions,
      sc.bytesPerRecord,
      false,
      () => ({ source: source.pid, shadow: cTarget.pid, ...(cMm2 ? { mm2: cMm2.pid } : {}) }),
      async () => {
        cMm2 = await startMm2(source, cTarget, ['bk'], mm2Settings(o, sc.partitions), path.join(dir, 'mm2-catchup'));
        mm2 = cMm2;
        ctx.timeline.watch(cMm2.pid, 'mm2');
      },
    );
    progress(`  MirrorMaker 2 catch-up: ${run.catchUp.MiBps.toFixed(0)} MiB/s over ${run.catchUp.seconds.toFixed(1)} s${run.catchUp.complete ? '' : ' (capped)'}`);
  } catch (err) {
    run.error = (err as Error).message;
    const m = mm2 as RunningMm2 | null;
    if (m) run.error += `\n--- MirrorMaker 2 log tail ---\n${m.logTail(15)}`;
    progress(`  MirrorMaker 2: FAILED: ${run.error}`);
  } finally {
    await stopAll();
  }
  return run;
}

async function runScenario(ctx: Ctx, sourceKind: 'umbra' | 'kafka', partitions: number, recordBytes: number): Promise<Scenario> {
  const o = ctx.opts;
  const batchRecords = batchRecordsFor(o, recordBytes);
  const perRequest = Math.min(o.perRequest, partitions);
  const plan = trimPlan(o, partitions);
  const sc: Scenario = {
    source: sourceKind,
    brokerSettings: logSettings(o, partitions, 'umbra'),
    ...(plan !== null ? { trim: { keepBytes: plan.keepBytes, stepBytes: plan.stepBytes } } : {}),
    sourceName: sourceKind,
    sourceHow: '',
    partitions,
    recordBytes,
    batchRecords,
    bytesPerRecord: (() => {
      const value = Buffer.alloc(recordBytes);
      return buildRecordBatch({ records: Array.from({ length: batchRecords }, () => ({ value })) }).length / batchRecords;
    })(),
    perRequest,
    requestBytes: NaN,
    seconds: 0,
  };
  const started = performance.now();
  const dir = fs.mkdtempSync(path.join(ctx.workDir, `${sourceKind}-p${partitions}-r${recordBytes}-`));
  progress(`scenario: source ${sourceKind}, ${partitions} partitions, ${recordBytes} B records (${batchRecords} per batch, ${perRequest} batches per request)`);
  let source: Broker | null = null;
  try {
    source =
      sourceKind === 'umbra'
        ? await startUmbraBroker(repoRoot, dir, 'source', (process.env.UMBRA_BENCH_SOURCE_NODE_ARGS ?? '').split(' ').filter(Boolean), sc.brokerSettings)
        : await startKafkaBroker(path.join(dir, 'kafka'), logSettings(o, partitions, 'kafka'));
    sc.sourceName = source.name;
    sc.sourceHow = source.how;
    ctx.timeline.watch(source.pid, 'source');
    await createTopics(source, [{ name: 'bk', partitions }]);
    const setup = { partitions, recordBytes, batchRecords, perRequest, source };
    if (sourceKind === 'kafka') sc.sourceWarmup = await warmUpKafkaSource(ctx, sc, source, dir, setup);
    ctx.trimmer.add(source, 'bk', partitions, trimRecords(sc));

    // 1. no link: the source's max ingest; the topic becomes the catch-up backlog
    syncDisks();
    const job: ShadowProduceJob = {
      kind: 'produce',
      broker: { host: source.host, port: source.port },
      topic: 'bk',
      partitions,
      perRequest,
      recordSize: recordBytes,
      batchRecords,
      window: o.window,
      acks: 1,
      warmupSeconds: o.warmup,
      seconds: o.seconds,
      version: pickVersion(source.ranges, ApiKey.Produce, 12),
    };
    const p = await ctx.loadgen.run<ShadowProduceResult>(job);
    sc.requestBytes = p.requestBytes;
    const { cores, otherCores } = coresOver(ctx, { source: source.pid, loadgen: ctx.loadgen.pid }, p.windowStartMs, p.windowEndMs);
    const noLink: NoLinkIngest = {
      recPerSec: p.records / p.seconds,
      MiBps: p.bytes / p.seconds / MiB,
      produceLatencyMs: p.latencyMs,
      cores,
      otherCores,
      backlogRecords: p.totalRecordsAcked,
    };
    sc.noLink = noLink;
    progress(`  no link: ${noLink.MiBps.toFixed(0)} MiB/s, ${Math.round(noLink.recPerSec).toLocaleString('en-US')} records/s, source ${cores.source!.toFixed(2)} cores, other ${otherCores.toFixed(2)}`);

    if (o.replicators.includes('link')) sc.link = await runLink(ctx, sc, source, dir, setup);
    if (o.replicators.includes('mm2')) sc.mm2 = await runMm2(ctx, sc, source, dir, setup);
  } catch (err) {
    sc.error = (err as Error).message;
    if (source?.exited()) sc.error += `\n--- the source ${source.exited()}; its log ends with ---\n${source.tail(10)}`;
    progress(`  FAILED: ${sc.error}`);
  } finally {
    if (source) {
      ctx.timeline.unwatch(source.pid);
      ctx.trimmer.drop(source);
      await source.stop();
    }
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
    ctx.timeline.trim(wallNow() - 1000);
  }
  sc.seconds = (performance.now() - started) / 1000;
  return sc;
}

/** CPU of the given pids over `seconds` of wall time, in cores. */
async function measureCores(pids: number[], seconds: number, ctx: Ctx): Promise<{ cores: number[]; otherCores: number }> {
  const from = wallNow();
  await sleep(seconds * 1000);
  const to = wallNow();
  ctx.timeline.sample();
  const labels: Pids = {};
  pids.forEach((p, i) => (labels[`p${i}`] = p));
  const { cores, otherCores } = coresOver(ctx, labels, from, to);
  return { cores: pids.map((_, i) => cores[`p${i}`]!), otherCores };
}

async function runIdle(ctx: Ctx): Promise<IdleReport> {
  const o = ctx.opts;
  const n = o.idlePartitions;
  const rep: IdleReport = {
    partitions: n,
    seconds: o.idleSeconds,
    readySeconds: NaN,
    before: { shadowCores: NaN, sourceCores: NaN },
    link: { shadowCores: NaN, sourceCores: NaN, fetchRequestsPerSec: NaN, otherCores: NaN },
  };
  const dir = fs.mkdtempSync(path.join(ctx.workDir, 'idle-'));
  let source: Broker | null = null;
  let shadow: Broker | null = null;
  progress(`idle: a link over ${n} idle partitions, ${o.idleSeconds} s`);
  try {
    [source, shadow] = await Promise.all([startUmbraBroker(repoRoot, dir, 'source'), startUmbraBroker(repoRoot, dir, 'shadow', profileArgs(ctx, 'shadow-idle'))]);
    ctx.timeline.watch(source.pid, 'source');
    ctx.timeline.watch(shadow.pid, 'shadow');
    await createTopics(source, [{ name: 'idle', partitions: n }]);
    await sleep(2000);
    const before = await measureCores([shadow.pid, source.pid], Math.min(10, o.idleSeconds), ctx);
    rep.before = { shadowCores: before.cores[0]!, sourceCores: before.cores[1]! };
    progress(`  before the link: shadow ${(rep.before.shadowCores * 100).toFixed(2)} %, source ${(rep.before.sourceCores * 100).toFixed(2)} % of a core`);

    const t = performance.now();
    // The link as a user gets it (topic metadata sync at its default interval), then the same link with the 1 s
    // sync the throughput runs use: that polls the source's topics, configs and 1,000 partitions' offsets 5× as often.
    await adminCall(shadow, 'POST', '/v1/shadow-links', linkDocument('idle', source, ['idle'], {}, null));
    await waitForLink(shadow, 'idle', [{ name: 'idle', partitions: n }], 120_000);
    rep.readySeconds = (performance.now() - t) / 1000;
    const measureLink = async (label: string): Promise<IdleLinkCost> => {
      // let start-up effects pass: the first answers, the first idle beats (10 s)
      await sleep(12_000);
      const f0 = await metricSum(source!, 'umbra_requests_total', ['api="Fetch"']);
      const w0 = performance.now();
      const withLink = await measureCores([shadow!.pid, source!.pid], o.idleSeconds, ctx);
      const f1 = await metricSum(source!, 'umbra_requests_total', ['api="Fetch"']);
      const cost: IdleLinkCost = {
        shadowCores: withLink.cores[0]!,
        sourceCores: withLink.cores[1]!,
        fetchRequestsPerSec: (f1 - f0) / ((performance.now() - w0) / 1000),
        otherCores: withLink.otherCores,
      };
      progress(
        `  ${label}: shadow ${(cost.shadowCores * 100).toFixed(2)} %, source ${(cost.sourceCores * 100).toFixed(2)} % of a core, ` +
          `${cost.fetchRequestsPerSec.toFixed(1)} Fetch requests/s at the source, other ${cost.otherCores.toFixed(2)} cores`,
      );
      return cost;
    };
    rep.link = await measureLink('with the link (default settings)');
    await adminCall(shadow, 'PATCH', '/v1/shadow-links/idle', linkDocument('idle', source, ['idle'], {}, '1s'));
    rep.fastSync = await measureLink('with the topic metadata sync every 1 s');

    // What the lag sampler costs the brokers: ListOffsets every --sample-ms on a 256-partition topic on both.
    await createTopics(source, [{ name: 'sampled', partitions: 256 }]);
    await createTopics(shadow, [{ name: 'sampled', partitions: 256 }]);
    const base = await measureCores([shadow.pid, source.pid], 5, ctx);
    const mon = ctx.monitor.monitor({
      kind: 'monitor',
      source: { host: source.host, port: source.port },
      target: { host: shadow.host, port: shadow.port },
      topic: 'sampled',
      partitions: 256,
      sampleIntervalMs: o.sampleMs,
      versions: {
        sourceListOffsets: pickVersion(source.ranges, ApiKey.ListOffsets, 7),
        targetListOffsets: pickVersion(shadow.ranges, ApiKey.ListOffsets, 7),
        produce: 0,
        fetch: 0,
      },
    });
    await sleep(500);
    const sampled = await measureCores([shadow.pid, source.pid], 5, ctx);
    const m = await mon.stop();
    rep.sampler = { partitions: 256, shadowCores: sampled.cores[0]! - base.cores[0]!, sourceCores: sampled.cores[1]! - base.cores[1]! };
    progress(
      `  lag sampler (${m.t.length} samples, ${m.skippedTicks} ticks skipped): +${(rep.sampler.shadowCores * 100).toFixed(2)} % shadow, +${(rep.sampler.sourceCores * 100).toFixed(2)} % source`,
    );
  } catch (err) {
    rep.error = (err as Error).message;
    progress(`  idle: FAILED: ${rep.error}`);
  } finally {
    for (const b of [shadow, source]) {
      if (b) {
        ctx.timeline.unwatch(b.pid);
        await b.stop();
      }
    }
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  return rep;
}

function machine(): ShadowBenchReport['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: os.totalmem() / GiB,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    java: javaVersion(),
  };
}

async function main(): Promise<void> {
  const opts = parseShadowOptions(process.argv.slice(2));
  if (opts.render) {
    const saved = JSON.parse(fs.readFileSync(opts.render, 'utf8')) as ShadowBenchReport;
    process.stdout.write(renderText(saved));
    if (opts.markdown) process.stdout.write(`\n${renderMarkdown(saved)}`);
    return;
  }
  cleanup.keepTemp = opts.keep;
  if (opts.umbraRoot) repoRoot = opts.umbraRoot;
  fs.mkdirSync(opts.dir, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(opts.dir, 'umbra-shadow-bench-'));
  tempDirs.add(workDir);
  const argv = process.argv.slice(2);
  const report: ShadowBenchReport = {
    command: `npm run bench:shadow${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    date: new Date().toISOString(),
    machine: machine(),
    options: opts,
    // per scenario tasks.max = partitions (and the heap follows the tasks): left out here
    mm2Properties: Object.fromEntries(Object.entries(mm2Properties(mm2Settings(opts, 0))).filter(([k]) => k !== 'tasks.max')),
    scenarios: [],
    profiles: [],
    totalSeconds: 0,
  };
  progress(`${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}; data in ${workDir}`);
  const ctx: Ctx = {
    opts,
    loadgen: new Agent('loadgen'),
    monitor: new Agent('monitor'),
    timeline: new CpuTimeline(100),
    trimmer: new Trimmer(),
    workDir,
    profiles: report.profiles,
  };
  if (opts.keepMiB > 0) ctx.trimmer.start(1000);
  ctx.timeline.watch(ctx.loadgen.pid, 'loadgen');
  ctx.timeline.watch(ctx.monitor.pid, 'monitor');
  ctx.timeline.watch(process.pid, 'orchestrator');
  ctx.timeline.start();
  try {
    if (!opts.idleOnly) {
      for (const source of opts.sources) {
        for (const recordBytes of opts.recordBytes) {
          for (const partitions of opts.partitions) {
            report.scenarios.push(await runScenario(ctx, source, partitions, recordBytes));
          }
        }
      }
    }
    if (opts.idlePartitions > 0) report.idle = await runIdle(ctx);
  } finally {
    ctx.timeline.stop();
    ctx.trimmer.stop();
    ctx.loadgen.stop();
    ctx.monitor.stop();
  }
  report.totalSeconds = (performance.now() - t0) / 1000;
  process.stdout.write(renderText(report));
  if (opts.markdown) process.stdout.write(`\n${renderMarkdown(report)}`);
  if (opts.json) fs.writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
}

runBench('bench:shadow', main, cleanupSync);
