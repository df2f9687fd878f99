// Real Kafka clients as test peers: each function runs one client as a child process against a bootstrap
// address and returns its parsed answer. The clients are the ones SPEC.md §1 says must work unchanged:
//   kcat 1.7.1 and confluent-kafka-python 1.7.0 (both librdkafka 2.0.2, Debian packages),
//   kafka-python 2.0.2 (Debian package), and the Java client kafka-clients 4.1.x (Maven Central, through
//   test/peers/java/src/main/java/umbra/peer/ClientPeer.java, compiled by test/peers/fetch-peers.sh).
// The Python peers run under Debian's /usr/bin/python3, where the Debian modules are, not a pyenv python on PATH.
//
// Every failure throws a PeerError whose message has the command line, the exit status, the peer's JSON answer
// and the tail of its stderr, so a failing test says why without re-running anything.
// Pass { allowFailure: true } to get the answer of a failing peer instead (e.g. a produce that must be refused).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// ------------------------------------------------------------------------------------------------ layout

/** The repository root, found from this file whether it runs compiled (dist/test/helpers) or from source. */
export const REPO_ROOT: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
export const PEERS_SRC_DIR = join(REPO_ROOT, 'test', 'peers');
export const SYSTEM_PYTHON = '/usr/bin/python3';

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'test', 'peers', 'java', 'pom.xml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`test/peers/java/pom.xml not found above ${from}`);
  }
}

/** Where test/peers/fetch-peers.sh puts the Apache Kafka jars and the compiled ClientPeer. */
export interface JavaPeersLayout {
  /** The Kafka version, read from <kafka.version> in test/peers/java/pom.xml (the one source of truth). */
  version: string;
  dir: string;
  libsDir: string;
  classesDir: string;
  /** log4j2 config that sends Java peer logs to stderr, keeping stdout for the JSON answer. */
  clientLog4j: string;
  brokerLog4j: string;
}

let layoutCache: JavaPeersLayout | undefined;

export function javaPeersLayout(): JavaPeersLayout {
  if (layoutCache) return layoutCache;
  const pom = readFileSync(join(PEERS_SRC_DIR, 'java', 'pom.xml'), 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (!version) throw new Error('no <kafka.version> in test/peers/java/pom.xml');
  const root = process.env.UMBRA_PEERS_DIR ?? join(homedir(), '.cache', 'umbra-peers');
  const dir = join(root, `kafka-${version}`);
  layoutCache = {
    version,
    dir,
    libsDir: join(dir, 'libs'),
    classesDir: join(dir, 'classes'),
    clientLog4j: join(PEERS_SRC_DIR, 'java', 'log4j2-client.properties'),
    brokerLog4j: join(PEERS_SRC_DIR, 'java', 'log4j2-broker.properties'),
  };
  return layoutCache;
}

/** The java binary: $JAVA_HOME/bin/java when set, else java on PATH. Kafka 4.1's broker needs Java 17+. */
export function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

// ------------------------------------------------------------------------------------------------ availability

export type PeerName = 'kafka' | 'java' | 'kcat' | 'confluent-python' | 'kafka-python';
export const ALL_PEERS: readonly PeerName[] = ['kafka', 'java', 'kcat', 'confluent-python', 'kafka-python'];

const FIX_JARS = 'run test/peers/fetch-peers.sh (or .ci/run)';
const FIX_APT = 'run .ci/run, or apt-get install -y kcat python3-confluent-kafka python3-kafka';
const availabilityCache = new Map<PeerName, string | undefined>();

/** Why a peer cannot run here, or undefined when it can. Checked once per process. */
export function peerUnavailableReason(name: PeerName): string | undefined {
  if (!availabilityCache.has(name)) availabilityCache.set(name, checkPeer(name));
  return availabilityCache.get(name);
}

function checkPeer(name: PeerName): string | undefined {
  const ok = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 }).status === 0;
  switch (name) {
    case 'kafka': {
      const { libsDir, version } = javaPeersLayout();
      const jars = existsSync(libsDir) ? readdirSync(libsDir) : [];
      if (!jars.includes(`kafka_2.13-${version}.jar`)) return `Apache Kafka ${version} jars missing in ${libsDir}: ${FIX_JARS}`;
      if (!ok(javaCommand(), ['-version'])) return `no working java (${javaCommand()}): install a JDK 17+`;
      return undefined;
    }
    case 'java': {
      const kafka = peerUnavailableReason('kafka');
      if (kafka) return kafka;
      const cls = join(javaPeersLayout().classesDir, 'umbra', 'peer', 'ClientPeer.class');
      return existsSync(cls) ? undefined : `Java ClientPeer not compiled (${cls} missing): ${FIX_JARS}`;
    }
    case 'kcat':
      return ok('kcat', ['-V']) ? undefined : `kcat not installed: ${FIX_APT}`;
    case 'confluent-python':
      return ok(SYSTEM_PYTHON, ['-c', 'import confluent_kafka'])
        ? undefined
        : `confluent_kafka does not import under ${SYSTEM_PYTHON}: ${FIX_APT}`;
    case 'kafka-python':
      return ok(SYSTEM_PYTHON, ['-c', 'import kafka'])
        ? undefined
        : `kafka (kafka-python) does not import under ${SYSTEM_PYTHON}: ${FIX_APT}`;
  }
}

/** Throws one error listing every missing peer and how to get it. */
export function requirePeers(names: readonly PeerName[] = ALL_PEERS): void {
  const missing = [...new Set(names.map(peerUnavailableReason).filter((r): r is string => r !== undefined))];
  if (missing.length > 0) throw new Error(`real-client peers missing:\n  - ${missing.join('\n  - ')}`);
}

/**
 * For `describe(name, gate, ...)` in node:test. Slow suites run only when `envVar` is 1.
 * When they run and a peer is missing: under CI=true the suite is NOT skipped (its before() should call
 * requirePeers() and fail with the reason); on a developer machine it is skipped with the reason.
 */
export function peerTestGate(names: readonly PeerName[] = ALL_PEERS, envVar = 'UMBRA_TEST_KAFKA'): { skip: string | false } {
  if (process.env[envVar] !== '1') return { skip: `slow real-client suite: set ${envVar}=1 to run it` };
  const missing = [...new Set(names.map(peerUnavailableReason).filter((r): r is string => r !== undefined))];
  if (missing.length === 0 || isCi()) return { skip: false };
  return { skip: missing.join('; ') };
}

function isCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

// ------------------------------------------------------------------------------------------------ running

export interface RunOptions {
  /** Kill the child (SIGKILL, that child only) after this long. Default 60 s. */
  timeoutMs?: number;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Return instead of throwing when the peer exits non-zero (its JSON answer then says what failed). */
  allowFailure?: boolean;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export class PeerError extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
    this.name = 'PeerError';
  }
}

const TAIL_CHARS = 4000;

function tail(s: string, n = TAIL_CHARS): string {
  return s.length <= n ? s : `…${s.slice(s.length - n)}`;
}

function describeFailure(r: RunResult, what: string): string {
  const status = r.timedOut ? `timed out after ${r.elapsedMs} ms (killed)` : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  return `${what} failed: ${status}\n  command: ${r.command}\n  stdout: ${tail(r.stdout.trim(), 2000) || '(empty)'}\n  stderr: ${tail(r.stderr.trim()) || '(empty)'}`;
}

/** Runs a command (no shell) and collects its output. Throws a PeerError on a non-zero exit unless allowFailure. */
export function runProcess(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const command = [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined); // a peer that exits early must not crash the test with EPIPE
      child.stdin!.end(opts.input);
    }
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const r: RunResult = {
        command,
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        elapsedMs: Date.now() - started,
      };
      if (code === 0 || opts.allowFailure) resolve(r);
      else reject(new PeerError(describeFailure(r, cmd), r));
    });
  });
}

/** The last line of stdout that parses as a JSON object: the answer of every peer script. */
export function lastJsonLine<T = Record<string, unknown>>(r: RunResult): T {
  const lines = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]!) as T;
    } catch {
      // a partial line; keep looking
    }
  }
  throw new PeerError(describeFailure(r, 'peer printed no JSON answer;'), r);
}

/** Runs a peer that prints a JSON answer; a non-zero exit throws with the answer and stderr in the message. */
async function runJsonPeer<T>(what: string, cmd: string, args: readonly string[], opts: RunOptions): Promise<T> {
  const r = await runProcess(cmd, args, { ...opts, allowFailure: true });
  if (r.code !== 0 && !opts.allowFailure) throw new PeerError(describeFailure(r, what), r);
  return lastJsonLine<T>(r);
}

// ------------------------------------------------------------------------------------------------ Java (kafka-clients)

export interface JavaRunOptions extends RunOptions {
  heapMb?: number;
  jvmArgs?: string[];
  /**
   * Client configs passed through the environment (UMBRA_PEER_CLIENT_CONFIG) instead of the command line, so a
   * SASL password never shows in a process list or in the command a failing test prints. Command-line configs win.
   */
  clientConfig?: Record<string, string>;
}

/**
 * Runs a main class from the Kafka jars (plus the ClientPeer classes), logging to stderr.
 * E.g. runJavaMain('org.apache.kafka.tools.ProducerPerformance', [...]) or 'kafka.tools.DumpLogSegments'.
 */
export function runJavaMain(mainClass: string, args: readonly string[], opts: JavaRunOptions = {}): Promise<RunResult> {
  return runProcess(javaCommand(), javaArgv(mainClass, args, opts), opts);
}

function javaArgv(mainClass: string, args: readonly string[], opts: JavaRunOptions): string[] {
  const { libsDir, classesDir, clientLog4j } = javaPeersLayout();
  return [
    `-Xmx${opts.heapMb ?? 256}m`,
    // Short-lived JVMs: stop at C1, which starts faster; benches pass their own jvmArgs.
    ...(opts.jvmArgs ?? ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC']),
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${clientLog4j}`,
    '-cp',
    `${classesDir}:${join(libsDir, '*')}`,
    mainClass,
    ...args,
  ];
}

function clientPeer<T>(what: string, args: readonly string[], opts: JavaRunOptions): Promise<T> {
  const withEnv: JavaRunOptions = opts.clientConfig
    ? { ...opts, env: { ...(opts.env ?? process.env), UMBRA_PEER_CLIENT_CONFIG: Object.entries(opts.clientConfig).map(([k, v]) => `${k}=${v}`).join('\n') } }
    : opts;
  return runJsonPeer<T>(what, javaCommand(), javaArgv('umbra.peer.ClientPeer', args, withEnv), withEnv);
}

function configArgs(config: Record<string, string | number | boolean> = {}): string[] {
  return Object.entries(config).map(([k, v]) => `${k}=${String(v)}`);
}

export interface PartitionProduceSummary {
  count: number;
  firstOffset: number | null;
  lastOffset: number | null;
}

export interface ProduceResult {
  ok: boolean;
  client: string;
  topic: string;
  count: number;
  acked: number;
  errors: number;
  /** Partition number (as a string) → what was acknowledged there. */
  partitions: Record<string, PartitionProduceSummary>;
  elapsedMs: number;
  [more: string]: unknown;
}

export interface ConsumedRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

export interface ConsumeResult {
  ok: boolean;
  client: string;
  topic: string;
  group: string;
  count: number;
  timedOut: boolean;
  /** Partition → records read there. */
  partitions: Record<string, number>;
  /** Partition → the group's committed offset after the run. */
  committed: Record<string, number | null>;
  records?: ConsumedRecord[];
  elapsedMs: number;
  [more: string]: unknown;
}

export interface JavaProduceOptions extends JavaRunOptions {
  /** Producer configs, e.g. { 'compression.type': 'zstd', acks: '1' }; peer.value.bytes=N pads values. */
  config?: Record<string, string | number | boolean>;
}

/**
 * The Java producer with its defaults (idempotence on, acks=all) sends COUNT records: key "key-i",
 * value "value-i", headers peer=java and seq=i.
 */
export function javaProduce(bootstrap: string, topic: string, count: number, opts: JavaProduceOptions = {}): Promise<ProduceResult> {
  return clientPeer('java produce', ['produce', bootstrap, topic, String(count), ...configArgs(opts.config)], opts);
}

/**
 * A Java consumer in GROUP reads COUNT records from the earliest uncommitted offset (0 = all until timeout),
 * committing synchronously after each poll. Throws if fewer than COUNT arrive within timeoutMs.
 */
export function javaConsume(
  bootstrap: string,
  topic: string,
  group: string,
  count: number,
  timeoutMs: number,
  opts: JavaProduceOptions = {},
): Promise<ConsumeResult> {
  const args = ['consume', bootstrap, topic, group, String(count), String(timeoutMs), ...configArgs(opts.config)];
  return clientPeer('java consume', args, { ...opts, timeoutMs: opts.timeoutMs ?? timeoutMs + 30_000 });
}

export type JavaAdminCommand =
  | ['create-topic', string, number, number?, ...string[]]
  | ['delete-topic', string]
  | ['list-topics']
  | ['describe-topic', string]
  | ['describe-configs', string]
  | ['alter-config', string, string, string]
  | ['delete-config', string, string]
  | ['list-offsets', string, 'earliest' | 'latest' | 'max-timestamp']
  | ['describe-cluster']
  | ['list-groups']
  | ['describe-group', string]
  | ['group-offsets', string]
  | ['create-acl', ...string[]]
  | ['describe-acls', ...string[]]
  | ['delete-acls', ...string[]];

/**
 * The Java Admin client. See ClientPeer.java for each command's answer, e.g.
 *   javaAdmin(b, ['create-topic', 't', 3])            → { ok, topic, topicId, partitions, replicationFactor }
 *   javaAdmin(b, ['describe-configs', 't'])           → { ok, configs: { name: { value, source, readOnly, sensitive } } }
 *   javaAdmin(b, ['list-offsets', 't', 'latest'])     → { ok, offsets: { '0': 12 } }
 *   javaAdmin(b, ['group-offsets', 'g'])              → { ok, offsets: { 't-0': 12 } }
 *   javaAdmin(b, ['create-acl', ...aclArgs(acl)])     → { ok, created: AclJson }
 *   javaAdmin(b, ['describe-acls', ...aclArgs(f)])    → { ok, acls: AclJson[] }   (delete-acls: the deleted ones)
 */
export function javaAdmin<T = Record<string, unknown>>(bootstrap: string, command: JavaAdminCommand, opts: JavaRunOptions = {}): Promise<T> {
  const args = ['admin', bootstrap, ...command.filter((a) => a !== undefined).map(String)];
  return clientPeer(`java admin ${command[0]}`, args, opts);
}

/**
 * An ACL (or, with fields left out, a filter: missing = ANY) in Kafka's names, as the Java and kafka-python peers
 * take and return them.
 */
export interface AclJson {
  resourceType: 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID' | 'ANY';
  name: string;
  patternType: 'LITERAL' | 'PREFIXED' | 'ANY' | 'MATCH';
  principal: string;
  host: string;
  operation: string;
  permission: 'ALLOW' | 'DENY' | 'ANY';
}

/** An ACL or filter as the Java peer's KEY=VALUE arguments. */
export function aclArgs(acl: Partial<AclJson>): string[] {
  return Object.entries(acl)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
}

// ------------------------------------------------------------------------------------------------ kcat (librdkafka)

export interface KcatMetadata {
  originating_broker: { id: number; name: string };
  controllerid: number;
  brokers: { id: number; name: string }[];
  topics: {
    topic: string;
    error?: string;
    partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[]; error?: string }[];
  }[];
}

/** `kcat -L -J`: cluster metadata as librdkafka sees it (all topics, or one). */
export async function kcatMetadata(bootstrap: string, topic?: string, opts: RunOptions = {}): Promise<KcatMetadata> {
  const r = await runProcess('kcat', ['-b', bootstrap, '-L', '-J', ...(topic ? ['-t', topic] : [])], opts);
  return lastJsonLine<KcatMetadata>(r);
}

export interface KcatMessage {
  key?: string;
  value: string;
}

export interface KcatProduceOptions extends RunOptions {
  /** -z: none, gzip, snappy, lz4, zstd. librdkafka sends a batch uncompressed when compression would not shrink it. */
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /** -H: headers added to every message of this run (kcat cannot vary them per message). */
  headers?: Record<string, string>;
  partition?: number;
  /** -X librdkafka properties, e.g. { 'enable.idempotence': true, 'linger.ms': 50 }. */
  config?: Record<string, string | number | boolean>;
}

// Separators that test data will not contain, so keys and values may hold tabs and newlines.
const KCAT_KEY_SEP = '\x1f';
const KCAT_MSG_SEP = '\x1e';

/** `kcat -P`: produces the messages in order (keyed when key is set) and waits for their delivery. */
export async function kcatProduce(
  bootstrap: string,
  topic: string,
  messages: readonly KcatMessage[],
  opts: KcatProduceOptions = {},
): Promise<{ count: number; elapsedMs: number }> {
  for (const m of messages) {
    if (m.value.includes(KCAT_MSG_SEP) || m.value.includes(KCAT_KEY_SEP) || m.key?.includes(KCAT_KEY_SEP) || m.key?.includes(KCAT_MSG_SEP)) {
      throw new Error('kcatProduce: keys and values must not contain \\x1e or \\x1f');
    }
  }
  const keyed = messages.some((m) => m.key !== undefined);
  const args = ['-b', bootstrap, '-P', '-t', topic, '-D', KCAT_MSG_SEP];
  if (keyed) args.push('-K', KCAT_KEY_SEP);
  if (opts.compression) args.push('-z', opts.compression);
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.config ?? {})) args.push('-X', `${k}=${String(v)}`);
  // kcat reports delivery failures on stderr and still exits 0 for some of them, so check stderr too.
  const input = messages.map((m) => (keyed ? `${m.key ?? ''}${KCAT_KEY_SEP}${m.value}` : m.value)).join(KCAT_MSG_SEP);
  const r = await runProcess('kcat', args, { ...opts, input });
  if (/% ERROR|Delivery failed/i.test(r.stderr) && !opts.allowFailure) throw new PeerError(describeFailure(r, 'kcat produce'), r);
  return { count: messages.length, elapsedMs: r.elapsedMs };
}

export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  /** 'create' | 'logappend' | 'none'. */
  tstype: string;
  ts: number;
  key: string | null;
  payload: string | null;
  /** Header pairs in order. */
  headers: [string, string | null][];
}

export interface KcatConsumeOptions extends RunOptions {
  /** -o: 'beginning' (default), 'end', 'stored', an absolute offset, or a negative relative one. */
  offset?: 'beginning' | 'end' | 'stored' | number;
  partition?: number;
  /** -c: stop after this many messages; without it, stop at the end of every partition (-e). */
  count?: number;
  /** -G: consume as a member of this group (balanced consumer; commits as librdkafka does). */
  group?: string;
  config?: Record<string, string | number | boolean>;
}

/** `kcat -C -J -e`: reads a topic to its end (or COUNT messages) and returns the records, in arrival order. */
export async function kcatConsume(bootstrap: string, topic: string, opts: KcatConsumeOptions = {}): Promise<KcatRecord[]> {
  const args = ['-b', bootstrap, '-C', '-J', '-e', '-q', '-o', String(opts.offset ?? 'beginning')];
  if (opts.group !== undefined) args.push('-G', opts.group, topic);
  else args.push('-t', topic);
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  if (opts.count !== undefined) args.push('-c', String(opts.count));
  for (const [k, v] of Object.entries(opts.config ?? {})) args.push('-X', `${k}=${String(v)}`);
  const r = await runProcess('kcat', args, opts);
  const records: KcatRecord[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const j = JSON.parse(line) as Omit<KcatRecord, 'headers'> & { headers?: (string | null)[] };
    const flat = j.headers ?? [];
    const headers: [string, string | null][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) headers.push([String(flat[i]), flat[i + 1] ?? null]);
    records.push({ ...j, headers });
  }
  return records;
}

// ------------------------------------------------------------------------------------------------ confluent-kafka-python (librdkafka)

const CONFLUENT = (): string => join(PEERS_SRC_DIR, 'python', 'confluent_peer.py');
const KAFKA_PYTHON = (): string => join(PEERS_SRC_DIR, 'python', 'kafka_python_peer.py');

function python<T>(what: string, script: string, args: readonly string[], opts: RunOptions): Promise<T> {
  return runJsonPeer<T>(what, SYSTEM_PYTHON, [script, ...args], opts);
}

export interface ConfluentCreateOptions extends RunOptions {
  replicationFactor?: number;
  config?: Record<string, string | number | boolean>;
}

/** AdminClient.create_topics: { ok, topics: { name: { created: true } | { error } } }. */
export function confluentCreateTopics(
  bootstrap: string,
  topics: readonly string[],
  partitions: number,
  opts: ConfluentCreateOptions = {},
): Promise<{ ok: boolean; topics: Record<string, { created?: true; error?: string }> }> {
  const args = ['create-topics', bootstrap, String(partitions), ...topics];
  if (opts.replicationFactor !== undefined) args.push('--replication-factor', String(opts.replicationFactor));
  for (const kv of configArgs(opts.config)) args.push('--config', kv);
  return python('confluent create-topics', CONFLUENT(), args, opts);
}

export function confluentDeleteTopics(
  bootstrap: string,
  topics: readonly string[],
  opts: RunOptions = {},
): Promise<{ ok: boolean; topics: Record<string, { deleted?: true; error?: string }> }> {
  return python('confluent delete-topics', CONFLUENT(), ['delete-topics', bootstrap, ...topics], opts);
}

export interface DescribedConfig {
  value: string | null;
  source: string;
  readOnly: boolean;
  sensitive: boolean;
  isDefault: boolean;
}

/** AdminClient.describe_configs on a topic: { ok, configs: { name: { value, source, ... } } }. */
export function confluentDescribeConfigs(
  bootstrap: string,
  topic: string,
  opts: RunOptions = {},
): Promise<{ ok: boolean; topic: string; configs: Record<string, DescribedConfig>; error?: string }> {
  return python('confluent describe-configs', CONFLUENT(), ['describe-configs', bootstrap, topic], opts);
}

/**
 * AdminClient.alter_configs on a topic: the legacy, non-incremental AlterConfigs (API 33), which replaces the
 * topic's whole dynamic config with `configs` (confluent-kafka 1.7 has no incremental_alter_configs).
 */
export function confluentAlterConfigs(
  bootstrap: string,
  topic: string,
  configs: Record<string, string | number | boolean>,
  opts: RunOptions = {},
): Promise<{ ok: boolean; topic: string; error?: string }> {
  return python('confluent alter-configs', CONFLUENT(), ['alter-configs', bootstrap, topic, ...configArgs(configs)], opts);
}

export interface ConfluentMetadata {
  ok: boolean;
  clusterId: string | null;
  controllerId: number;
  brokers: { id: number; host: string; port: number }[];
  topics: Record<string, { error: string | null; partitions: Record<string, { leader: number; replicas: number[]; isrs: number[] }> }>;
}

export function confluentMetadata(bootstrap: string, opts: RunOptions = {}): Promise<ConfluentMetadata> {
  return python('confluent metadata', CONFLUENT(), ['metadata', bootstrap], opts);
}

export interface ConfluentProduceOptions extends RunOptions {
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /** Default true: enable.idempotence (InitProducerId, sequence numbers). */
  idempotence?: boolean;
  config?: Record<string, string | number | boolean>;
}

/** A confluent Producer (idempotent by default) sends COUNT records: key-i/value-i, headers peer=confluent, seq=i. */
export function confluentProduce(bootstrap: string, topic: string, count: number, opts: ConfluentProduceOptions = {}): Promise<ProduceResult> {
  const args = ['produce', bootstrap, topic, String(count), '--compression', opts.compression ?? 'none'];
  if (opts.idempotence === false) args.push('--no-idempotence');
  for (const kv of configArgs(opts.config)) args.push('--config', kv);
  return python('confluent produce', CONFLUENT(), args, opts);
}

export interface GroupConsumeResult {
  ok: boolean;
  topic: string;
  group: string;
  expected: number;
  /** Distinct (partition, offset) pairs read; deliveries - distinct = redeliveries across rebalances. */
  distinct: number;
  deliveries: number;
  /** Each member's final assignment (partition numbers) and how many records it read. */
  members: { index: number; assignment: number[] | null; count: number; assignments: number }[];
  partitionCount: number;
  stable: boolean;
  committed: Record<string, number | null>;
  errors: string[];
  timedOut: boolean;
  elapsedMs: number;
}

/**
 * MEMBERS (default 3) confluent consumers join GROUP, read until EXPECTED distinct records are seen and the group
 * is stable (together the members hold every partition), committing after each batch and on revocation.
 */
export function confluentGroupConsume(
  bootstrap: string,
  topic: string,
  group: string,
  expected: number,
  timeoutMs: number,
  opts: RunOptions & { members?: number } = {},
): Promise<GroupConsumeResult> {
  const args = ['group-consume', bootstrap, topic, group, String(expected), String(timeoutMs), '--members', String(opts.members ?? 3)];
  return python('confluent group-consume', CONFLUENT(), args, { ...opts, timeoutMs: opts.timeoutMs ?? timeoutMs + 30_000 });
}

// ------------------------------------------------------------------------------------------------ kafka-python 2.0.2

/** kafka-python's KafkaProducer (acks=all by default) sends COUNT records: key-i/value-i, headers peer=kafka-python. */
export function kafkaPythonProduce(
  bootstrap: string,
  topic: string,
  count: number,
  opts: RunOptions & { compression?: 'gzip' | 'snappy' | 'lz4' | 'zstd'; acks?: 'all' | '1' | '0' } = {},
): Promise<ProduceResult> {
  const args = ['produce', bootstrap, topic, String(count), '--acks', opts.acks ?? 'all'];
  if (opts.compression) args.push('--compression', opts.compression);
  return python('kafka-python produce', KAFKA_PYTHON(), args, opts);
}

/** KafkaAdminClient.create_acls: { ok, created: AclJson[], failed: { acl, error }[] }. Settings (SASL) via opts.env. */
export function kafkaPythonCreateAcls(
  bootstrap: string,
  acls: readonly Partial<AclJson>[],
  opts: RunOptions = {},
): Promise<{ ok: boolean; created: AclJson[]; failed: { acl: AclJson; error: string }[]; error?: string }> {
  return python('kafka-python create-acls', KAFKA_PYTHON(), ['create-acls', bootstrap, JSON.stringify(acls)], opts);
}

/** KafkaAdminClient.describe_acls with one filter (missing fields = any): { ok, acls }. */
export function kafkaPythonDescribeAcls(bootstrap: string, filter: Partial<AclJson>, opts: RunOptions = {}): Promise<{ ok: boolean; acls: AclJson[]; error?: string | null }> {
  return python('kafka-python describe-acls', KAFKA_PYTHON(), ['describe-acls', bootstrap, JSON.stringify(filter)], opts);
}

/** KafkaAdminClient.delete_acls with one filter: { ok, deleted }. */
export function kafkaPythonDeleteAcls(bootstrap: string, filter: Partial<AclJson>, opts: RunOptions = {}): Promise<{ ok: boolean; deleted: AclJson[]; error?: string | null }> {
  return python('kafka-python delete-acls', KAFKA_PYTHON(), ['delete-acls', bootstrap, JSON.stringify(filter)], opts);
}

/** kafka-python's KafkaConsumer in GROUP reads COUNT records (0 = all until timeout) and commits. */
export function kafkaPythonConsume(
  bootstrap: string,
  topic: string,
  group: string,
  count: number,
  timeoutMs: number,
  opts: RunOptions & { records?: boolean } = {},
): Promise<ConsumeResult> {
  const args = ['consume', bootstrap, topic, group, String(count), String(timeoutMs)];
  if (opts.records === false) args.push('--no-records');
  return python('kafka-python consume', KAFKA_PYTHON(), args, { ...opts, timeoutMs: opts.timeoutMs ?? timeoutMs + 30_000 });
}
