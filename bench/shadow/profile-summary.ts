// Summarises a V8 .cpuprofile (node --cpu-prof, e.g. from `npm run bench:shadow -- --profile DIR`): the functions
// with the most self time, and the most inclusive time, as % of the samples.
//
//   node dist/bench/shadow/profile-summary.js FILE.cpuprofile [--top N] [--match TEXT] [--stalls MS]
//       [--callers NAME] [--from MS --to MS | --bench-json FILE --phase LABEL [--scenario N]]
//
// --match keeps only functions whose name or file contains TEXT in the inclusive list. --stalls adds where the
// event loop sat in one place for MS or longer: consecutive samples in the same function (a blocking call such
// as a write, rename or fsync samples as one long stretch), grouped by the innermost frames. --callers adds who calls
// the functions named NAME: their inclusive time grouped by the three frames above them (which of many callers of
// addEventListener, say, is the one that costs).
//
// A window keeps only the samples taken in it, so that one phase of a bench run (say the 50 % one) is not mixed
// with the saturated phase and the catch-up around it. --from/--to are CLOCK_MONOTONIC milliseconds, the clock of
// V8's sample timestamps; --bench-json takes the window of a phase of the link from a `bench:shadow --json` file
// written with UMBRA_BENCH_TRACE=1 (its phases carry their start on that clock): --phase is the phase's label
// ("50 %", "saturated"), --scenario the scenario's index in the file (default 0).

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ShadowBenchReport as BenchReport } from './types.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const USAGE =
  'usage: profile-summary FILE.cpuprofile [--top N] [--match TEXT] [--stalls MS] [--callers NAME]\n' +
  '                       [--from MS --to MS | --bench-json FILE --phase LABEL [--scenario N]]\n';

function fail(message: string): never {
  process.stderr.write(`profile-summary: ${message}\n${USAGE}`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    match: { type: 'string' },
    stalls: { type: 'string' },
    callers: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'bench-json': { type: 'string' },
    phase: { type: 'string' },
    scenario: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const file = positionals[0];
if (!file) fail('no profile file given');
const top = Number(values.top);
const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;

/** The window of a link phase in a bench:shadow JSON file, on CLOCK_MONOTONIC (ms). */
function phaseWindow(jsonFile: string, label: string, scenarioIndex: number): { fromMs: number; toMs: number } {
  const report = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as BenchReport;
  const sc = report.scenarios[scenarioIndex];
  if (sc === undefined) fail(`${jsonFile} has ${report.scenarios.length} scenario(s); --scenario ${scenarioIndex} is not one`);
  const phase = sc.link?.phases.find((p) => p.label === label);
  if (phase === undefined) fail(`scenario ${scenarioIndex} has no link phase "${label}" (phases: ${(sc.link?.phases ?? []).map((p) => `"${p.label}"`).join(', ')})`);
  if (phase.trace === undefined) fail(`phase "${label}" has no trace: run the bench with UMBRA_BENCH_TRACE=1`);
  return { fromMs: phase.trace.startMonotonicMs, toMs: phase.trace.startMonotonicMs + phase.seconds * 1000 };
}

let window: { fromMs: number; toMs: number } | null = null;
if (values['bench-json'] !== undefined) {
  if (values.phase === undefined) fail('--bench-json needs --phase');
  window = phaseWindow(values['bench-json'], values.phase, Number(values.scenario));
} else if (values.from !== undefined || values.to !== undefined) {
  if (values.from === undefined || values.to === undefined) fail('--from and --to go together');
  window = { fromMs: Number(values.from), toMs: Number(values.to) };
}
if (window !== null && !(window.toMs > window.fromMs)) fail(`empty window ${window.fromMs}..${window.toMs}`);

// Sample i was taken at startTime + timeDeltas[0..i] (µs); it counts for the time until the next sample.
const inWindow: boolean[] = [];
{
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    inWindow.push(window === null || (t >= window.fromMs * 1000 && t < window.toMs * 1000));
  }
  if (window !== null && !inWindow.includes(true)) {
    const endMs = t / 1000;
    fail(`no sample in the window ${window.fromMs.toFixed(0)}..${window.toMs.toFixed(0)} ms (the profile covers ${(prof.startTime / 1000).toFixed(0)}..${endMs.toFixed(0)})`);
  }
}

const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const n of prof.nodes) byId.set(n.id, n);
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: ProfileNode): string => {
  const f = n.callFrame;
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const u = f.url.replace(/^file:\/\//, '');
  const short = u.includes('/dist/') ? u.slice(u.indexOf('/dist/') + 6) : path.basename(u);
  return `${name} ${short}:${f.lineNumber + 1}`;
};

/** up to `depth` frames from `id` outwards ("inner < outer"), the root left out */
function stackText(id: number | undefined, depth: number): string {
  const frames: string[] = [];
  for (; id !== undefined && frames.length < depth; id = parent.get(id)) {
    const l = label(byId.get(id)!);
    if (l !== '(root)') frames.push(l);
  }
  return frames.join(' < ');
}

// time per sample: the delta to the next sample
const self = new Map<string, number>();
const incl = new Map<string, number>();
let total = 0;
let idle = 0;
for (let i = 0; i < prof.samples.length; i++) {
  if (!inWindow[i]) continue;
  const dt = prof.timeDeltas[i + 1] ?? 0;
  const node = byId.get(prof.samples[i]!)!;
  total += dt;
  const l = label(node);
  if (l.startsWith('(idle)')) idle += dt;
  self.set(l, (self.get(l) ?? 0) + dt);
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const k = label(byId.get(id)!);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + dt);
  }
}
const busy = total - idle;
const pct = (v: number) => `${((v / busy) * 100).toFixed(1).padStart(5)} %`;
const windowText = window === null ? '' : ` in the window ${window.fromMs.toFixed(0)}..${window.toMs.toFixed(0)} ms`;
process.stdout.write(`${file}${windowText}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)\n\nself time:\n`);
for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(v)}  ${k}\n`);
process.stdout.write('\ninclusive time:\n');
const m = values.match;
for (const [k, v] of [...incl]
  .filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)') && (!m || k.includes(m)))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  process.stdout.write(`  ${pct(v)}  ${k}\n`);

if (values.callers !== undefined) {
  const name = values.callers;
  const byCaller = new Map<string, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    if (!inWindow[i]) continue;
    const dt = prof.timeDeltas[i + 1] ?? 0;
    // the outermost frame of that name in this stack (recursion counts once), and the three frames above it
    let found: number | undefined;
    for (let id: number | undefined = prof.samples[i]; id !== undefined; id = parent.get(id)) if (byId.get(id)!.callFrame.functionName === name) found = id;
    if (found === undefined) continue;
    const key = stackText(parent.get(found), 3) || '(no caller)';
    byCaller.set(key, (byCaller.get(key) ?? 0) + dt);
  }
  process.stdout.write(`\ncallers of ${name} (inclusive time, the three frames above it):\n`);
  if (byCaller.size === 0) process.stdout.write('  (no sample)\n');
  for (const [k, v] of [...byCaller].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(v)}  ${k}\n`);
}

if (values.stalls !== undefined) {
  const minUs = Number(values.stalls) * 1000;
  const groups = new Map<string, { count: number; us: number; maxUs: number }>();
  for (let i = 0; i < prof.samples.length; ) {
    if (!inWindow[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < prof.samples.length && inWindow[j + 1] && prof.samples[j + 1] === prof.samples[i]) j++;
    let us = 0;
    for (let k = i; k <= j; k++) us += prof.timeDeltas[k + 1] ?? 0;
    const node = byId.get(prof.samples[i]!)!;
    if (us >= minUs && !label(node).startsWith('(idle)')) {
      const key = stackText(node.id, 4);
      const g = groups.get(key) ?? { count: 0, us: 0, maxUs: 0 };
      g.count++;
      g.us += us;
      g.maxUs = Math.max(g.maxUs, us);
      groups.set(key, g);
    }
    i = j + 1;
  }
  process.stdout.write(`\nstalls of ${values.stalls} ms or more (count, total, longest, innermost frames):\n`);
  for (const [k, g] of [...groups].sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
    process.stdout.write(`  ${String(g.count).padStart(4)}× ${(g.us / 1000).toFixed(0).padStart(6)} ms  max ${(g.maxUs / 1000).toFixed(0).padStart(4)} ms  ${k}\n`);
  }
}
