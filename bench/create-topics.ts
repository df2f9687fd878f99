// What creating a topic costs the broker's other clients. While a CreateTopics of N partitions runs, a second
// connection sends ApiVersions back to back and records its slowest round trip; then one Produce names every
// partition of the new topic (its first record each), and the same is measured. A broker that creates partition
// logs on its request-serving thread holds every other client for the whole creation.
//
//   npm run bench:create-topics -- [--partitions 16,256,1000] [--target umbra|kafka|both] [--umbra-root DIR]
//
// Umbra is started as a user starts it (bin/umbra.js start); Apache Kafka 4.1 (when its jars are here, see
// test/peers/fetch-peers.sh) with bench:broker's settings. Both on 127.0.0.1 with fresh data directories, removed
// afterwards. Then the broker, holding all those partitions, is stopped (SIGTERM until it exits) and, for Umbra,
// started again over the same data and stopped once more.
// For Kafka, "took records" is when every partition has accepted its record (a partition may answer
// NOT_LEADER_OR_FOLLOWER until its leader is ready; those are sent again 50 ms later, and counted).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiKey } from '../src/protocol/generated/api.js';
import * as ApiVersionsRequest from '../src/protocol/generated/messages/ApiVersionsRequest.js';
import * as ApiVersionsResponse from '../src/protocol/generated/messages/ApiVersionsResponse.js';
import * as ProduceRequest from '../src/protocol/generated/messages/ProduceRequest.js';
import * as ProduceResponse from '../src/protocol/generated/messages/ProduceResponse.js';
import { buildRecordBatch } from '../src/protocol/record-batch.js';
import { createTopic } from './lib/admin.js';
import { startKafka, startUmbra, type BrokerUnderTest } from './lib/brokers.js';
import { KafkaConnection, pickVersion } from './lib/wire.js';

interface Row {
  broker: string;
  partitions: number;
  createMs: number;
  createWorstMs: number;
  createPings: number;
  produceMs: number;
  produceWorstMs: number;
  resent: number;
  /** error codes the first Produce got, with counts */
  errors: string;
}

/** before sending again what a partition refused (a client's retry.backoff.ms is 100) */
const RETRY_BACKOFF_MS = 50;

const { values } = parseArgs({
  options: {
    partitions: { type: 'string', default: '16,256,1000' },
    target: { type: 'string', default: 'umbra' },
    'umbra-root': { type: 'string' },
  },
});
const sizes = values.partitions!.split(',').map(Number);
const targets = values.target === 'both' ? ['umbra', 'kafka'] : [values.target!];
const repoRoot = path.resolve(values['umbra-root'] ?? path.join(import.meta.dirname, '../..'));

/** ApiVersions back to back on `conn` until stopped; the slowest round trip since the last reset. */
class Pinger {
  worst = 0;
  count = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(conn: KafkaConnection, version: number) {
    this.done = (async () => {
      while (!this.stopped) {
        const t = performance.now();
        await conn.request(
          ApiKey.ApiVersions,
          version,
          (w) => ApiVersionsRequest.write(w, version, { clientSoftwareName: 'umbra-bench', clientSoftwareVersion: '1' }),
          ApiVersionsResponse.read,
        );
        this.worst = Math.max(this.worst, performance.now() - t);
        this.count++;
      }
    })();
  }

  reset(): void {
    this.worst = 0;
    this.count = 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

async function measure(broker: BrokerUnderTest): Promise<Row[]> {
  const rows: Row[] = [];
  const admin = await KafkaConnection.connect({ host: broker.host, port: broker.port });
  const producer = await KafkaConnection.connect({ host: broker.host, port: broker.port });
  const other = await KafkaConnection.connect({ host: broker.host, port: broker.port });
  const pinger = new Pinger(other, pickVersion(broker.ranges, ApiKey.ApiVersions, 3));
  const pv = pickVersion(broker.ranges, ApiKey.Produce, 9);
  const record = buildRecordBatch({ records: [{ key: null, value: Buffer.from('first') }] });
  try {
    for (const n of sizes) {
      const name = `created-${n}`;
      pinger.reset();
      let t0 = performance.now();
      await createTopic(admin, broker.ranges, name, n, 120_000); // answered, and every partition has a leader
      const createMs = performance.now() - t0;
      const createWorstMs = pinger.worst;
      const createPings = pinger.count;
      await new Promise((r) => setTimeout(r, 1000));

      pinger.reset();
      t0 = performance.now();
      let left = Array.from({ length: n }, (_, p) => p);
      let resent = 0;
      const errors = new Map<number, number>();
      while (left.length > 0) {
        if (performance.now() - t0 > 60_000) throw new Error(`${broker.name}: ${left.length} partitions of ${name} took no record in 60 s`);
        const res = await producer.request(
          ApiKey.Produce,
          pv,
          (w) => ProduceRequest.write(w, pv, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name, partitionData: left.map((p) => ({ index: p, records: record })) }] }),
          ProduceResponse.read,
        );
        const failed = res.responses[0]!.partitionResponses.filter((p) => p.errorCode !== 0);
        for (const p of failed) errors.set(p.errorCode, (errors.get(p.errorCode) ?? 0) + 1);
        resent += failed.length;
        left = failed.map((p) => p.index);
        if (left.length > 0) await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
      }
      const errorText = [...errors].map(([code, count]) => `${count} × error ${code}`).join(', ');
      rows.push({ broker: broker.name, partitions: n, createMs, createWorstMs, createPings, produceMs: performance.now() - t0, produceWorstMs: pinger.worst, resent, errors: errorText });
      const r = rows[rows.length - 1]!;
      console.log(
        `  ${broker.name}, ${n} partitions: CreateTopics ${r.createMs.toFixed(0)} ms, other client's slowest round trip ${r.createWorstMs.toFixed(1)} ms ` +
          `(${r.createPings} answered meanwhile); first Produce to every partition ${r.produceMs.toFixed(0)} ms, slowest ${r.produceWorstMs.toFixed(1)} ms` +
          (r.errors ? ` (answered with ${r.errors}, sent again ${RETRY_BACKOFF_MS} ms later)` : ''),
      );
    }
  } finally {
    await pinger.stop();
    for (const c of [admin, producer, other]) c.close();
  }
  return rows;
}

const all: Row[] = [];
const lifecycle: string[] = [];
const total = sizes.reduce((a, b) => a + b, 0);
for (const target of targets) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-create-topics-'));
  let broker: BrokerUnderTest | null = target === 'kafka' ? await startKafka(dir) : await startUmbra(repoRoot, dir);
  try {
    console.log(`${broker.name} (${broker.how})`);
    all.push(...(await measure(broker)));
    // Then a graceful stop (SIGTERM until the process exits) holding every partition created, each with one
    // record; for Umbra also a restart over the same data until it serves, and a stop of that one.
    const name = broker.name;
    let t0 = performance.now();
    await broker.stop();
    broker = null;
    const line = [`${name} with ${total} partitions of one record each: stop ${(performance.now() - t0).toFixed(0)} ms`];
    if (target === 'umbra') {
      broker = await startUmbra(repoRoot, dir);
      line.push(`restart until it serves ${(broker.startupSeconds * 1000).toFixed(0)} ms`);
      t0 = performance.now();
      await broker.stop();
      broker = null;
      line.push(`stop again ${(performance.now() - t0).toFixed(0)} ms`);
    }
    lifecycle.push(line.join(', '));
    console.log(`  ${lifecycle[lifecycle.length - 1]}`);
  } finally {
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log('\n| broker | partitions | CreateTopics until every partition leads, ms | other client: slowest round trip meanwhile, ms | first Produce to every partition, ms | slowest round trip meanwhile, ms |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of all) {
  console.log(`| ${r.broker} | ${r.partitions} | ${r.createMs.toFixed(0)} | ${r.createWorstMs.toFixed(1)} | ${r.produceMs.toFixed(0)}${r.resent > 0 ? ` (${r.resent} sent again)` : ''} | ${r.produceWorstMs.toFixed(1)} |`);
}
console.log('');
for (const line of lifecycle) console.log(line);
console.log(`\ncommand: npm run bench:create-topics -- --partitions ${sizes.join(',')} --target ${values.target}${values['umbra-root'] ? ` --umbra-root ${values['umbra-root']}` : ''}`);
console.log(`machine: ${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} cores, Node ${process.version}`);
