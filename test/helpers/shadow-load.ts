// What the shadow fault tests and the soak (bench/soak.ts) share: an acks=all load on a source cluster that
// remembers every acknowledged batch, and a batch-by-batch comparison of a source partition with its shadow that
// counts differences, gaps and duplicates (raw bytes, header fields only; records are never decoded).
import { KafkaClient } from '../../src/client/client.js';
import { KafkaError } from '../../src/client/errors.js';
import { Compression, initCompression, type CompressionCodec } from '../../src/protocol/compression.js';
import { buildRecordBatch, frameSizeAt } from '../../src/protocol/record-batch.js';
import type { AdminApi } from './shadow.js';

export interface LoadTopic {
  name: string;
  partitions: number;
}

/** A batch the source acknowledged with acks=all: where, how many records, and its CRC (which the broker keeps). */
export interface AckedBatch {
  baseOffset: number;
  records: number;
  crc: number;
}

export interface LoadOptions {
  /** records per batch, chosen uniformly in [min, max] */
  batchRecords?: [number, number];
  /** value bytes per record, chosen uniformly in [min, max] */
  valueBytes?: [number, number];
  /** pause between two batches of one partition (a partition has one batch in flight at a time) */
  pauseMs?: number;
  /** codecs to pick from, batch by batch */
  codecs?: readonly CompressionCodec[];
  random?: () => number;
}

export interface LoadStats {
  batchesSent: number;
  recordsSent: number;
  batchesAcked: number;
  recordsAcked: number;
  /** produce attempts that failed (broker down, timeouts) */
  errors: number;
}

const ALL_CODECS: readonly CompressionCodec[] = [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Produces to every partition of the given topics, one batch in flight per partition, acks=all, no retries (a batch
 * that failed is not sent again, so what is acknowledged is exactly what the source said it stored). Failures (a
 * source being killed) are counted and the loop carries on after a short pause.
 */
export class AcksAllLoad {
  readonly stats: LoadStats = { batchesSent: 0, recordsSent: 0, batchesAcked: 0, recordsAcked: 0, errors: 0 };
  /** acknowledged batches by `topic/partition`, in offset order */
  readonly acked = new Map<string, AckedBatch[]>();
  private readonly client: KafkaClient;
  private readonly opts: Required<Omit<LoadOptions, 'random'>> & { random: () => number };
  private loops: Promise<void>[] = [];
  private running = false;
  private seq = 0;

  constructor(
    bootstrap: string,
    private readonly topics: readonly LoadTopic[],
    opts: LoadOptions = {},
  ) {
    this.client = new KafkaClient({ brokers: bootstrap, clientId: 'acks-all-load', retries: 0, requestTimeoutMs: 10_000, connectTimeoutMs: 1000 });
    this.opts = {
      batchRecords: opts.batchRecords ?? [1, 40],
      valueBytes: opts.valueBytes ?? [10, 300],
      pauseMs: opts.pauseMs ?? 10,
      codecs: opts.codecs ?? ALL_CODECS,
      random: opts.random ?? Math.random,
    };
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    if (this.running) return;
    await initCompression();
    this.running = true;
    this.loops = this.topics.flatMap((t) => Array.from({ length: t.partitions }, (_, p) => this.loop(t.name, p)));
  }

  /** Stops every loop and waits for the batches in flight to be answered (or fail). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  async close(): Promise<void> {
    await this.stop();
    await this.client.close();
  }

  private between([min, max]: [number, number]): number {
    return min + Math.floor(this.opts.random() * (max - min + 1));
  }

  private batch(topic: string, partition: number): { bytes: Buffer; records: number } {
    const n = this.between(this.opts.batchRecords);
    const codec = this.opts.codecs[Math.floor(this.opts.random() * this.opts.codecs.length)]!;
    const now = Date.now();
    const records = Array.from({ length: n }, () => {
      const id = this.seq++;
      const pad = 'x'.repeat(this.between(this.opts.valueBytes));
      return { key: `k${id % 97}`, value: `${topic}/${partition}#${id} ${pad}`, timestamp: now, headers: [{ key: 'seq', value: String(id) }] };
    });
    return { bytes: buildRecordBatch({ records, compression: codec }), records: n };
  }

  private async loop(topic: string, partition: number): Promise<void> {
    const key = `${topic}/${partition}`;
    let list = this.acked.get(key);
    if (!list) this.acked.set(key, (list = []));
    while (this.running) {
      const { bytes, records } = this.batch(topic, partition);
      const crc = bytes.readUInt32BE(17);
      this.stats.batchesSent++;
      this.stats.recordsSent += records;
      try {
        const r = await this.client.produce(topic, partition, bytes, { acks: -1, timeoutMs: 5000 });
        list.push({ baseOffset: r.baseOffset, records, crc });
        this.stats.batchesAcked++;
        this.stats.recordsAcked += records;
        if (this.opts.pauseMs > 0) await sleep(this.opts.pauseMs);
      } catch (err) {
        if (!(err instanceof KafkaError) && !(err instanceof Error)) throw err;
        this.stats.errors++;
        await sleep(100);
      }
    }
  }
}

/** One stored batch: its header fields and its bytes. */
export interface StoredBatch {
  baseOffset: number;
  /** lastOffset + 1 */
  nextOffset: number;
  records: number;
  crc: number;
  bytes: Buffer;
}

/**
 * Every batch of a partition from its log start (or from the batch holding `fromOffset`) up to `endOffset`
 * (exclusive; default: the high watermark), as stored: raw bytes, split by the batch headers.
 */
export async function readBatches(
  client: KafkaClient,
  topic: string,
  partition: number,
  endOffset = Infinity,
  fromOffset = -1,
): Promise<{ logStartOffset: number; highWatermark: number; batches: StoredBatch[] }> {
  const logStartOffset = (await client.listOffsets(topic, partition, -2)).offset;
  const out: StoredBatch[] = [];
  let offset = Math.max(logStartOffset, fromOffset);
  let highWatermark = -1;
  for (;;) {
    const [r] = await client.fetch([{ topic, partition, fetchOffset: offset }], { maxWaitMs: 0, maxBytes: 16 << 20, partitionMaxBytes: 16 << 20 });
    if (r!.errorCode !== 0) throw new Error(`fetch ${topic}/${partition} at ${offset}: error ${r!.errorCode}`);
    highWatermark = r!.highWatermark;
    const recs = r!.records;
    let pos = 0;
    let next = offset;
    while (pos < recs.length) {
      const size = frameSizeAt(recs, pos);
      if (size < 0) break;
      const bytes = Buffer.from(recs.subarray(pos, pos + size));
      const baseOffset = Number(bytes.readBigInt64BE(0));
      const nextOffset = baseOffset + bytes.readInt32BE(23) + 1;
      pos += size;
      if (baseOffset >= endOffset) return { logStartOffset, highWatermark, batches: out };
      if (nextOffset > offset) out.push({ baseOffset, nextOffset, records: bytes.readInt32BE(57), crc: bytes.readUInt32BE(17), bytes });
      next = nextOffset;
    }
    if (next <= offset || next >= Math.min(highWatermark, endOffset)) break;
    offset = next;
  }
  return { logStartOffset, highWatermark, batches: out };
}

export interface PartitionComparison {
  topic: string;
  partition: number;
  /** the range compared: [from, to) */
  from: number;
  to: number;
  sourceBatches: number;
  shadowBatches: number;
  recordsOnShadow: number;
  /** shadow batches whose bytes differ from the source batch at the same base offset, or that the source lacks */
  differences: number;
  /** holes in the shadow's offsets, and source batches of the range the shadow lacks */
  gaps: number;
  /** shadow batches that start below the end of the previous one */
  duplicates: number;
  /** the first problem, for the report */
  first: string;
}

/**
 * Compares one partition of source and shadow from the shadow's log start (or from the batch holding `from`) up to
 * the shadow's high watermark, so that a shadow catching up under load is compared on what it has. With `exact`,
 * the shadow must also have everything the source has (same high watermark).
 */
export async function comparePartition(
  source: KafkaClient,
  shadow: KafkaClient,
  topic: string,
  partition: number,
  opts: { exact?: boolean; from?: number } = {},
): Promise<PartitionComparison> {
  const from = opts.from ?? -1;
  const sh = await readBatches(shadow, topic, partition, Infinity, from);
  const src = await readBatches(source, topic, partition, opts.exact ? Infinity : sh.highWatermark, from);
  const start = Math.max(sh.logStartOffset, from);
  const c: PartitionComparison = {
    topic,
    partition,
    from: start,
    to: sh.highWatermark,
    sourceBatches: 0,
    shadowBatches: sh.batches.length,
    recordsOnShadow: 0,
    differences: 0,
    gaps: 0,
    duplicates: 0,
    first: '',
  };
  const note = (what: string): void => {
    if (c.first === '') c.first = `${topic}/${partition}: ${what}`;
  };
  const byBase = new Map<number, StoredBatch>();
  for (const b of src.batches) {
    if (b.nextOffset <= start) continue;
    byBase.set(b.baseOffset, b);
    c.sourceBatches++;
  }
  if (from < 0 && sh.logStartOffset > src.logStartOffset && src.batches.some((b) => b.baseOffset < sh.logStartOffset)) {
    c.gaps++;
    note(`the shadow starts at ${sh.logStartOffset}, the source at ${src.logStartOffset}`);
  }
  let expected = -1;
  for (const b of sh.batches) {
    c.recordsOnShadow += b.records;
    if (expected >= 0 && b.baseOffset < expected) {
      c.duplicates++;
      note(`batch ${b.baseOffset}..${b.nextOffset - 1} starts below the previous batch's end ${expected}`);
    } else if (expected >= 0 && b.baseOffset > expected) {
      c.gaps++;
      note(`offsets ${expected}..${b.baseOffset - 1} are missing`);
    }
    expected = Math.max(expected, b.nextOffset);
    const s = byBase.get(b.baseOffset);
    if (s === undefined) {
      c.differences++;
      note(`shadow batch at ${b.baseOffset} has no source batch at that offset`);
    } else if (!s.bytes.equals(b.bytes)) {
      c.differences++;
      note(`batch at ${b.baseOffset} differs (crc ${s.crc.toString(16)} on the source, ${b.crc.toString(16)} on the shadow)`);
    }
    byBase.delete(b.baseOffset);
  }
  for (const s of byBase.values()) {
    if (s.baseOffset < sh.highWatermark || opts.exact) {
      c.gaps++;
      note(`source batch ${s.baseOffset}..${s.nextOffset - 1} is not on the shadow`);
    }
  }
  if (opts.exact && src.highWatermark !== sh.highWatermark) {
    c.gaps++;
    note(`high watermarks differ: source ${src.highWatermark}, shadow ${sh.highWatermark}`);
  }
  return c;
}

/**
 * Waits until every partition of `topics` has the same high watermark on the shadow as on the source, asking both
 * brokers (not the link's status, whose idea of the source's high watermark can be stale: a stalled link reports
 * lag 0 against the last answer it got). The source must be quiet for this to end. Resolves with the time taken.
 */
export async function waitInSync(source: KafkaClient, shadow: KafkaClient, topics: readonly LoadTopic[], timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  let behind = '';
  for (;;) {
    behind = '';
    try {
      for (const t of topics) {
        for (let p = 0; p < t.partitions && behind === ''; p++) {
          const [a, b] = await Promise.all([source.listOffsets(t.name, p, -1), shadow.listOffsets(t.name, p, -1)]);
          if (a.offset !== b.offset) behind = `${t.name}/${p}: shadow ${b.offset}, source ${a.offset}`;
        }
      }
    } catch (err) {
      behind = (err as Error).message;
    }
    if (behind === '') return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`the shadow did not catch up within ${timeoutMs} ms: ${behind}`);
    await sleep(50);
  }
}

/** Every acknowledged batch is in the log at its offset with its CRC; returns what is missing or changed. */
export async function missingAcked(client: KafkaClient, load: AcksAllLoad): Promise<string[]> {
  const problems: string[] = [];
  for (const [key, acked] of load.acked) {
    if (acked.length === 0) continue;
    const [topic, p] = key.split('/') as [string, string];
    const stored = await readBatches(client, topic, Number(p));
    const byBase = new Map(stored.batches.map((b) => [b.baseOffset, b]));
    for (const a of acked) {
      const b = byBase.get(a.baseOffset);
      if (b === undefined) problems.push(`${key}: acknowledged batch at ${a.baseOffset} (${a.records} records) is missing`);
      else if (b.crc !== a.crc || b.records !== a.records) problems.push(`${key}: batch at ${a.baseOffset} is not the acknowledged one (crc ${b.crc} vs ${a.crc})`);
    }
  }
  return problems;
}

export interface VerifyAnswer {
  ok: boolean;
  summary?: { partitions: number; batches: number; bytes: number; differences: number; missingRanges: number };
  topics: { name: string; ok: boolean; error?: string; partitions: { partition: number; ok: boolean; firstDifferenceOffset: number; difference: string; missingOnShadow: unknown[]; missingOnSource: unknown[] }[] }[];
}

/**
 * `POST /v1/shadow-links/{name}/verify` when the broker has it; undefined when the route does not exist (yet).
 * Any other failure throws.
 */
export async function verifyLink(api: AdminApi, link: string, topic?: string): Promise<VerifyAnswer | undefined> {
  const r = await api.call<VerifyAnswer & { message?: string; error?: string }>('POST', `/v1/shadow-links/${link}/verify`, topic === undefined ? {} : { topic });
  if (r.status === 404 && typeof r.body === 'object' && /^Route /.test(r.body.message ?? '')) return undefined;
  if (r.status < 200 || r.status >= 300) throw new Error(`verify ${link}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The partitions of a verify answer that are not ok, described. */
export function verifyProblems(v: VerifyAnswer, topics?: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of v.topics) {
    if (topics && !topics.includes(t.name)) continue;
    if (t.error) out.push(`${t.name}: ${t.error}`);
    for (const p of t.partitions) {
      if (!p.ok) out.push(`${t.name}/${p.partition}: first difference at ${p.firstDifferenceOffset} (${p.difference}); missing on shadow ${JSON.stringify(p.missingOnShadow)}, on source ${JSON.stringify(p.missingOnSource)}`);
    }
  }
  return out;
}
