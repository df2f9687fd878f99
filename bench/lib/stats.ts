// Small measurement helpers shared by the load generator and the orchestrator.

import type { CpuShare, LatencySummary } from './jobs.js';

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarizeLatency(samples: Float64Array): LatencySummary {
  const a = samples.slice().sort(); // typed arrays sort numerically
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]!;
  return {
    count: a.length,
    p50: percentile(a, 50),
    p99: percentile(a, 99),
    p999: percentile(a, 99.9),
    max: a.length ? a[a.length - 1]! : NaN,
    mean: a.length ? sum / a.length : NaN,
  };
}

/** CPU used by this process between two marks. */
export class CpuMeter {
  private readonly startCpu = process.cpuUsage();
  private readonly startWall = performance.now();

  read(): CpuShare {
    const d = process.cpuUsage(this.startCpu);
    const wallSeconds = (performance.now() - this.startWall) / 1000;
    const userSeconds = d.user / 1e6;
    const systemSeconds = d.system / 1e6;
    return { userSeconds, systemSeconds, wallSeconds, cores: wallSeconds > 0 ? (userSeconds + systemSeconds) / wallSeconds : 0 };
  }
}

/** Growable float64 sample store (no per-sample allocation). */
export class Samples {
  private data = new Float64Array(1 << 14);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
