// Shadow soak: kill -9 of the shadow broker, round after round, while the source takes continuous acks=all load
// (issue 5, "How it is judged"). Two real Umbra brokers on 127.0.0.1, a link between them, several topics and
// partitions, every batch with a codec picked at random (none, gzip, snappy, lz4, zstd).
//
// Each round: the load runs for a random while, the shadow is killed (SIGKILL) at that moment, restarted on the
// same data directory, and must then hold everything the source had when it came back (catch-up time); the
// partitions are compared batch by batch — raw bytes, offsets, no gap, no duplicate — over the range added since
// the previous round (the load never stops, so each round compares up to the shadow's high watermark), and
// `POST /v1/shadow-links/{name}/verify` must report ok when the broker has it. At the end the load stops, the
// shadow must catch up completely, every acknowledged batch must be on the source, and source and shadow are
// compared in full.
//
//   npm run soak -- --rounds 100
//   npm run soak -- --rounds 10 --pause-ms 20 --verify-every 5 --json soak.json
//
// Exit status: 0 only when every comparison found no difference, no gap and no duplicate, and verify said ok.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { KafkaClient } from '../src/client/client.js';
import { AdminApi, waitFor } from '../test/helpers/shadow.js';
import { startUmbra, type UmbraBroker } from '../test/helpers/umbra.js';
import {
  AcksAllLoad,
  comparePartition,
  missingAcked,
  verifyLink,
  verifyProblems,
  waitInSync,
  type LoadTopic,
  type PartitionComparison,
} from '../test/helpers/shadow-load.js';
import { seededRandom } from '../test/helpers/random.js';

const HELP = `npm run soak -- [options]

  --rounds N          kill -9 rounds of the shadow broker (default 100)
  --pause-ms N        pause between two batches of one partition: sets the load (default 40)
  --min-load-ms N     load before each kill, at least (default 300)
  --max-load-ms N     … at most (default 1500)
  --verify-every N    call verify every N rounds (default 1; 0 never); always at the end
  --seed N            seed of the random choices (default: from the clock; printed)
  --json FILE         also write the figures as JSON
  --help
`;

const LINK = 'soak';
const TOPICS: readonly LoadTopic[] = [
  { name: 'soak_orders', partitions: 3 },
  { name: 'soak_events', partitions: 2 },
  { name: 'soak_audit', partitions: 1 },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RoundFigures {
  round: number;
  loadMs: number;
  restartMs: number;
  catchUpMs: number;
  batchesCompared: number;
  differences: number;
  gaps: number;
  duplicates: number;
  verify: 'ok' | 'not ok' | 'skipped' | 'unavailable';
  /** batches verify compared (its own count) */
  verifyBatches: number;
  problems: string[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '100' },
      'pause-ms': { type: 'string', default: '40' },
      'min-load-ms': { type: 'string', default: '300' },
      'max-load-ms': { type: 'string', default: '1500' },
      'verify-every': { type: 'string', default: '1' },
      seed: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const rounds = Number(values.rounds);
  const pauseMs = Number(values['pause-ms']);
  const minLoad = Number(values['min-load-ms']);
  const maxLoad = Number(values['max-load-ms']);
  const verifyEvery = Number(values['verify-every']);
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
  for (const [k, v] of Object.entries({ rounds, pauseMs, minLoad, maxLoad, verifyEvery, seed })) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${k}: not a non-negative integer`);
  }
  const random = seededRandom(seed);
  const command = `node dist/bench/soak.js ${process.argv.slice(2).join(' ')}`.trim();
  const started = new Date();
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  log(`shadow soak: ${rounds} rounds of kill -9 of the shadow under acks=all load; seed ${seed}`);
  log(`command: ${command}`);

  let source: UmbraBroker | undefined;
  let shadow: UmbraBroker | undefined;
  let src: KafkaClient | undefined;
  let load: AcksAllLoad | undefined;
  const figures: RoundFigures[] = [];
  const final: PartitionComparison[] = [];
  let finalVerify: RoundFigures['verify'] = 'skipped';
  let finalVerifyBatches = 0;
  const finalProblems: string[] = [];
  let verifyUsed = false;
  try {
    [source, shadow] = await Promise.all([startUmbra(), startUmbra()]);
    src = new KafkaClient({ brokers: source.bootstrap, clientId: 'soak-source' });
    const created = await src.createTopics(TOPICS.map((t) => ({ name: t.name, numPartitions: t.partitions })));
    for (const c of created) if (c.errorCode !== 0) throw new Error(`create ${c.name}: ${c.errorMessage}`);
    let api = new AdminApi(shadow.adminUrl);
    await api.ok('POST', '/v1/shadow-links', {
      name: LINK,
      client_options: { bootstrap_servers: [source.bootstrap], fetch_wait_max_ms: 100, retry_backoff_ms: 50, connection_timeout_ms: 1000 },
      topic_metadata_sync_options: { interval: '1s', auto_create_shadow_topic_filters: [{ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: 'soak_' }] },
    });
    await waitFor('the link to shadow every topic', async () => {
      const s = await api.status(LINK);
      return TOPICS.every((t) => s.topics.find((x) => x.name === t.name)?.partitions.length === t.partitions);
    });

    load = new AcksAllLoad(source.bootstrap, TOPICS, { pauseMs, random });
    await load.start();
    /** where the next round's comparison starts, by topic/partition: just below what was compared already */
    const comparedTo = new Map<string, number>();

    for (let round = 1; round <= rounds; round++) {
      const loadMs = minLoad + Math.floor(random() * (maxLoad - minLoad + 1));
      await sleep(loadMs);
      await shadow.kill();
      await sleep(Math.floor(random() * 300));
      const t0 = Date.now();
      shadow = await shadow.restart();
      api = new AdminApi(shadow.adminUrl);
      const restartMs = Date.now() - t0;
      const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'soak-shadow' });
      const f: RoundFigures = { round, loadMs, restartMs, catchUpMs: 0, batchesCompared: 0, differences: 0, gaps: 0, duplicates: 0, verify: 'skipped', verifyBatches: 0, problems: [] };
      try {
        // catch-up: until the shadow has everything the source had when the shadow came back
        const marks = new Map<string, number>();
        for (const t of TOPICS) for (let p = 0; p < t.partitions; p++) marks.set(`${t.name}/${p}`, (await src.listOffsets(t.name, p, -1)).offset);
        const c0 = Date.now();
        await waitFor(
          'the restarted shadow to catch up',
          async () => {
            for (const [key, mark] of marks) {
              const [topic, p] = key.split('/') as [string, string];
              if ((await dst.listOffsets(topic, Number(p), -1)).offset < mark) return false;
            }
            return true;
          },
          120_000,
          20,
        );
        f.catchUpMs = Date.now() - c0;
        for (const t of TOPICS) {
          for (let p = 0; p < t.partitions; p++) {
            const key = `${t.name}/${p}`;
            const c = await comparePartition(src, dst, t.name, p, { from: comparedTo.get(key) ?? -1 });
            comparedTo.set(key, Math.max(0, c.to - 1));
            f.batchesCompared += c.sourceBatches;
            f.differences += c.differences;
            f.gaps += c.gaps;
            f.duplicates += c.duplicates;
            if (c.first) f.problems.push(c.first);
          }
        }
      } finally {
        await dst.close();
      }
      if (verifyEvery > 0 && round % verifyEvery === 0) {
        const v = await verifyLink(api, LINK);
        if (v === undefined) f.verify = 'unavailable';
        else {
          verifyUsed = true;
          const problems = verifyProblems(v);
          f.verify = v.ok && problems.length === 0 ? 'ok' : 'not ok';
          f.verifyBatches = v.summary?.batches ?? 0;
          f.problems.push(...problems);
        }
      }
      figures.push(f);
      log(
        `round ${round}/${rounds}: kill after ${loadMs} ms of load, restart ${restartMs} ms, caught up in ${f.catchUpMs} ms, ` +
          `${f.batchesCompared} batches compared, differences ${f.differences}, gaps ${f.gaps}, duplicates ${f.duplicates}, ` +
          `verify ${f.verify}${f.verify === 'ok' || f.verify === 'not ok' ? ` (${f.verifyBatches} batches)` : ''}` +
          (f.problems.length > 0 ? `\n  ${f.problems.slice(0, 5).join('\n  ')}` : ''),
      );
    }

    // the end: the load stops, the shadow catches up completely, everything is compared
    await load.stop();
    const dst = new KafkaClient({ brokers: shadow.bootstrap, clientId: 'soak-shadow' });
    try {
      await waitInSync(src, dst, TOPICS, 120_000);
      for (const t of TOPICS) for (let p = 0; p < t.partitions; p++) final.push(await comparePartition(src, dst, t.name, p, { exact: true }));
    } finally {
      await dst.close();
    }
    for (const c of final) if (c.first) finalProblems.push(c.first);
    finalProblems.push(...(await missingAcked(src, load)));
    const v = await verifyLink(new AdminApi(shadow.adminUrl), LINK);
    if (v === undefined) finalVerify = 'unavailable';
    else {
      verifyUsed = true;
      const problems = verifyProblems(v);
      finalVerify = v.ok && problems.length === 0 ? 'ok' : 'not ok';
      finalVerifyBatches = v.summary?.batches ?? 0;
      finalProblems.push(...problems);
    }
  } finally {
    await load?.close().catch(() => {});
    await src?.close().catch(() => {});
    await Promise.all([source?.destroy(), shadow?.destroy()]);
  }

  const sum = (k: 'differences' | 'gaps' | 'duplicates' | 'batchesCompared'): number => figures.reduce((n, f) => n + f[k], 0);
  const finalSum = (k: 'differences' | 'gaps' | 'duplicates' | 'sourceBatches' | 'recordsOnShadow'): number => final.reduce((n, c) => n + c[k], 0);
  const stats = load!.stats;
  const differences = sum('differences') + finalSum('differences');
  const gaps = sum('gaps') + finalSum('gaps');
  const duplicates = sum('duplicates') + finalSum('duplicates');
  const verifyFailures = figures.filter((f) => f.verify === 'not ok').length + (finalVerify === 'not ok' ? 1 : 0);
  const catchUps = figures.map((f) => f.catchUpMs).sort((a, b) => a - b);
  const restarts = figures.map((f) => f.restartMs).sort((a, b) => a - b);
  const pct = (xs: number[], q: number): number => (xs.length === 0 ? 0 : xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!);
  const elapsedS = (Date.now() - started.getTime()) / 1000;
  const summary = {
    date: started.toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    command,
    seed,
    rounds: figures.length,
    elapsedSeconds: Math.round(elapsedS),
    topics: TOPICS.map((t) => `${t.name}(${t.partitions})`).join(', '),
    batchesProduced: stats.batchesSent,
    recordsProduced: stats.recordsSent,
    batchesAcked: stats.batchesAcked,
    recordsAcked: stats.recordsAcked,
    produceErrors: stats.errors,
    recordsOnShadow: finalSum('recordsOnShadow'),
    batchesComparedInRounds: sum('batchesCompared'),
    batchesComparedAtEnd: finalSum('sourceBatches'),
    differences,
    gaps,
    duplicates,
    missingAcked: finalProblems.filter((p) => p.includes('acknowledged')).length,
    verify: verifyUsed
      ? `${figures.filter((f) => f.verify === 'ok').length} rounds ok, ${verifyFailures} not ok, final ${finalVerify} (${finalVerifyBatches} batches)`
      : 'not available',
    catchUpMs: { p50: pct(catchUps, 0.5), p99: pct(catchUps, 0.99), max: catchUps.at(-1) ?? 0 },
    restartMs: { p50: pct(restarts, 0.5), max: restarts.at(-1) ?? 0 },
  };
  log('');
  log(`rounds: ${summary.rounds} (${summary.elapsedSeconds} s), seed ${seed}`);
  log(`topics: ${summary.topics}; codecs mixed per batch (none, gzip, snappy, lz4, zstd); acks=all`);
  log(`records produced: ${summary.recordsProduced} in ${summary.batchesProduced} batches; acknowledged: ${summary.recordsAcked} in ${summary.batchesAcked} batches; produce errors: ${summary.produceErrors}`);
  log(`records on the shadow: ${summary.recordsOnShadow}`);
  log(`batches compared: ${summary.batchesComparedInRounds} in the rounds, ${summary.batchesComparedAtEnd} in the final full comparison`);
  log(`differences: ${differences}; gaps: ${gaps}; duplicates: ${duplicates}; acknowledged batches missing: ${summary.missingAcked}`);
  log(`verify: ${summary.verify}`);
  log(`catch-up after restart (ms): p50 ${summary.catchUpMs.p50}, p99 ${summary.catchUpMs.p99}, max ${summary.catchUpMs.max}; restart (kill to listening, ms): p50 ${summary.restartMs.p50}, max ${summary.restartMs.max}`);
  log(`machine: ${summary.machine.cpus} × ${summary.machine.model}, Node ${summary.machine.node}`);
  log(`command: ${command}`);
  if (finalProblems.length > 0) log(`problems at the end:\n  ${finalProblems.slice(0, 20).join('\n  ')}`);
  if (values.json) writeFileSync(values.json, JSON.stringify({ summary, rounds: figures, final }, null, 2));
  const failed = differences + gaps + duplicates + verifyFailures + finalProblems.length > 0;
  log(failed ? 'RESULT: FAILED' : 'RESULT: clean');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
