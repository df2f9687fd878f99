// Warming a JVM up before it is measured. A fresh Apache Kafka broker or MirrorMaker 2 spends its first minute or so
// compiling, at about half a core on a 2-core machine (bench/RESULTS.md: "JIT warm-up" under shadow replication, and
// issue 2's "Caveats"); a benchmark that measures from the start charges that to its first phases and takes it from
// every other process in them, where a deployment a user runs is long past it. Both benches run rounds of their own
// workload until the JVM's JIT compiler threads go quiet.

import { jitCompilerCpuSeconds } from './procs.js';

/** A JVM counts as warm once its JIT compiler threads use less than this over a round (cores). */
export const WARM_COMPILER_CORES = 0.1;

export interface JvmWarmup {
  seconds: number;
  rounds: number;
  /** CPU seconds of the JVM's JIT compiler threads during the warm-up */
  compilerCpuSeconds: number;
  /** cores its compiler threads used in the last round (under WARM_COMPILER_CORES unless the cap ended it) */
  lastRoundCompilerCores: number;
  capped: boolean;
}

/**
 * Runs `round` (a few seconds of load) until process `pid`'s JIT compiler threads used under WARM_COMPILER_CORES over
 * a round, or `capSeconds` have passed. A process without such threads (a Node broker) is done after one round.
 */
export async function warmUntilCompiled(pid: number, capSeconds: number, round: () => Promise<void>): Promise<JvmWarmup> {
  const started = performance.now();
  const total0 = jitCompilerCpuSeconds(pid);
  let rounds = 0;
  let last = NaN;
  let capped = false;
  for (;;) {
    const r0 = performance.now();
    const c0 = jitCompilerCpuSeconds(pid);
    await round();
    rounds++;
    last = (jitCompilerCpuSeconds(pid) - c0) / ((performance.now() - r0) / 1000);
    if (last < WARM_COMPILER_CORES) break;
    if ((performance.now() - started) / 1000 >= capSeconds) {
      capped = true;
      break;
    }
  }
  return { seconds: (performance.now() - started) / 1000, rounds, compilerCpuSeconds: jitCompilerCpuSeconds(pid) - total0, lastRoundCompilerCores: last, capped };
}

/** One line for a progress log: "warmed up for 48 s (6 rounds): JIT compiler 16.8 CPU s, 0.02 cores in the last round". */
export function warmupSummary(w: JvmWarmup): string {
  return (
    `warmed up for ${w.seconds.toFixed(0)} s (${w.rounds} rounds${w.capped ? ', capped' : ''}): JIT compiler ` +
    `${w.compilerCpuSeconds.toFixed(1)} CPU s, ${w.lastRoundCompilerCores.toFixed(2)} cores in the last round`
  );
}
