// The monitor agent's job: lag samples and latency probes, in a process of its own (bench/shadow/agent.ts).
//
// Lag. Every `sampleIntervalMs` (10 ms) one ListOffsets(latest) request goes to the source and one to the target,
// at the same moment, each naming every partition of the topic; lag = Σ source HWM − Σ target HWM. Ticks are on a
// fixed grid; a tick whose previous sample is still in flight is skipped and counted. What this costs the brokers
// is measured by the orchestrator at idle and printed (a 256-partition ListOffsets is ~5 KiB each way).
//
// Latency. A probe is one small record produced to the probe topic on the source with acks=1; its clock starts at
// the acknowledgement. A long-polling Fetch (minBytes 1) on the target, from the offset after the last probe seen
// there, returns as soon as the target has appended anything new; the probe's clock stops at the response that
// holds the probe's record (found by its value, so it works for MirrorMaker 2, which does not keep offsets). A probe
// already on the target when its acknowledgement arrives therefore measures one Fetch round trip to the target
// (~0.1-0.3 ms here): that is the resolution. Probes run one at a time, `intervalMs` apart.

import { ApiKey } from '../../src/protocol/generated/api.js';
import { readFetchResponse, type FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import { writeFetchRequest } from '../../src/protocol/generated/messages/FetchRequest.js';
import { readListOffsetsResponse } from '../../src/protocol/generated/messages/ListOffsetsResponse.js';
import { writeListOffsetsRequest } from '../../src/protocol/generated/messages/ListOffsetsRequest.js';
import { readProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import { writeProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import { buildRecordBatch, decodeRecords, Framing, frameSizeAt, RecordBatch } from '../../src/protocol/record-batch.js';
import { CpuMeter } from '../lib/stats.js';
import { KafkaConnection } from '../lib/wire.js';
import type { MonitorJob, MonitorResult } from './jobs.js';

const wallNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Monitor {
  private stopping = false;
  private readonly t: number[] = [];
  private readonly src: number[] = [];
  private readonly dst: number[] = [];
  private skippedTicks = 0;
  private readonly probeAckAt: number[] = [];
  private readonly probeMs: number[] = [];
  private probesUnanswered = 0;
  private probeOddities = 0;
  private readonly errors: string[] = [];
  private readonly conns: KafkaConnection[] = [];
  private cpu = new CpuMeter();
  private wakeStop: (() => void) | null = null;

  constructor(private readonly job: MonitorJob) {}

  private error(what: string, err: unknown): void {
    if (this.stopping) return;
    if (this.errors.length < 20) this.errors.push(`${what}: ${(err as Error).message ?? String(err)}`);
  }

  async run(): Promise<MonitorResult> {
    const j = this.job;
    const [srcOffsets, dstOffsets] = await Promise.all([KafkaConnection.connect(j.source), KafkaConnection.connect(j.target)]);
    this.conns.push(srcOffsets, dstOffsets);
    let prober: Promise<void> = Promise.resolve();
    if (j.probe) {
      const [produce, fetch] = await Promise.all([KafkaConnection.connect(j.source), KafkaConnection.connect({ ...j.target, receiveBuffer: 2 << 20 })]);
      this.conns.push(produce, fetch);
      prober = this.probeLoop(produce, fetch).catch((err: unknown) => this.error('probe', err));
    }
    this.cpu = new CpuMeter();
    const sampler = this.sampleLoop(srcOffsets, dstOffsets).catch((err: unknown) => this.error('sampler', err));
    await new Promise<void>((resolve) => {
      this.wakeStop = resolve;
      if (this.stopping) resolve();
    });
    await sampler;
    // a probe stuck in a long poll ends with the connections
    for (const c of this.conns) c.close();
    await prober;
    return {
      kind: 'monitor',
      t: this.t,
      source: this.src,
      target: this.dst,
      skippedTicks: this.skippedTicks,
      probeAckAt: this.probeAckAt,
      probeMs: this.probeMs,
      probesUnanswered: this.probesUnanswered,
      probeOddities: this.probeOddities,
      cpu: this.cpu.read(),
      errors: this.errors,
    };
  }

  stop(): void {
    this.stopping = true;
    this.wakeStop?.();
  }

  // ---- lag ---------------------------------------------------------------------------------------------

  private async sampleLoop(src: KafkaConnection, dst: KafkaConnection): Promise<void> {
    const j = this.job;
    const partitions = Array.from({ length: j.partitions }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1 }));
    const ask = (conn: KafkaConnection, v: number) =>
      conn.request(
        ApiKey.ListOffsets,
        v,
        (w) => writeListOffsetsRequest(w, v, { replicaId: -1, isolationLevel: 0, topics: [{ name: j.topic, partitions }], timeoutMs: 5000 }),
        (r, ver) => {
          const res = readListOffsetsResponse(r, ver);
          let sum = 0;
          let n = 0;
          for (const t of res.topics) {
            for (const p of t.partitions) {
              if (p.errorCode !== 0) throw new Error(`ListOffsets ${j.topic}/${p.partitionIndex}: error ${p.errorCode}`);
              sum += Number(p.offset);
              n++;
            }
          }
          if (n !== j.partitions) throw new Error(`ListOffsets answered ${n} of ${j.partitions} partitions`);
          return sum;
        },
      );
    const every = j.sampleIntervalMs;
    let next = performance.now();
    while (!this.stopping) {
      const at = wallNow();
      try {
        const [s, d] = await Promise.all([ask(src, j.versions.sourceListOffsets), ask(dst, j.versions.targetListOffsets)]);
        this.t.push(at);
        this.src.push(s);
        this.dst.push(d);
      } catch (err) {
        this.error('ListOffsets', err);
        await sleep(100);
      }
      next += every;
      const now = performance.now();
      if (now > next) {
        const missed = Math.floor((now - next) / every);
        this.skippedTicks += missed;
        next += missed * every;
      }
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }

  // ---- latency probes ------------------------------------------------------------------------------------

  private async probeLoop(produce: KafkaConnection, fetch: KafkaConnection): Promise<void> {
    const j = this.job;
    const probe = j.probe!;
    const runId = `${process.pid}.${Date.now()}`;
    const prefix = `probe ${runId} `;
    let seq = 0;
    /** next offset to read on the target's probe partition */
    let targetNext = 0;
    const view = new RecordBatch(Buffer.alloc(0));
    const pv = j.versions.produce;
    const fv = j.versions.fetch;

    while (!this.stopping) {
      const started = performance.now();
      seq++;
      const value = `${prefix}${seq}`;
      const batch = buildRecordBatch({ records: [{ value }] });
      let ackAt: number;
      try {
        const res = await produce.request(
          ApiKey.Produce,
          pv,
          (w) => writeProduceRequest(w, pv, { acks: 1, timeoutMs: 10_000, topicData: [{ name: probe.topic, partitionData: [{ index: 0, records: batch }] }] }),
          readProduceResponse,
        );
        ackAt = wallNow();
        const err = res.responses[0]?.partitionResponses[0]?.errorCode ?? -1;
        if (err !== 0) throw new Error(`probe produce error ${err}`);
      } catch (err) {
        this.error('probe produce', err);
        await sleep(100);
        continue;
      }

      // Read the target from where the last probe was found until this one shows up.
      let found = false;
      while (!found && !this.stopping) {
        let res: FetchResponse;
        try {
          res = await fetch.request(
            ApiKey.Fetch,
            fv,
            (w) =>
              writeFetchRequest(w, fv, {
                replicaId: -1,
                maxWaitMs: 500,
                minBytes: 1,
                maxBytes: 1 << 20,
                isolationLevel: 0,
                sessionId: 0,
                sessionEpoch: -1,
                topics: [{ topic: probe.topic, partitions: [{ partition: 0, fetchOffset: targetNext, partitionMaxBytes: 1 << 20 }] }],
              }),
            readFetchResponse,
          );
        } catch (err) {
          this.error('probe fetch', err);
          break;
        }
        const at = wallNow();
        const p = res.responses[0]?.partitions[0];
        if (!p) continue;
        if (p.errorCode !== 0) {
          // the target topic may not exist yet (MirrorMaker 2 creates it on its first records)
          await sleep(20);
          continue;
        }
        const records = p.records;
        if (!records || records.length === 0) continue;
        for (let pos = 0; pos < records.length; ) {
          const size = frameSizeAt(records, pos);
          if (size === Framing.TRUNCATED || size < 0) break;
          view.moveTo(records, pos);
          for (const r of decodeRecords(view)) {
            const v = r.value?.toString() ?? '';
            if (!v.startsWith(prefix)) continue;
            const n = Number(v.slice(prefix.length));
            if (n === seq) {
              found = true;
              this.probeAckAt.push(ackAt);
              this.probeMs.push(Math.max(0, at - ackAt));
            } else if (n < seq) {
              this.probeOddities++; // a duplicate (MirrorMaker 2 after a retry) or a record seen again
            }
          }
          targetNext = view.nextOffset;
          pos += size;
        }
      }
      if (!found) this.probesUnanswered++;
      const wait = probe.intervalMs - (performance.now() - started);
      if (wait > 0 && !this.stopping) await sleep(wait);
    }
  }
}

export function startMonitor(job: MonitorJob): Monitor {
  return new Monitor(job);
}
