// The brokers under test, each started as its own process on 127.0.0.1 with a fresh data directory:
//
//   umbra  `node bin/umbra.js start --data-dir … --listen … --admin-listen …`, as a user starts it
//   kafka  Apache Kafka 4.1 (KRaft, one node acting as broker and controller) from its Maven Central jars

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePorts, kafkaUnavailableReason, kafkaVersion, startKafka as startKafkaBroker } from '../../test/helpers/kafka.js';
import { javaCommand } from '../../test/helpers/peers.js';
import { waitForBroker } from './admin.js';
import { spawnLogged, stopProcess, type Spawned } from './procs.js';
import type { ApiVersionRanges } from './wire.js';

export interface BrokerUnderTest {
  /** 'Umbra 0.1.0', 'Apache Kafka 4.1.2' */
  name: string;
  host: string;
  port: number;
  /** the process whose memory and CPU are measured */
  pid: number;
  /** how it was started, for the report */
  how: string;
  ranges: ApiVersionRanges;
  startupSeconds: number;
  exited(): string | null;
  tail(lines?: number): string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

async function ready(p: Spawned, port: number, timeoutMs: number, what: string): Promise<ApiVersionRanges> {
  try {
    return await waitForBroker(HOST, port, timeoutMs, p.exited);
  } catch (err) {
    await stopProcess(p, 5000);
    throw new Error(`${what} did not start: ${(err as Error).message}\n--- ${p.logFile} (tail) ---\n${p.tail()}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Umbra

export async function startUmbra(repoRoot: string, workDir: string): Promise<BrokerUnderTest> {
  const bin = path.join(repoRoot, 'bin/umbra.js');
  const cli = path.join(repoRoot, 'dist/src/cli/main.js');
  if (!fs.existsSync(cli)) throw new Error(`Umbra is not built (${path.relative(repoRoot, cli)} is missing)`);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const dataDir = path.join(workDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const [port, adminPort] = (await freePorts(2)) as [number, number];
  // UMBRA_BENCH_NODE_ARGS: extra node flags for the broker process only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  const nodeArgs = (process.env.UMBRA_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, bin, 'start', '--data-dir', dataDir, '--listen', `${HOST}:${port}`, '--admin-listen', `${HOST}:${adminPort}`];
  const t0 = performance.now();
  const p = spawnLogged(process.execPath, args, path.join(workDir, 'umbra.log'), process.env, repoRoot);
  const ranges = await ready(p, port, 30_000, 'Umbra');
  return {
    name: `Umbra ${pkg.version}`,
    host: HOST,
    port,
    pid: p.pid,
    how: `node bin/umbra.js start --data-dir <tmp> --listen ${HOST}:<port> --admin-listen ${HOST}:<port>`,
    ranges,
    startupSeconds: (performance.now() - t0) / 1000,
    exited: p.exited,
    tail: p.tail,
    stop: () => stopProcess(p),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Apache Kafka, through the project's test helper (test/helpers/kafka.ts): KRaft, one JVM as broker and
// controller, from the jars test/peers/fetch-peers.sh lays out. Its server.properties are Kafka's defaults (which
// are also the values of the shipped config/server.properties for threads, socket buffers, segment size); the
// heap is bin/kafka-server-start.sh's 1 GiB rather than the helper's test-sized default.

/** KAFKA_HEAP_OPTS of bin/kafka-server-start.sh */
export const KAFKA_HEAP_MB = 1024;

export async function startKafka(workDir: string): Promise<BrokerUnderTest> {
  const reason = kafkaUnavailableReason();
  if (reason) throw new Error(`Apache Kafka is not available here: ${reason}`);
  const version = kafkaVersion();
  const kafka = await startKafkaBroker({ dir: workDir, heapMb: KAFKA_HEAP_MB });
  let ranges: ApiVersionRanges;
  try {
    ranges = await waitForBroker(kafka.host, kafka.port, 30_000, () => (kafka.pid === undefined ? 'Kafka exited' : null));
  } catch (err) {
    await kafka.stop();
    throw err;
  }
  const pid = kafka.pid!;
  return {
    name: `Apache Kafka ${version}`,
    host: kafka.host,
    port: kafka.port,
    pid,
    how: `test/helpers/kafka.ts startKafka({ heapMb: ${KAFKA_HEAP_MB} }): java -Xms${KAFKA_HEAP_MB}m -Xmx${KAFKA_HEAP_MB}m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 … kafka.Kafka (KRaft broker+controller, default broker settings)`,
    ranges,
    startupSeconds: kafka.startupMs / 1000,
    exited: () => (kafka.pid === undefined ? 'exited' : null),
    tail: (lines) => kafka.logTail(lines),
    stop: () => kafka.stop(),
  };
}

export function javaVersion(): string {
  const r = spawnSync(javaCommand(), ['-version'], { encoding: 'utf8' });
  if (r.error) return 'java not found';
  return `${r.stderr}${r.stdout}`.trim().split('\n')[0] ?? 'java: unknown version';
}
