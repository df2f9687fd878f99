// Command-line options of `npm run bench:broker`.

import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** A wrong command line: printed without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const HELP = `npm run bench:broker -- [options]

  --target kafka|umbra|all     brokers to measure (default all)
  --seconds N                  measured seconds per produce throughput phase (default 10)
  --warmup N                   unmeasured seconds before each produce throughput phase (default 4: the JVM needs it)
  --jvm-warmup N               cap, seconds, on warming each broker up before it is measured: rounds of produce
                               (acks=1 and acks=all) and fetch on a topic of its own, until a JVM's JIT compiler
                               threads use under 10 % of a core over a round (a Node broker has none: one round);
                               default 90, 0 = none
  --latency-rate N             produce requests/s of the fixed-rate latency phases (default 100; 0 skips them)
  --latency-seconds N          measured seconds per latency phase (default 24: 2,400 requests, so that a p99 is
                               not one or two slow requests)
  --fetch-seconds N            cap on the fetch phase (default 30)
  --partitions N               partitions per topic (default 4)
  --record-size N              record value size in bytes (default 1024)
  --batch-records N            records per batch; a request carries one batch per partition (default 64)
  --window N                   produce requests in flight (default 16)
  --fetch-max-bytes N          Fetch maxBytes (default 52428800)
  --fetch-partition-max-bytes N  Fetch partition maxBytes (default 10485760)
  --baseline-seconds N         seconds per baseline (default 5)
  --skip-baselines             measure only the brokers
  --verify-fetch               check the CRC of every fetched batch (costs load generator CPU)
  --dir DIR                    where the temporary data directories go (default: the OS temp dir)
  --markdown                   also print the results as a markdown section for bench/RESULTS.md
  --json FILE                  also write the raw results as JSON
  --render FILE                print the report of a JSON file written by --json (with --markdown: also markdown), run nothing
  --keep                       keep the temporary directories (logs, data) for inspection
`;

export interface Options {
  targets: Array<'kafka' | 'umbra'>;
  seconds: number;
  warmup: number;
  jvmWarmup: number;
  latencyRate: number;
  latencySeconds: number;
  fetchSeconds: number;
  partitions: number;
  recordSize: number;
  batchRecords: number;
  window: number;
  fetchMaxBytes: number;
  fetchPartitionMaxBytes: number;
  baselineSeconds: number;
  skipBaselines: boolean;
  verifyFetch: boolean;
  dir: string;
  markdown: boolean;
  json: string | null;
  render: string | null;
  keep: boolean;
}

export function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        target: { type: 'string', default: 'all' },
        seconds: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '4' },
        'jvm-warmup': { type: 'string', default: '90' },
        'latency-rate': { type: 'string', default: '100' },
        'latency-seconds': { type: 'string', default: '24' },
        'fetch-seconds': { type: 'string', default: '30' },
        partitions: { type: 'string', default: '4' },
        'record-size': { type: 'string', default: '1024' },
        'batch-records': { type: 'string', default: '64' },
        window: { type: 'string', default: '16' },
        'fetch-max-bytes': { type: 'string', default: String(50 << 20) },
        'fetch-partition-max-bytes': { type: 'string', default: String(10 << 20) },
        'baseline-seconds': { type: 'string', default: '5' },
        'skip-baselines': { type: 'boolean', default: false },
        'verify-fetch': { type: 'boolean', default: false },
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
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const num = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}, not ${v}`);
    return n;
  };
  const target = values.target!;
  if (!['kafka', 'umbra', 'all'].includes(target)) throw new UsageError(`--target must be kafka, umbra or all, not ${target}`);
  const opts: Options = {
    targets: target === 'all' ? ['kafka', 'umbra'] : [target as 'kafka' | 'umbra'],
    seconds: num('seconds', values.seconds!, 1),
    warmup: num('warmup', values.warmup!, 0),
    jvmWarmup: num('jvm-warmup', values['jvm-warmup']!, 0),
    latencyRate: num('latency-rate', values['latency-rate']!, 0),
    latencySeconds: num('latency-seconds', values['latency-seconds']!, 1),
    fetchSeconds: num('fetch-seconds', values['fetch-seconds']!, 1),
    partitions: Math.floor(num('partitions', values.partitions!, 1)),
    recordSize: Math.floor(num('record-size', values['record-size']!, 1)),
    batchRecords: Math.floor(num('batch-records', values['batch-records']!, 1)),
    window: Math.floor(num('window', values.window!, 1)),
    fetchMaxBytes: Math.floor(num('fetch-max-bytes', values['fetch-max-bytes']!, 1024)),
    fetchPartitionMaxBytes: Math.floor(num('fetch-partition-max-bytes', values['fetch-partition-max-bytes']!, 1024)),
    baselineSeconds: num('baseline-seconds', values['baseline-seconds']!, 1),
    skipBaselines: values['skip-baselines']!,
    verifyFetch: values['verify-fetch']!,
    dir: path.resolve(values.dir!),
    markdown: values.markdown!,
    json: values.json ?? null,
    render: values.render ?? null,
    keep: values.keep!,
  };
  // Kafka's default message.max.bytes (1 MiB) bounds a batch.
  if (opts.batchRecords * (opts.recordSize + 16) + 61 > 1_000_000) throw new UsageError('a batch would exceed 1 MB, the brokers’ default max.message.bytes');
  return opts;
}
