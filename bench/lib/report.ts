// The benchmark's report: one model, rendered as a plain-text table for the terminal and as a markdown section
// for bench/RESULTS.md. MiB = 2^20 bytes; throughput counts record-batch bytes (what a broker stores), which for
// 1 KiB records is ~1 % more than the record values alone.

import type { WireVersions } from './admin.js';
import type { JvmWarmup } from './jvm-warmup.js';
import type { BlastResult, DrainResult, FetchResult, JobResult, ProduceResult } from './jobs.js';

export interface Phase<T extends JobResult> {
  result: T;
  /** CPU the server process (broker or baseline server) used during the job, in cores */
  serverCores: number;
  /** CPU used meanwhile by processes outside this benchmark (other work on a shared machine), in cores */
  otherCores: number;
}

export interface TargetReport {
  target: 'kafka' | 'umbra';
  name: string;
  how?: string;
  error?: string;
  startupSeconds?: number;
  versions?: WireVersions;
  idleRss?: number;
  peakRss?: number;
  produceAcks1?: Phase<ProduceResult>;
  produceAcksAll?: Phase<ProduceResult>;
  fetch?: Phase<FetchResult>;
  /** fixed-rate produce, for latency */
  latencyAcks1?: Phase<ProduceResult>;
  latencyAcksAll?: Phase<ProduceResult>;
  fetchExpectedRecords?: number;
  /** the warm-up before the measured phases (--jvm-warmup) */
  warmup?: JvmWarmup;
  notes?: string[];
}

export interface BenchReport {
  command: string;
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number; kernel: string; node: string; java: string };
  workload: {
    partitions: number;
    recordSize: number;
    batchRecords: number;
    window: number;
    seconds: number;
    warmup: number;
    latencyRate: number;
    latencySeconds: number;
    fetchMaxBytes: number;
    fetchPartitionMaxBytes: number;
    baselineSeconds: number;
    /** the TCP-to-file pipe's unmeasured and measured seconds (absent in reports from before it ran as long as a produce phase) */
    pipeWarmup?: number;
    pipeSeconds?: number;
    dataDir: string;
    keptDataDir: boolean;
  };
  baselines: {
    /** load generator → bare server that discards (the issue's "bare loopback transfer") */
    loopbackIn?: Phase<BlastResult>;
    /** bare server → load generator, read the way fetch responses are read: the fetch direction */
    loopbackOut?: Phase<DrainResult>;
    pipe?: Phase<BlastResult>;
    nullBroker?: Phase<ProduceResult>;
  };
  targets: TargetReport[];
  loadgenPid?: number;
  totalSeconds: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Figures

const MiB = 1 << 20;
const rate = (bytes: number, seconds: number) => bytes / seconds / MiB;
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtRate = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
const fmtMs = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const fmtCores = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(2));
const fmtMiB = (bytes: number | undefined) => (bytes === undefined || bytes === 0 ? '—' : `${(bytes / MiB).toFixed(0)}`);
const fmtRatio = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(2));

function produceMiB(p: Phase<ProduceResult> | undefined): number | undefined {
  return p ? rate(p.result.bytes, p.result.seconds) : undefined;
}
function fetchMiB(p: Phase<FetchResult> | undefined): number | undefined {
  return p && p.result.seconds > 0 ? rate(p.result.bytes, p.result.seconds) : undefined;
}
function blastMiB(p: Phase<BlastResult> | Phase<DrainResult> | undefined): number | undefined {
  return p ? rate(p.result.bytes, p.result.seconds) : undefined;
}
/** A load generator above this share of one core may be limiting the figure it reports. */
const LOADGEN_BUSY = 0.85;

interface Table {
  title: string;
  head: string[];
  rows: string[][];
  /** columns aligned right (numbers) */
  right: boolean[];
}

function brokerTable(r: BenchReport): Table {
  const ts = r.targets;
  const head = ['', ...ts.map((t) => t.name)];
  const rows: string[][] = [];
  const row = (label: string, f: (t: TargetReport) => string) => rows.push([label, ...ts.map((t) => (t.error && f(t) === '—' ? 'failed' : f(t)))]);
  const produceRows = (label: string, pick: (t: TargetReport) => Phase<ProduceResult> | undefined) => {
    row(`${label}: MiB/s`, (t) => fmtRate(produceMiB(pick(t))));
    row(`${label}: records/s`, (t) => {
      const p = pick(t);
      return p ? fmtInt(p.result.records / p.result.seconds) : '—';
    });
    row(`${label}: latency p50 / p99 ms`, (t) => {
      const p = pick(t);
      return p ? `${fmtMs(p.result.latencyMs.p50)} / ${fmtMs(p.result.latencyMs.p99)}` : '—';
    });
    row(`${label}: broker / loadgen CPU (cores)`, (t) => {
      const p = pick(t);
      return p ? `${fmtCores(p.serverCores)} / ${fmtCores(p.result.cpu.cores)}` : '—';
    });
  };
  produceRows('produce acks=1', (t) => t.produceAcks1);
  produceRows('produce acks=all', (t) => t.produceAcksAll);
  row('fetch: MiB/s', (t) => fmtRate(fetchMiB(t.fetch)));
  row('fetch: records/s', (t) => (t.fetch && t.fetch.result.seconds > 0 ? fmtInt(t.fetch.result.records / t.fetch.result.seconds) : '—'));
  row('fetch: broker / loadgen CPU (cores)', (t) => (t.fetch ? `${fmtCores(t.fetch.serverCores)} / ${fmtCores(t.fetch.result.cpu.cores)}` : '—'));
  const rateLabel = `${r.workload.latencyRate} req/s`;
  const latencyRow = (label: string, pick: (t: TargetReport) => Phase<ProduceResult> | undefined) =>
    row(`${label} at ${rateLabel}: latency p50 / p99 / max ms`, (t) => {
      const p = pick(t);
      return p ? `${fmtMs(p.result.latencyMs.p50)} / ${fmtMs(p.result.latencyMs.p99)} / ${fmtMs(p.result.latencyMs.max)}` : '—';
    });
  if (r.workload.latencyRate > 0) {
    latencyRow('produce acks=1', (t) => t.latencyAcks1);
    latencyRow('produce acks=all', (t) => t.latencyAcksAll);
  }
  row('CPU of other processes, cores: acks=1 / acks=all / fetch', (t) => {
    const ps = [t.produceAcks1, t.produceAcksAll, t.fetch];
    return ps.some((p) => p) ? ps.map((p) => (p ? fmtCores(p.otherCores) : '—')).join(' / ') : '—';
  });
  row('RSS idle / peak (MiB)', (t) => (t.peakRss ? `${fmtMiB(t.idleRss)} / ${fmtMiB(t.peakRss)}` : '—'));
  row('startup (s)', (t) => (t.startupSeconds !== undefined ? t.startupSeconds.toFixed(1) : '—'));
  if (ts.some((t) => t.warmup)) {
    row('warm-up before measuring: s (rounds) / JIT compiler CPU s', (t) =>
      t.warmup ? `${t.warmup.seconds.toFixed(0)} (${t.warmup.rounds}${t.warmup.capped ? ', capped' : ''}) / ${t.warmup.compilerCpuSeconds.toFixed(1)}` : '—',
    );
  }
  return { title: 'Brokers (same load generator, same workload)', head, rows, right: head.map((_, i) => i > 0) };
}

function baselineTable(r: BenchReport): Table | null {
  const b = r.baselines;
  if (!b.loopbackIn && !b.loopbackOut && !b.pipe && !b.nullBroker) return null;
  const rows: string[][] = [];
  const raw = (label: string, p: Phase<BlastResult> | Phase<DrainResult> | undefined) => {
    if (p) rows.push([label, fmtRate(blastMiB(p)), '—', fmtCores(p.serverCores), fmtCores(p.result.cpu.cores), fmtCores(p.otherCores)]);
  };
  raw('loopback in: loadgen 1 MiB writes → server discarding', b.loopbackIn);
  raw('loopback out: server 1 MiB writes → loadgen reading', b.loopbackOut);
  raw('TCP-to-file pipe: 1 MiB writes → fs.writeSync append', b.pipe);
  if (b.nullBroker) {
    const p = b.nullBroker;
    rows.push([
      'null broker: produce acks=1 → decode, reply, no storage',
      fmtRate(produceMiB(p)),
      `${fmtMs(p.result.latencyMs.p50)} / ${fmtMs(p.result.latencyMs.p99)}`,
      fmtCores(p.serverCores),
      fmtCores(p.result.cpu.cores),
      fmtCores(p.otherCores),
    ]);
  }
  return {
    title: 'Baselines (bare Node servers, same run, same load generator)',
    head: ['', 'MiB/s', 'p50 / p99 ms', 'server CPU', 'loadgen CPU', 'other CPU'],
    rows,
    right: [false, true, true, true, true, true],
  };
}

type Verdict = 'pass' | 'FAIL' | '—';

function ratioTable(r: BenchReport): Table {
  const kafka = r.targets.find((t) => t.target === 'kafka' && !t.error);
  const umbra = r.targets.find((t) => t.target === 'umbra' && !t.error);
  const pipe = blastMiB(r.baselines.pipe);
  const loopIn = blastMiB(r.baselines.loopbackIn);
  const loopOut = blastMiB(r.baselines.loopbackOut);
  const rows: string[][] = [];
  const verdict = (v: number | undefined, ok: (v: number) => boolean): Verdict => (v === undefined || !Number.isFinite(v) ? '—' : ok(v) ? 'pass' : 'FAIL');
  const div = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);

  const vsBaseline = (label: string, target: string, pick: (t: TargetReport) => number | undefined, base: number | undefined, ok?: (v: number) => boolean) => {
    const k = kafka ? div(pick(kafka), base) : undefined;
    const u = umbra ? div(pick(umbra), base) : undefined;
    rows.push([label, target, fmtRatio(k), fmtRatio(u), ok ? verdict(u, ok) : 'info']);
  };
  vsBaseline('produce acks=1 ÷ TCP-to-file pipe', '≥ 0.6', (t) => produceMiB(t.produceAcks1), pipe, (v) => v >= 0.6);
  vsBaseline('produce acks=all ÷ TCP-to-file pipe', '(info)', (t) => produceMiB(t.produceAcksAll), pipe);
  // The issue's "bare loopback transfer" is the load generator writing to a discarding server (loopback in);
  // loopback out is the same transfer in the direction fetch data moves.
  vsBaseline('fetch ÷ loopback in', '≥ 0.6', (t) => fetchMiB(t.fetch), loopIn, (v) => v >= 0.6);
  vsBaseline('fetch ÷ loopback out', '(info)', (t) => fetchMiB(t.fetch), loopOut);

  const vsKafka = (label: string, target: string, u: number | undefined, k: number | undefined, ok: (v: number) => boolean) => {
    const v = div(u, k);
    rows.push([label, target, '', fmtRatio(v), verdict(v, ok)]);
  };
  vsKafka('Umbra ÷ Kafka, produce acks=1 MiB/s', '≥ 0.7', umbra && produceMiB(umbra.produceAcks1), kafka && produceMiB(kafka.produceAcks1), (v) => v >= 0.7);
  vsKafka('Umbra ÷ Kafka, produce acks=all MiB/s', '≥ 0.7', umbra && produceMiB(umbra.produceAcksAll), kafka && produceMiB(kafka.produceAcksAll), (v) => v >= 0.7);
  vsKafka('Umbra ÷ Kafka, fetch MiB/s', '≥ 0.7', umbra && fetchMiB(umbra.fetch), kafka && fetchMiB(kafka.fetch), (v) => v >= 0.7);
  type LatencyPhase = 'produceAcks1' | 'produceAcksAll' | 'latencyAcks1' | 'latencyAcksAll';
  const p99 = (t: TargetReport | undefined, which: LatencyPhase) => t?.[which]?.result.latencyMs.p99;
  const rate = `${r.workload.latencyRate} req/s`;
  if (r.workload.latencyRate > 0) {
    vsKafka(`Umbra ÷ Kafka, p99 acks=1 at ${rate}`, '< 1', p99(umbra, 'latencyAcks1'), p99(kafka, 'latencyAcks1'), (v) => v < 1);
    vsKafka(`Umbra ÷ Kafka, p99 acks=all at ${rate}`, '< 1', p99(umbra, 'latencyAcksAll'), p99(kafka, 'latencyAcksAll'), (v) => v < 1);
  }
  const info = (label: string, u: number | undefined, k: number | undefined) => rows.push([label, '(info)', '', fmtRatio(div(u, k)), 'info']);
  info('Umbra ÷ Kafka, p99 acks=1 at saturation', p99(umbra, 'produceAcks1'), p99(kafka, 'produceAcks1'));
  info('Umbra ÷ Kafka, p99 acks=all at saturation', p99(umbra, 'produceAcksAll'), p99(kafka, 'produceAcksAll'));
  vsKafka('Umbra ÷ Kafka, peak RSS', '< 0.33', umbra?.peakRss, kafka?.peakRss, (v) => v < 1 / 3);
  return { title: 'Ratios (targets from issue 2)', head: ['', 'target', 'Kafka', 'Umbra', 'verdict'], rows, right: [false, true, true, true, false] };
}

function notes(r: BenchReport): string[] {
  const out: string[] = [];
  for (const t of r.targets) {
    if (t.error) {
      const lines = t.error.trimEnd().split('\n');
      out.push(`${t.name}: not measured: ${lines[0]}`);
      // the broker's own last words, when its log was attached
      if (lines.length > 1) for (const l of lines.slice(-3)) out.push(`    ${l}`);
    }
    for (const n of t.notes ?? []) out.push(`${t.name}: ${n}`);
    const phases: Array<[string, Phase<ProduceResult> | Phase<FetchResult> | undefined]> = [
      ['produce acks=1', t.produceAcks1],
      ['produce acks=all', t.produceAcksAll],
      ['fetch', t.fetch],
      ['fixed-rate acks=1', t.latencyAcks1],
      ['fixed-rate acks=all', t.latencyAcksAll],
    ];
    for (const [label, p] of phases) {
      if (!p) continue;
      if (Object.keys(p.result.errors).length) out.push(`${t.name} ${label}: error codes ${JSON.stringify(p.result.errors)}`);
      if (p.result.cpu.cores > LOADGEN_BUSY) out.push(`${t.name} ${label}: the load generator used ${fmtCores(p.result.cpu.cores)} cores and may be the bottleneck`);
      if (p.result.kind === 'produce' && p.result.lateSends > 0) {
        out.push(`${t.name} ${label}: ${p.result.lateSends} of ${p.result.requests} requests went out > 5 ms behind schedule (window full or machine busy)`);
      }
    }
    if (t.fetch) {
      const f = t.fetch.result;
      const expected = t.fetchExpectedRecords;
      const got = `${fmtInt(f.records)} records in ${f.requests} fetches (${f.note})`;
      if (f.crcErrors) out.push(`${t.name} fetch: ${f.crcErrors} batches with a bad CRC`);
      if (expected !== undefined && f.complete && f.records !== expected) {
        out.push(`${t.name} fetch: ${got}, but ${fmtInt(expected)} were acknowledged`);
      } else {
        out.push(`${t.name} fetch: ${got}${expected !== undefined && f.complete ? ', as many as were acknowledged' : ''}`);
      }
    }
  }
  const phases: Array<{ otherCores: number } | undefined> = [
    ...Object.values(r.baselines),
    ...r.targets.flatMap((t) => [t.produceAcks1, t.produceAcksAll, t.fetch]),
  ];
  const busiest = Math.max(0, ...phases.map((p) => p?.otherCores ?? 0));
  if (busiest > 0.25) {
    out.push(`other processes used up to ${fmtCores(busiest)} of the ${r.machine.cores} cores during a phase: compare ratios within this run, and rerun on a quiet machine for absolute figures`);
  }
  const nb = r.baselines.nullBroker;
  if (nb && nb.result.cpu.cores > LOADGEN_BUSY) out.push('null broker: the load generator is the busier side: its ceiling is about that figure');
  return out;
}

function workloadLines(r: BenchReport): string[] {
  const w = r.workload;
  const batch = w.batchRecords * w.recordSize;
  const kafka = r.targets.find((t) => t.produceAcks1);
  const reqBytes = kafka?.produceAcks1?.result.requestBytes ?? r.baselines.nullBroker?.result.requestBytes;
  return [
    `produce: ${w.partitions} partitions, records of ${w.recordSize} B (no key, uncompressed), ${w.batchRecords} per batch ` +
      `(~${(batch / 1024).toFixed(0)} KiB), one batch per partition per request${reqBytes ? ` (${fmtInt(reqBytes)} B requests)` : ''}, ` +
      `${w.window} in flight on 1 connection, prebuilt; ${w.seconds} s measured after ${w.warmup} s warmup, acks=1 then acks=all (separate topics)`,
    `fetch: the acks=1 topic from offset 0 to its high watermark, one fetch in flight, maxBytes ${fmtInt(w.fetchMaxBytes / MiB)} MiB, ` +
      `partition maxBytes ${fmtInt(w.fetchPartitionMaxBytes / MiB)} MiB`,
    ...(w.latencyRate > 0
      ? [
          `latency: the same requests at a fixed ${w.latencyRate} req/s (open loop, ≤ ${w.window} in flight), ${w.latencySeconds} s each for acks=1 and acks=all; ` +
            'latency = request written → response read, per request',
        ]
      : []),
    ...(Object.keys(r.baselines).length
      ? [
          w.pipeSeconds === undefined
            ? `baselines: ${w.baselineSeconds} s each, the same load generator process`
            : `baselines: ${w.baselineSeconds} s each, the TCP-to-file pipe as long as a produce phase (${w.pipeSeconds} s measured after ` +
              `${w.pipeWarmup ?? 0} s warmup: appends outlast free page cache and meet the kernel's writeback), the same load generator process`,
        ]
      : []),
    'MiB = 2^20 B: of record batches for produce and fetch (records are ~1 % larger than their values), raw bytes for the baselines',
  ];
}

function header(r: BenchReport): Array<[string, string]> {
  const m = r.machine;
  return [
    ['command', r.command],
    ['date', r.date],
    ['machine', `${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.kernel}`],
    ['runtimes', `Node ${m.node}; ${m.java}`],
    ['data dir', `${r.workload.dataDir} (${r.workload.keptDataDir ? 'kept' : 'removed after the run'})`],
    ['run time', `${r.totalSeconds.toFixed(0)} s`],
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

function textTable(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (t.right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [t.title, `  ${line(t.head)}`, ...t.rows.map((r) => `  ${line(r)}`)].join('\n');
}

function markdownTable(t: Table): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `**${t.title}**`,
    '',
    `| ${t.head.map(esc).join(' | ')} |`,
    `|${t.right.map((r) => (r ? '---:' : '---')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function renderText(r: BenchReport): string {
  const out: string[] = ['', 'Umbra broker benchmark', ''];
  const h = header(r);
  const w = Math.max(...h.map(([k]) => k.length));
  for (const [k, v] of h) out.push(`  ${k.padEnd(w)}  ${v}`);
  out.push('', 'Workload');
  for (const l of workloadLines(r)) out.push(`  ${l}`);
  const b = baselineTable(r);
  if (b) out.push('', textTable(b));
  if (r.targets.length) out.push('', textTable(brokerTable(r)));
  out.push('', textTable(ratioTable(r)));
  const n = notes(r);
  if (n.length) out.push('', 'Notes', ...n.map((l) => `  - ${l}`));
  for (const t of r.targets) if (t.how) out.push(`  - ${t.name} started as: ${t.how}`);
  out.push('');
  return out.join('\n');
}

export function renderMarkdown(r: BenchReport): string {
  const out: string[] = [`### ${r.date.slice(0, 10)}: ${r.machine.cpu}, ${r.machine.cores} cores`, ''];
  out.push('```', r.command, '```', '');
  for (const [k, v] of header(r)) if (k !== 'command' && k !== 'data dir') out.push(`- ${k}: ${v}`);
  for (const l of workloadLines(r)) out.push(`- ${l}`);
  const b = baselineTable(r);
  if (b) out.push('', markdownTable(b));
  if (r.targets.length) out.push('', markdownTable(brokerTable(r)));
  out.push('', markdownTable(ratioTable(r)));
  const n = notes(r);
  for (const t of r.targets) if (t.how) n.push(`${t.name} started as: \`${t.how}\``);
  if (n.length) out.push('', ...n.map((l) => `- ${l}`));
  out.push('');
  return out.join('\n');
}
