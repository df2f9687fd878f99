// The figures a `npm run bench:shadow` run produces (also its --json file), shared by the orchestrator and the
// report renderer.

import type { LatencySummary } from '../lib/jobs.js';
import type { JvmWarmup } from '../lib/jvm-warmup.js';
import type { ShadowOptions } from './options.js';

export interface LagStats {
  samples: number;
  max: number;
  p99: number;
  mean: number;
  /** lag at the last sample of the window */
  end: number;
  /** least-squares slope of lag over the window, messages per second (≈ 0: bounded) */
  slopePerSec: number;
  skippedTicks: number;
}

/** One measured phase of live replication: produce at a rate (or saturated) while the target follows. */
export interface LivePhase {
  label: string;
  /** % of the reference max ingest; null = saturated */
  percent: number | null;
  offeredReqPerSec: number | null;
  seconds: number;
  /** acknowledged by the source (load generator) */
  ingestRecPerSec: number;
  ingestMiBps: number;
  /** high watermark growth on the target over the window (monitor samples) */
  replRecPerSec: number;
  replMiBps: number;
  /** high watermark growth on the source over the same samples */
  sampledIngestRecPerSec: number;
  lag: LagStats;
  latency: LatencySummary | null;
  probes: number;
  probesUnanswered: number;
  probeOddities: number;
  /** cores used over the window, by process (source, shadow, mm2, loadgen, monitor) */
  cores: Record<string, number>;
  /** CPU seconds per GiB replicated in the window, by process */
  cpuSecPerGiB: Record<string, number>;
  /** cores used by processes that are not ours (a shared machine) */
  otherCores: number;
  produceLatencyMs: LatencySummary;
  lateSends: number;
  produceErrors: Record<string, number>;
  /** after the window: seconds until the target had everything (null: not within --drain-seconds) */
  drainSeconds: number | null;
  monitorErrors: string[];
  /**
   * Data the source deleted (retention) before it was replicated, during the phase: for the link, gaps it recorded
   * (umbra_shadow_link_gaps_total); for MirrorMaker 2, offset resets in its log. Non-zero: the replicated figure
   * counts skipped records, and the phase is not valid.
   */
  gaps: number;
  /** event-loop delay of the Umbra brokers over the phase (ms, p99 / max): where a latency tail was spent */
  eventLoop?: { source?: { p99: number; max: number }; shadow?: { p99: number; max: number } };
  /**
   * Shares of the phase spent waiting: each Node process's main thread ready to run with no CPU free (Umbra's event
   * loops, load generator, monitor; /proc/<pid>/task/<pid>/schedstat), and the machine's I/O and CPU pressure (PSI
   * `some`: some task waited). NaN where the kernel keeps no such figures.
   */
  waiting?: { mainThreads: Record<string, number>; ioPressure: number; cpuPressure: number };
  /** with UMBRA_BENCH_TRACE=1: the raw samples of the window (probe ack times and latencies, lag samples) */
  trace?: { startEpochMs: number; startMonotonicMs: number; probeAt: number[]; probeMs: number[]; lagAt: number[]; lag: number[] };
}

/** Replicating a backlog that was on the source before replication started (no ingest meanwhile). */
export interface CatchUp {
  backlogRecords: number;
  records: number;
  bytes: number;
  seconds: number;
  complete: boolean;
  recPerSec: number;
  MiBps: number;
  /** from starting the replicator to its first replicated record */
  firstRecordSeconds: number;
  cores: Record<string, number>;
  cpuSecPerGiB: Record<string, number>;
  otherCores: number;
}

export interface ReplicatorRun {
  kind: 'link' | 'mm2';
  name: string;
  how: string;
  /** from creating the link / starting MirrorMaker 2 to the first records through every partition */
  readySeconds: number;
  /** MirrorMaker 2: its warm-up before the first phase */
  warmup?: JvmWarmup;
  phases: LivePhase[];
  catchUp?: CatchUp;
  notes: string[];
  error?: string;
}

export interface NoLinkIngest {
  recPerSec: number;
  MiBps: number;
  produceLatencyMs: LatencySummary;
  cores: Record<string, number>;
  otherCores: number;
  backlogRecords: number;
}

export interface Scenario {
  source: 'umbra' | 'kafka';
  /** broker settings of every broker in the scenario (segment size: see options.ts trimPlan) */
  brokerSettings: Record<string, string | number>;
  /** what the bench's trimming keeps per partition, bytes: cut back to `keepBytes` once it holds `keepBytes + stepBytes` (absent: everything kept) */
  trim?: { keepBytes: number; stepBytes: number };
  sourceName: string;
  sourceHow: string;
  partitions: number;
  recordBytes: number;
  batchRecords: number;
  bytesPerRecord: number;
  perRequest: number;
  requestBytes: number;
  /** an Apache Kafka source: its warm-up before the no-link phase */
  sourceWarmup?: JvmWarmup;
  noLink?: NoLinkIngest;
  /** requests/s the source took, saturated, with the link replicating */
  saturatedReqPerSec?: number;
  /**
   * requests/s of the max ingest the percentages refer to: the saturated rate when the link kept up there, else the
   * highest rate of the search at which it kept up (no link run: the no-link max)
   */
  referenceReqPerSec?: number;
  /** the fixed-rate probes of that search */
  search?: { reqPerSec: number; MiBps: number; keptUp: boolean; lagMax: number; latencyP99: number }[];
  link?: ReplicatorRun;
  mm2?: ReplicatorRun;
  seconds: number;
  error?: string;
}

export interface IdleLinkCost {
  shadowCores: number;
  sourceCores: number;
  fetchRequestsPerSec: number;
  otherCores: number;
}

export interface IdleReport {
  partitions: number;
  seconds: number;
  /** from creating the link until every partition had an answer from the source */
  readySeconds: number;
  /** both brokers before the link existed (the topic already on the source) */
  before: { shadowCores: number; sourceCores: number };
  /** with the link over every partition (the link's default settings), nothing produced */
  link: IdleLinkCost;
  /** the same link with its topic metadata sync every second (as in the throughput runs) */
  fastSync?: IdleLinkCost;
  /** the lag sampler alone (ListOffsets every --sample-ms to both brokers) on a 256-partition topic, over idle */
  sampler?: { partitions: number; sourceCores: number; shadowCores: number };
  error?: string;
}

export interface ShadowBenchReport {
  command: string;
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number; kernel: string; node: string; java: string };
  options: ShadowOptions;
  mm2Properties: Record<string, string | number | boolean>;
  scenarios: Scenario[];
  idle?: IdleReport;
  profiles: string[];
  totalSeconds: number;
}
