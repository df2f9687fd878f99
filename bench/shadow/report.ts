// Renders a shadow benchmark run (types.ts) as text tables for the terminal and as a markdown section for
// bench/RESULTS.md, with the targets of issue 6 and a verdict for each.

import type { JvmWarmup } from '../lib/jvm-warmup.js';
import type { LivePhase, ReplicatorRun, Scenario, ShadowBenchReport } from './types.js';

interface Table {
  title: string;
  head: string[];
  rows: string[][];
  /** columns aligned right (numbers) */
  right?: boolean[];
}

const fmtInt = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : Math.round(n).toLocaleString('en-US'));
const fmtRate = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
const fmtMs = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const fmt2 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(2));
const fmtPct = (cores: number | undefined) => (cores === undefined || !Number.isFinite(cores) ? '—' : `${(cores * 100).toFixed(2)} %`);
const fmtMiB = (b: string | number | undefined) => (b === undefined ? '—' : (Number(b) / (1 << 20)).toFixed(Number(b) % (1 << 20) ? 1 : 0));
const fmtX = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n >= 10 ? `${n.toFixed(0)}×` : `${n.toFixed(2)}×`);

function scenarioName(s: Scenario): string {
  return `${s.source === 'umbra' ? 'Umbra' : 'Kafka'} → Umbra, ${s.partitions} p, ${s.recordBytes >= 1024 ? `${s.recordBytes / 1024} KiB` : `${s.recordBytes} B`}`;
}

function phase(run: ReplicatorRun | undefined, label: string): LivePhase | undefined {
  return run?.phases.find((p) => p.label === label);
}

function pctPhase(run: ReplicatorRun | undefined, pct: number): LivePhase | undefined {
  return run?.phases.find((p) => p.percent === pct);
}

/** CPU seconds per GiB of the replication machinery: the shadow broker, plus MirrorMaker 2 itself for MM2. */
function replicationCpu(p: LivePhase | undefined | { cpuSecPerGiB: Record<string, number> }): number {
  if (!p) return NaN;
  const c = p.cpuSecPerGiB;
  return (c.shadow ?? NaN) + (c.mm2 ?? 0);
}

// ---- verdicts -------------------------------------------------------------------------------------------

export interface Verdict {
  target: string;
  scenario: string;
  value: string;
  pass: boolean | null;
}

/** Replication keeps up at saturation: Δtarget ≥ 0.99 Δsource over the window and drained within 1 s after it. */
function keepsUp(p: LivePhase | undefined): { ratio: number; bounded: boolean } {
  if (!p) return { ratio: NaN, bounded: false };
  const ratio = p.replRecPerSec / p.sampledIngestRecPerSec;
  return { ratio, bounded: p.drainSeconds !== null && p.drainSeconds <= 1 };
}

export function verdicts(r: ShadowBenchReport): Verdict[] {
  const out: Verdict[] = [];
  for (const s of r.scenarios) {
    const name = scenarioName(s);
    const sat = phase(s.link, 'saturated');
    if (sat) {
      const k = keepsUp(sat);
      out.push({
        target: 'replication ≥ 1.0× ingest, lag bounded (saturated)',
        scenario: name,
        value: `${fmt2(k.ratio)}×, drained in ${sat.drainSeconds === null ? '> cap' : `${sat.drainSeconds.toFixed(2)} s`}`,
        pass: Number.isFinite(k.ratio) ? k.ratio >= 0.99 && k.bounded : null,
      });
    }
    const half = pctPhase(s.link, 50);
    if (half) {
      const l = half.latency;
      out.push({
        target: 'latency p50 ≤ 2 ms, p99 ≤ 10 ms at 50 %',
        scenario: name,
        value: l ? `${fmtMs(l.p50)} / ${fmtMs(l.p99)} ms` : 'no probes',
        pass: l ? l.p50 <= 2 && l.p99 <= 10 : null,
      });
    }
    const full = pctPhase(s.link, 100);
    if (full) {
      out.push({
        target: 'lag < 10,000 messages at 100 % (max of 10 ms samples)',
        scenario: name,
        value: `max ${fmtInt(full.lag.max)}, p99 ${fmtInt(full.lag.p99)}`,
        pass: Number.isFinite(full.lag.max) ? full.lag.max < 10_000 : null,
      });
    }
    if (s.link?.catchUp && s.mm2?.catchUp) {
      const ratio = s.link.catchUp.MiBps / s.mm2.catchUp.MiBps;
      out.push({ target: '≥ 3× MirrorMaker 2 throughput (catch-up)', scenario: name, value: fmtX(ratio), pass: Number.isFinite(ratio) ? ratio >= 3 : null });
    }
    const mHalf = pctPhase(s.mm2, 50);
    if (half && mHalf) {
      const ratio = replicationCpu(half) / replicationCpu(mHalf);
      out.push({ target: 'CPU per GiB ≤ 1/3 of MirrorMaker 2 (50 %)', scenario: name, value: fmtX(ratio), pass: Number.isFinite(ratio) ? ratio <= 1 / 3 : null });
      const lr = half.latency && mHalf.latency ? half.latency.p99 / mHalf.latency.p99 : NaN;
      out.push({ target: 'p99 latency ≤ 1/10 of MirrorMaker 2 (50 %)', scenario: name, value: fmtX(lr), pass: Number.isFinite(lr) ? lr <= 0.1 : null });
    }
  }
  if (r.idle && !r.idle.error) {
    out.push({
      target: `${fmtInt(r.idle.partitions)} idle shadow partitions < 5 % of a core`,
      scenario: 'Umbra → Umbra, idle (link defaults)',
      value: `shadow ${fmtPct(r.idle.link.shadowCores)} (${fmtPct(r.idle.before.shadowCores)} without the link)`,
      pass: r.idle.link.shadowCores < 0.05,
    });
  }
  return out;
}

// ---- tables ---------------------------------------------------------------------------------------------

function saturationTable(r: ShadowBenchReport): Table {
  const rows: string[][] = [];
  for (const s of r.scenarios) {
    const sat = phase(s.link, 'saturated');
    const msat = phase(s.mm2, 'saturated');
    const k = keepsUp(sat);
    rows.push([
      scenarioName(s),
      `${fmtRate(s.noLink?.MiBps)} / ${fmtInt(s.noLink?.recPerSec)}`,
      `${fmtRate(sat?.ingestMiBps)} / ${fmtInt(sat?.ingestRecPerSec)}`,
      `${fmtRate(sat?.replMiBps)} (${fmt2(k.ratio)}×)`,
      sat ? `${fmtInt(sat.lag.max)} / ${fmtInt(sat.lag.p99)}` : '—',
      sat ? (sat.drainSeconds === null ? '> cap' : fmt2(sat.drainSeconds)) : '—',
      sustainedMiBps(s) === undefined ? '—' : `${fmtRate(sustainedMiBps(s))} (${fmt2(sustainedMiBps(s)! / (s.noLink?.MiBps ?? NaN))}×)`,
      `${fmtRate(msat?.ingestMiBps)} / ${fmtRate(msat?.replMiBps)}`,
      `${fmtRate(s.link?.catchUp?.MiBps)}${s.link?.catchUp && !s.link.catchUp.complete ? '*' : ''}`,
      `${fmtRate(s.mm2?.catchUp?.MiBps)}${s.mm2?.catchUp && !s.mm2.catchUp.complete ? '*' : ''}`,
      s.link?.catchUp && s.mm2?.catchUp ? fmtX(s.link.catchUp.MiBps / s.mm2.catchUp.MiBps) : '—',
    ]);
  }
  return {
    title: 'Throughput: max ingest and replication (MiB/s of record batches)',
    head: [
      'scenario',
      'no link: ingest MiB/s / rec/s',
      'link: ingest MiB/s / rec/s',
      'link: replicated MiB/s (÷ ingest)',
      'link: lag max / p99 (msgs)',
      'link: drain s',
      'link keeps up to: MiB/s (÷ no link)',
      'MM2 saturated: ingest / replicated MiB/s',
      'catch-up link MiB/s',
      'catch-up MM2 MiB/s',
      'link ÷ MM2',
    ],
    rows,
    right: [false, true, true, true, true, true, true, true, true, true, true],
  };
}

/** The max ingest the link kept up with (MiB/s), when the link ran. */
function sustainedMiBps(s: Scenario): number | undefined {
  if (!s.link || s.referenceReqPerSec === undefined) return undefined;
  return (s.referenceReqPerSec * s.batchRecords * s.perRequest * s.bytesPerRecord) / (1 << 20);
}

function latencyTable(r: ShadowBenchReport): Table {
  const rows: string[][] = [];
  for (const s of r.scenarios) {
    for (const pct of r.options.rates) {
      const l = pctPhase(s.link, pct);
      const m = pctPhase(s.mm2, pct);
      if (!l && !m) continue;
      const lat = (p: LivePhase | undefined) => (p?.latency ? `${fmtMs(p.latency.p50)} / ${fmtMs(p.latency.p99)} / ${fmtMs(p.latency.max)}` : '—');
      const lag = (p: LivePhase | undefined) => (p ? `${fmtInt(p.lag.max)} / ${fmtInt(p.lag.p99)}` : '—');
      rows.push([
        scenarioName(s),
        `${pct} %`,
        fmtRate(l?.ingestMiBps ?? m?.ingestMiBps),
        fmtRate(l?.replMiBps),
        lag(l),
        lat(l),
        fmtRate(m?.replMiBps),
        lag(m),
        lat(m),
        l?.latency && m?.latency ? fmtX(m.latency.p99 / l.latency.p99) : '—',
      ]);
    }
  }
  return {
    title: 'Lag and replication latency at fixed rates (% of the max ingest the link keeps up with)',
    head: [
      'scenario',
      'rate',
      'ingest MiB/s',
      'link: replicated MiB/s',
      'link: lag max / p99',
      'link: latency p50 / p99 / max ms',
      'MM2: replicated MiB/s',
      'MM2: lag max / p99',
      'MM2: latency p50 / p99 / max ms',
      'MM2 p99 ÷ link p99',
    ],
    rows,
    right: [false, true, true, true, true, true, true, true, true, true],
  };
}

function cpuTable(r: ShadowBenchReport): Table {
  const rows: string[][] = [];
  const c = (p: { cpuSecPerGiB: Record<string, number> } | undefined, k: string) => fmt2(p?.cpuSecPerGiB[k]);
  for (const s of r.scenarios) {
    const l = pctPhase(s.link, 50);
    const m = pctPhase(s.mm2, 50);
    const lc = s.link?.catchUp;
    const mc = s.mm2?.catchUp;
    rows.push([
      scenarioName(s),
      `${c(l, 'shadow')} / ${c(l, 'source')}`,
      `${c(m, 'mm2')} + ${c(m, 'shadow')} / ${c(m, 'source')}`,
      l && m ? fmtX(replicationCpu(l) / replicationCpu(m)) : '—',
      `${c(lc, 'shadow')} / ${c(lc, 'source')}`,
      `${c(mc, 'mm2')} + ${c(mc, 'shadow')} / ${c(mc, 'source')}`,
      lc && mc ? fmtX(replicationCpu(lc) / replicationCpu(mc)) : '—',
      `${c(l, 'loadgen')} / ${c(l, 'monitor')}`,
    ]);
  }
  return {
    title: 'CPU seconds per GiB replicated, by process',
    head: [
      'scenario',
      '50 %: link shadow / source',
      '50 %: MM2 + target / source',
      '50 %: link ÷ MM2 (replication)',
      'catch-up: link shadow / source',
      'catch-up: MM2 + target / source',
      'catch-up: link ÷ MM2',
      '50 %: loadgen / monitor (link run)',
    ],
    rows,
    right: [false, true, true, true, true, true, true, true],
  };
}

function verdictTable(r: ShadowBenchReport): Table {
  return {
    title: 'Targets (issue 6)',
    head: ['target', 'scenario', 'measured', 'verdict'],
    rows: verdicts(r).map((v) => [v.target, v.scenario, v.value, v.pass === null ? '—' : v.pass ? 'pass' : 'MISS']),
  };
}

function idleTable(r: ShadowBenchReport): Table | null {
  const i = r.idle;
  if (!i) return null;
  const rows: string[][] = [];
  if (i.error) rows.push(['error', i.error]);
  else {
    rows.push(['shadow, before the link', fmtPct(i.before.shadowCores)]);
    rows.push(['source, before the link', fmtPct(i.before.sourceCores)]);
    rows.push([`shadow, link over ${fmtInt(i.partitions)} idle partitions (default settings)`, fmtPct(i.link.shadowCores)]);
    rows.push([`source, serving that link`, fmtPct(i.link.sourceCores)]);
    rows.push(['Fetch requests/s at the source', fmt2(i.link.fetchRequestsPerSec)]);
    if (i.fastSync) {
      rows.push(['shadow / source, the same link with topic metadata sync every 1 s', `${fmtPct(i.fastSync.shadowCores)} / ${fmtPct(i.fastSync.sourceCores)}`]);
    }
    rows.push(['link ready (every partition answered) after', `${fmt2(i.readySeconds)} s`]);
    rows.push(['CPU of other processes meanwhile', `${fmt2(i.link.otherCores)} cores`]);
    if (i.sampler) rows.push([`lag sampler alone (${i.sampler.partitions} partitions, every ${r.options.sampleMs} ms): shadow / source`, `+${fmtPct(i.sampler.shadowCores)} / +${fmtPct(i.sampler.sourceCores)}`]);
  }
  return { title: `Idle cost (${i.seconds} s measured, % of one core)`, head: ['', 'CPU'], rows, right: [false, true] };
}

const pct = (share: number): string => (Number.isFinite(share) ? `${(share * 100).toFixed(0)} %` : '—');

/** "source 12 %, shadow 9 %, loadgen 3 %, monitor 2 %" */
function waitingThreads(w: NonNullable<LivePhase['waiting']>): string {
  return (
    Object.entries(w.mainThreads)
      .map(([k, v]) => `${k} ${pct(v)}`)
      .join(', ') || '—'
  );
}

/** "main threads waiting for a CPU: source 12 %, shadow 9 %, …; I/O pressure 14 %, CPU pressure 30 %" */
export function waitingText(w: NonNullable<LivePhase['waiting']>): string {
  return `main threads waiting for a CPU: ${waitingThreads(w)}; I/O pressure ${pct(w.ioPressure)}, CPU pressure ${pct(w.cpuPressure)}`;
}

/** "source 12 %, shadow 9 %, loadgen 3 %, monitor 2 % / I/O 14 %, CPU 30 %" */
function waitingCell(w: NonNullable<LivePhase['waiting']>): string {
  return `${waitingThreads(w)} / I/O ${pct(w.ioPressure)}, CPU ${pct(w.cpuPressure)}`;
}

function detailTable(s: Scenario): Table {
  const rows: string[][] = [];
  for (const run of [s.link, s.mm2]) {
    if (!run) continue;
    for (const p of run.phases) {
      rows.push([
        run.kind === 'link' ? 'link' : 'MM2',
        p.label,
        fmtRate(p.ingestMiBps),
        fmtRate(p.replMiBps),
        `${fmtInt(p.lag.max)} / ${fmtInt(p.lag.p99)} / ${fmtInt(p.lag.mean)}`,
        fmtInt(p.lag.slopePerSec),
        p.latency ? `${fmtMs(p.latency.p50)} / ${fmtMs(p.latency.p99)} / ${fmtMs(p.latency.max)} (${p.probes})` : `— (${p.probesUnanswered} unanswered)`,
        Object.entries(p.cores)
          .map(([k, v]) => `${k} ${fmt2(v)}`)
          .join(', '),
        fmt2(p.otherCores),
        p.drainSeconds === null ? '> cap' : fmt2(p.drainSeconds),
        `${fmtMs(p.produceLatencyMs.p50)} / ${fmtMs(p.produceLatencyMs.p99)}${p.lateSends ? ` (${p.lateSends} late)` : ''}`,
        String(p.gaps ?? 0),
        p.waiting ? waitingCell(p.waiting) : '—',
      ]);
    }
    if (run.catchUp) {
      const c = run.catchUp;
      rows.push([
        run.kind === 'link' ? 'link' : 'MM2',
        `catch-up${c.complete ? '' : ' (capped)'}`,
        '—',
        fmtRate(c.MiBps),
        `${fmtInt(c.records)} of ${fmtInt(c.backlogRecords)} in ${fmt2(c.seconds)} s`,
        '—',
        `first record after ${fmt2(c.firstRecordSeconds)} s`,
        Object.entries(c.cores)
          .map(([k, v]) => `${k} ${fmt2(v)}`)
          .join(', '),
        fmt2(c.otherCores),
        '—',
        '—',
        '—',
        '—',
      ]);
    }
  }
  return {
    title: `${scenarioName(s)}: ${s.batchRecords} records per batch, ${s.perRequest} batches per request (${fmtInt(s.requestBytes)} B)${
      s.brokerSettings && Object.keys(s.brokerSettings).length ? `, segments ${fmtMiB(s.brokerSettings['log.segment.bytes'])} MiB` : ''
    }${
      s.trim ? `, each partition cut back to ${fmtMiB(s.trim.keepBytes)} MiB once it holds ${fmtMiB(s.trim.keepBytes + s.trim.stepBytes)} MiB` : ''
    }${warmupText(s)}, ${fmt2(s.seconds)} s`,
    head: ['replicator', 'phase', 'ingest MiB/s', 'replicated MiB/s', 'lag max / p99 / mean', 'lag slope /s', 'latency p50 / p99 / max ms (probes)', 'cores', 'other cores', 'drain s', 'produce p50 / p99 ms', 'gaps', 'waiting for a CPU (main threads) / I/O and CPU pressure'],
    rows,
    right: [false, false, true, true, true, true, true, false, true, true, true, true, false],
  };
}

/** The JVM warm-ups of a scenario (--jvm-warmup), for its table's title. */
function warmupText(s: Scenario): string {
  const one = (what: string, w: JvmWarmup | undefined) =>
    w ? `${what} ${fmt2(w.seconds)} s (${w.capped ? 'capped, ' : ''}JIT compiler ${fmt2(w.lastRoundCompilerCores)} cores at the end)` : null;
  const parts = [one('the source', s.sourceWarmup), one('MirrorMaker 2', s.mm2?.warmup)].filter((x) => x !== null);
  return parts.length ? `; JVM warm-up: ${parts.join(', ')}` : '';
}

function textTable(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (t.right?.[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [t.title, line(t.head), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

function markdownTable(t: Table): string {
  const sep = t.head.map((_, i) => (t.right?.[i] ? '---:' : '---'));
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`**${t.title}**`, '', `| ${t.head.map(esc).join(' | ')} |`, `| ${sep.join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function headerLines(r: ShadowBenchReport): string[] {
  const o = r.options;
  const m = r.machine;
  const lines = [
    `date: ${r.date}`,
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.kernel}`,
    `runtimes: Node ${m.node}; ${m.java}`,
    `run time: ${Math.round(r.totalSeconds)} s`,
    `load: prebuilt batches of ${o.batchBytes} value bytes, ≤ ${o.perRequest} partitions per request, ${o.window} requests in flight, acks=1, uncompressed, no keys; ${o.seconds} s measured per phase after ${o.warmup} s warmup`,
    `lag: Σ source HWM − Σ target HWM, ListOffsets to both every ${o.sampleMs} ms; latency: a probe record every ${o.probeMs} ms, source ack → readable on the target (long-poll Fetch)`,
    `MirrorMaker 2: ${Object.entries(r.mm2Properties)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ')}; tasks.max = partitions; heap ${o.mm2.heapMb > 0 ? `${o.mm2.heapMb} MiB` : '128 MiB per task, 2-8 GiB'}`,
  ];
  if (o.umbraRoot) lines.push(`Umbra brokers started from ${o.umbraRoot}`);
  if (typeof o.referenceMiB === 'number') lines.push(`fixed rates: % of ${o.referenceMiB} MiB/s (--reference-mib), not searched`);
  const src = r.scenarios.find((s) => s.source === 'kafka');
  if (src) lines.push(`Apache Kafka source: ${src.sourceHow}`);
  if (r.profiles.length) lines.push(`profiles: ${r.profiles.join(', ')}`);
  return lines;
}

function errors(r: ShadowBenchReport): string[] {
  const out: string[] = [];
  for (const s of r.scenarios) {
    if (s.error) out.push(`${scenarioName(s)}: ${s.error}`);
    for (const run of [s.link, s.mm2]) {
      if (run?.error) out.push(`${scenarioName(s)} ${run.name}: ${run.error}`);
      for (const n of run?.notes ?? []) out.push(`${scenarioName(s)} ${run!.name}: ${n}`);
      if (run?.kind === 'link' && s.search && s.search.length > 0) {
        out.push(
          `${scenarioName(s)}: the link fell behind at saturation; fixed-rate probes (4 s): ${s.search
            .map((x) => `${fmtRate(x.MiBps)} MiB/s ${x.keptUp ? 'kept up' : `fell behind (lag max ${fmtInt(x.lagMax)})`}`)
            .join(', ')}`,
        );
      }
      for (const p of run?.phases ?? []) {
        if (p.gaps) out.push(`${scenarioName(s)} ${run!.name}, ${p.label}: ${p.gaps} gap(s): retention deleted data before it was replicated; the replicated rate counts the skipped records`);
        if (p.monitorErrors.length) out.push(`${scenarioName(s)} ${run!.name}, ${p.label}: monitor: ${p.monitorErrors.join('; ')}`);
      }
    }
  }
  return out;
}

function tables(r: ShadowBenchReport): Table[] {
  const out = [saturationTable(r), latencyTable(r), cpuTable(r)];
  const idle = idleTable(r);
  if (idle) out.push(idle);
  out.push(verdictTable(r));
  return out;
}

export function renderText(r: ShadowBenchReport): string {
  const parts = [`${r.command}`, ...headerLines(r), ''];
  for (const t of tables(r)) parts.push(textTable(t), '');
  for (const s of r.scenarios) parts.push(textTable(detailTable(s)), '');
  const errs = errors(r);
  if (errs.length) parts.push('Notes and errors:', ...errs.map((e) => `- ${e}`), '');
  return `${parts.join('\n')}\n`;
}

export function renderMarkdown(r: ShadowBenchReport): string {
  const parts = [`### ${r.date.slice(0, 10)}: ${r.machine.cpu}, ${r.machine.cores} cores`, '', '```', r.command, '```', '', ...headerLines(r).map((l) => `- ${l}`), ''];
  for (const t of tables(r)) parts.push(markdownTable(t), '');
  parts.push('<details><summary>Every phase of every scenario</summary>', '');
  for (const s of r.scenarios) parts.push(markdownTable(detailTable(s)), '');
  parts.push('</details>', '');
  const errs = errors(r);
  if (errs.length) parts.push('Notes and errors:', '', ...errs.map((e) => `- ${e.split('\n')[0]}`), '');
  return `${parts.join('\n')}\n`;
}
