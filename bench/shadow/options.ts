// Command-line options of `npm run bench:shadow`.

import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const HELP = `npm run bench:shadow -- [options]

Matrix (every combination is one scenario: a fresh source, fresh shadows, the link and MirrorMaker 2 in turn):
  --partitions LIST            partitions of the load topic (default 1,16,256)
  --record-bytes LIST          record value sizes (default 1024,100)
  --sources LIST               umbra,kafka: the source cluster (default both; kafka needs npm run peers:fetch)
  --replicators LIST           link,mm2: Umbra's shadow link, MirrorMaker 2 (default both)
  --rates LIST                 fixed-rate phases, % of the max ingest the link keeps up with (default 25,50,100)
  --reference-mib N            take N MiB/s as that max instead of searching for it (same offered load across runs)
  --quick                      16 partitions, 1 KiB records, 4 s phases, 8 s idle: a few minutes

Phases:
  --seconds N                  measured seconds per phase (default 6)
  --warmup N                   unmeasured seconds before each phase (default 2)
  --catchup-seconds N          cap on a backlog catch-up measurement (default 15)
  --drain-seconds N            cap on waiting for the target to catch up after a phase (default 15)
  --jvm-warmup N               cap, seconds, on warming up a JVM before it is measured (default 90; 0 = none): an
                               Apache Kafka source replicates a throwaway topic through a throwaway link at full
                               speed, MirrorMaker 2 its topic at the first phase's rate, until the JVM's JIT compiler
                               threads use under 10 % of a core over a round
  --keep-mib N                 what each topic may keep on each broker, MiB (default 2048; 0 = everything): the
                               bench deletes older records (DeleteRecords, every second) so the page cache stays
                               bounded (bench/RESULTS.md says why that matters on this machine)
  --segment-mib N              segment size on both brokers while trimming, MiB (default 0: a quarter of a
                               partition's share of --keep-mib, 1-128 MiB, so DeleteRecords frees space promptly)
  --trim half|segment          half (default): a partition holding its share is cut back to half of it (two
                               segments); segment: cut back by about one segment each time, as retention.bytes does

Load (the project's own client, prebuilt batches, acks=1):
  --batch-bytes N              value bytes per record batch (default 65536: 64 x 1 KiB or 655 x 100 B records)
  --per-request N              partitions per Produce request (default 4; fewer when the topic has fewer)
  --window N                   Produce requests in flight (default 16)

Measurement:
  --sample-ms N                lag sample interval (default 10)
  --probe-ms N                 latency probe interval (default 10)

Idle cost:
  --idle-partitions N          shadow partitions of the idle link (default 1000; 0 skips the idle measurement)
  --idle-seconds N             measured seconds (default 30)
  --idle-only                  only the idle measurement (and the sampler's cost)

MirrorMaker 2 (dedicated mode, org.apache.kafka:connect-mirror from Maven Central):
  --mm2-heap-mb N              MirrorMaker 2 heap (default: 128 MiB per task, 2048 to 8192; 1 GiB ran out at 16 tasks
                               once the source offered 145 MiB/s: each task's producer may buffer 32 MiB)
  --mm2-linger-ms N            target.producer.linger.ms (default 5)
  --mm2-batch-size N           target.producer.batch.size (default 262144)
  --mm2-acks A                 target.producer.acks (default 1: the link does not fsync replicated batches either)
  --mm2-max-in-flight N        target.producer.max.in.flight.requests.per.connection (default 1, Connect's own)
  --mm2-offset-lag-max N       offset.lag.max (default 10000)
  --mm2-max-poll-records N     source.consumer.max.poll.records (default 2000)

Link:
  --link-option KEY=VALUE      a client_options field of the bench's shadow link (repeatable; numbers are sent as
                               numbers), e.g. --link-option fetch_max_bytes=4194304

Output and housekeeping:
  --profile DIR                run each link shadow under node --cpu-prof, profiles into DIR
  --umbra-root DIR             start the Umbra brokers from another built checkout (A/B of a change; the harness
                               stays this one)
  --dir DIR                    where temporary data directories go (default: the OS temp dir)
  --markdown                   also print a markdown section for bench/RESULTS.md
  --json FILE                  also write the raw results as JSON
  --render FILE                print the report of a --json file (with --markdown: also markdown), run nothing
  --keep                       keep temporary directories (logs, data)
`;

export interface ShadowOptions {
  partitions: number[];
  recordBytes: number[];
  sources: Array<'umbra' | 'kafka'>;
  replicators: Array<'link' | 'mm2'>;
  rates: number[];
  referenceMiB: number | null;
  quick: boolean;
  seconds: number;
  warmup: number;
  catchupSeconds: number;
  drainSeconds: number;
  jvmWarmup: number;
  keepMiB: number;
  segmentMiB: number;
  trim: 'segment' | 'half';
  batchBytes: number;
  perRequest: number;
  window: number;
  sampleMs: number;
  probeMs: number;
  idlePartitions: number;
  idleSeconds: number;
  idleOnly: boolean;
  mm2: {
    heapMb: number;
    lingerMs: number;
    batchSize: number;
    acks: string;
    maxInFlight: number;
    offsetLagMax: number;
    maxPollRecords: number;
  };
  /** client_options of the link beside bootstrap_servers (--link-option) */
  linkOptions: Record<string, string | number>;
  profileDir: string | null;
  umbraRoot: string | null;
  dir: string;
  markdown: boolean;
  json: string | null;
  render: string | null;
  keep: boolean;
}

export function parseShadowOptions(argv: string[]): ShadowOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        partitions: { type: 'string' },
        'record-bytes': { type: 'string' },
        sources: { type: 'string', default: 'umbra,kafka' },
        replicators: { type: 'string', default: 'link,mm2' },
        rates: { type: 'string', default: '25,50,100' },
        'reference-mib': { type: 'string' },
        quick: { type: 'boolean', default: false },
        seconds: { type: 'string' },
        warmup: { type: 'string', default: '2' },
        'catchup-seconds': { type: 'string' },
        'drain-seconds': { type: 'string', default: '15' },
        'jvm-warmup': { type: 'string', default: '90' },
        'keep-mib': { type: 'string', default: '2048' },
        'segment-mib': { type: 'string', default: '0' },
        trim: { type: 'string', default: 'half' },
        'batch-bytes': { type: 'string', default: '65536' },
        'per-request': { type: 'string', default: '4' },
        window: { type: 'string', default: '16' },
        'sample-ms': { type: 'string', default: '10' },
        'probe-ms': { type: 'string', default: '10' },
        'idle-partitions': { type: 'string', default: '1000' },
        'idle-seconds': { type: 'string' },
        'idle-only': { type: 'boolean', default: false },
        'mm2-heap-mb': { type: 'string', default: '0' },
        'mm2-linger-ms': { type: 'string', default: '5' },
        'mm2-batch-size': { type: 'string', default: '262144' },
        'mm2-acks': { type: 'string', default: '1' },
        'mm2-max-in-flight': { type: 'string', default: '1' },
        'mm2-offset-lag-max': { type: 'string', default: '10000' },
        'mm2-max-poll-records': { type: 'string', default: '2000' },
        'link-option': { type: 'string', multiple: true, default: [] },
        profile: { type: 'string' },
        'umbra-root': { type: 'string' },
        dir: { type: 'string', default: os.tmpdir() },
        markdown: { type: 'boolean', default: false },
        json: { type: 'string' },
        render: { type: 'string' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const num = (name: string, s: string, min: number): number => {
    const n = Number(s);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}, not ${s}`);
    return n;
  };
  const list = (name: string, s: string, min: number): number[] => s.split(',').map((x) => Math.floor(num(name, x.trim(), min)));
  const words = <T extends string>(name: string, s: string, allowed: readonly T[]): T[] => {
    const out = s.split(',').map((x) => x.trim()) as T[];
    for (const w of out) if (!allowed.includes(w)) throw new UsageError(`--${name}: ${w} is not one of ${allowed.join(', ')}`);
    return out;
  };
  const one = <T>(name: string, xs: T[]): T => {
    if (xs.length !== 1) throw new UsageError(`--${name} takes one value`);
    return xs[0]!;
  };
  const quick = v.quick!;
  const opts: ShadowOptions = {
    partitions: list('partitions', v.partitions ?? (quick ? '16' : '1,16,256'), 1),
    recordBytes: list('record-bytes', v['record-bytes'] ?? (quick ? '1024' : '1024,100'), 1),
    sources: words('sources', v.sources!, ['umbra', 'kafka'] as const),
    replicators: words('replicators', v.replicators!, ['link', 'mm2'] as const),
    rates: list('rates', v.rates!, 1),
    referenceMiB: v['reference-mib'] ? num('reference-mib', v['reference-mib'], 1) : null,
    quick,
    seconds: num('seconds', v.seconds ?? (quick ? '4' : '6'), 1),
    warmup: num('warmup', v.warmup!, 0),
    catchupSeconds: num('catchup-seconds', v['catchup-seconds'] ?? (quick ? '8' : '15'), 1),
    drainSeconds: num('drain-seconds', v['drain-seconds']!, 1),
    jvmWarmup: num('jvm-warmup', v['jvm-warmup']!, 0),
    keepMiB: num('keep-mib', v['keep-mib']!, 0),
    segmentMiB: Math.floor(num('segment-mib', v['segment-mib']!, 0)),
    trim: one('trim', words('trim', v.trim!, ['segment', 'half'] as const)),
    batchBytes: Math.floor(num('batch-bytes', v['batch-bytes']!, 256)),
    perRequest: Math.floor(num('per-request', v['per-request']!, 1)),
    window: Math.floor(num('window', v.window!, 1)),
    sampleMs: num('sample-ms', v['sample-ms']!, 1),
    probeMs: num('probe-ms', v['probe-ms']!, 1),
    idlePartitions: Math.floor(num('idle-partitions', v['idle-partitions']!, 0)),
    idleSeconds: num('idle-seconds', v['idle-seconds'] ?? (quick ? '8' : '30'), 1),
    idleOnly: v['idle-only']!,
    mm2: {
      heapMb: Math.floor(num('mm2-heap-mb', v['mm2-heap-mb']!, 0)),
      lingerMs: num('mm2-linger-ms', v['mm2-linger-ms']!, 0),
      batchSize: Math.floor(num('mm2-batch-size', v['mm2-batch-size']!, 1024)),
      acks: v['mm2-acks']!,
      maxInFlight: Math.floor(num('mm2-max-in-flight', v['mm2-max-in-flight']!, 1)),
      offsetLagMax: Math.floor(num('mm2-offset-lag-max', v['mm2-offset-lag-max']!, 1)),
      maxPollRecords: Math.floor(num('mm2-max-poll-records', v['mm2-max-poll-records']!, 1)),
    },
    linkOptions: Object.fromEntries(
      v['link-option']!.map((kv) => {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new UsageError(`--link-option takes KEY=VALUE, not ${kv}`);
        const value = kv.slice(eq + 1);
        return [kv.slice(0, eq), value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value];
      }),
    ),
    profileDir: v.profile ? path.resolve(v.profile) : null,
    umbraRoot: v['umbra-root'] ? path.resolve(v['umbra-root']) : null,
    dir: path.resolve(v.dir!),
    markdown: v.markdown!,
    json: v.json ?? null,
    render: v.render ?? null,
    keep: v.keep!,
  };
  if (!['0', '1', 'all', '-1'].includes(opts.mm2.acks)) throw new UsageError(`--mm2-acks must be 0, 1 or all, not ${opts.mm2.acks}`);
  if (opts.batchBytes * 1.12 > 1_000_000) throw new UsageError('--batch-bytes above 1 MB exceeds the brokers’ default max.message.bytes');
  return opts;
}

/** Records per batch for a record size: `batchBytes` of values (the batch is ~1-10 % larger: record framing). */
export function batchRecordsFor(opts: ShadowOptions, recordBytes: number): number {
  return Math.max(1, Math.floor(opts.batchBytes / recordBytes));
}

/** How the bench bounds what a topic holds on a broker, per partition (trimPlan). */
export interface TrimPlan {
  /** what a partition keeps after a cut */
  keepBytes: number;
  /** a partition is cut once it holds keepBytes + stepBytes */
  stepBytes: number;
  /** the brokers' segment size */
  segmentBytes: number;
}

/**
 * The trimming of each partition, or null with --keep-mib 0. B = --keep-mib ÷ partitions; segments of B/4 (1-128 MiB,
 * or --segment-mib). `--trim half` (the default): a partition holding B is cut back to B/2, two segments a cut.
 * `--trim segment`: cut back to B − one segment, so each cut deletes about one segment, as retention.bytes does on a
 * long-running cluster, and the Umbra broker reuses it as its next segment's file; it cuts twice as often, and with
 * an even load all partitions at once (bench/RESULTS.md: no gain measured at 256 partitions).
 */
export function trimPlan(opts: ShadowOptions, partitions: number): TrimPlan | null {
  if (opts.keepMiB <= 0) return null;
  const MiB = 1 << 20;
  const budget = (opts.keepMiB * MiB) / partitions;
  const segmentBytes = opts.segmentMiB > 0 ? opts.segmentMiB * MiB : Math.min(128 * MiB, Math.max(MiB, Math.floor(budget / 4 / MiB) * MiB));
  if (opts.trim === 'half') return { keepBytes: budget / 2, stepBytes: budget / 2, segmentBytes };
  const stepBytes = Math.min(segmentBytes, budget / 2);
  return { keepBytes: budget - stepBytes, stepBytes, segmentBytes };
}

/**
 * Broker settings that let the trimming free memory promptly: the plan's segments, deleted at once. Apache Kafka
 * deletes the segments below a raised log start in its retention pass, so that runs every second there (it does
 * nothing else; Umbra's would also fsync). Kafka's index files are sized for those segments too: by default each
 * segment gets two 10 MiB sparse index files, memory-mapped, and on this machine's kernel the first touch of a page
 * in their holes reads ahead and zero-fills large folios — with 2 MiB segments at 256 partitions that was 39 % of
 * Kafka's CPU and cut its ingest with a link attached from ~65 to ~1.3 MiB/s (bench/RESULTS.md, "Kafka as the source
 * at 256 partitions"). An index entry covers ≥ 4 KiB of records (index.interval.bytes), so segment ÷ 64 bytes is
 * several times what a full segment needs.
 */
export function logSettings(opts: ShadowOptions, partitions: number, kind: 'umbra' | 'kafka'): Record<string, number> {
  const plan = trimPlan(opts, partitions);
  if (plan === null) return {};
  return {
    'log.segment.bytes': plan.segmentBytes,
    'log.segment.delete.delay.ms': 0,
    ...(kind === 'kafka' ? { 'log.retention.check.interval.ms': 1000, 'log.index.size.max.bytes': kafkaIndexBytes(plan.segmentBytes) } : {}),
  };
}

/** Apache Kafka's index file size for segments of `segmentBytes`: segment ÷ 64, 64 KiB to Kafka's default 10 MiB. */
export function kafkaIndexBytes(segmentBytes: number): number {
  return Math.min(10 << 20, Math.max(64 << 10, Math.floor(segmentBytes / 64)));
}

/**
 * MirrorMaker 2's heap for `tasks` tasks: --mm2-heap-mb, or 128 MiB per task within 2-8 GiB. Each task has a
 * consumer and a producer (buffer.memory 32 MiB) of its own; with 12 MiB per task (1 GiB at 16 tasks) it ran out of
 * heap once a fast source got ahead of it, and its tasks died (2026-11-27).
 */
export function mm2HeapMb(opts: ShadowOptions, tasks: number): number {
  return opts.mm2.heapMb > 0 ? opts.mm2.heapMb : Math.min(8192, Math.max(2048, 128 * tasks));
}
