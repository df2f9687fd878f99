// The shadow benchmark's produce load: a ring of prebuilt Produce request frames on one connection, `window`
// requests in flight, as in bench/lib/produce.ts, except that a request carries batches for `perRequest`
// consecutive partitions and successive requests rotate over all partitions (a 256-partition topic cannot take one
// batch per partition per request: that would be a 16 MiB request). Nothing is built at send time: the only
// per-request work is patching the correlation id and reading the small response.

import { randomBytes } from 'node:crypto';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { writeProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import { readProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { CpuMeter, Samples, summarizeLatency } from '../lib/stats.js';
import { CORRELATION_ID_OFFSET, KafkaConnection, encodeRequest, openResponse } from '../lib/wire.js';
import type { ShadowProduceJob, ShadowProduceResult } from './jobs.js';

interface Prebuilt {
  frames: Buffer[];
  /** partitions of each frame */
  framePartitions: number[][];
  recordsPerRequest: number;
  bytesPerBatch: number;
}

/** Random value bytes; records take different slices so batches differ (and do not compress). */
let valuePool: Buffer | null = null;

function prebuild(job: ShadowProduceJob, ringSize: number): Prebuilt {
  const poolSize = (4 << 20) + job.recordSize;
  if (!valuePool || valuePool.length < poolSize) valuePool = randomBytes(poolSize);
  const pool = valuePool;
  const timestamp = Date.now();
  const frames: Buffer[] = [];
  const framePartitions: number[][] = [];
  let bytesPerBatch = 0;
  let seed = 0;
  for (let f = 0; f < ringSize; f++) {
    const partitionData: { index: number; records: Buffer }[] = [];
    const parts: number[] = [];
    let bytes = 0;
    for (let j = 0; j < job.perRequest; j++) {
      const p = (f * job.perRequest + j) % job.partitions;
      const records = [];
      for (let i = 0; i < job.batchRecords; i++) {
        const at = ((seed++ * 7919) % (4 << 20)) >>> 0;
        records.push({ value: pool.subarray(at, at + job.recordSize) });
      }
      const batch = buildRecordBatch({ records, baseTimestamp: timestamp });
      bytes += batch.length;
      bytesPerBatch = batch.length;
      partitionData.push({ index: p, records: batch });
      parts.push(p);
    }
    frames.push(
      encodeRequest(
        ApiKey.Produce,
        job.version,
        0,
        (w) => writeProduceRequest(w, job.version, { acks: job.acks, timeoutMs: 30_000, topicData: [{ name: job.topic, partitionData }] }),
        bytes + 1024,
      ),
    );
    framePartitions.push(parts);
  }
  return { frames, framePartitions, recordsPerRequest: job.batchRecords * job.perRequest, bytesPerBatch };
}

export async function runShadowProduce(job: ShadowProduceJob): Promise<ShadowProduceResult> {
  // The ring covers every partition equally and is larger than the window (a frame is patched only after its
  // previous use was answered).
  const rotation = Math.ceil(job.partitions / job.perRequest);
  const ring = Math.ceil(Math.max(32, job.window * 2) / rotation) * rotation;
  const pre = prebuild(job, ring);
  const conn = await KafkaConnection.connect({ host: job.broker.host, port: job.broker.port, receiveBuffer: 4 << 20 });
  const sendTime = new Float64Array(ring);
  const latencies = new Samples();
  const errors: Record<string, number> = {};
  const bytesPerRecord = pre.bytesPerBatch / job.batchRecords;

  let nextSeq = 0;
  let sent = 0;
  let lateSends = 0;
  let expectSeq = 0;
  let inFlight = 0;
  let sending = true;
  let windowRecords = 0;
  let windowRequests = 0;
  let totalRecordsAcked = 0;

  const start = performance.now();
  const measureFrom = start + job.warmupSeconds * 1000;
  const measureTo = measureFrom + job.seconds * 1000;
  let cpu: CpuMeter | null = null;
  let cpuResult: ShadowProduceResult['cpu'] | null = null;
  let windowStart = NaN;
  let windowEnd = NaN;

  const done = new Promise<void>((resolve, reject) => {
    let lastProgress = performance.now();
    const markStart = (now: number) => {
      if (cpu) return;
      cpu = new CpuMeter();
      windowStart = performance.timeOrigin + now;
    };
    const watchdog = setInterval(() => {
      const now = performance.now();
      if (now >= measureFrom) markStart(now);
      if (sending && now >= measureTo) stopSending();
      if (now - lastProgress > 60_000) fail(new Error(`no produce response for 60 s (${inFlight} in flight)`));
    }, 20);
    const ticker = job.rate ? setInterval(() => pump(), 1) : null;

    const stopSending = () => {
      if (!sending) return;
      sending = false;
      windowEnd = performance.timeOrigin + performance.now();
      cpuResult = (cpu ?? new CpuMeter()).read();
      if (inFlight === 0) finish();
    };
    const finish = () => {
      clearInterval(watchdog);
      if (ticker) clearInterval(ticker);
      resolve();
    };
    const fail = (err: Error) => {
      clearInterval(watchdog);
      if (ticker) clearInterval(ticker);
      sending = false;
      reject(err);
    };

    const interval = job.rate ? 1000 / job.rate : 0;
    const pump = () => {
      const now = performance.now();
      while (sending && inFlight < job.window) {
        if (interval) {
          const due = start + sent * interval;
          if (due > now) break;
          if (now - due > 5 && now >= measureFrom && now < measureTo) lateSends++;
        }
        sent++;
        const slot = nextSeq % ring;
        const frame = pre.frames[slot]!;
        frame.writeInt32BE(nextSeq, CORRELATION_ID_OFFSET);
        sendTime[slot] = performance.now();
        nextSeq = (nextSeq + 1) | 0;
        inFlight++;
        conn.socket.write(frame);
      }
    };

    conn.onFrame = (frame) => {
      const now = performance.now();
      lastProgress = now;
      const { correlationId, body } = openResponse(frame, ApiKey.Produce, job.version);
      if (correlationId !== expectSeq) throw new Error(`response out of order: correlation id ${correlationId}, expected ${expectSeq}`);
      expectSeq = (expectSeq + 1) | 0;
      inFlight--;
      const res = readProduceResponse(body, job.version);
      let ok = 0;
      for (const t of res.responses) {
        for (const p of t.partitionResponses) {
          if (p.errorCode === 0) ok++;
          else errors[p.errorCode] = (errors[p.errorCode] ?? 0) + 1;
        }
      }
      const acked = job.batchRecords * ok;
      totalRecordsAcked += acked;
      if (now >= measureFrom && now < measureTo) {
        markStart(now);
        latencies.push(now - sendTime[correlationId % ring]!);
        windowRecords += acked;
        windowRequests++;
      } else if (now >= measureTo) {
        stopSending();
      }
      if (sending) pump();
      else if (inFlight === 0) finish();
    };
    conn.socket.on('error', fail);
    conn.socket.on('close', () => fail(new Error('the broker closed the connection')));
    pump();
  });

  try {
    await done;
  } finally {
    conn.close();
  }
  return {
    kind: 'produce',
    seconds: job.seconds,
    records: windowRecords,
    bytes: windowRecords * bytesPerRecord,
    requests: windowRequests,
    latencyMs: summarizeLatency(latencies.view()),
    totalRecordsAcked,
    totalBytesAcked: totalRecordsAcked * bytesPerRecord,
    errors,
    requestBytes: pre.frames[0]!.length,
    bytesPerRecord,
    recordsPerRequest: pre.recordsPerRequest,
    rate: job.rate ?? null,
    lateSends,
    cpu: cpuResult!,
    windowStartMs: windowStart,
    windowEndMs: windowEnd,
  };
}
