// The processes of a shadow benchmark run and how they are driven: Umbra brokers (source, shadow, MirrorMaker 2
// target), Apache Kafka 4.1 as a source, MirrorMaker 2, the two agents (load generator, monitor), shadow links over
// the admin REST API, and a CPU timeline of every process read from /proc/<pid>/stat.
//
// Everything listens on 127.0.0.1. Every process started here is tracked and stopped by its own pid; every
// temporary directory is removed at the end (unless --keep).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fork, type ChildProcess } from 'node:child_process';
import { ApiKey } from '../../src/protocol/generated/api.js';
import * as DeleteRecordsRequest from '../../src/protocol/generated/messages/DeleteRecordsRequest.js';
import * as DeleteRecordsResponse from '../../src/protocol/generated/messages/DeleteRecordsResponse.js';
import * as ListOffsetsRequest from '../../src/protocol/generated/messages/ListOffsetsRequest.js';
import * as ListOffsetsResponse from '../../src/protocol/generated/messages/ListOffsetsResponse.js';
import * as MetadataRequest from '../../src/protocol/generated/messages/MetadataRequest.js';
import * as MetadataResponse from '../../src/protocol/generated/messages/MetadataResponse.js';
import * as ProduceRequest from '../../src/protocol/generated/messages/ProduceRequest.js';
import * as ProduceResponse from '../../src/protocol/generated/messages/ProduceResponse.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { freePorts, kafkaUnavailableReason, kafkaVersion, startKafka as startKafkaProcess } from '../../test/helpers/kafka.js';
import { startMirrorMaker, type MirrorMaker } from '../kafka/mirror-maker.js';
import { createTopic, deleteTopics, waitForBroker } from '../lib/admin.js';
import { KAFKA_HEAP_MB } from '../lib/brokers.js';
import { mainThreadRunDelaySeconds, ownCpuSeconds, readMachineBusySeconds, readPressureSeconds, spawnLogged, stopProcess } from '../lib/procs.js';
import { KafkaConnection, pickVersion, type ApiVersionRanges } from '../lib/wire.js';
import type { ShadowOptions } from './options.js';
import type { AgentJob, AgentReply, AgentResult, Endpoint, MonitorJob, MonitorResult } from './jobs.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/bench/shadow
export const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup registry ---------------------------------------------------------------------------------

const agents = new Set<ChildProcess>();
const brokers = new Set<{ pid: number; exited(): string | null }>();
const mirrorMakers = new Set<MirrorMaker>();
export const tempDirs = new Set<string>();
export const cleanup = { keepTemp: false };

/** SIGKILLs (by pid) whatever this run started and still runs; removes its temporary directories. */
export function cleanupSync(): void {
  for (const c of agents) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const b of brokers) {
    try {
      if (!b.exited()) process.kill(b.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const m of mirrorMakers) {
    try {
      if (m.pid !== undefined) process.kill(m.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (!cleanup.keepTemp) for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
}

// ---- brokers ------------------------------------------------------------------------------------------

export interface Broker extends Endpoint {
  /** 'Umbra 0.1.0', 'Apache Kafka 4.1.2' */
  name: string;
  kind: 'umbra' | 'kafka';
  pid: number;
  ranges: ApiVersionRanges;
  /** admin REST API (Umbra only) */
  adminUrl?: string;
  how: string;
  startupSeconds: number;
  exited(): string | null;
  tail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * An Umbra broker as a user starts it: `node bin/umbra.js start --data-dir … --listen … --admin-listen …`.
 * `nodeArgs` go to node before the script (e.g. --cpu-prof for the shadow).
 */
export async function startUmbraBroker(repoRoot: string, dir: string, role: string, nodeArgs: string[] = [], settings: Record<string, string | number> = {}): Promise<Broker> {
  const bin = path.join(repoRoot, 'bin/umbra.js');
  if (!fs.existsSync(path.join(repoRoot, 'dist/src/cli/main.js'))) throw new Error('Umbra is not built (npm run build)');
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const dataDir = path.join(dir, `${role}-data`);
  fs.mkdirSync(dataDir, { recursive: true });
  const [port, adminPort] = (await freePorts(2)) as [number, number];
  const sets = Object.entries(settings).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  const args = [...nodeArgs, bin, 'start', '--data-dir', dataDir, '--listen', `${HOST}:${port}`, '--admin-listen', `${HOST}:${adminPort}`, '--log-level', 'warn', ...sets];
  const t0 = performance.now();
  const p = spawnLogged(process.execPath, args, path.join(dir, `${role}.log`), process.env, repoRoot);
  const tracked = { pid: p.pid, exited: p.exited };
  brokers.add(tracked);
  let ranges: ApiVersionRanges;
  try {
    ranges = await waitForBroker(HOST, port, 30_000, p.exited);
  } catch (err) {
    await stopProcess(p, 5000);
    brokers.delete(tracked);
    throw new Error(`Umbra (${role}) did not start: ${(err as Error).message}\n${p.tail()}`);
  }
  return {
    name: `Umbra ${pkg.version}`,
    kind: 'umbra',
    host: HOST,
    port,
    pid: p.pid,
    ranges,
    adminUrl: `http://${HOST}:${adminPort}`,
    how: `node ${nodeArgs.length ? `${nodeArgs.join(' ')} ` : ''}bin/umbra.js start --data-dir <tmp> --listen ${HOST}:<port> --admin-listen ${HOST}:<port> --log-level warn${sets.length ? ` ${sets.join(' ')}` : ''}`,
    startupSeconds: (performance.now() - t0) / 1000,
    exited: p.exited,
    tail: p.tail,
    stop: async () => {
      await stopProcess(p);
      brokers.delete(tracked);
    },
  };
}

/**
 * Apache Kafka 4.1 (KRaft, one JVM as broker and controller, 1 GiB heap as bin/kafka-server-start.sh) through
 * test/helpers/kafka.ts, with the given server.properties on top of its defaults.
 */
export async function startKafkaBroker(dir: string, settings: Record<string, string | number> = {}): Promise<Broker> {
  const reason = kafkaUnavailableReason();
  if (reason) throw new Error(`Apache Kafka is not available here: ${reason}`);
  // UMBRA_BENCH_KAFKA_JVM_ARGS: extra JVM options for diagnosis (e.g. -Xlog:gc:file=gc.log:time,uptime)
  const jvmArgs = (process.env.UMBRA_BENCH_KAFKA_JVM_ARGS ?? '').split(' ').filter(Boolean);
  const k = await startKafkaProcess({ dir, heapMb: KAFKA_HEAP_MB, config: settings, jvmArgs });
  const pid = k.pid!;
  const exited = (): string | null => (k.pid === undefined ? 'exited' : null);
  const tracked = { pid, exited };
  brokers.add(tracked);
  let ranges: ApiVersionRanges;
  try {
    ranges = await waitForBroker(k.host, k.port, 30_000, exited);
  } catch (err) {
    await k.stop();
    brokers.delete(tracked);
    throw err;
  }
  return {
    name: `Apache Kafka ${kafkaVersion()}`,
    kind: 'kafka',
    host: k.host,
    port: k.port,
    pid,
    ranges,
    how: `test/helpers/kafka.ts startKafka({ heapMb: ${KAFKA_HEAP_MB} }): java -Xms${KAFKA_HEAP_MB}m -Xmx${KAFKA_HEAP_MB}m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 … kafka.Kafka (KRaft broker+controller, default broker settings${Object.keys(settings).length ? ` plus ${Object.entries(settings).map(([a, b]) => `${a}=${b}`).join(', ')}` : ''})`,
    startupSeconds: k.startupMs / 1000,
    exited,
    tail: (lines) => k.logTail(lines),
    stop: async () => {
      await k.stop();
      brokers.delete(tracked);
    },
  };
}

// ---- requests the orchestrator makes ------------------------------------------------------------------

export async function withConnection<T>(b: Endpoint, fn: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const c = await KafkaConnection.connect({ host: b.host, port: b.port });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

export async function deleteTopicsOf(b: Broker, names: string[]): Promise<void> {
  await withConnection(b, (c) => deleteTopics(c, b.ranges, names));
}

export async function createTopics(b: Broker, topics: { name: string; partitions: number }[]): Promise<void> {
  await withConnection(b, async (c) => {
    for (const t of topics) {
      const n = await createTopic(c, b.ranges, t.name, t.partitions, 120_000);
      if (n !== t.partitions) throw new Error(`${b.name}: topic ${t.name} has ${n} partitions, not ${t.partitions}`);
    }
  });
}

/**
 * ListOffsets for partitions 0..n-1 of a topic: `timestamp` -1 = latest (the high watermark), -2 = earliest (the log
 * start). Null when the topic is not there (yet) or a partition answers with an error.
 */
export async function listOffsets(c: KafkaConnection, ranges: ApiVersionRanges, topic: string, n: number, timestamp: -1 | -2): Promise<number[] | null> {
  const v = pickVersion(ranges, ApiKey.ListOffsets, 7);
  const partitions = Array.from({ length: n }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp }));
  const res = await c.request(
    ApiKey.ListOffsets,
    v,
    (w) => ListOffsetsRequest.writeListOffsetsRequest(w, v, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions }], timeoutMs: 5000 }),
    ListOffsetsResponse.readListOffsetsResponse,
  );
  const out = new Array<number>(n).fill(-1);
  let seen = 0;
  for (const t of res.topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== 0 || p.partitionIndex >= n) return null;
      out[p.partitionIndex] = Number(p.offset);
      seen++;
    }
  }
  return seen === n ? out : null;
}

/** Σ high watermark over partitions 0..n-1 of a topic; -1 when the topic is not there (yet). */
export async function sumHighWatermarks(c: KafkaConnection, ranges: ApiVersionRanges, topic: string, n: number): Promise<number> {
  const hw = await listOffsets(c, ranges, topic, n, -1);
  return hw === null ? -1 : hw.reduce((a, b) => a + b, 0);
}

/**
 * Keeps what some topics hold on some brokers bounded, as retention would: every second, a partition holding
 * `keep` + `step` records or more is cut back to `keep` (DeleteRecords). The bench's step is one segment
 * (options.ts trimPlan), so a cut deletes about one segment, which the Umbra broker reuses as its next one. The page cache of this machine is
 * cheap to reuse and expensive to grow (new page-cache memory is faulted in by the host: ~10x the CPU per byte
 * written, bench/RESULTS.md), and a phase at full speed writes gigabytes: deleting behind the writers keeps every
 * broker's footprint near the budget. With a `follower` (the topic on the target of a replicator), nothing is cut
 * that the follower does not have yet: a slow replicator grows the footprint instead of losing data. A shadow topic
 * is not trimmed: the link follows its source's log start by itself.
 */
export class Trimmer {
  private readonly targets: {
    broker: Broker;
    topic: string;
    partitions: number;
    keepRecords: number;
    stepRecords: number;
    trimmed: number[];
    follower: { broker: Broker; topic: string } | undefined;
  }[] = [];
  private readonly conns = new Map<Broker, KafkaConnection>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  errors = 0;
  lastError = '';

  add(broker: Broker, topic: string, partitions: number, records: { keep: number; step: number }, follower?: { broker: Broker; topic: string }): void {
    if (!Number.isFinite(records.keep)) return;
    this.targets.push({
      broker,
      topic,
      partitions,
      keepRecords: Math.max(1, Math.floor(records.keep)),
      stepRecords: Math.max(1, Math.floor(records.step)),
      trimmed: new Array<number>(partitions).fill(0),
      follower,
    });
  }

  /** Forgets one topic of a broker (before it is deleted). */
  dropTopic(broker: Broker, topic: string): void {
    for (let i = this.targets.length - 1; i >= 0; i--) {
      const t = this.targets[i]!;
      if (t.broker === broker && t.topic === topic) this.targets.splice(i, 1);
    }
  }

  /** Forgets a broker (before it stops). */
  drop(broker: Broker): void {
    for (let i = this.targets.length - 1; i >= 0; i--) {
      const t = this.targets[i]!;
      if (t.broker === broker) this.targets.splice(i, 1);
      else if (t.follower?.broker === broker) t.follower = undefined;
    }
    this.conns.get(broker)?.close();
    this.conns.delete(broker);
  }

  start(everyMs = 1000): void {
    this.timer = setInterval(() => void this.pass(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }

  private async conn(b: Broker): Promise<KafkaConnection> {
    let c = this.conns.get(b);
    if (!c) {
      c = await KafkaConnection.connect(b);
      this.conns.set(b, c);
    }
    return c;
  }

  /** One pass over every target (also called directly: trim now). */
  async pass(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const t of [...this.targets]) {
        try {
          const c = await this.conn(t.broker);
          const hw = await listOffsets(c, t.broker.ranges, t.topic, t.partitions, -1);
          if (hw === null) continue;
          let follower: number[] | null = null;
          if (t.follower) {
            follower = await listOffsets(await this.conn(t.follower.broker), t.follower.broker.ranges, t.follower.topic, t.partitions, -1);
            if (follower === null) continue;
          }
          const parts: { partitionIndex: number; offset: number }[] = [];
          hw.forEach((h, p) => {
            const upTo = follower === null ? h : Math.min(h, follower[p]!);
            if (upTo - t.trimmed[p]! < t.keepRecords + t.stepRecords) return;
            parts.push({ partitionIndex: p, offset: upTo - t.keepRecords });
          });
          if (parts.length === 0) continue;
          const v = pickVersion(t.broker.ranges, ApiKey.DeleteRecords, 2);
          const res = await c.request(
            ApiKey.DeleteRecords,
            v,
            (w) => DeleteRecordsRequest.writeDeleteRecordsRequest(w, v, { topics: [{ name: t.topic, partitions: parts }], timeoutMs: 10_000 }),
            DeleteRecordsResponse.readDeleteRecordsResponse,
          );
          for (const tr of res.topics) {
            for (const p of tr.partitions) {
              if (p.errorCode === 0) t.trimmed[p.partitionIndex] = Math.max(t.trimmed[p.partitionIndex]!, Number(p.lowWatermark));
              else {
                this.errors++;
                this.lastError = `DeleteRecords ${t.topic}/${p.partitionIndex}: error ${p.errorCode}`;
              }
            }
          }
        } catch (err) {
          this.errors++;
          this.lastError = (err as Error).message;
          this.conns.get(t.broker)?.close();
          this.conns.delete(t.broker);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** Waits until `topic` exists on the broker with `partitions` partitions, all led. */
export async function waitForTopic(b: Broker, topic: string, partitions: number, timeoutMs: number): Promise<void> {
  const v = pickVersion(b.ranges, ApiKey.Metadata, 12);
  const deadline = Date.now() + timeoutMs;
  await withConnection(b, async (c) => {
    for (;;) {
      const md = await c.request(ApiKey.Metadata, v, (w) => MetadataRequest.write(w, v, { topics: [{ name: topic }], allowAutoTopicCreation: false }), MetadataResponse.read);
      const t = md.topics.find((x) => x.name === topic);
      if (t && t.errorCode === 0 && t.partitions.length === partitions && t.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0)) return;
      if (Date.now() > deadline) throw new Error(`${b.name}: topic ${topic} not ready with ${partitions} partitions after ${timeoutMs} ms`);
      await sleep(100);
    }
  });
}

/**
 * Readiness of a replication path before anything is measured: one small record to every partition of each
 * topic on the source, then wait until the target's high watermarks add up to the source's.
 */
export async function primeAndWait(source: Broker, target: Broker, topics: { name: string; partitions: number }[], timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const pv = pickVersion(source.ranges, ApiKey.Produce, 12);
  await withConnection(source, async (c) => {
    for (const t of topics) {
      const partitionData = Array.from({ length: t.partitions }, (_, p) => ({ index: p, records: buildRecordBatch({ records: [{ value: `prime ${t.name}/${p}` }] }) }));
      const res = await c.request(
        ApiKey.Produce,
        pv,
        (w) => ProduceRequest.writeProduceRequest(w, pv, { acks: 1, timeoutMs: 30_000, topicData: [{ name: t.name, partitionData }] }),
        ProduceResponse.readProduceResponse,
      );
      for (const tr of res.responses) for (const p of tr.partitionResponses) if (p.errorCode !== 0) throw new Error(`priming ${t.name}/${p.index}: error ${p.errorCode}`);
    }
  });
  const deadline = Date.now() + timeoutMs;
  const [sc, tc] = await Promise.all([KafkaConnection.connect(source), KafkaConnection.connect(target)]);
  try {
    for (;;) {
      let ok = true;
      for (const t of topics) {
        const [s, d] = await Promise.all([sumHighWatermarks(sc, source.ranges, t.name, t.partitions), sumHighWatermarks(tc, target.ranges, t.name, t.partitions)]);
        if (s <= 0 || d < s) ok = false;
      }
      if (ok) return (performance.now() - t0) / 1000;
      if (Date.now() > deadline) throw new Error(`the replication path did not deliver the priming records within ${timeoutMs} ms`);
      await sleep(50);
    }
  } finally {
    sc.close();
    tc.close();
  }
}

// ---- shadow links over REST ---------------------------------------------------------------------------

export async function adminCall<T = unknown>(b: Broker, method: string, urlPath: string, body?: unknown): Promise<T> {
  const res = await fetch(`${b.adminUrl!}${urlPath}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${urlPath}: HTTP ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The link document the benchmark creates: default client options, topics listed literally, start at earliest. */
/**
 * A link over `topics`, from the earliest offsets. `syncInterval`: the topic metadata sync interval (how often the
 * link polls the source's topics and offsets); 1 s by default so a run's topics are picked up at once, or null
 * for the link's own default (what a user gets without configuring it).
 */
export function linkDocument(
  name: string,
  source: Endpoint,
  topics: string[],
  clientOptions: Record<string, unknown> = {},
  syncInterval: string | null = '1s',
): Record<string, unknown> {
  return {
    name,
    client_options: { bootstrap_servers: [`${source.host}:${source.port}`], ...clientOptions },
    topic_metadata_sync_options: {
      ...(syncInterval !== null ? { interval: syncInterval } : {}),
      auto_create_shadow_topic_filters: topics.map((t) => ({ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: t })),
      start_at_earliest: {},
    },
  };
}

interface LinkStatusDoc {
  topics: { name: string; partitions: { sourceHighWatermark: number; state: string }[] }[];
}

/** Waits until the link shadows every listed topic with every partition answered by the source at least once. */
export async function waitForLink(shadow: Broker, link: string, topics: { name: string; partitions: number }[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = true;
    try {
      const s = await adminCall<LinkStatusDoc>(shadow, 'GET', `/v1/shadow-links/${link}/status`);
      for (const t of topics) {
        const ts = s.topics.find((x) => x.name === t.name);
        if (!ts || ts.partitions.length !== t.partitions || ts.partitions.some((p) => p.sourceHighWatermark < 0)) ok = false;
      }
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`link ${link} did not start replicating ${topics.map((t) => t.name).join(', ')} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Σ of a counter in Prometheus text, over the series whose labels contain every `match` fragment. */
export async function metricSum(b: Broker, name: string, match: string[] = []): Promise<number> {
  const res = await fetch(`${b.adminUrl!}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (!match.every((m) => rest.includes(m))) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/**
 * An Umbra broker's event-loop delay since the previous call (prom-client resets its histogram at every scrape):
 * p99 and max in ms, less the monitor's 10 ms timer resolution. Null for a broker without an admin API.
 */
export async function eventLoopDelay(b: Broker): Promise<{ p99: number; max: number } | null> {
  if (!b.adminUrl) return null;
  try {
    const text = await (await fetch(`${b.adminUrl}/metrics`)).text();
    const get = (name: string) => {
      const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
      return m ? Math.max(0, Number(m[1]) * 1000 - 10) : NaN;
    };
    return { p99: get('umbra_nodejs_eventloop_lag_p99_seconds'), max: get('umbra_nodejs_eventloop_lag_max_seconds') };
  } catch {
    return null;
  }
}

// ---- MirrorMaker 2 ------------------------------------------------------------------------------------

/** MirrorMaker 2's settings from the options (--mm2-*), and its task count */
export type Mm2Settings = ShadowOptions['mm2'] & { tasksMax: number };

/** The mm2.properties the benchmark adds to bench/kafka/mirror-maker.ts's defaults (printed in the report). */
export function mm2Properties(s: Mm2Settings): Record<string, string | number | boolean> {
  return {
    'tasks.max': s.tasksMax,
    'replication.policy.class': 'org.apache.kafka.connect.mirror.IdentityReplicationPolicy',
    'sync.group.offsets.enabled': false,
    'emit.checkpoints.enabled': false,
    'emit.heartbeats.enabled': false,
    'refresh.groups.interval.seconds': 600,
    // one worker: a task reassignment need not wait for a departed worker to come back (Connect waits 5 minutes)
    'scheduled.rebalance.max.delay.ms': 0,
    'offset.lag.max': s.offsetLagMax,
    'target.producer.linger.ms': s.lingerMs,
    'target.producer.batch.size': s.batchSize,
    'target.producer.acks': s.acks,
    'target.producer.max.in.flight.requests.per.connection': s.maxInFlight,
    'source.consumer.isolation.level': 'read_committed',
    'source.consumer.max.poll.records': s.maxPollRecords,
  };
}

export interface RunningMm2 {
  pid: number;
  how: string;
  /** lines of its log matching `re` so far */
  countLog(re: RegExp): number;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export async function startMm2(source: Endpoint, target: Endpoint, topics: string[], s: Mm2Settings, dir: string): Promise<RunningMm2> {
  fs.mkdirSync(dir, { recursive: true });
  const props = mm2Properties(s);
  const mm = await startMirrorMaker({
    source: `${source.host}:${source.port}`,
    target: `${target.host}:${target.port}`,
    topics: topics.join(','),
    identity: true,
    heapMb: s.heapMb,
    dir,
    config: props,
  });
  mirrorMakers.add(mm);
  const pid = mm.pid;
  if (pid === undefined) throw new Error(`MirrorMaker 2 exited at once:\n${mm.logTail()}`);
  return {
    pid,
    how: `java -Xmx${s.heapMb}m -XX:+UseG1GC … org.apache.kafka.connect.mirror.MirrorMaker mm2.properties --clusters target (bench/kafka/mirror-maker.ts; ${Object.entries(props)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ')})`,
    logTail: (n) => mm.logTail(n),
    countLog: (re) => {
      try {
        return fs.readFileSync(mm.logFile, 'utf8').split('\n').filter((l) => re.test(l)).length;
      } catch {
        return 0;
      }
    },
    stop: async () => {
      await mm.stop();
      mirrorMakers.delete(mm);
    },
  };
}

// ---- agents -------------------------------------------------------------------------------------------

/** A forked agent process (bench/shadow/agent.ts). */
export class Agent {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: AgentResult) => void; reject: (e: Error) => void }>();

  constructor(readonly role: string) {
    this.child = fork(path.join(here, 'agent.js'), [role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    agents.add(this.child);
    this.child.on('message', (reply: AgentReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.ok) w.resolve(reply.result);
      else w.reject(new Error(`${role}: ${reply.error}`));
    });
    this.child.on('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`${role} agent exited (${signal ?? code})`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private send<T extends AgentResult>(job: AgentJob): { id: number; result: Promise<T> } {
    const id = this.nextId++;
    const result = new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: AgentResult) => void, reject });
      this.child.send({ id, job });
    });
    return { id, result };
  }

  run<T extends AgentResult>(job: AgentJob): Promise<T> {
    return this.send<T>(job).result;
  }

  /** Starts a monitor; `stop()` ends it and resolves with its samples. */
  monitor(job: MonitorJob): { stop: () => Promise<MonitorResult>; result: Promise<MonitorResult> } {
    const { id, result } = this.send<MonitorResult>(job);
    return {
      result,
      stop: () => {
        this.child.send({ id: 0, stop: id });
        return result;
      },
    };
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

// ---- CPU timeline ---------------------------------------------------------------------------------------

/**
 * CPU seconds of each watched process (utime + stime of /proc/<pid>/stat: every process here is started directly,
 * with no launcher in between) and of the machine, read every
 * `everyMs`; `between(pid, t0, t1)` interpolates, so any window (a produce job's measured seconds) can be cut out.
 * Also the time each process's main thread waited for a CPU, and the machine's I/O and CPU pressure (PSI): where a
 * latency tail went when the event loop itself was not blocked.
 */
export class CpuTimeline {
  private readonly pids = new Map<number, string>();
  private readonly t: number[] = [];
  private readonly series = new Map<number, number[]>();
  private readonly waits = new Map<number, number[]>();
  private readonly machine: number[] = [];
  private readonly ioPressure: number[] = [];
  private readonly cpuPressure: number[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly everyMs = 100) {}

  watch(pid: number, label: string): void {
    if (this.pids.has(pid)) return;
    this.pids.set(pid, label);
    // earlier samples: unknown (NaN) for this pid
    this.series.set(pid, new Array<number>(this.t.length).fill(NaN));
    this.waits.set(pid, new Array<number>(this.t.length).fill(NaN));
  }

  unwatch(pid: number): void {
    this.pids.delete(pid);
  }

  sample(): void {
    this.t.push(performance.timeOrigin + performance.now());
    this.machine.push(readMachineBusySeconds());
    const pressure = readPressureSeconds();
    this.ioPressure.push(pressure.io);
    this.cpuPressure.push(pressure.cpu);
    for (const [pid, s] of this.series) s.push(this.pids.has(pid) ? ownCpuSeconds(pid) : NaN);
    for (const [pid, s] of this.waits) s.push(this.pids.has(pid) ? mainThreadRunDelaySeconds(pid) : NaN);
  }

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Trims samples older than `keepAfterMs` (wall), so a long run does not grow without bound. */
  trim(keepAfterMs: number): void {
    let i = 0;
    while (i < this.t.length - 2 && this.t[i + 1]! < keepAfterMs) i++;
    if (i === 0) return;
    this.t.splice(0, i);
    this.machine.splice(0, i);
    this.ioPressure.splice(0, i);
    this.cpuPressure.splice(0, i);
    for (const s of this.series.values()) s.splice(0, i);
    for (const s of this.waits.values()) s.splice(0, i);
  }

  private at(values: number[], tMs: number): number {
    const t = this.t;
    if (t.length === 0) return NaN;
    if (tMs <= t[0]!) return values[0]!;
    for (let i = 1; i < t.length; i++) {
      if (t[i]! >= tMs) {
        const f = (tMs - t[i - 1]!) / (t[i]! - t[i - 1]!);
        return values[i - 1]! + f * (values[i]! - values[i - 1]!);
      }
    }
    return values[values.length - 1]!;
  }

  /** CPU seconds the process used in [t0, t1] (wall ms). */
  between(pid: number, t0: number, t1: number): number {
    const s = this.series.get(pid);
    if (!s) return NaN;
    return this.at(s, t1) - this.at(s, t0);
  }

  /** Seconds the process's main thread waited for a CPU in [t0, t1] (wall ms). */
  mainThreadWaitBetween(pid: number, t0: number, t1: number): number {
    const s = this.waits.get(pid);
    if (!s) return NaN;
    return this.at(s, t1) - this.at(s, t0);
  }

  /** Seconds in [t0, t1] in which some task on the machine waited for I/O, and for a CPU (PSI `some`). */
  pressureBetween(t0: number, t1: number): { io: number; cpu: number } {
    return { io: this.at(this.ioPressure, t1) - this.at(this.ioPressure, t0), cpu: this.at(this.cpuPressure, t1) - this.at(this.cpuPressure, t0) };
  }

  /** CPU seconds the machine (all processes) used in [t0, t1]. */
  machineBetween(t0: number, t1: number): number {
    return this.at(this.machine, t1) - this.at(this.machine, t0);
  }
}
