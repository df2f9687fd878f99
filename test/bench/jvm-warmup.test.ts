// The benches' warm-up loop: rounds until a JVM's JIT compiler threads go quiet. A process without such threads (this
// Node process, like an Umbra broker) is warm after its first round.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { warmUntilCompiled, warmupSummary } from '../../bench/lib/jvm-warmup.js';
import { jitCompilerCpuSeconds } from '../../bench/lib/procs.js';

describe('bench JVM warm-up', () => {
  it('ends after one round for a process without JIT compiler threads', async () => {
    assert.equal(jitCompilerCpuSeconds(process.pid), 0);
    let calls = 0;
    const w = await warmUntilCompiled(process.pid, 60, async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
    });
    assert.equal(calls, 1);
    assert.equal(w.rounds, 1);
    assert.equal(w.capped, false);
    assert.equal(w.compilerCpuSeconds, 0);
    assert.ok(w.seconds >= 0.015 && w.seconds < 5, `${w.seconds}`);
    assert.match(warmupSummary(w), /^warmed up for \d+ s \(1 rounds\): JIT compiler 0\.0 CPU s, 0\.00 cores in the last round$/);
  });
});
