// The profile summariser's time window (only samples taken inside it count, whether the window is given on the
// monotonic clock or taken from a phase of a bench:shadow JSON file) and its split of a function's time by caller.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../bench/shadow/profile-summary.js', import.meta.url));

function summarise(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** self-time lines as name → percent */
function selfTimes(stdout: string): Map<string, number> {
  const section = stdout.split('\nself time:\n')[1]?.split('\n\ninclusive time:')[0] ?? '';
  const out = new Map<string, number>();
  for (const line of section.split('\n')) {
    const m = /^\s*([\d.]+) %\s+(\S+)/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}

describe('bench profile-summary', () => {
  let dir: string;
  let profile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-profile-summary-'));
    profile = join(dir, 'p.cpuprofile');
    // 20 samples 1 ms apart from 1,001 ms on: 10 under alphaWork, then 10 under betaWork.
    const frame = (functionName: string) => ({ functionName, url: '', lineNumber: 0, columnNumber: 0, scriptId: '0' });
    writeFileSync(
      profile,
      JSON.stringify({
        nodes: [
          { id: 1, callFrame: frame('(root)'), children: [2, 3] },
          { id: 2, callFrame: frame('alphaWork'), children: [4] },
          { id: 3, callFrame: frame('betaWork'), children: [5] },
          { id: 4, callFrame: frame('listen') },
          { id: 5, callFrame: frame('listen') },
        ],
        startTime: 1_000_000,
        endTime: 1_021_000,
        // alphaWork: 6 samples of its own, 4 in listen; betaWork: 9 of its own, 1 in listen
        samples: [2, 2, 2, 4, 4, 4, 4, 2, 2, 2, 3, 3, 3, 3, 5, 3, 3, 3, 3, 3],
        timeDeltas: Array(20).fill(1000),
      }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('counts every sample without a window', () => {
    const r = summarise(profile);
    assert.equal(r.status, 0, r.stderr);
    const self = selfTimes(r.stdout);
    assert.ok((self.get('alphaWork') ?? 0) > 25 && (self.get('betaWork') ?? 0) > 40 && (self.get('listen') ?? 0) > 20, r.stdout);
  });

  it('splits the time of a function by its callers (--callers)', () => {
    const r = summarise(profile, '--callers', 'listen');
    assert.equal(r.status, 0, r.stderr);
    const section = r.stdout.split('callers of listen')[1] ?? '';
    // listen: 4 ms under alphaWork, 1 ms under betaWork, of 19 ms busy (the last sample counts for nothing)
    assert.match(section, /\n\s+21\.1 %\s+alphaWork\n\s+5\.3 %\s+betaWork\n/);
    const windowed = summarise(profile, '--callers', 'listen', '--from', '1010.5', '--to', '1021');
    assert.match(windowed.stdout.split('callers of listen')[1] ?? '', /\n\s+11\.1 %\s+betaWork\n$/);
  });

  it('keeps only the samples inside --from/--to (monotonic ms)', () => {
    const r = summarise(profile, '--from', '1000', '--to', '1010.5');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([...selfTimes(r.stdout)], [['alphaWork', 60], ['listen', 40]]);
    assert.match(r.stdout, /in the window 1000\.\.1011 ms: 0\.0 s sampled/);
  });

  it('takes the window from a phase of a bench:shadow JSON file', () => {
    const json = join(dir, 'bench.json');
    const phase = (label: string, startMonotonicMs: number) => ({
      label,
      seconds: 0.0105,
      trace: { startEpochMs: 0, startMonotonicMs, probeAt: [], probeMs: [], lagAt: [], lag: [] },
    });
    writeFileSync(json, JSON.stringify({ scenarios: [{ link: { phases: [phase('saturated', 1000), phase('50 %', 1010.5)] } }] }));
    const r = summarise(profile, '--bench-json', json, '--phase', '50 %');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([...selfTimes(r.stdout)], [['betaWork', 88.9], ['listen', 11.1]]);

    const missing = summarise(profile, '--bench-json', json, '--phase', '100 %');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no link phase "100 %" \(phases: "saturated", "50 %"\)/);
  });

  it('refuses a window with no sample in it, and half a window', () => {
    const empty = summarise(profile, '--from', '5000', '--to', '6000');
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /no sample in the window 5000\.\.6000 ms \(the profile covers 1000\.\.1020\)/);
    const half = summarise(profile, '--from', '1000');
    assert.equal(half.status, 2);
    assert.match(half.stderr, /--from and --to go together/);
  });
});
