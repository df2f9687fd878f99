// A real Apache Kafka 4.1 broker for tests and benchmarks: one JVM on 127.0.0.1 that is both KRaft controller
// and broker, run from the Maven Central jars that test/peers/fetch-peers.sh lays out. It is the usual shadow-link
// source cluster and the broker Umbra is measured against.
//
//   const kafka = await startKafka();            // fresh temp dir, free ports, formatted storage
//   await javaProduce(kafka.bootstrap, 't', 10);
//   await kafka.kill(); await kafka.restart();   // crash and recover on the same dir and ports
//   await kafka.stop();                          // SIGTERM (then SIGKILL) to the PID it started; removes a temp dir
//
// Only PIDs this module started are ever signalled. Should the test process exit without stop(), an exit hook
// SIGKILLs the brokers still running, so no JVM outlives a test run.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { javaCommand, javaPeersLayout, peerUnavailableReason, runJavaMain, type RunResult } from './peers.js';

export interface StartKafkaOptions {
  /** Storage and config folder. Given: reused if already formatted, kept on stop. Default: a new temp dir, removed on stop. */
  dir?: string;
  /** Client (PLAINTEXT) port. Default: a free port. */
  port?: number;
  /** KRaft controller port. Default: a free port. */
  controllerPort?: number;
  /** 22-character base64url cluster id. Default: random (or the one already in a reused dir). */
  clusterId?: string;
  /** server.properties entries, added after (and so overriding) the defaults below. */
  config?: Record<string, string | number | boolean>;
  /** SCRAM credentials written into the metadata log at format time, e.g. 'SCRAM-SHA-256=[name=alice,password=secret]'. */
  scramCredentials?: string[];
  /** Broker heap, -Xms and -Xmx. Default 512. */
  heapMb?: number;
  /** Extra JVM flags. */
  jvmArgs?: string[];
  /** How long to wait for the broker to answer Metadata. Default 90 s. */
  startTimeoutMs?: number;
}

export interface KafkaBroker {
  /** "127.0.0.1:PORT" */
  readonly bootstrap: string;
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly clusterId: string;
  /** PID of the running JVM (changes on restart; undefined when stopped). */
  readonly pid: number | undefined;
  readonly dir: string;
  /** log.dirs: one folder per partition, as Kafka writes them (e.g. `${dataDir}/orders-0/00000000000000000000.log`). */
  readonly dataDir: string;
  /** The broker's own log (stdout and stderr of the JVM), appended across restarts. */
  readonly logFile: string;
  /** Milliseconds from spawning the JVM to the first Metadata answer, for the last start. */
  readonly startupMs: number;
  /** Graceful stop: SIGTERM, then SIGKILL after 30 s. Removes the dir when startKafka created it. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. Keeps the dir, so restart() recovers from it. */
  kill(): Promise<void>;
  /** Starts the JVM again on the same dir and ports (after stop is not possible when the dir was removed). */
  restart(): Promise<void>;
  /** Last lines of the broker log, for failure messages. */
  logTail(lines?: number): string;
}

const DEFAULT_HEAP_MB = 512;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** True when the Kafka jars and a java binary are here. kafkaUnavailableReason() says what is missing. */
export function isKafkaAvailable(): boolean {
  return peerUnavailableReason('kafka') === undefined;
}

export function kafkaUnavailableReason(): string | undefined {
  return peerUnavailableReason('kafka');
}

/** The Apache Kafka version the helpers run (from test/peers/java/pom.xml), e.g. "4.1.2". */
export function kafkaVersion(): string {
  return javaPeersLayout().version;
}

/** A port that was free a moment ago on 127.0.0.1 (listen on 0, read the port, close). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/** N distinct free ports: all are held open together before any is released, so they cannot repeat. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import('node:net').Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** A random Kafka cluster id: 16 random bytes in unpadded base64url, not starting with '-' (CLI parsers take it for a flag). */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const reason = kafkaUnavailableReason();
  if (reason) throw new Error(`cannot start Apache Kafka: ${reason}`);
  const layout = javaPeersLayout();

  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'umbra-kafka-'));
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const propsFile = join(dir, 'server.properties');
  const host = '127.0.0.1';
  let port = opts.port;
  let controllerPort = opts.controllerPort;
  if (port === undefined || controllerPort === undefined) {
    const [a, b] = await freePorts(2);
    port ??= a!;
    controllerPort ??= b!;
  }

  writeFileSync(propsFile, serverProperties({ host, port, controllerPort, dataDir, config: opts.config }));

  let clusterId = readClusterId(dataDir);
  if (clusterId === undefined) {
    clusterId = opts.clusterId ?? randomClusterId();
    await formatStorage(propsFile, clusterId, opts.scramCredentials ?? []);
  } else if (opts.clusterId !== undefined && opts.clusterId !== clusterId) {
    throw new Error(`${dataDir} is formatted for cluster ${clusterId}, not ${opts.clusterId}`);
  }

  const heap = opts.heapMb ?? DEFAULT_HEAP_MB;
  const jvm = [
    `-Xms${heap}m`,
    `-Xmx${heap}m`,
    // Kafka's own defaults (kafka-run-class.sh), for numbers comparable with a packaged Kafka.
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${join(dir, 'logs')}`,
    `-Dlog4j2.configurationFile=${layout.brokerLog4j}`,
    ...(opts.jvmArgs ?? []),
    '-cp',
    join(layout.libsDir, '*'),
    'kafka.Kafka',
    propsFile,
  ];

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let startupMs = 0;
  let removed = false;

  const logTail = (lines = 40): string => {
    if (!existsSync(logFile)) return '(no broker log)';
    return readFileSync(logFile, 'utf8').split('\n').slice(-lines - 1).join('\n');
  };

  const launch = async (): Promise<void> => {
    if (removed) throw new Error(`Kafka dir ${dir} was removed by stop(); start a new broker instead`);
    installExitHook();
    const fd = openSync(logFile, 'a');
    const started = Date.now();
    const proc = spawn(javaCommand(), jvm, { cwd: dir, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child = proc;
    running.add(proc);
    let exitInfo: string | undefined;
    exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        exitInfo = signal ? `killed by ${signal}` : `exit ${code}`;
        running.delete(proc);
        resolve();
      });
    });
    proc.once('error', (e) => {
      exitInfo = `cannot run ${javaCommand()}: ${e.message}`;
    });
    try {
      await waitForKafkaApi(host, port!, opts.startTimeoutMs ?? 90_000, () => exitInfo);
    } catch (e) {
      if (exitInfo === undefined) await killChild(proc, exited);
      throw new Error(`Apache Kafka ${layout.version} did not start on ${host}:${port}: ${(e as Error).message}\n--- ${logFile} ---\n${logTail()}`);
    }
    startupMs = Date.now() - started;
  };

  const terminate = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    if (signal === 'SIGKILL') {
      await killChild(proc, exited);
      return;
    }
    proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), 30_000);
    });
    const timedOut = await Promise.race([exited.then(() => false), grace]);
    clearTimeout(timer);
    if (timedOut) await killChild(proc, exited);
  };

  await launch();

  const broker: KafkaBroker = {
    bootstrap: `${host}:${port}`,
    host,
    port: port!,
    controllerPort: controllerPort!,
    clusterId,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    dir,
    dataDir,
    logFile,
    get startupMs() {
      return startupMs;
    },
    async stop() {
      await terminate('SIGTERM');
      if (ownsDir && !removed) {
        removed = true;
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async kill() {
      await terminate('SIGKILL');
    },
    async restart() {
      await terminate('SIGTERM');
      await launch();
    },
    logTail,
  };
  return broker;
}

async function killChild(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGKILL');
  await exited;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const proc of running) {
      try {
        proc.kill('SIGKILL'); // only brokers this module spawned
      } catch {
        // already gone
      }
    }
  });
}

function serverProperties(p: {
  host: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  config?: Record<string, string | number | boolean>;
}): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // A dynamic single-voter quorum (formatted with --standalone), as Kafka 4.x's own config/server.properties.
    'controller.quorum.bootstrap.servers': `${p.host}:${p.controllerPort}`,
    listeners: `PLAINTEXT://${p.host}:${p.port},CONTROLLER://${p.host}:${p.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${p.host}:${p.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': p.dataDir,
    'num.partitions': 1,
    // One node: every internal topic with one replica.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // Tests start groups often; waiting 3 s for more members to join only slows them down.
    'group.initial.rebalance.delay.ms': 0,
    // After a kill -9 the new incarnation cannot register until the controller fences the dead one, which
    // happens when its broker session expires (default 9 s). Shorter here so crash tests restart in seconds.
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 3000,
    ...p.config,
  };
  return `${Object.entries(props).map(([k, v]) => `${k}=${String(v)}`).join('\n')}\n`;
}

function readClusterId(dataDir: string): string | undefined {
  const meta = join(dataDir, 'meta.properties');
  if (!existsSync(meta)) return undefined;
  return /^cluster\.id=(.+)$/m.exec(readFileSync(meta, 'utf8'))?.[1]?.trim();
}

/** `kafka-storage.sh format --standalone`: in 4.1 the tool is still the Scala object kafka.tools.StorageTool. */
async function formatStorage(propsFile: string, clusterId: string, scram: string[]): Promise<RunResult> {
  const args = ['format', '--config', propsFile, '--cluster-id', clusterId, '--standalone'];
  for (const s of scram) args.push('--add-scram', s);
  return runJavaMain('kafka.tools.StorageTool', args, { timeoutMs: 60_000 });
}

// ------------------------------------------------------------------------------------------------ readiness probe

/**
 * Waits until a Kafka-API server on host:port answers a Metadata request that lists at least one broker
 * (for Kafka, the broker has caught up with the controller and opened its listener). Works for Umbra too.
 * `exitInfo` reports a dead process so the wait stops at once.
 */
export async function waitForKafkaApi(
  host: string,
  port: number,
  timeoutMs: number,
  exitInfo: () => string | undefined = () => undefined,
): Promise<MetadataProbe> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const dead = exitInfo();
    if (dead) throw new Error(`the process exited (${dead})`);
    try {
      const md = await probeMetadata(host, port, 2000);
      if (md.brokers.length > 0) return md;
      last = 'Metadata listed no brokers';
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`no Metadata answer within ${timeoutMs} ms (last: ${last})`);
    await delay(150);
  }
}

export interface MetadataProbe {
  brokers: { nodeId: number; host: string; port: number }[];
  controllerId: number;
}

/**
 * One Metadata v1 request (no topics) on a fresh connection. v1 is old and non-flexible, so this hand-written
 * frame needs no codec and every Kafka 4.x-compatible broker answers it.
 */
export function probeMetadata(host: string, port: number, timeoutMs = 2000): Promise<MetadataProbe> {
  const clientId = Buffer.from('umbra-probe');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4);
  let o = 0;
  o = body.writeInt16BE(3, o); // api key: Metadata
  o = body.writeInt16BE(1, o); // api version 1
  o = body.writeInt32BE(1, o); // correlation id
  o = body.writeInt16BE(clientId.length, o);
  o += clientId.copy(body, o);
  body.writeInt32BE(0, o); // topics: empty array = none (v1+)
  const frame = Buffer.concat([int32(body.length), body]);

  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const fail = (e: Error): void => {
      sock.destroy();
      reject(e);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`Metadata probe timed out after ${timeoutMs} ms`)));
    sock.once('error', fail);
    sock.once('connect', () => sock.write(frame));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      sock.destroy();
      try {
        resolve(parseMetadataV1(buf.subarray(4, 4 + buf.readInt32BE(0))));
      } catch (e) {
        reject(e as Error);
      }
    });
    sock.once('close', () => reject(new Error('connection closed before a Metadata answer')));
  });
}

function parseMetadataV1(b: Buffer): MetadataProbe {
  let o = 4; // correlation id
  const str = (): string | null => {
    const n = b.readInt16BE(o);
    o += 2;
    if (n < 0) return null;
    const s = b.toString('utf8', o, o + n);
    o += n;
    return s;
  };
  const count = b.readInt32BE(o);
  o += 4;
  const brokers: MetadataProbe['brokers'] = [];
  for (let i = 0; i < count; i++) {
    const nodeId = b.readInt32BE(o);
    o += 4;
    const host = str() ?? '';
    const port = b.readInt32BE(o);
    o += 4;
    str(); // rack
    brokers.push({ nodeId, host, port });
  }
  return { brokers, controllerId: b.readInt32BE(o) };
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ------------------------------------------------------------------------------------------------ log inspection

export interface DumpedBatch {
  baseOffset: number;
  lastOffset: number;
  count: number;
  producerId: number;
  baseSequence: number;
  partitionLeaderEpoch: number;
  isTransactional: boolean;
  isControl: boolean;
  compressCodec: string;
  crc: number;
  size: number;
  position: number;
}

/**
 * Kafka's own DumpLogSegments (kafka-dump-log.sh) over segment files: the batches as Kafka sees them on disk.
 * Handy to check what a client really sent (compression, producer ids) and to compare logs byte-for-byte.
 */
export async function dumpLogSegments(files: readonly string[]): Promise<{ batches: DumpedBatch[]; text: string }> {
  const r = await runJavaMain('kafka.tools.DumpLogSegments', ['--files', files.join(',')], { timeoutMs: 60_000 });
  const batches: DumpedBatch[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('baseOffset:')) continue;
    const f = (name: string): string => new RegExp(`(?:^| )${name}: (\\S+)`).exec(line)?.[1] ?? '';
    batches.push({
      baseOffset: Number(f('baseOffset')),
      lastOffset: Number(f('lastOffset')),
      count: Number(f('count')),
      producerId: Number(f('producerId')),
      baseSequence: Number(f('baseSequence')),
      partitionLeaderEpoch: Number(f('partitionLeaderEpoch')),
      isTransactional: f('isTransactional') === 'true',
      isControl: f('isControl') === 'true',
      compressCodec: f('compresscodec'),
      crc: Number(f('crc')),
      size: Number(f('size')),
      position: Number(f('position')),
    });
  }
  return { batches, text: r.stdout };
}
