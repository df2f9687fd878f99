// Helpers for shadow-link tests: the admin REST API, waiting for a link to catch up, and the two comparisons the
// acceptance criteria name — kcat's printout of every record, and the raw record batches (CRCs, base offsets).
import assert from 'node:assert/strict';
import { KafkaClient } from '../../src/client/client.js';
import { frameSizeAt } from '../../src/protocol/record-batch.js';
import type { LinkStatus } from '../../src/shadow/service.js';
import { runProcess } from './peers.js';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

export class AdminApi {
  constructor(
    readonly url: string,
    private readonly auth?: { user: string; password: string },
  ) {}

  async call<T = any>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.auth) headers['authorization'] = `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString('base64')}`;
    const res = await fetch(`${this.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics)
    }
    return { status: res.status, body: parsed as T };
  }

  /** Calls and asserts a 2xx answer. */
  async ok<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(method, path, body);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  status(link: string): Promise<LinkStatus> {
    return this.ok<LinkStatus>('GET', `/v1/shadow-links/${link}/status`);
  }

  async metrics(): Promise<string> {
    const res = await fetch(`${this.url}/metrics`, this.auth ? { headers: { authorization: `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString('base64')}` } } : {});
    return res.text();
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits until every listed topic is shadowed, every partition answered by the source and lag 0. A link's status can
 * say "lag 0" from a source high watermark it read before the latest produce, so the wait also needs each
 * partition's shadow high watermark to reach the source's end offset as read (through `source`) when it starts.
 */
export async function waitCaughtUp(
  api: AdminApi,
  link: string,
  topics: readonly string[],
  source: KafkaClient,
  timeoutMs = 30_000,
): Promise<LinkStatus> {
  const ends = new Map<string, number>();
  const meta = await source.metadata(topics);
  const specs = meta.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, timestamp: -1 })));
  for (const r of await source.listOffsetsMany(specs)) ends.set(`${r.topic}/${r.partition}`, r.offset);
  return waitFor(
    `link ${link} to catch up on ${topics.join(', ')}`,
    async () => {
      const s = await api.status(link);
      for (const name of topics) {
        const t = s.topics.find((x) => x.name === name);
        if (!t || t.partitions.length === 0) return undefined;
        if (t.partitions.some((p) => p.sourceHighWatermark < 0 || p.lag !== 0 || p.highWatermark !== p.sourceHighWatermark)) return undefined;
        if (t.partitions.some((p) => p.highWatermark < (ends.get(`${name}/${p.partition}`) ?? 0))) return undefined;
      }
      return s;
    },
    timeoutMs,
  );
}

/** kcat -C -e -f '%p %o %k %s %h %T': every record of the topic, sorted by partition and offset. */
export async function kcatPrint(bootstrap: string, topic: string): Promise<string[]> {
  const r = await runProcess('kcat', ['-b', bootstrap, '-C', '-e', '-q', '-t', topic, '-f', '%p %o %k %s %h %T\\n'], { timeoutMs: 60_000 });
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  const key = (l: string): [number, number] => {
    const [p, o] = l.split(' ');
    return [Number(p), Number(o)];
  };
  return lines.sort((a, b) => {
    const [pa, oa] = key(a);
    const [pb, ob] = key(b);
    return pa - pb || oa - ob;
  });
}

/** Every record batch of a partition as the broker stores it (raw bytes, split by the batch headers). */
export async function rawBatches(bootstrap: string, topic: string, partition: number): Promise<Buffer[]> {
  const client = new KafkaClient({ brokers: bootstrap, clientId: 'raw-batches' });
  try {
    const out: Buffer[] = [];
    let offset = (await client.listOffsets(topic, partition, -2)).offset;
    for (;;) {
      const [r] = await client.fetch([{ topic, partition, fetchOffset: offset }], { maxWaitMs: 0, maxBytes: 8 << 20, partitionMaxBytes: 8 << 20 });
      assert.equal(r!.errorCode, 0, `fetch ${topic}/${partition} at ${offset}: error ${r!.errorCode}`);
      const records = r!.records;
      let pos = 0;
      let next = offset;
      while (pos < records.length) {
        const size = frameSizeAt(records, pos);
        if (size < 0) break;
        const batch = Buffer.from(records.subarray(pos, pos + size));
        const base = Number(batch.readBigInt64BE(0));
        const lastDelta = batch.readInt32BE(23);
        if (base + lastDelta >= offset) out.push(batch);
        next = base + lastDelta + 1;
        pos += size;
      }
      if (next <= offset || next >= r!.highWatermark) break;
      offset = next;
    }
    return out;
  } finally {
    await client.close();
  }
}

/** The latest value per key (compacted topics, where each side compacts on its own). */
export function latestPerKey(lines: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of lines) {
    const [p, , k, s] = l.split(' ');
    m.set(`${p} ${k}`, s ?? '');
  }
  return m;
}
