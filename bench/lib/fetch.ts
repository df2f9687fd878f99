// The fetch workload: read a topic back from offset 0 to its high watermark with large fetches (one in flight,
// as a consumer does), counting complete record batches from their headers only.

import { ApiKey } from '../../src/protocol/generated/api.js';
import { writeFetchRequest } from '../../src/protocol/generated/messages/FetchRequest.js';
import { readFetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import { walkBatches } from './batch-walk.js';
import { CpuMeter } from './stats.js';
import type { FetchJob, FetchResult } from './jobs.js';
import { KafkaConnection, encodeRequest, openResponse } from './wire.js';

/** Consecutive responses without progress (while below the high watermark) before giving up. */
const MAX_STALLS = 20;

export async function runFetch(job: FetchJob): Promise<FetchResult> {
  const conn = await KafkaConnection.connect({ host: job.host, port: job.port, receiveBuffer: job.maxBytes + (4 << 20) });
  const offsets: number[] = new Array(job.partitions).fill(0);
  const highWatermarks: number[] = new Array(job.partitions).fill(-1);
  const errors: Record<string, number> = {};
  let records = 0;
  let bytes = 0;
  let requests = 0;
  let crcErrors = 0;
  let stalls = 0;
  let complete = false;
  let note = '';
  let cpu: CpuMeter | null = null;
  let cpuShare: FetchResult['cpu'] | null = null;
  let correlationId = 0;

  const start = performance.now();
  const deadline = start + job.seconds * 1000;
  let end = start;

  const done = new Promise<void>((resolve, reject) => {
    const pending = () => {
      const out = [];
      for (let p = 0; p < job.partitions; p++) {
        if (highWatermarks[p]! < 0 || offsets[p]! < highWatermarks[p]!) {
          out.push({ partition: p, fetchOffset: offsets[p]!, partitionMaxBytes: job.partitionMaxBytes });
        }
      }
      return out;
    };
    const send = () => {
      const partitions = pending();
      const frame = encodeRequest(ApiKey.Fetch, job.version, ++correlationId, (w) =>
        writeFetchRequest(w, job.version, {
          replicaId: -1,
          maxWaitMs: 500,
          minBytes: 1,
          maxBytes: job.maxBytes,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1, // full fetch, no session
          topics: [{ topic: job.topic, partitions }],
        }),
      );
      requests++;
      conn.socket.write(frame);
    };
    const finish = (why: string) => {
      end = performance.now();
      cpuShare = cpu!.read();
      note = why;
      resolve();
    };

    conn.onFrame = (frame) => {
      const { correlationId: got, body } = openResponse(frame, ApiKey.Fetch, job.version);
      if (got !== correlationId) throw new Error(`fetch response for correlation id ${got}, expected ${correlationId}`);
      const res = readFetchResponse(body, job.version);
      if (res.errorCode !== 0) errors[res.errorCode] = (errors[res.errorCode] ?? 0) + 1;
      let progressed = false;
      for (const t of res.responses) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) {
            errors[p.errorCode] = (errors[p.errorCode] ?? 0) + 1;
            continue;
          }
          highWatermarks[p.partitionIndex] = p.highWatermark;
          if (!p.records || p.records.length === 0) continue;
          const walk = walkBatches(p.records, job.verifyAllCrcs ? 'all' : 'first');
          crcErrors += walk.crcErrors;
          if (walk.framingError) errors[walk.framingError] = (errors[walk.framingError] ?? 0) + 1;
          if (walk.nextOffset > offsets[p.partitionIndex]!) {
            offsets[p.partitionIndex] = walk.nextOffset;
            records += walk.records;
            bytes += walk.bytes;
            progressed = true;
          }
        }
      }
      stalls = progressed ? 0 : stalls + 1;
      if (pending().length === 0) {
        complete = true;
        finish('read every partition up to its high watermark');
      } else if (performance.now() >= deadline) {
        finish(`stopped after ${job.seconds} s, before the high watermark`);
      } else if (stalls >= MAX_STALLS) {
        finish(`no progress in ${MAX_STALLS} fetches below the high watermark`);
      } else {
        send();
      }
    };
    conn.socket.on('error', reject);
    conn.socket.on('close', () => reject(new Error('the broker closed the connection')));
    cpu = new CpuMeter();
    send();
  });

  try {
    await done;
  } finally {
    conn.close();
  }
  return {
    kind: 'fetch',
    seconds: (end - start) / 1000,
    records,
    bytes,
    requests,
    complete,
    note,
    crcErrors,
    errors,
    cpu: cpuShare!,
  };
}
