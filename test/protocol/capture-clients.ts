// Captures the request (and response) frames real Kafka clients exchange with a real Apache Kafka broker, through
// CaptureProxy, into test/protocol/captures/<client>/ for codec-captures.test.ts. Not a test: a tool, run by hand
// when a client or the broker version changes.
//
//   npx tsx test/protocol/capture-clients.ts --upstream 127.0.0.1:19092 --listen 19094 [--clients kcat,kafkajs,...]
//
// The broker at --upstream must advertise the proxy: advertised.listeners=PLAINTEXT://127.0.0.1:<listen>, so
// that every connection (not only the bootstrap one) goes through the proxy. Without --upstream, the tool starts
// Kafka itself with test/helpers/kafka.ts (which needs test/peers/fetch-peers.sh to have run).
// The Java client runs Kafka's own tools (TopicCommand, ConsoleProducer, ConsoleConsumer from kafka-tools, on
// kafka-clients) from the peers' libs folder, or from the classpath in $KAFKA_CLASSPATH.
//
// Files: <ApiName>-v<version>[-<codec>].bin is a request frame without its int32 size prefix (header + body),
// <ApiName>-v<version>.response.bin a response frame likewise; Produce requests are named by the compression
// codec of their batches. When a client sent several frames of one kind, the largest is kept (the most fields set).
// manifest.json lists every file with the client id, topic and group the client was given.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureProxy, type CapturedFrame } from './capture-proxy.js';
import { API_CODECS } from '../../src/protocol/generated/api.js';
import { Reader } from '../../src/protocol/primitives.js';
import { readRequestHeader } from '../../src/protocol/generated/messages/RequestHeader.js';
import { readProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';

const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export interface ClientPlan {
  /** folder name under captures/ and the proxy label */
  name: string;
  clientId: string;
  topic: string;
  group: string;
  /** what the client is, for the manifest */
  software: string;
  run(bootstrap: string, proxy: CaptureProxy): Promise<void>;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until the proxy saw every one of the API keys from `label` (or the timeout passed). */
async function waitForApis(proxy: CaptureProxy, label: string, apiKeys: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const seen = new Set(proxy.frames.filter((f) => f.label === label && f.direction === 'response').map((f) => f.apiKey));
    if (apiKeys.every((k) => seen.has(k))) return true;
    await sleep(100);
  }
  return false;
}

/** Runs a command with optional stdin; resolves with its exit code. `until` (if given) decides when to SIGTERM it. */
function run(cmd: string, args: string[], opts: { input?: string; until?: () => Promise<unknown>; timeoutMs?: number } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal === null) process.stderr.write(`${cmd} exited ${code}: ${stderr.slice(-2000)}\n`);
      resolve(code ?? -1);
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    if (opts.until) void opts.until().finally(() => child.kill('SIGTERM'));
  });
}

// Values long and repetitive enough that every codec actually shrinks the batch (librdkafka sends a batch
// uncompressed when compression does not pay).
const value = (i: number): string => `value-${i}-` + 'abcdefgh'.repeat(40);

// --------------------------------------------------------------------------------------------- the clients

const KEY = { produce: 0, fetch: 1, listOffsets: 2, metadata: 3, offsetCommit: 8, offsetFetch: 9, findCoordinator: 10, joinGroup: 11, heartbeat: 12, syncGroup: 14 };

const kcat: ClientPlan = {
  name: 'kcat',
  clientId: 'umbra-capture-kcat',
  topic: 'capture-kcat',
  group: 'capture-kcat-group',
  software: 'kcat 1.7.1 (librdkafka 2.0.2)',
  async run(bootstrap, proxy) {
    const common = ['-b', bootstrap, '-X', `client.id=${this.clientId}`];
    await run('kcat', [...common, '-L', '-t', this.topic]);
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
      const lines = Array.from({ length: 5 }, (_, i) => `key-${i}:${value(i)}`).join('\n') + '\n';
      await run('kcat', [...common, '-P', '-t', this.topic, '-K:', '-z', codec, '-X', 'enable.idempotence=true', '-X', 'linger.ms=50'], { input: lines });
    }
    await run('kcat', [...common, '-C', '-t', this.topic, '-o', 'beginning', '-e', '-q']);
    await run(
      'kcat',
      // no -o: an explicit start offset would skip OffsetFetch (the committed offsets); start from earliest instead
      [...common, '-G', this.group, '-q', '-X', 'auto.offset.reset=earliest', '-X', 'heartbeat.interval.ms=100', '-X', 'auto.commit.interval.ms=100', this.topic],
      { until: () => waitForApis(proxy, this.name, [KEY.heartbeat, KEY.offsetFetch, KEY.offsetCommit, KEY.fetch], 30_000).then(() => sleep(500)) },
    );
  },
};

const kafkajs: ClientPlan = {
  name: 'kafkajs',
  clientId: 'umbra-capture-kafkajs',
  topic: 'capture-kafkajs',
  group: 'capture-kafkajs-group',
  software: 'kafkajs 2.2.4',
  async run(bootstrap, proxy) {
    const { Kafka, CompressionTypes, logLevel } = await import('kafkajs');
    const kafka = new Kafka({ clientId: this.clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const messages = Array.from({ length: 5 }, (_, i) => ({ key: `key-${i}`, value: value(i) }));
    const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await idempotent.connect();
    await idempotent.send({ topic: this.topic, compression: CompressionTypes.GZIP, messages, acks: -1 });
    await idempotent.disconnect();
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: this.topic, messages, acks: 1 });
    await plain.disconnect();
    const consumer = kafka.consumer({ groupId: this.group, heartbeatInterval: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    let received = 0;
    await consumer.run({ autoCommitInterval: 100, eachMessage: async () => void received++ });
    await waitForApis(proxy, this.name, [KEY.heartbeat, KEY.offsetCommit, KEY.fetch], 30_000);
    for (let i = 0; i < 100 && received < 10; i++) await sleep(100);
    await sleep(500);
    await consumer.disconnect();
  },
};

const kafkaPython: ClientPlan = {
  name: 'kafka-python',
  clientId: 'umbra-capture-kafka-python',
  topic: 'capture-kafka-python',
  group: 'capture-kafka-python-group',
  software: 'kafka-python 2.0.2 (/usr/bin/python3)',
  async run(bootstrap) {
    // kafka-python 2.0.2 has gzip only here (no lz4/snappy/zstd modules in the Debian python)
    const script = `
import time
from kafka import KafkaProducer, KafkaConsumer
B, T, G, C = ${JSON.stringify(bootstrap)}, ${JSON.stringify(this.topic)}, ${JSON.stringify(this.group)}, ${JSON.stringify(this.clientId)}
p = KafkaProducer(bootstrap_servers=B, client_id=C, compression_type='gzip', acks=1, linger_ms=50)
for i in range(5):
    p.send(T, key=('key-%d' % i).encode(), value=('value-%d-' % i + 'abcdefgh' * 40).encode())
p.flush(); p.close()
p = KafkaProducer(bootstrap_servers=B, client_id=C, acks='all')
for i in range(5):
    p.send(T, key=('key-%d' % i).encode(), value=('value-%d-' % i + 'abcdefgh' * 40).encode())
p.flush(); p.close()
c = KafkaConsumer(T, bootstrap_servers=B, client_id=C, group_id=G, auto_offset_reset='earliest',
                  enable_auto_commit=True, auto_commit_interval_ms=100, heartbeat_interval_ms=100,
                  consumer_timeout_ms=4000)
n = 0
for m in c:
    n += 1
c.commit()
c.close()
print(n)
`;
    await run('/usr/bin/python3', ['-c', script], { timeoutMs: 90_000 });
  },
};

function javaPlan(classpath: string): ClientPlan {
  return {
    name: 'java',
    clientId: 'umbra-capture-java',
    topic: 'capture-java',
    group: 'capture-java-group',
    software: 'Apache Kafka Java client 4.1.2 (kafka-tools ConsoleProducer/ConsoleConsumer/TopicCommand)',
    async run(bootstrap) {
      const java = (main: string, args: string[], input?: string): Promise<number> =>
        run('java', ['-Xmx256m', '-cp', classpath, main, ...args], { input, timeoutMs: 90_000 });
      const dir = join(process.env.TMPDIR ?? '/tmp', `umbra-capture-java-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      const props = join(dir, 'client.properties');
      writeFileSync(props, `client.id=${this.clientId}\n`);
      await java('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', bootstrap, '--command-config', props, '--describe', '--topic', this.topic]);
      const lines = Array.from({ length: 5 }, (_, i) => `key-${i}\t${value(i)}`).join('\n') + '\n';
      for (const codec of ['lz4', 'zstd', 'snappy', 'gzip']) {
        await java(
          'org.apache.kafka.tools.ConsoleProducer',
          ['--bootstrap-server', bootstrap, '--topic', this.topic, '--compression-codec', codec, '--producer.config', props,
            '--property', 'parse.key=true', '--property', 'key.separator=\t', '--producer-property', 'linger.ms=50'],
          lines,
        );
      }
      await java('org.apache.kafka.tools.consumer.ConsoleConsumer', [
        '--bootstrap-server', bootstrap, '--topic', this.topic, '--group', this.group, '--from-beginning',
        '--consumer.config', props, '--consumer-property', 'heartbeat.interval.ms=100', '--consumer-property', 'auto.commit.interval.ms=100',
        '--max-messages', '1000', '--timeout-ms', '4000',
      ]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --------------------------------------------------------------------------------------------- saving

/** the compression codecs of the batches in a Produce request, e.g. "gzip" or "none" */
function produceSuffix(payload: Buffer, version: number): string {
  const codec = API_CODECS.get(0)!;
  const r = new Reader(payload);
  readRequestHeader(r, version >= codec.firstFlexibleVersion ? 2 : 1);
  const rq = readProduceRequest(r, version);
  const codecs = new Set<string>();
  for (const t of rq.topicData) {
    for (const p of t.partitionData) {
      const b = p.records;
      // walk the concatenated batches: attributes (int16) at offset 21, batch length (int32) at offset 8
      for (let pos = 0; b && pos + 23 <= b.length; pos += 12 + b.readInt32BE(pos + 8)) codecs.add(CODEC_NAMES[b.readInt16BE(pos + 21) & 7] ?? 'unknown');
    }
  }
  return [...codecs].sort().join('+') || 'empty';
}

interface ManifestEntry {
  file: string;
  client: string;
  direction: 'request' | 'response';
  apiKey: number;
  api: string;
  version: number;
  clientId: string | null;
  bytes: number;
}

interface Manifest {
  broker: string;
  capturedWith: string;
  clients: Record<string, { software: string; clientId: string; topic: string; group: string }>;
  files: ManifestEntry[];
}

function save(outDir: string, plans: ClientPlan[], frames: CapturedFrame[], broker: string): void {
  // a run for some clients keeps the other clients' files and manifest entries
  const manifestFile = join(outDir, 'manifest.json');
  const previous: Manifest | undefined = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest) : undefined;
  const recaptured = new Set(plans.map((p) => p.name));
  const manifest: ManifestEntry[] = (previous?.files ?? []).filter((e) => !recaptured.has(e.client));
  for (const plan of plans) {
    const dir = join(outDir, plan.name);
    if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.endsWith('.bin')) rmSync(join(dir, f));
    mkdirSync(dir, { recursive: true });
    const best = new Map<string, CapturedFrame>();
    for (const f of frames) {
      if (f.label !== plan.name) continue;
      const codec = API_CODECS.get(f.apiKey);
      if (!codec) continue;
      let name = `${codec.name}-v${f.apiVersion}`;
      if (f.direction === 'request' && f.apiKey === 0) name += `-${produceSuffix(f.payload, f.apiVersion)}`;
      const file = f.direction === 'request' ? `${name}.bin` : `${name}.response.bin`;
      const prev = best.get(file);
      if (!prev || f.payload.length > prev.payload.length) best.set(file, f);
    }
    for (const [file, f] of [...best].sort(([a], [b]) => a.localeCompare(b))) {
      writeFileSync(join(dir, file), f.payload);
      manifest.push({
        file: `${plan.name}/${file}`,
        client: plan.name,
        direction: f.direction,
        apiKey: f.apiKey,
        api: API_CODECS.get(f.apiKey)!.name,
        version: f.apiVersion,
        clientId: f.clientId,
        bytes: f.payload.length,
      });
    }
  }
  const clients = { ...previous?.clients, ...Object.fromEntries(plans.map((p) => [p.name, { software: p.software, clientId: p.clientId, topic: p.topic, group: p.group }])) };
  manifest.sort((a, b) => a.file.localeCompare(b.file));
  const out: Manifest = { broker, capturedWith: 'test/protocol/capture-clients.ts', clients, files: manifest };
  writeFileSync(manifestFile, JSON.stringify(out, null, 2) + '\n');
}

// --------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const outDir = arg('out') ?? join(process.cwd(), 'test', 'protocol', 'captures');
  const upstreamArg = arg('upstream');
  const listen = Number(arg('listen') ?? 0);
  const proxy = new CaptureProxy({ host: '127.0.0.1', port: 0 });
  const port = await proxy.listen(listen);
  const bootstrap = `127.0.0.1:${port}`;

  let stopKafka: (() => Promise<void>) | undefined;
  let brokerName = arg('broker-name') ?? 'Apache Kafka';
  let classpath = process.env.KAFKA_CLASSPATH;
  if (upstreamArg) {
    const [host, p] = upstreamArg.split(':');
    proxy.setUpstream(host!, Number(p));
  } else {
    const { startKafka, kafkaVersion, freePort } = await import('../helpers/kafka.js');
    // the proxy must know the broker's port before the broker starts (its readiness check may come through here)
    const kafkaPort = await freePort();
    proxy.setUpstream('127.0.0.1', kafkaPort);
    const kafka = await startKafka({ port: kafkaPort, config: { 'advertised.listeners': `PLAINTEXT://${bootstrap}` } });
    stopKafka = () => kafka.stop();
    brokerName = `Apache Kafka ${kafkaVersion()}`;
  }
  if (!classpath) {
    const { javaPeersLayout } = await import('../helpers/peers.js');
    const libs = javaPeersLayout().libsDir;
    if (existsSync(libs)) classpath = join(libs, '*');
  }

  const all = [kcat, kafkajs, kafkaPython, ...(classpath ? [javaPlan(classpath)] : [])];
  const wanted = arg('clients')?.split(',');
  const plans = wanted ? all.filter((p) => wanted.includes(p.name)) : all;

  try {
    // topics first (label "setup": not saved), so no client depends on auto-creation
    proxy.label = 'setup';
    const { Kafka, logLevel } = await import('kafkajs');
    const admin = new Kafka({ clientId: 'umbra-capture-setup', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const topics = plans.map((p) => p.topic).filter((t) => !existing.has(t));
    if (topics.length > 0) await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
    await admin.disconnect();

    for (const plan of plans) {
      proxy.label = plan.name;
      process.stderr.write(`capturing ${plan.name} ...\n`);
      await plan.run(bootstrap, proxy);
      await sleep(300);
    }
  } finally {
    await proxy.close();
    if (stopKafka) await stopKafka();
  }
  save(outDir, plans, proxy.frames, brokerName);
  if (process.argv.includes('--verbose')) {
    for (const p of plans) {
      const seq = proxy.frames.filter((f) => f.label === p.name && f.direction === 'request').map((f) => `${API_CODECS.get(f.apiKey)?.name ?? f.apiKey}v${f.apiVersion}`);
      process.stderr.write(`${p.name}: ${seq.join(' ')}\n`);
    }
  }
  const counts = plans.map((p) => `${p.name}: ${proxy.frames.filter((f) => f.label === p.name && f.direction === 'request').length} requests`);
  process.stderr.write(`saved to ${outDir} (${counts.join(', ')})\n`);
}

if (process.argv[1]?.endsWith('capture-clients.ts') || process.argv[1]?.endsWith('capture-clients.js')) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
