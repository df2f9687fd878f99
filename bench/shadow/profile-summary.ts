// Summarises a V8 .cpuprofile (node --cpu-prof, e.g. from `npm run bench:shadow -- --profile DIR`): the functions
// with the most self time, and the most inclusive time, as % of the samples.
//
//   node dist/bench/shadow/profile-summary.js FILE.cpuprofile [--top N] [--match TEXT] [--stalls MS]
//
// --match keeps only functions whose name or file contains TEXT in the inclusive list. --stalls adds where the
// event loop sat in one place for MS or longer: consecutive samples in the same function (a blocking call such
// as a write, rename or fsync samples as one long stretch), grouped by the innermost frames.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

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

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, match: { type: 'string' }, stalls: { type: 'string' } } });
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: profile-summary FILE.cpuprofile [--top N] [--match TEXT] [--stalls MS]\n');
  process.exit(2);
}
const top = Number(values.top);
const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;

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

// time per sample: the delta to the next sample
const self = new Map<string, number>();
const incl = new Map<string, number>();
let total = 0;
let idle = 0;
for (let i = 0; i < prof.samples.length; i++) {
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
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)\n\nself time:\n`);
for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(v)}  ${k}\n`);
process.stdout.write('\ninclusive time:\n');
const m = values.match;
for (const [k, v] of [...incl]
  .filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)') && (!m || k.includes(m)))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  process.stdout.write(`  ${pct(v)}  ${k}\n`);

if (values.stalls !== undefined) {
  const minUs = Number(values.stalls) * 1000;
  const groups = new Map<string, { count: number; us: number; maxUs: number }>();
  for (let i = 0; i < prof.samples.length; ) {
    let j = i;
    while (j + 1 < prof.samples.length && prof.samples[j + 1] === prof.samples[i]) j++;
    let us = 0;
    for (let k = i; k <= j; k++) us += prof.timeDeltas[k + 1] ?? 0;
    const node = byId.get(prof.samples[i]!)!;
    if (us >= minUs && !label(node).startsWith('(idle)')) {
      const frames: string[] = [];
      for (let id: number | undefined = node.id; id !== undefined && frames.length < 4; id = parent.get(id)) {
        const l = label(byId.get(id)!);
        if (l !== '(root)') frames.push(l);
      }
      const key = frames.join(' < ');
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
