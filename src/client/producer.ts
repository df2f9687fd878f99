// A simple producer: batches records per partition into RecordBatch v2 (buildRecordBatch), optionally
// compressed, and sends each batch with Produce. Used by `umbra produce`, demos and tests.
//
// Partitioning: an explicit partition wins; keyed records use murmur2 like the Java client, so the same key lands
// on the same partition whichever client wrote it; records without a key go round-robin.
//
// Batching: records of a partition accumulate until `batchRecords` / `batchBytes` is reached or `lingerMs`
// passes. One batch per partition is in flight at a time, which keeps the partition's records in order across
// retries (there is no idempotence: a retried batch whose first attempt did land is written twice).
import type { Logger } from 'pino';
import { buildRecordBatch, type RecordInput } from '../protocol/record-batch.js';
import { Compression, initCompression, type CompressionCodec } from '../protocol/compression.js';
import type { KafkaClient } from './client.js';
import { defaultPartitioner, type Partitioner } from './partitioner.js';
import { ErrorCode, kafkaError } from './errors.js';

export interface ProducerOptions {
  /** -1 (all, default), 1 or 0 */
  acks?: number;
  compression?: CompressionCodec;
  /** how long a partition's batch waits for more records; default 5 ms */
  lingerMs?: number;
  /** a batch is sent when it holds this many records; default 10 000 */
  batchRecords?: number;
  /** … or this many bytes of keys and values; default 1 MiB */
  batchBytes?: number;
  /** Produce timeoutMs (how long the broker may wait for acks) */
  timeoutMs?: number;
  partitioner?: Partitioner;
  logger?: Logger;
}

export interface ProducerRecord {
  topic: string;
  /** default: chosen by the partitioner */
  partition?: number;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: { key: string; value: Buffer | string | null }[];
  /** default: now */
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0 */
  offset: number;
  timestamp: number;
}

interface Pending {
  record: RecordInput;
  resolve(m: RecordMetadata): void;
  reject(err: Error): void;
}

interface PartitionQueue {
  topic: string;
  partition: number;
  pending: Pending[];
  bytes: number;
  timer: NodeJS.Timeout | null;
  /** the batch in flight; the next waits for it */
  inFlight: Promise<void>;
}

function byteLength(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

export class Producer {
  private readonly client: KafkaClient;
  private readonly opts: ProducerOptions;
  private readonly partitioner: Partitioner;
  private readonly queues = new Map<string, PartitionQueue>();
  /** enqueueing waits on metadata; chaining keeps records in send() order */
  private enqueueChain: Promise<void> = Promise.resolve();
  private readonly inFlightBatches = new Set<Promise<void>>();
  private compressionReady: Promise<void> | null = null;
  private closed = false;

  constructor(client: KafkaClient, opts: ProducerOptions = {}) {
    this.client = client;
    this.opts = opts;
    this.partitioner = opts.partitioner ?? defaultPartitioner();
  }

  /** Queues one record; resolves with its offset once its batch is acknowledged. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    if (this.closed) return Promise.reject(new Error('producer is closed'));
    return new Promise<RecordMetadata>((resolve, reject) => {
      this.enqueueChain = this.enqueueChain.then(() => this.enqueue(record, resolve, reject)).catch(reject);
    });
  }

  /** Sends every queued record now and waits until all batches are answered. */
  async flush(): Promise<void> {
    await this.enqueueChain;
    for (const q of this.queues.values()) this.drain(q);
    while (this.inFlightBatches.size > 0) await Promise.allSettled([...this.inFlightBatches]);
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async enqueue(record: ProducerRecord, resolve: (m: RecordMetadata) => void, reject: (e: Error) => void): Promise<void> {
    let partition = record.partition;
    if (partition === undefined) {
      const t = await this.client.topic(record.topic);
      const key = record.key === undefined || record.key === null ? null : Buffer.isBuffer(record.key) ? record.key : Buffer.from(record.key);
      partition = this.partitioner(record.topic, key, t.partitions.length);
    }
    const k = `${record.topic}\0${partition}`;
    let q = this.queues.get(k);
    if (!q) {
      q = { topic: record.topic, partition, pending: [], bytes: 0, timer: null, inFlight: Promise.resolve() };
      this.queues.set(k, q);
    }
    q.pending.push({
      record: {
        key: record.key ?? null,
        value: record.value,
        ...(record.headers ? { headers: record.headers } : {}),
        timestamp: record.timestamp ?? Date.now(),
      },
      resolve,
      reject,
    });
    q.bytes += byteLength(record.key) + byteLength(record.value) + 16;
    if (q.pending.length >= (this.opts.batchRecords ?? 10_000) || q.bytes >= (this.opts.batchBytes ?? 1024 * 1024)) {
      this.drain(q);
    } else if (!q.timer) {
      const queue = q;
      q.timer = setTimeout(() => this.drain(queue), this.opts.lingerMs ?? 5);
    }
  }

  /** Cuts the partition's pending records into a batch and sends it after the partition's previous batch. */
  private drain(q: PartitionQueue): void {
    if (q.timer) clearTimeout(q.timer);
    q.timer = null;
    if (q.pending.length === 0) return;
    const batch = q.pending;
    q.pending = [];
    q.bytes = 0;
    const sent = q.inFlight.then(() => this.sendBatch(q.topic, q.partition, batch));
    q.inFlight = sent;
    this.inFlightBatches.add(sent);
    void sent.finally(() => this.inFlightBatches.delete(sent));
  }

  private async sendBatch(topic: string, partition: number, batch: Pending[]): Promise<void> {
    try {
      const compression = this.opts.compression ?? Compression.none;
      if (compression === Compression.zstd) await (this.compressionReady ??= initCompression());
      const bytes = buildRecordBatch({ records: batch.map((p) => p.record), compression });
      const res = await this.client.produce(topic, partition, bytes, {
        acks: this.opts.acks ?? -1,
        ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
      });
      batch.forEach((p, i) =>
        p.resolve({
          topic,
          partition,
          offset: res.baseOffset < 0 ? -1 : res.baseOffset + i,
          timestamp: res.logAppendTimeMs >= 0 ? res.logAppendTimeMs : (p.record.timestamp ?? -1),
        }),
      );
    } catch (err) {
      const e = err instanceof Error ? err : kafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, String(err));
      this.opts.logger?.debug({ topic, partition, err: e.message }, 'produce failed');
      for (const p of batch) p.reject(e);
    }
  }
}
