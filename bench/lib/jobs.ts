// What the orchestrator (bench/broker.ts) asks the load generator process to do, and what comes back over IPC.

export interface ProduceJob {
  kind: 'produce';
  host: string;
  port: number;
  topic: string;
  partitions: number;
  /** 1 or -1 (all) */
  acks: number;
  recordSize: number;
  /** records per batch; each request carries one batch per partition */
  batchRecords: number;
  /** requests in flight on the connection */
  window: number;
  warmupSeconds: number;
  seconds: number;
  /** Produce version to speak (≤ 12: topic names) */
  version: number;
  /** requests per second, sent on a fixed schedule (open loop); absent = as fast as the window allows */
  rate?: number;
}

export interface FetchJob {
  kind: 'fetch';
  host: string;
  port: number;
  topic: string;
  partitions: number;
  /** stop after this long even if the end of the log was not reached */
  seconds: number;
  version: number;
  maxBytes: number;
  partitionMaxBytes: number;
  /** check the CRC of every fetched batch (costs load generator CPU); otherwise only the first batch per partition per response */
  verifyAllCrcs: boolean;
}

/**
 * Raw bytes to a baseline server: `chunkSize` writes for `warmupSeconds` (unmeasured) + `seconds`, then wait until
 * the server has read everything.
 */
export interface BlastJob {
  kind: 'blast';
  host: string;
  port: number;
  seconds: number;
  /** written before the measured window starts (default 0) */
  warmupSeconds?: number;
  chunkSize: number;
}

/** Read everything a baseline server sends (it writes for a while, then closes), into one reused buffer. */
export interface DrainJob {
  kind: 'drain';
  host: string;
  port: number;
}

export type Job = ProduceJob | FetchJob | BlastJob | DrainJob;

export interface CpuShare {
  userSeconds: number;
  systemSeconds: number;
  wallSeconds: number;
  /** (user + system) / wall: 1.0 = one core fully busy */
  cores: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface ProduceResult {
  kind: 'produce';
  /** measured window (after warmup) */
  seconds: number;
  records: number;
  /** record-batch bytes acknowledged in the window (what the broker stores) */
  bytes: number;
  requests: number;
  /** per-request latency, send to response, ms */
  latencyMs: LatencySummary;
  /** acknowledged over the whole job, warmup and drain included: what a fetch of the topic should find */
  totalRecordsAcked: number;
  /** error code → partition responses with it */
  errors: Record<string, number>;
  requestBytes: number;
  distinctFrames: number;
  prebuildMs: number;
  cpu: CpuShare;
  rate: number | null;
  /** fixed rate only: requests sent more than 5 ms behind schedule */
  lateSends: number;
}

export interface FetchResult {
  kind: 'fetch';
  seconds: number;
  records: number;
  /** bytes of complete record batches received */
  bytes: number;
  requests: number;
  /** reached the high watermark of every partition */
  complete: boolean;
  note: string;
  crcErrors: number;
  errors: Record<string, number>;
  cpu: CpuShare;
}

export interface BlastResult {
  kind: 'blast';
  seconds: number;
  bytes: number;
  cpu: CpuShare;
}

export interface DrainResult {
  kind: 'drain';
  seconds: number;
  bytes: number;
  cpu: CpuShare;
}

export type JobResult = ProduceResult | FetchResult | BlastResult | DrainResult;

export interface JobRequest {
  id: number;
  job: Job;
}

export type JobReply = { id: number; ok: true; result: JobResult } | { id: number; ok: false; error: string };
