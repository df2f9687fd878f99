// `umbra shadow drill NAME --topic T --group G`: a failover rehearsal on one canary topic (SPEC §2.5), run from the
// CLI against the shadow cluster, with evidence written down:
//
//   1. preconditions   the link shadows T (ACTIVE or PAUSED), and the offset sync has copied group G's committed
//                      offsets for T to the shadow; the lag and RPO of T's partitions are noted just before promote
//   2. promote         POST …/promote {"topic": T}: graceful (waits for lag 0, final offset sync), timed
//   3. resume          reads T on the shadow as group G would resume: positions from G's committed offsets, first
//                      record of each partition at the committed offset (or nothing after it, when it is the end)
//   4. produce         one canary record to T on the shadow, read back at the offset the broker returned
//   5. report          every check with pass/fail and detail, the timings and what was observed at promote time:
//                      JSON (--format json, or a --report file ending in .json) or markdown
//
// Promotion is irreversible for T: the drill is meant for a canary topic. Nothing is promoted when a precondition
// fails. The group is read, never joined and never committed to: live members of G elsewhere are not rebalanced,
// and the synced offsets stay as they were. Exit code 0 only when every check passed.
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import YAML from 'yaml';
import type { KafkaClient } from '../client/client.js';
import { Consumer } from '../client/consumer.js';
import { Producer } from '../client/producer.js';
import { errorName } from '../protocol/errors.js';
import { initCompression } from '../protocol/compression.js';
import { decodeRecords, frameSizeAt, RecordBatch } from '../protocol/record-batch.js';
import type { LinkActionResult, LinkStatus, TopicStatus } from '../shadow/service.js';
import { parseDuration } from '../shadow/config.js';
import { CliError, action, makeClient, out } from './common.js';
import type { ShadowCommandOptions } from './shadow.js';

/** What the drill borrows from shadow.ts (passed in, so the two modules do not import each other at run time). */
export interface DrillHost {
  call<T>(o: ShadowCommandOptions, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, opts?: { body?: unknown; timeoutMs?: number }): Promise<T>;
  withAdminOptions(cmd: Command): Command;
  linkPath(name: string): string;
}

interface DrillOptions extends ShadowCommandOptions {
  topic: string;
  group: string;
  report?: string;
  brokers?: string;
  timeout: number;
  consumeTimeout: number;
}

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface DrillCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface DrillReport {
  link: string;
  topic: string;
  group: string;
  /** true only when every check passed (a skipped check that was not reached counts as not passed) */
  ok: boolean;
  startedAt: string;
  finishedAt: string;
  /** the shadow's Kafka address the drill used */
  bootstrap: string;
  checks: DrillCheck[];
  timings: {
    /** the promote call, from request to answer */
    promoteMs: number | null;
    /** from the end of promote to the first record the resumed group read (null: nothing to read) */
    timeToFirstRecordMs: number | null;
    /** producing the canary until it was acknowledged */
    canaryProduceMs: number | null;
    totalMs: number;
  };
  /** lag and RPO of the topic just before promote: what an unplanned failover at that moment would have lost */
  atPromote: {
    state: string;
    maxLag: number;
    maxRpoSeconds: number;
    partitions: { partition: number; sourceHighWatermark: number; highWatermark: number; lag: number; rpoSeconds: number }[];
  } | null;
  /** group G's committed offsets on the shadow, by partition (-1: none), before promote and after its final sync */
  committedOffsets: { partition: number; beforePromote: number; afterPromote: number }[];
  canary: { partition: number; offset: number; value: string } | null;
}

const SHADOWED_FOR_DRILL = new Set(['ACTIVE', 'PAUSED']);

/** A duration flag (60s, 2m, 1500ms) as milliseconds, at most `maxMs`. */
function durationOption(name: string, maxMs: number): (v: string) => number {
  return (v) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`${name} must be a duration such as 60s, 2m or 1500ms.`);
    if (ms > maxMs) throw new InvalidArgumentError(`${name} must be at most ${maxMs / 1000}s.`);
    return ms;
  };
}

/** The first data record at or after `offset` (control batches skipped), or null before `end`. */
async function firstRecordAt(client: KafkaClient, topic: string, partition: number, offset: number, end: number): Promise<{ offset: number; value: Buffer | null } | null> {
  await initCompression();
  let at = offset;
  while (at < end) {
    const [r] = await client.fetch([{ topic, partition, fetchOffset: at }], { maxWaitMs: 0, maxBytes: 4 << 20, partitionMaxBytes: 4 << 20 });
    if (!r || r.errorCode !== 0) throw new Error(`fetch ${topic}/${partition} at ${at}: ${r ? errorName(r.errorCode) : 'no answer'}`);
    const records = r.records;
    let next = at;
    for (let pos = 0; pos < records.length; ) {
      const size = frameSizeAt(records, pos);
      if (size < 0) break;
      const batch = new RecordBatch(records.subarray(pos, pos + size));
      pos += size;
      next = Math.max(next, batch.nextOffset);
      if (batch.isControl || batch.lastOffset < at) continue;
      for (const rec of decodeRecords(batch)) if (rec.offset >= at) return { offset: rec.offset, value: rec.value };
    }
    if (next <= at) return null;
    at = next;
  }
  return null;
}

/** The Kafka address of the shadow: --brokers, else the first plaintext listener the admin API reports. */
async function shadowBootstrap(host: DrillHost, o: DrillOptions): Promise<string> {
  if (o.brokers !== undefined) return o.brokers;
  const cluster = await host.call<{ listeners: { host: string; port: number; securityProtocol: string }[] }>(o, 'GET', '/v1/cluster');
  const usable = cluster.listeners.filter((l) => l.securityProtocol === 'PLAINTEXT' || l.securityProtocol === 'SASL_PLAINTEXT');
  const l = usable.find((x) => (o.user !== undefined) === x.securityProtocol.startsWith('SASL')) ?? usable[0];
  if (!l) throw new CliError('the shadow broker reports no PLAINTEXT or SASL_PLAINTEXT listener; give its address with --brokers');
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

function fmtMs(ms: number | null): string {
  return ms === null ? '-' : `${ms} ms`;
}

export function renderDrillMarkdown(r: DrillReport): string {
  const lines = [
    `# Failover drill: topic \`${r.topic}\` of shadow link \`${r.link}\``,
    '',
    `**Result: ${r.ok ? 'PASSED' : 'FAILED'}** — ${r.checks.filter((c) => c.status === 'pass').length} of ${r.checks.length} checks passed.`,
    '',
    `- Group: \`${r.group}\``,
    `- Shadow cluster: \`${r.bootstrap || '-'}\``,
    `- Started: ${r.startedAt}, finished: ${r.finishedAt}`,
    '',
    '## Checks',
    '',
    '| Check | Result | Detail |',
    '|---|---|---|',
    ...r.checks.map((c) => `| ${c.name} | ${c.status.toUpperCase()} | ${c.detail.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`),
    '',
    '## Timings',
    '',
    `- Promote: ${fmtMs(r.timings.promoteMs)}`,
    `- Time to first record after promote: ${fmtMs(r.timings.timeToFirstRecordMs)}`,
    `- Canary produce (acks=all): ${fmtMs(r.timings.canaryProduceMs)}`,
    `- Whole drill: ${fmtMs(r.timings.totalMs)}`,
    '',
    '## Observed at promote time',
    '',
  ];
  if (r.atPromote === null) lines.push('Not reached.');
  else {
    lines.push(
      `Topic state ${r.atPromote.state}; max lag ${r.atPromote.maxLag} messages, max RPO ${r.atPromote.maxRpoSeconds} s ` +
        '(what an unplanned failover at that moment would have lost; promote itself waits for lag 0).',
      '',
      '| Partition | Source HWM | Shadow HWM | Lag | RPO (s) | Committed offset of the group (before → after promote) |',
      '|---|---|---|---|---|---|',
      ...r.atPromote.partitions.map((p) => {
        const c = r.committedOffsets.find((x) => x.partition === p.partition);
        const committed = c ? `${c.beforePromote < 0 ? 'none' : c.beforePromote} → ${c.afterPromote < 0 ? 'none' : c.afterPromote}` : '-';
        return `| ${p.partition} | ${p.sourceHighWatermark} | ${p.highWatermark} | ${p.lag} | ${p.rpoSeconds} | ${committed} |`;
      }),
    );
  }
  if (r.canary) lines.push('', `Canary record: partition ${r.canary.partition}, offset ${r.canary.offset}, value \`${r.canary.value}\`.`);
  return lines.join('\n') + '\n';
}

function renderDrillText(r: DrillReport, reportFile: string | undefined): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines = [
    `Drill of topic '${r.topic}' (link '${r.link}', group '${r.group}'): ${r.ok ? 'PASSED' : 'FAILED'}`,
    '',
    ...r.checks.map((c) => `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`),
    '',
    `promote ${fmtMs(r.timings.promoteMs)}, first record ${fmtMs(r.timings.timeToFirstRecordMs)} after promote, canary ${fmtMs(r.timings.canaryProduceMs)}, total ${fmtMs(r.timings.totalMs)}`,
  ];
  if (r.atPromote) lines.push(`at promote time: max lag ${r.atPromote.maxLag} messages, max RPO ${r.atPromote.maxRpoSeconds}s`);
  if (reportFile !== undefined) lines.push(`report written to ${reportFile}`);
  return lines.join('\n');
}

/** Runs the drill; every outcome, failures included, ends in the report (only usage errors throw). */
export async function runDrill(host: DrillHost, name: string, o: DrillOptions): Promise<DrillReport> {
  const t0 = Date.now();
  const report: DrillReport = {
    link: name,
    topic: o.topic,
    group: o.group,
    ok: false,
    startedAt: new Date(t0).toISOString(),
    finishedAt: '',
    bootstrap: '',
    checks: [],
    timings: { promoteMs: null, timeToFirstRecordMs: null, canaryProduceMs: null, totalMs: 0 },
    atPromote: null,
    committedOffsets: [],
    canary: null,
  };
  const planned = [
    'topic is shadowed by the link',
    'group offsets synced to the shadow',
    'promote',
    'group resumes at its synced offsets',
    'produce to the promoted topic',
  ];
  const check = (title: string, status: CheckStatus, detail: string): void => {
    report.checks.push({ name: title, status, detail });
  };
  /** Runs one step; a throw fails it. Returns false when the drill cannot go on. */
  const step = async (title: string, fn: () => Promise<{ status: CheckStatus; detail: string }>): Promise<boolean> => {
    try {
      const r = await fn();
      check(title, r.status, r.detail);
      return r.status !== 'fail';
    } catch (err) {
      check(title, 'fail', err instanceof Error ? err.message : String(err));
      return false;
    }
  };

  let client: KafkaClient | undefined;
  let topicStatus: TopicStatus | undefined;
  const offsets = new Map<number, { before: number; after: number }>();
  const readCommitted = async (): Promise<Map<number, number>> => {
    const list = await client!.offsetFetch(o.group, topicStatus!.partitions.map((p) => ({ topic: o.topic, partition: p.partition })));
    const m = new Map<number, number>();
    for (const c of list) if (c.topic === o.topic && c.errorCode === 0 && c.offset >= 0) m.set(c.partition, c.offset);
    return m;
  };

  try {
    let go = await step(planned[0]!, async () => {
      const status = await host.call<LinkStatus>(o, 'GET', `${host.linkPath(name)}/status`);
      topicStatus = status.topics.find((t) => t.name === o.topic);
      if (!topicStatus) return { status: 'fail', detail: `link '${name}' does not shadow topic '${o.topic}'` };
      const t = topicStatus;
      if (t.state === 'PROMOTED' || t.state === 'FAILED_OVER') {
        return {
          status: 'fail',
          detail: `topic '${o.topic}' is already ${t.state}${t.reason ? ` (${t.reason})` : ''}: a drill needs a topic the link still shadows; promote is irreversible, so drill again on another canary topic`,
        };
      }
      if (!SHADOWED_FOR_DRILL.has(t.state)) {
        return { status: 'fail', detail: `topic '${o.topic}' is ${t.state}${t.reason ? ` (${t.reason})` : ''}; a drill needs it ACTIVE or PAUSED` };
      }
      return { status: 'pass', detail: `'${o.topic}' is ${t.state} on link '${name}' (${status.state}), ${t.partitions.length} partition(s)` };
    });

    if (go) {
      go = await step(planned[1]!, async () => {
        report.bootstrap = await shadowBootstrap(host, o);
        client = makeClient({ brokers: report.bootstrap, ...(o.user !== undefined ? { user: o.user } : {}) });
        const committed = await readCommitted();
        for (const p of topicStatus!.partitions) offsets.set(p.partition, { before: committed.get(p.partition) ?? -1, after: -1 });
        if (committed.size === 0) {
          return {
            status: 'fail',
            detail:
              `group '${o.group}' has no committed offset for '${o.topic}' on the shadow: has it committed on the source, ` +
              `and do consumer_offset_sync_options.group_filters select it? (nothing was promoted)`,
          };
        }
        const list = [...committed].sort(([a], [b]) => a - b).map(([p, off]) => `p${p}@${off}`);
        return { status: 'pass', detail: `${committed.size} of ${topicStatus!.partitions.length} partition(s) have a committed offset: ${list.join(', ')}` };
      });
    }

    if (go) {
      go = await step(planned[2]!, async () => {
        // the lag and RPO a failover would have had at this moment, read right before promote
        const status = await host.call<LinkStatus>(o, 'GET', `${host.linkPath(name)}/status`);
        const t = status.topics.find((x) => x.name === o.topic) ?? topicStatus!;
        report.atPromote = {
          state: t.state,
          maxLag: Math.max(0, ...t.partitions.map((p) => p.lag)),
          maxRpoSeconds: Math.max(0, ...t.partitions.map((p) => p.rpoSeconds)),
          partitions: t.partitions.map((p) => ({ partition: p.partition, sourceHighWatermark: p.sourceHighWatermark, highWatermark: p.highWatermark, lag: p.lag, rpoSeconds: p.rpoSeconds })),
        };
        const started = Date.now();
        const r = await host.call<LinkActionResult>(o, 'POST', `${host.linkPath(name)}/promote`, { body: { topic: o.topic, timeoutMs: o.timeout }, timeoutMs: o.timeout + 20_000 });
        report.timings.promoteMs = Date.now() - started;
        const state = r.topics.find((x) => x.name === o.topic)?.state;
        if (state !== 'PROMOTED') return { status: 'fail', detail: `promote answered with '${o.topic}' ${state ?? 'missing'}, not PROMOTED` };
        return { status: 'pass', detail: `'${o.topic}' PROMOTED in ${report.timings.promoteMs} ms (lag ${report.atPromote.maxLag} and RPO ${report.atPromote.maxRpoSeconds}s just before)` };
      });
    }

    const promotedAt = Date.now();
    if (go) {
      go = await step(planned[3]!, async () => {
        const after = await readCommitted();
        for (const [p, e] of offsets) e.after = after.get(p) ?? -1;
        const ends = new Map<number, number>();
        for (const p of offsets.keys()) ends.set(p, (await client!.listOffsets(o.topic, p, -1)).offset);
        // what each partition should give first: the first record at or after the committed offset
        const expected = new Map<number, number | null>();
        for (const [p, e] of offsets) if (e.after >= 0) expected.set(p, (await firstRecordAt(client!, o.topic, p, e.after, ends.get(p)!))?.offset ?? null);

        // resume as the group would: positions from its committed offsets; no join, no commit
        const consumer = new Consumer(client!, { groupId: o.group, autoCommit: false, resetPolicy: 'latest', maxWaitMs: 200 });
        const withOffsets = [...offsets].filter(([, e]) => e.after >= 0).map(([p]) => p);
        consumer.assign(withOffsets.map((partition) => ({ topic: o.topic, partition })));
        const first = new Map<number, number>();
        const deadline = Date.now() + o.consumeTimeout;
        const waitingFor = (): number[] => withOffsets.filter((p) => expected.get(p) !== null && !first.has(p));
        try {
          while (Date.now() < deadline) {
            const records = await consumer.poll(200);
            for (const r of records) {
              if (first.has(r.partition)) continue;
              first.set(r.partition, r.offset);
              report.timings.timeToFirstRecordMs ??= Date.now() - promotedAt;
            }
            // partitions at their end must stay quiet for at least one poll; the others must each give a record
            if (waitingFor().length === 0) break;
          }
        } finally {
          await consumer.close();
        }
        const failures: string[] = [];
        const notes: string[] = [];
        for (const p of withOffsets) {
          const committed = offsets.get(p)!.after;
          const want = expected.get(p) ?? null;
          const got = first.get(p);
          if (want === null) {
            if (got !== undefined) failures.push(`p${p}: committed ${committed} is the end, yet a record came at ${got}`);
            else notes.push(`p${p}@${committed} (end: nothing after it)`);
          } else if (got === undefined) failures.push(`p${p}: no record within ${o.consumeTimeout} ms (expected offset ${want})`);
          else if (got !== want) failures.push(`p${p}: first record at ${got}, expected ${want} (committed ${committed})`);
          else notes.push(want === committed ? `p${p}@${committed}` : `p${p}@${committed} (first record at ${want})`);
        }
        const without = [...offsets].filter(([, e]) => e.after < 0).map(([p]) => `p${p}`);
        const tail = without.length > 0 ? `; no committed offset on ${without.join(', ')} (the group would start there per its auto.offset.reset)` : '';
        if (failures.length > 0) return { status: 'fail', detail: failures.join('; ') + tail };
        return { status: 'pass', detail: `resumed at ${notes.join(', ')}${tail}` };
      });
    }

    if (go) {
      await step(planned[4]!, async () => {
        const value = JSON.stringify({ drill: randomUUID(), link: name, at: new Date().toISOString() });
        const producer = new Producer(client!, { acks: -1, lingerMs: 0 });
        const started = Date.now();
        let meta;
        try {
          meta = await producer.send({ topic: o.topic, key: 'umbra-shadow-drill', value });
        } finally {
          await producer.close();
        }
        report.timings.canaryProduceMs = Date.now() - started;
        report.canary = { partition: meta.partition, offset: meta.offset, value };
        const back = await firstRecordAt(client!, o.topic, meta.partition, meta.offset, meta.offset + 1);
        if (back === null || back.offset !== meta.offset || back.value?.toString() !== value) {
          return { status: 'fail', detail: `the canary acknowledged at ${o.topic}/${meta.partition}@${meta.offset} cannot be read back there` };
        }
        return { status: 'pass', detail: `canary written and read back at ${o.topic}/${meta.partition}@${meta.offset} (${report.timings.canaryProduceMs} ms, acks=all)` };
      });
    }
  } finally {
    await client?.close().catch(() => undefined);
  }
  for (const title of planned.slice(report.checks.length)) check(title, 'skip', 'not run: an earlier check failed');
  report.committedOffsets = [...offsets].sort(([a], [b]) => a - b).map(([partition, e]) => ({ partition, beforePromote: e.before, afterPromote: e.after }));
  report.ok = report.checks.every((c) => c.status === 'pass');
  const end = Date.now();
  report.finishedAt = new Date(end).toISOString();
  report.timings.totalMs = end - t0;
  return report;
}

export function drillCommand(host: DrillHost): Command {
  return host
    .withAdminOptions(
      new Command('drill')
        .description(
          'rehearse failover on one canary topic: promote it, check that group G resumes at its synced offsets and that ' +
            'producing works, and write a report (promote is irreversible for that topic); exit code 0 only when every check passed',
        )
        .argument('<name>', 'link name')
        .requiredOption('-t, --topic <topic>', 'the canary shadow topic to promote')
        .requiredOption('-g, --group <group>', 'the consumer group whose synced offsets are checked (read only: never joined or committed)')
        .option('--report <file>', 'write the report here: JSON with --format json or a name ending in .json, markdown otherwise')
        .option('-b, --brokers <list>', "the shadow's Kafka address (default: its first plaintext listener, from the admin API)")
        .addOption(
          new Option('--timeout <duration>', 'how long promote may wait for the shadow to catch up (at most 270s)').argParser(durationOption('--timeout', 270_000)).default(60_000, '60s'),
        )
        .addOption(
          new Option('--consume-timeout <duration>', 'how long to wait for the first record of each partition')
            .argParser(durationOption('--consume-timeout', 600_000))
            .default(15_000, '15s'),
        ),
    )
    .action(
      action(async (name: string, o: DrillOptions) => {
        if (o.topic === '' || o.group === '') throw new CliError('--topic and --group must not be empty', 2);
        const report = await runDrill(host, name, o);
        if (o.report !== undefined) {
          const json = o.format === 'json' || o.report.toLowerCase().endsWith('.json');
          try {
            writeFileSync(o.report, json ? JSON.stringify(report, null, 2) + '\n' : renderDrillMarkdown(report));
          } catch (err) {
            throw new CliError(`cannot write the report to ${o.report}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
        }
        if (o.format === 'json') out(JSON.stringify(report, null, 2));
        else if (o.format === 'yaml') out(YAML.stringify(report));
        else out(renderDrillText(report, o.report));
        if (!report.ok) process.exitCode = 1;
      }),
    );
}
