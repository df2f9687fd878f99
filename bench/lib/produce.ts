// The produce workload: a ring of prebuilt Produce request frames sent over one connection with a window of
// requests in flight. Nothing is built per record or per request at send time: the only per-request work is
// patching the 4-byte correlation id of the next frame and decoding the (small) response for errors.
//
// A frame is reused only after its previous use was answered (the ring is larger than the window), so patching
// its correlation id can never race with bytes the socket has not sent yet.

import { randomBytes } from 'node:crypto';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { writeProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import { readProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { CpuMeter, Samples, summarizeLatency } from './stats.js';
import type { ProduceJob, ProduceResult } from './jobs.js';
import { CORRELATION_ID_OFFSET, KafkaConnection, encodeRequest, openResponse } from './wire.js';

export interface PrebuiltProduce {
  frames: Buffer[];
  /** records per frame (all partitions) */
  records: number;
  /** record-batch bytes per frame */
  batchBytes: number;
  prebuildMs: number;
}

/** Value bytes shared by all records; each record takes a different slice, so batches are not all alike. */
let valuePool: Buffer | null = null;
function values(count: number, size: number, seed: number): Buffer[] {
  const poolSize = (1 << 20) + size;
  if (!valuePool || valuePool.length < poolSize) valuePool = randomBytes(poolSize);
  const out: Buffer[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = ((seed * 7919 + i * 4099) % (1 << 20)) >>> 0;
    out[i] = valuePool.subarray(at, at + size);
  }
  return out;
}

export function prebuildProduce(job: ProduceJob, distinctFrames: number): PrebuiltProduce {
  const t0 = performance.now();
  const timestamp = Date.now();
  const frames: Buffer[] = [];
  let batchBytes = 0;
  for (let f = 0; f < distinctFrames; f++) {
    const partitionData: { index: number; records: Buffer }[] = [];
    let bytes = 0;
    for (let p = 0; p < job.partitions; p++) {
      const records = values(job.batchRecords, job.recordSize, f * job.partitions + p).map((value) => ({ value }));
      const batch = buildRecordBatch({ records, baseTimestamp: timestamp });
      bytes += batch.length;
      partitionData.push({ index: p, records: batch });
    }
    batchBytes = bytes;
    frames.push(
      encodeRequest(
        ApiKey.Produce,
        job.version,
        0,
        (w) => writeProduceRequest(w, job.version, { acks: job.acks, timeoutMs: 30_000, topicData: [{ name: job.topic, partitionData }] }),
        bytes + 1024,
      ),
    );
  }
  return { frames, records: job.batchRecords * job.partitions, batchBytes, prebuildMs: performance.now() - t0 };
}

export async function runProduce(job: ProduceJob): Promise<ProduceResult> {
  const ring = Math.max(32, job.window * 2);
  const pre = prebuildProduce(job, ring);
  const conn = await KafkaConnection.connect({ host: job.host, port: job.port, receiveBuffer: 4 << 20 });
  const sendTime = new Float64Array(ring);
  const latencies = new Samples();
  const errors: Record<string, number> = {};

  let nextSeq = 0; // correlation id of the next request
  let sent = 0;
  let lateSends = 0;
  let expectSeq = 0; // correlation id of the next response
  let inFlight = 0;
  let sending = true;
  let windowRecords = 0;
  let windowBytes = 0;
  let windowRequests = 0;
  let totalRecordsAcked = 0;

  const start = performance.now();
  const measureFrom = start + job.warmupSeconds * 1000;
  const measureTo = measureFrom + job.seconds * 1000;
  let cpu: CpuMeter | null = null;
  let cpuResult: ProduceResult['cpu'] | null = null;

  const result = new Promise<void>((resolve, reject) => {
    let lastProgress = performance.now();
    const watchdog = setInterval(() => {
      const now = performance.now();
      if (!cpu && now >= measureFrom) cpu = new CpuMeter();
      if (sending && now >= measureTo) stopSending();
      if (now - lastProgress > 60_000) fail(new Error(`no produce response for 60 s (${inFlight} in flight)`));
    }, 20);
    const ticker = job.rate ? setInterval(() => pump(), 1) : null;

    const stopSending = () => {
      if (!sending) return;
      sending = false;
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

    // Saturation (no rate): keep `window` requests in flight. Fixed rate: send request n at start + n/rate (open
    // loop), still at most `window` in flight; a request sent more than 5 ms behind its schedule counts as late,
    // which says the broker (or the machine) could not keep up with the rate.
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
        // The window bounds what is buffered, so write()'s backpressure signal is not needed.
        conn.socket.write(frame);
      }
    };

    conn.onFrame = (frame) => {
      const now = performance.now();
      lastProgress = now;
      const { correlationId, body } = openResponse(frame, ApiKey.Produce, job.version);
      if (correlationId !== expectSeq) {
        throw new Error(`response out of order: correlation id ${correlationId}, expected ${expectSeq}`);
      }
      expectSeq = (expectSeq + 1) | 0;
      inFlight--;
      const res = readProduceResponse(body, job.version);
      let partitionsOk = 0;
      let partitionsAnswered = 0;
      for (const t of res.responses) {
        for (const p of t.partitionResponses) {
          partitionsAnswered++;
          if (p.errorCode === 0) partitionsOk++;
          else errors[p.errorCode] = (errors[p.errorCode] ?? 0) + 1;
        }
      }
      if (partitionsAnswered !== job.partitions) errors['missing-partitions'] = (errors['missing-partitions'] ?? 0) + 1;
      const ackedRecords = (pre.records / job.partitions) * partitionsOk;
      totalRecordsAcked += ackedRecords;
      if (now >= measureFrom && now < measureTo) {
        if (!cpu) cpu = new CpuMeter();
        latencies.push(now - sendTime[correlationId % ring]!);
        windowRecords += ackedRecords;
        windowBytes += (pre.batchBytes / job.partitions) * partitionsOk;
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
    await result;
  } finally {
    conn.close();
  }
  return {
    kind: 'produce',
    seconds: job.seconds,
    records: windowRecords,
    bytes: windowBytes,
    requests: windowRequests,
    latencyMs: summarizeLatency(latencies.view()),
    totalRecordsAcked,
    errors,
    requestBytes: pre.frames[0]!.length,
    distinctFrames: ring,
    prebuildMs: pre.prebuildMs,
    cpu: cpuResult!,
    rate: job.rate ?? null,
    lateSends,
  };
}
