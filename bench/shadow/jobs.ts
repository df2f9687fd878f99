// What the shadow benchmark's orchestrator (bench/shadow/main.ts) asks its two agent processes to do, and what comes
// back over IPC. One agent is the load generator (produce jobs), the other the monitor (lag sampler and latency
// probes): the probes' timestamps must not wait behind a saturated produce loop in the same event loop.

import type { CpuShare, LatencySummary } from '../lib/jobs.js';

export interface Endpoint {
  host: string;
  port: number;
}

/** Produce to `partitions` partitions of `topic`: each request carries one batch for each of `perRequest` partitions. */
export interface ShadowProduceJob {
  kind: 'produce';
  broker: Endpoint;
  topic: string;
  partitions: number;
  /** partitions per request (consecutive, rotating over all partitions) */
  perRequest: number;
  recordSize: number;
  /** records per batch */
  batchRecords: number;
  /** requests in flight on the one connection */
  window: number;
  acks: number;
  warmupSeconds: number;
  seconds: number;
  /** requests per second on a fixed schedule (open loop); absent = as fast as the window allows */
  rate?: number;
  /** Produce version (≤ 12: topic names) */
  version: number;
}

export interface ShadowProduceResult {
  kind: 'produce';
  /** measured window */
  seconds: number;
  records: number;
  /** record-batch bytes acknowledged in the window */
  bytes: number;
  requests: number;
  latencyMs: LatencySummary;
  /** acknowledged over the whole job */
  totalRecordsAcked: number;
  totalBytesAcked: number;
  errors: Record<string, number>;
  requestBytes: number;
  /** record-batch bytes per record (batch overhead included): converts records to bytes */
  bytesPerRecord: number;
  recordsPerRequest: number;
  rate: number | null;
  /** fixed rate only: requests sent more than 5 ms behind schedule */
  lateSends: number;
  cpu: CpuShare;
  /** performance.timeOrigin + now of the window's start and end, for lining up with the monitor's samples */
  windowStartMs: number;
  windowEndMs: number;
}

/**
 * The monitor: until told to stop, samples Σ high watermark of `topic` on the source and on the target every
 * `sampleIntervalMs` (ListOffsets latest, one request per broker per sample, both sent at once), and, when a probe
 * topic is given, measures replication latency with probe records: produce one small record to the source
 * (acks=1), then long-poll Fetch on the target until that record is readable there.
 */
export interface MonitorJob {
  kind: 'monitor';
  source: Endpoint;
  target: Endpoint;
  topic: string;
  partitions: number;
  sampleIntervalMs: number;
  probe?: {
    topic: string;
    /** a probe starts this long after the previous one started (or when it ends, if later) */
    intervalMs: number;
  };
  versions: { sourceListOffsets: number; targetListOffsets: number; produce: number; fetch: number };
}

export interface MonitorResult {
  kind: 'monitor';
  /** per sample: wall time (ms since epoch, fractional), Σ source HWM, Σ target HWM */
  t: number[];
  source: number[];
  target: number[];
  /** ticks skipped because the previous sample was still in flight */
  skippedTicks: number;
  /** probe latencies (ms) with the wall time of each probe's acknowledgement */
  probeAckAt: number[];
  probeMs: number[];
  /** probes that never showed up on the target before the stop */
  probesUnanswered: number;
  /** probe records seen on the target out of order or duplicated (MirrorMaker 2 may duplicate) */
  probeOddities: number;
  cpu: CpuShare;
  errors: string[];
}

export type AgentJob = ShadowProduceJob | MonitorJob;
export type AgentResult = ShadowProduceResult | MonitorResult;

export type AgentRequest = { id: number; job: AgentJob } | { id: number; stop: number };
export type AgentReply = { id: number; ok: true; result: AgentResult } | { id: number; ok: false; error: string };
