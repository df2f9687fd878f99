// `npm run demo`: shadow linking end to end on one machine, in about half a minute.
//
// Two Umbra brokers run on 127.0.0.1 as child processes (`node bin/umbra.js start`, any free ports), as a
// reciprocal active-passive pair: broker A owns the a_* topics and broker B shadows them through link `from-a`
// (defined on B); B owns b_* and A shadows them through link `from-b` (defined on A). The demo creates the topics
// and the links, produces to both sides while it prints a live table of lag and RPO per partition (from each
// link's status document), then fails a_orders over to B alone: producing a_orders on B succeeds, a_payments on
// B is still refused with the broker's message naming the link. Every step prints its `npx umbra …` equivalent.
//
//   node dist/scripts/demo.js [--seconds N] [--keep]
//
// --seconds N  how long to produce (default 15)
// --keep       leave both brokers running at the end and print their addresses and how to stop them
//
// The brokers log (JSON, at info level: the "umbra listening" line that tells their ports is an info line) to a
// file in their temporary directory rather than to this terminal; warnings and errors from them are echoed here.
// Ctrl-C, an error or the normal end stops both brokers and removes their directories (unless --keep).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { KafkaClient } from '../src/client/client.js';
import { Producer } from '../src/client/producer.js';
import type { LinkActionResult, LinkStatus } from '../src/shadow/service.js';

// ---- options ------------------------------------------------------------------------------------------------

interface DemoOptions {
  seconds: number;
  keep: boolean;
}

function parseArgs(argv: readonly string[]): DemoOptions {
  const o: DemoOptions = { seconds: 15, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--keep') o.keep = true;
    else if (a === '--seconds' || a.startsWith('--seconds=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n < 1 || n > 3600) fail(`--seconds must be a number of seconds between 1 and 3600 (got ${v ?? 'nothing'})`);
      o.seconds = n;
    } else if (a === '-h' || a === '--help') {
      say('usage: npm run demo [-- --seconds N] [-- --keep]\n  --seconds N  how long to produce (default 15)\n  --keep       leave both brokers running at the end');
      process.exit(0);
    } else fail(`unknown argument '${a}' (try --help)`);
  }
  return o;
}

// ---- output -------------------------------------------------------------------------------------------------

const tty = process.stdout.isTTY === true;
const bold = (s: string): string => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const green = (s: string): string => (tty ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string): string => (tty ? `\x1b[31m${s}\x1b[0m` : s);

function say(text = ''): void {
  process.stdout.write(text + '\n');
}

function step(title: string): void {
  say('');
  say(bold(`== ${title}`));
}

/** The CLI command that does what the demo does next, for the reader to reuse. */
function cli(command: string): void {
  say(dim(`   $ npx umbra ${command}`));
}

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

function table(head: string[], rows: (string | number)[][]): string[] {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s <= 0) return '0s';
  return s < 60 ? `${Math.round(s * 10) / 10}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

// ---- brokers ------------------------------------------------------------------------------------------------

/** The repository root: this file runs as dist/scripts/demo.js (or scripts/demo.ts under tsx). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'bin', 'umbra.js'))) return dir;
    dir = dirname(dir);
  }
  fail('cannot find bin/umbra.js above this script');
}

const ROOT = repoRoot();
const UMBRA = join(ROOT, 'bin', 'umbra.js');
const STARTUP_TIMEOUT_MS = 30_000;

interface Broker {
  name: string;
  dir: string;
  logFile: string;
  child: ChildProcess;
  pid: number;
  bootstrap: string;
  adminUrl: string;
  exited: Promise<void>;
  /** how much of the log file has been echoed */
  logOffset: number;
}

const brokers: Broker[] = [];

/**
 * Starts `umbra start` on 127.0.0.1 port 0 and waits for its "umbra listening on …" line, whose JSON fields
 * `kafka` and `admin` carry the bound host:port of the Kafka listener and of the admin API.
 */
async function startBroker(name: string, keep: boolean): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), `umbra-demo-${name}-`));
  const logFile = join(dir, 'broker.log');
  const fd = openSync(logFile, 'a');
  const args = [UMBRA, 'start', '--data-dir', join(dir, 'data'), '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--log-level', 'info'];
  // Detached with its output in a file, so that a broker kept with --keep outlives this process (and a Ctrl-C in
  // the terminal reaches only the demo, which then stops the brokers itself, in order).
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start broker ${name}`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const partial: Broker = { name, dir, logFile, child, pid: child.pid, bootstrap: '', adminUrl: '', exited, logOffset: 0 };
  brokers.push(partial);
  if (keep) child.unref();

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    for (const line of text.split('\n')) {
      if (!line.includes('"kafka"')) continue;
      try {
        const rec = JSON.parse(line) as { kafka?: string; admin?: string };
        if (rec.kafka && rec.admin) {
          partial.bootstrap = rec.kafka;
          partial.adminUrl = `http://${rec.admin}`;
          partial.logOffset = Buffer.byteLength(text);
          return partial;
        }
      } catch {
        // not a JSON line
      }
    }
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`broker ${name} exited before it was ready:\n${text}`);
    if (Date.now() > deadline) throw new Error(`broker ${name} did not start within ${STARTUP_TIMEOUT_MS} ms:\n${text}`);
    await sleep(50);
  }
}

const LEVEL_NAMES: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

/** Echoes the warnings and errors the brokers logged since the last call (info lines stay in the log files). */
function echoBrokerWarnings(): void {
  for (const b of brokers) {
    let buf: Buffer;
    try {
      buf = readFileSync(b.logFile);
    } catch {
      continue;
    }
    const text = buf.subarray(b.logOffset).toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end < 0) continue;
    b.logOffset += Buffer.byteLength(text.slice(0, end + 1));
    for (const line of text.slice(0, end).split('\n')) {
      try {
        const rec = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
        if ((rec.level ?? 0) < 40) continue;
        const why = rec.err?.message && !rec.msg?.includes(rec.err.message) ? `: ${rec.err.message}` : '';
        say(red(`   [broker ${b.name} ${LEVEL_NAMES[rec.level!] ?? rec.level}] ${rec.msg ?? ''}${why}`));
      } catch {
        if (line.trim() !== '') say(red(`   [broker ${b.name}] ${line}`));
      }
    }
  }
}

let stopping: Promise<void> | null = null;

/** SIGTERM (graceful), then SIGKILL after 10 s; removes the directories. Only the brokers this demo started. */
function stopBrokers(removeDirs: boolean): Promise<void> {
  return (stopping ??= (async () => {
    await Promise.all(
      brokers.map(async (b) => {
        if (b.child.exitCode === null && b.child.signalCode === null) {
          b.child.kill('SIGTERM');
          const timer = setTimeout(() => b.child.kill('SIGKILL'), 10_000);
          await b.exited;
          clearTimeout(timer);
        }
        if (removeDirs) rmSync(b.dir, { recursive: true, force: true });
      }),
    );
  })());
}

// ---- admin API ----------------------------------------------------------------------------------------------

class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function admin<T>(b: Broker, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(b.adminUrl + path, {
    method,
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) {
    let err: { code?: string; message?: string } = {};
    try {
      err = JSON.parse(text) as typeof err;
    } catch {
      // not JSON
    }
    throw new AdminApiError(res.status, err.code ?? 'HTTP', `${method} ${path} on broker ${b.name}: ${res.status} ${err.code ?? ''} ${err.message ?? text}`.trim());
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** A link config for a reciprocal pair: shadow every topic starting with `prefix` from `source`. */
function linkConfig(name: string, source: Broker, prefix: string): Record<string, unknown> {
  return {
    name,
    client_options: {
      bootstrap_servers: [source.bootstrap],
      // answer a Fetch as soon as there is data, and wait at most 100 ms when there is none: lowest lag
      fetch_wait_max_ms: 100,
    },
    topic_metadata_sync_options: {
      // new a_* topics on the source appear on the shadow within a second
      interval: '1s',
      auto_create_shadow_topic_filters: [{ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: prefix }],
      start_at_earliest: {},
    },
    consumer_offset_sync_options: {
      interval: '1s',
      group_filters: [{ pattern_type: 'LITERAL', filter_type: 'INCLUDE', name: '*' }],
    },
  };
}

// ---- the live table -----------------------------------------------------------------------------------------

interface Side {
  link: string;
  /** the shadow broker, where the link is defined */
  shadow: Broker;
}

interface Row {
  link: string;
  topic: string;
  state: string;
  partition: number;
  sourceHighWatermark: number;
  highWatermark: number;
  lag: number;
  rpoSeconds: number;
  lastError: string;
}

async function rows(sides: readonly Side[]): Promise<Row[]> {
  const out: Row[] = [];
  for (const s of sides) {
    const status = await admin<LinkStatus>(s.shadow, 'GET', `/v1/shadow-links/${s.link}/status`);
    for (const t of [...status.topics].sort((a, b) => a.name.localeCompare(b.name))) {
      for (const p of t.partitions) {
        out.push({
          link: `${s.link} (on ${s.shadow.name})`,
          topic: t.name,
          state: t.state,
          partition: p.partition,
          sourceHighWatermark: p.sourceHighWatermark,
          highWatermark: p.highWatermark,
          lag: p.lag,
          rpoSeconds: p.rpoSeconds,
          lastError: p.lastError,
        });
      }
    }
  }
  return out;
}

function render(rs: readonly Row[]): string[] {
  if (rs.length === 0) return ['   (no shadow topics yet)'];
  const lines = table(
    ['LINK', 'TOPIC', 'PARTITION', 'SOURCE-HWM', 'SHADOW-HWM', 'LAG', 'RPO', 'STATE'],
    rs.map((r) => [r.link, r.topic, r.partition, r.sourceHighWatermark, r.highWatermark, r.lag, formatSeconds(r.rpoSeconds), r.state]),
  ).map((l) => `   ${l}`);
  for (const r of rs) if (r.lastError) lines.push(red(`   ${r.topic}-${r.partition}: ${r.lastError}`));
  return lines;
}

/** Redraws in place on a terminal; elsewhere (a pipe, a test) prints each table after the previous one. */
class LiveTable {
  private lines = 0;

  show(header: string, body: readonly string[]): void {
    if (tty && this.lines > 0) process.stdout.write(`\x1b[${this.lines}A\x1b[J`);
    const all = [header, ...body];
    for (const l of all) say(l);
    this.lines = tty ? all.length : 0;
  }

  /** The next output goes below the last table. */
  done(): void {
    this.lines = 0;
  }
}

// ---- producing ----------------------------------------------------------------------------------------------

interface Load {
  topic: string;
  producer: Producer;
  sent: number;
  errors: number;
  lastError?: string;
}

/** Produces to each topic in small rounds (about 150 records a second per topic) until `stop` is set. */
async function produceUntil(loads: readonly Load[], stop: { stop: boolean }): Promise<void> {
  let round = 0;
  while (!stop.stop) {
    round++;
    await Promise.all(
      loads.map(async (l) => {
        const sends: Promise<unknown>[] = [];
        for (let i = 0; i < 15; i++) {
          const n = l.sent + i;
          sends.push(l.producer.send({ topic: l.topic, key: `k${n % 97}`, value: JSON.stringify({ n, round, at: Date.now() }) }));
        }
        const results = await Promise.allSettled(sends);
        for (const r of results) {
          if (r.status === 'fulfilled') l.sent++;
          else {
            l.errors++;
            l.lastError = (r.reason as Error).message;
          }
        }
      }),
    );
    await sleep(100);
  }
}

// ---- the demo -----------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const cleanup = (): void => {
    void stopBrokers(true).finally(() => process.exit(130));
  };
  process.once('SIGINT', () => {
    say('\ninterrupted: stopping both brokers');
    cleanup();
  });
  process.once('SIGTERM', cleanup);
  // whatever happens, no broker this demo started outlives it (unless --keep asked for that at the end)
  process.on('exit', () => {
    if (stopping) return;
    for (const b of brokers) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGTERM');
  });

  say(bold('Umbra shadow linking demo: a reciprocal active-passive pair on 127.0.0.1'));
  say('Broker A owns the a_* topics and shadows b_* from B; broker B owns b_* and shadows a_* from A.');

  // 1. brokers
  step('1. Start two brokers');
  const [A, B] = await Promise.all([startBroker('A', opts.keep), startBroker('B', opts.keep)]);
  for (const b of [A, B]) {
    cli(`start --data-dir ${join(b.dir, 'data')} --listen ${b.bootstrap} --admin-listen ${b.adminUrl.slice('http://'.length)}`);
    say(`   broker ${b.name}: Kafka ${b.bootstrap}, admin ${b.adminUrl} (pid ${b.pid}, log ${b.logFile})`);
  }

  const clientA = new KafkaClient({ brokers: A.bootstrap, clientId: 'umbra-demo' });
  const clientB = new KafkaClient({ brokers: B.bootstrap, clientId: 'umbra-demo' });
  try {
    // 2. topics on their owners
    step('2. Create topics on their owners');
    const topics: [KafkaClient, Broker, string, number][] = [
      [clientA, A, 'a_orders', 3],
      [clientA, A, 'a_payments', 1],
      [clientB, B, 'b_inventory', 1],
    ];
    for (const [client, b, name, partitions] of topics) {
      cli(`topic create ${name} -p ${partitions} --brokers ${b.bootstrap}`);
      const [r] = await client.createTopics([{ name, numPartitions: partitions }]);
      if (!r || r.errorCode !== 0) throw new Error(`creating ${name} on broker ${b.name} failed: ${r?.errorMessage ?? 'no answer'} (error ${r?.errorCode})`);
      say(`   created ${name} (${partitions} partition${partitions === 1 ? '' : 's'}) on broker ${b.name}`);
    }

    // 3. links, each on its shadow
    step('3. Create the shadow links (each is defined on the shadow broker and pulls from the source)');
    const sides: Side[] = [
      { link: 'from-a', shadow: B },
      { link: 'from-b', shadow: A },
    ];
    for (const [name, shadow, source, prefix] of [
      ['from-a', B, A, 'a_'],
      ['from-b', A, B, 'b_'],
    ] as const) {
      const config = linkConfig(name, source, prefix);
      const file = join(shadow.dir, `${name}.yaml`);
      writeFileSync(file, YAML.stringify(config));
      cli(`shadow create -c ${file} --admin-url ${shadow.adminUrl}`);
      say(dim(`     (POST ${shadow.adminUrl}/v1/shadow-links with the same document as JSON)`));
      await admin(shadow, 'POST', '/v1/shadow-links', config);
      say(`   created link '${name}' on broker ${shadow.name}: shadows ${prefix}* from broker ${source.name} (${source.bootstrap})`);
    }
    say('   The link file, for reference:');
    for (const l of YAML.stringify(linkConfig('from-a', A, 'a_')).trimEnd().split('\n')) say(dim(`     ${l}`));

    // wait until both links have picked up their topics (one topic-sync interval)
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rs = await rows(sides);
      const seen = new Set(rs.map((r) => r.topic));
      if (['a_orders', 'a_payments', 'b_inventory'].every((t) => seen.has(t))) break;
      if (Date.now() > deadline) throw new Error(`the links did not create their shadow topics within 20 s; saw: ${[...seen].join(', ') || 'none'}`);
      await sleep(200);
    }
    echoBrokerWarnings();

    // 4. produce on both sides, watch the links
    step(`4. Produce to a_* on A and b_* on B for ${opts.seconds}s, and watch both links`);
    cli(`shadow status from-a --admin-url ${B.adminUrl}     # the same numbers, once`);
    cli(`shadow status from-b --admin-url ${A.adminUrl}`);
    const producerA = new Producer(clientA, { acks: 1 });
    const producerB = new Producer(clientB, { acks: 1 });
    const loads: Load[] = [
      { topic: 'a_orders', producer: producerA, sent: 0, errors: 0 },
      { topic: 'a_payments', producer: producerA, sent: 0, errors: 0 },
      { topic: 'b_inventory', producer: producerB, sent: 0, errors: 0 },
    ];
    const stop = { stop: false };
    const producing = produceUntil(loads, stop);
    const live = new LiveTable();
    const started = Date.now();
    const produced = (): string => loads.map((l) => `${l.topic} ${l.sent}${l.errors ? red(` (${l.errors} failed: ${l.lastError})`) : ''}`).join(', ');
    while (Date.now() - started < opts.seconds * 1000) {
      await sleep(1000);
      const elapsed = Math.round((Date.now() - started) / 1000);
      live.show(`   t=${elapsed}s  produced: ${produced()}`, render(await rows(sides)));
    }
    stop.stop = true;
    await producing;
    await Promise.all([producerA.close(), producerB.close()]);
    live.done();
    echoBrokerWarnings();

    // 5. caught up
    step('5. Stop producing and let the shadows catch up');
    const total = loads.reduce((n, l) => n + l.sent, 0);
    const catchUp = Date.now() + 20_000;
    let last: Row[] = [];
    for (;;) {
      last = await rows(sides);
      // caught up: every shadow partition has what its source has, and the link has seen the final source HWM
      const shadowed = last.reduce((n, r) => n + r.highWatermark, 0);
      if (last.every((r) => r.lag === 0) && shadowed === total) break;
      if (Date.now() > catchUp) {
        for (const l of render(last)) say(l);
        throw new Error(`the shadows did not catch up within 20 s (${shadowed} of ${total} records replicated)`);
      }
      await sleep(250);
    }
    for (const l of render(last)) say(l);
    say(green(`   lag 0 on every partition: all ${total} records produced are on the other broker, at the same offsets`));

    // 6. per-topic failover
    step('6. Fail over a_orders alone to broker B');
    cli(`shadow failover from-a --topic a_orders --admin-url ${B.adminUrl}`);
    const result = await admin<LinkActionResult>(B, 'POST', '/v1/shadow-links/from-a/failover', { topic: 'a_orders' });
    for (const t of result.topics) say(`   ${t.name}: ${t.state}${t.reason ? ` (${t.reason})` : ''}`);

    const producer = new Producer(clientB, { acks: -1 });
    cli(`produce a_orders --brokers ${B.bootstrap}`);
    const ok = await producer.send({ topic: 'a_orders', partition: 0, key: 'after-failover', value: 'written on B' });
    const p0 = last.find((r) => r.topic === 'a_orders' && r.partition === 0);
    say(green(`   a_orders on B accepted the record: partition ${ok.partition}, offset ${ok.offset}`) +
      (p0 ? ` (A had written offsets 0-${p0.highWatermark - 1} there; B continues the same log)` : ''));

    cli(`produce a_payments --brokers ${B.bootstrap}`);
    try {
      await producer.send({ topic: 'a_payments', value: 'written on B' });
      throw new Error('broker B accepted a record for a_payments, which is still shadowed by link from-a');
    } catch (err) {
      const message = (err as Error).message;
      if (message.startsWith('broker B accepted')) throw err;
      say(green('   a_payments on B is still read-only; the broker refused the record:'));
      say(`     ${message}`);
    }
    await producer.close();

    // 7. final statuses, through the CLI itself
    step('7. Final status of both links');
    for (const s of sides) {
      cli(`shadow status ${s.link} --admin-url ${s.shadow.adminUrl}`);
      const text = await runCli(['shadow', 'status', s.link, '--admin-url', s.shadow.adminUrl]);
      for (const l of text.trimEnd().split('\n')) say(l === '' ? '' : `   ${l}`);
      say('');
    }
    say(`   Prometheus metrics of the same (curl -s ${B.adminUrl}/metrics | grep umbra_shadow_link):`);
    const metrics = await (await fetch(`${B.adminUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const shown = metrics.split('\n').filter((l) => /^umbra_shadow_link_(shadow_lag|rpo_seconds)\{/.test(l));
    for (const l of shown.slice(0, 8)) say(dim(`     ${l}`));
    if (shown.length === 0) say(dim('     (no umbra_shadow_link_shadow_lag / umbra_shadow_link_rpo_seconds series found)'));
    echoBrokerWarnings();
  } finally {
    await Promise.allSettled([clientA.close(), clientB.close()]);
  }

  // 8. the end
  if (opts.keep) {
    step('Brokers left running (--keep)');
    for (const b of [A, B]) say(`   broker ${b.name}: --brokers ${b.bootstrap}  --admin-url ${b.adminUrl}  (pid ${b.pid}, data and log in ${b.dir})`);
    say('   Try:');
    cli(`shadow list --admin-url ${B.adminUrl}`);
    cli(`shadow status from-a --admin-url ${B.adminUrl}`);
    cli(`consume a_payments --from-beginning -n 5 --brokers ${B.bootstrap}`);
    say('   Stop them (they shut down gracefully on SIGTERM) and then remove their data with:');
    say(`     kill ${A.pid} ${B.pid}; while kill -0 ${A.pid} 2>/dev/null || kill -0 ${B.pid} 2>/dev/null; do sleep 0.2; done; rm -rf ${A.dir} ${B.dir}`);
    stopping = Promise.resolve(); // the exit handler must leave them alone
    return;
  }
  step('Stopping both brokers');
  await stopBrokers(true);
  say('   done: both brokers stopped and their temporary directories removed. Run with --keep to explore them.');
}

/** Runs `umbra ARGS…` (this checkout's bin/umbra.js) and returns its stdout. */
function runCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [UMBRA, ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`umbra ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    echoBrokerWarnings();
    for (const b of brokers) process.stderr.write(`   broker ${b.name}'s log: ${b.logFile} (kept)\n`);
    await stopBrokers(false);
    process.exit(1);
  },
);
