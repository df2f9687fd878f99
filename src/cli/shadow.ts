// `umbra shadow …`: shadow links, through the broker's admin API (src/admin/routes/shadow-links.ts), not the Kafka
// API: a link lives on the shadow cluster only and no Kafka request manages it.
//
//   config generate [--name N]            a commented link file to start from (no broker needed)
//   create -c FILE [--no-validate]        POST   /v1/shadow-links
//   update NAME -c FILE [--no-validate]   PATCH  /v1/shadow-links/NAME
//   list                                  GET    /v1/shadow-links
//   describe NAME                         GET    /v1/shadow-links/NAME       (text/yaml: a link file, passwords [REDACTED])
//   status NAME                           GET    /v1/shadow-links/NAME/status (json: that document, unchanged)
//   failover NAME (--topic T | --all)     POST   …/failover
//   promote NAME (--topic T | --all)      POST   …/promote
//   pause|resume NAME [--topic T]         POST   …/pause, …/resume
//   delete NAME [--force]                 DELETE /v1/shadow-links/NAME
//   verify NAME [--topic T]               POST   …/verify   (exit 0 only when source and shadow match)
//   drill NAME --topic T --group G        a failover rehearsal on one canary topic (shadow-drill.ts)
//
// When the broker's Kafka listeners require SASL, the admin API requires a superuser's HTTP basic credentials:
// --user NAME, with the password from UMBRA_PASSWORD (never a flag). No output ever shows a password: the API
// redacts them, and the CLI redacts again whatever config it prints.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import YAML from 'yaml';
import { generateLinkConfigTemplate, parseDuration, redactLinkDocument } from '../shadow/config.js';
import { ShadowConfigError } from '../shadow/types.js';
import type { LinkActionResult, LinkStatus, LinkSummary, LinkView, OffsetRange, TopicState, VerifyReport } from '../shadow/service.js';
import { CliError, PASSWORD_ENV, action, out, printResult, table, type Format } from './common.js';
import { drillCommand } from './shadow-drill.js';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9644';
export const ADMIN_URL_ENV = 'UMBRA_ADMIN_URL';

/** How long a request may take before the CLI gives up waiting (the broker may still finish it). */
const REQUEST_TIMEOUT_MS = 60_000;
/**
 * The longest --timeout promote accepts. Node's fetch gives up on a response whose headers take more than 300 s,
 * and the answer to promote comes only when it is done.
 */
const MAX_PROMOTE_TIMEOUT_MS = 270_000;
/** verify answers when the whole comparison is done; the same fetch limit applies (use --topic for huge links) */
const VERIFY_TIMEOUT_MS = 290_000;

export interface ShadowCommandOptions {
  adminUrl: string;
  format: Format;
  /** HTTP basic user; the password comes from UMBRA_PASSWORD */
  user?: string;
}

/** Adds --admin-url, --format and --user to a command. */
export function withAdminOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--admin-url <url>', "the shadow broker's admin API").env(ADMIN_URL_ENV).default(DEFAULT_ADMIN_URL))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
    .addOption(new Option('--user <name>', `HTTP basic user for a secured broker (a superuser; password from ${PASSWORD_ENV})`));
}

function usage(message: string): CliError {
  return new CliError(message, 2);
}

// ---- the admin API client -----------------------------------------------------------------------------------

interface Target {
  /** base URL without a trailing slash */
  base: string;
  authorization?: string;
}

function targetOf(o: ShadowCommandOptions): Target {
  let url: URL;
  try {
    url = new URL(o.adminUrl);
  } catch {
    throw usage(`--admin-url '${o.adminUrl}' is not a URL (e.g. ${DEFAULT_ADMIN_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`--admin-url '${o.adminUrl}': only http:// and https:// are supported`);
  if (url.username || url.password) throw usage(`--admin-url must not carry credentials; use --user and ${PASSWORD_ENV}`);
  const target: Target = { base: url.href.replace(/\/+$/, '') };
  if (o.user !== undefined) {
    if (o.user === '' || o.user.includes(':')) throw usage(`--user '${o.user}' is not a valid user name for HTTP basic authentication`);
    const password = process.env[PASSWORD_ENV];
    if (password === undefined || password === '') throw usage(`--user ${o.user}: set the password in ${PASSWORD_ENV}`);
    target.authorization = `Basic ${Buffer.from(`${o.user}:${password}`, 'utf8').toString('base64')}`;
  }
  return target;
}

interface ApiErrorBody {
  code?: unknown;
  message?: unknown;
}

/** Calls the admin API and returns the decoded JSON answer (undefined for 204). API errors become CliErrors. */
export async function call<T>(
  o: ShadowCommandOptions,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  opts: { body?: unknown; timeoutMs?: number } = {},
): Promise<T> {
  const target = targetOf(o);
  const url = target.base + path;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.authorization) headers.authorization = target.authorization;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') {
      throw new CliError(`no answer from the admin API at ${target.base} within ${Math.round(timeoutMs / 1000)}s; the broker may still complete the request (see umbra shadow status)`);
    }
    const why = e.cause?.code ?? e.cause?.message ?? e.message;
    throw new CliError(`cannot reach the admin API at ${target.base} (${why}); is the broker running? (set --admin-url or ${ADMIN_URL_ENV})`);
  }
  const text = await res.text();
  if (!res.ok) {
    let body: ApiErrorBody | undefined;
    try {
      body = JSON.parse(text) as ApiErrorBody;
    } catch {
      body = undefined;
    }
    let message = typeof body?.message === 'string' && body.message !== '' ? body.message : `HTTP ${res.status} ${res.statusText} from ${url}`;
    if (res.status === 401 && o.user === undefined) message += ` (use --user NAME with the password in ${PASSWORD_ENV})`;
    if (res.status === 404 && body?.code === 'NOT_FOUND' && message.startsWith('no route ')) {
      message += ` (is ${target.base} the admin API of an Umbra broker with shadow linking?)`;
    }
    throw new CliError(message);
  }
  if (res.status === 204 || text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`the admin API at ${target.base} answered ${method} ${path} with something that is not JSON`);
  }
}

const enc = encodeURIComponent;
const linkPath = (name: string): string => `/v1/shadow-links/${enc(name)}`;

// ---- inputs -------------------------------------------------------------------------------------------------

/** Reads a link file (YAML, or JSON, which YAML reads too). A syntax error names a position, never the line. */
function readLinkFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw usage(`cannot read link config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text, { logLevel: 'error' });
  } catch (err) {
    const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    const code = (err as { code?: string }).code ?? 'syntax error';
    throw new CliError(`${path} is not valid YAML or JSON (${code}${pos ? ` at line ${pos.line}, column ${pos.col}` : ''})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new CliError(`${path}: expected a link config (a mapping with name and client_options)`);
  }
  return doc;
}

function parseTimeout(v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('--timeout must be a duration such as 60s, 2m or 1500ms.');
  if (ms > MAX_PROMOTE_TIMEOUT_MS) throw new InvalidArgumentError(`--timeout must be at most ${MAX_PROMOTE_TIMEOUT_MS / 1000}s.`);
  return ms;
}

/** --topic T or --all, exactly one. */
function topicOrAll(o: { topic?: string; all?: boolean }, verb: string): string | undefined {
  if (o.topic !== undefined && o.all) throw usage(`${verb}: give either --topic or --all, not both`);
  if (o.topic === undefined && !o.all) throw usage(`${verb}: give --topic TOPIC for one topic or --all for every topic of the link`);
  if (o.topic === '') throw usage('--topic must not be empty');
  return o.topic;
}

// ---- rendering ----------------------------------------------------------------------------------------------

/** A link config as a link file: the API redacts passwords; redacting again costs nothing and guards the output. */
function configYaml(config: unknown): string {
  return YAML.stringify(redactLinkDocument(config));
}

function withRedactedConfig(view: LinkView): LinkView {
  return { ...view, config: redactLinkDocument(view.config) as LinkView['config'] };
}

/** Seconds as 0s, 4.2s, 3m12s, 2h5m. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s <= 0) return '0s';
  if (s < 60) return `${Math.round(s * 10) / 10}s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}h${m}m` : `${m}m${sec}s`;
}

function topicCounts(topics: Partial<Record<TopicState, number>>): string {
  const parts = Object.entries(topics)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([state, n]) => `${n} ${state}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

function renderList(links: LinkSummary[]): string {
  if (links.length === 0) return 'No shadow links';
  return table(
    ['NAME', 'STATE', 'SOURCE', 'SOURCE-CLUSTER', 'TOPICS', 'LAG', 'MAX-RPO'],
    links.map((l) => [l.name, l.state, l.bootstrapServers.join(','), l.sourceClusterId || null, topicCounts(l.topics), l.totalLag, formatSeconds(l.maxRpoSeconds)]),
  );
}

function renderDescribe(view: LinkView): string {
  // comments keep the output a valid link file (`describe dr > dr.yaml`, edit, `update dr -c dr.yaml`)
  return `# shadow link '${view.name}': ${view.state}, created ${view.createdAt}, updated ${view.updatedAt}\n` +
    '# passwords are shown as [REDACTED]; left so in an update, they keep the stored ones\n' +
    configYaml(view.config);
}

function renderStatus(s: LinkStatus): string {
  const lines = [`Shadow link '${s.name}': ${s.state}`, ''];
  lines.push(s.tasks.length === 0 ? 'No tasks' : table(['TASK', 'STATE', 'REASON'], s.tasks.map((t) => [t.name, t.state, t.reason || null])));
  lines.push('');
  if (s.topics.length === 0) {
    lines.push('No shadow topics');
    return lines.join('\n');
  }
  const rows: (string | number | null)[][] = [];
  const notes: string[] = [];
  for (const t of s.topics) {
    if (t.reason) notes.push(`${t.name}: ${t.state}: ${t.reason}`);
    if (t.partitions.length === 0) rows.push([t.name, t.state, null, null, null, null, null, null, null, null]);
    for (const p of t.partitions) {
      rows.push([
        t.name,
        t.state,
        p.partition,
        p.sourceLogStartOffset,
        p.sourceLastStableOffset,
        p.sourceHighWatermark,
        p.highWatermark,
        p.lag,
        formatSeconds(p.rpoSeconds),
        p.lastError || null,
      ]);
      if (p.gaps.length > 0) notes.push(`${t.name}-${p.partition}: gaps (source deleted before replication) ${p.gaps.map((g) => `[${g.from}, ${g.to})`).join(', ')}`);
    }
  }
  lines.push(table(['TOPIC', 'STATE', 'PARTITION', 'SOURCE-START', 'SOURCE-LSO', 'SOURCE-HWM', 'SHADOW-HWM', 'LAG', 'RPO', 'LAST-ERROR'], rows));
  if (notes.length > 0) lines.push('', ...notes);
  return lines.join('\n');
}

/** Bytes as 512 B, 3.4 KiB, 12.0 MiB, 1.2 GiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const ranges = (list: readonly OffsetRange[]): string => list.map((r) => `[${r.from}, ${r.to})`).join(', ');

function renderVerify(r: VerifyReport): string {
  const s = r.summary;
  const lines = [
    `Shadow link '${r.link}': ${r.ok ? 'OK' : 'NOT OK'} — ${s.topics} topic(s), ${s.partitions} partition(s), ${s.batches} batches, ` +
      `${formatBytes(s.bytes)} compared in ${(r.elapsedMs / 1000).toFixed(1)}s; ${s.differences} difference(s), ${s.missingRanges} missing range(s)`,
  ];
  if (r.topics.length === 0) return [...lines, '', 'No shadowed topics to compare'].join('\n');
  const rows: (string | number | null)[][] = [];
  const differences: string[] = [];
  const missing: string[] = [];
  const compacted: string[] = [];
  const errors: string[] = [];
  for (const t of r.topics) {
    if (t.error) errors.push(`${t.name}: ${t.error}`);
    for (const p of t.partitions) {
      const name = `${t.name}/${p.partition}`;
      const empty = p.compared.from >= p.compared.to;
      let result = p.compactedDifferently.length > 0 ? `identical (${p.compactedDifferently.length} range(s) compacted apart)` : 'identical';
      if (empty) result = 'nothing in common';
      if (p.firstDifferenceOffset >= 0) result = `DIFFERS at ${p.firstDifferenceOffset}`;
      else if (p.missingOnShadow.length + p.missingOnSource.length > 0) result = 'MISSING ranges';
      rows.push([t.name, p.partition, empty ? null : `[${p.compared.from}, ${p.compared.to})`, p.batches, formatBytes(p.bytes), result]);
      if (p.firstDifferenceOffset >= 0) differences.push(`${name}: ${p.difference}${p.differences > 1 ? ` (and ${p.differences - 1} more batch(es))` : ''}`);
      if (p.missingOnShadow.length > 0) missing.push(`${name}: missing on the shadow ${ranges(p.missingOnShadow)}`);
      if (p.missingOnSource.length > 0) missing.push(`${name}: missing on the source ${ranges(p.missingOnSource)}`);
      if (p.compactedDifferently.length > 0) compacted.push(`${name}: ${ranges(p.compactedDifferently)}`);
    }
  }
  if (rows.length > 0) lines.push('', table(['TOPIC', 'PARTITION', 'COMPARED', 'BATCHES', 'BYTES', 'RESULT'], rows));
  if (differences.length > 0) lines.push('', 'Differences (first per partition):', ...differences.map((d) => `  ${d}`));
  if (missing.length > 0) lines.push('', 'Missing ranges:', ...missing.map((d) => `  ${d}`));
  if (errors.length > 0) lines.push('', 'Not compared:', ...errors.map((d) => `  ${d}`));
  if (compacted.length > 0) lines.push('', 'Compacted differently on each side (expected, not a difference):', ...compacted.map((d) => `  ${d}`));
  return lines.join('\n');
}

function renderAction(done: string, r: LinkActionResult, topic: string | undefined): string {
  const what = topic !== undefined ? `topic '${topic}' of shadow link '${r.name}'` : `shadow link '${r.name}'`;
  const head = `${done} ${what} (link ${r.state})`;
  if (r.topics.length === 0) return `${head}: no topics`;
  return `${head}\n\n${table(['TOPIC', 'STATE', 'REASON'], r.topics.map((t) => [t.name, t.state, t.reason || null]))}`;
}

// ---- commands -----------------------------------------------------------------------------------------------

export function shadowCommand(): Command {
  const shadow = new Command('shadow').description('shadow links: disaster-recovery replication from a source cluster (admin API)');

  const config = shadow.command('config').description('link config files');
  withAdminOptions(
    config
      .command('generate')
      .description('print a commented link config file to start from (no broker needed)')
      .option('-n, --name <name>', 'the link name', 'dr'),
  ).action(
    action(async (o: ShadowCommandOptions & { name: string }) => {
      let template: string;
      try {
        template = generateLinkConfigTemplate(o.name);
      } catch (err) {
        if (err instanceof ShadowConfigError) throw usage(`--name: ${err.issues[0]?.message ?? err.message}`);
        throw err;
      }
      // text and yaml: the commented file; json: the same document as JSON
      if (o.format === 'json') out(JSON.stringify(YAML.parse(template), null, 2));
      else out(template);
    }),
  );

  withAdminOptions(
    shadow
      .command('create')
      .description('create a shadow link from a config file (YAML or JSON)')
      .requiredOption('-c, --config <file>', 'the link config file')
      .option('--no-validate', 'store the link without contacting the source first'),
  ).action(
    action(async (o: ShadowCommandOptions & { config: string; validate: boolean }) => {
      const doc = readLinkFile(o.config);
      const view = await call<LinkView>(o, 'POST', `/v1/shadow-links${o.validate ? '' : '?validate=false'}`, { body: doc });
      const shown = withRedactedConfig(view);
      printResult(o.format, shown, () => `Created shadow link '${view.name}' (${view.state})`);
    }),
  );

  withAdminOptions(
    shadow
      .command('update')
      .description('replace the config of a shadow link (the name cannot change; [REDACTED] passwords keep the stored ones)')
      .argument('<name>', 'link name')
      .requiredOption('-c, --config <file>', 'the link config file')
      .option('--no-validate', 'do not contact the source first'),
  ).action(
    action(async (name: string, o: ShadowCommandOptions & { config: string; validate: boolean }) => {
      const doc = readLinkFile(o.config);
      const view = await call<LinkView>(o, 'PATCH', `${linkPath(name)}${o.validate ? '' : '?validate=false'}`, { body: doc });
      printResult(o.format, withRedactedConfig(view), () => `Updated shadow link '${view.name}' (${view.state})`);
    }),
  );

  withAdminOptions(shadow.command('list').alias('ls').description('list shadow links with topic counts, lag and worst RPO')).action(
    action(async (o: ShadowCommandOptions) => {
      const doc = await call<{ links: LinkSummary[] }>(o, 'GET', '/v1/shadow-links');
      printResult(o.format, doc, () => renderList(doc.links));
    }),
  );

  withAdminOptions(
    shadow
      .command('describe')
      .description('show a shadow link: text and yaml print its config as a link file (passwords [REDACTED]); json the API document')
      .argument('<name>', 'link name'),
  ).action(
    action(async (name: string, o: ShadowCommandOptions) => {
      const view = withRedactedConfig(await call<LinkView>(o, 'GET', linkPath(name)));
      if (o.format === 'yaml') out(configYaml(view.config));
      else printResult(o.format, view, () => renderDescribe(view));
    }),
  );

  withAdminOptions(
    shadow
      .command('status')
      .description('show the tasks of a shadow link and its topics per partition: offsets, lag, RPO, last error')
      .argument('<name>', 'link name'),
  ).action(
    action(async (name: string, o: ShadowCommandOptions) => {
      const status = await call<LinkStatus>(o, 'GET', `${linkPath(name)}/status`);
      printResult(o.format, status, () => renderStatus(status));
    }),
  );

  withAdminOptions(
    shadow
      .command('failover')
      .description('fail over one topic or every topic of a link now: replication stops and the topics become writable (irreversible)')
      .argument('<name>', 'link name')
      .option('-t, --topic <topic>', 'one shadow topic')
      .option('--all', 'every topic of the link (re-runnable: picks up topics created since)'),
  ).action(
    action(async (name: string, o: ShadowCommandOptions & { topic?: string; all?: boolean }) => {
      const topic = topicOrAll(o, 'failover');
      const r = await call<LinkActionResult>(o, 'POST', `${linkPath(name)}/failover`, { body: topic !== undefined ? { topic } : {} });
      printResult(o.format, r, () => renderAction('Failed over', r, topic));
    }),
  );

  withAdminOptions(
    shadow
      .command('promote')
      .description('promote one topic or every topic of a link: wait until caught up with the source, final offset sync, then fail over')
      .argument('<name>', 'link name')
      .option('-t, --topic <topic>', 'one shadow topic')
      .option('--all', 'every topic of the link')
      .option('--timeout <duration>', `how long to wait for the shadow to catch up (at most ${MAX_PROMOTE_TIMEOUT_MS / 1000}s)`, parseTimeout, 60_000),
  ).action(
    action(async (name: string, o: ShadowCommandOptions & { topic?: string; all?: boolean; timeout: number }) => {
      const topic = topicOrAll(o, 'promote');
      const body = { ...(topic !== undefined ? { topic } : {}), timeoutMs: o.timeout };
      // the broker answers when promotion is done or has timed out: wait a little longer than it does
      const r = await call<LinkActionResult>(o, 'POST', `${linkPath(name)}/promote`, { body, timeoutMs: o.timeout + 20_000 });
      printResult(o.format, r, () => renderAction('Promoted', r, topic));
    }),
  );

  for (const [verb, done, what] of [
    ['pause', 'Paused', 'pause replication and sync of a link, or of one topic (topics stay read-only)'],
    ['resume', 'Resumed', 'resume a paused link, or one paused topic'],
  ] as const) {
    withAdminOptions(
      shadow.command(verb).description(what).argument('<name>', 'link name').option('-t, --topic <topic>', 'only this shadow topic'),
    ).action(
      action(async (name: string, o: ShadowCommandOptions & { topic?: string }) => {
        if (o.topic === '') throw usage('--topic must not be empty');
        const r = await call<LinkActionResult>(o, 'POST', `${linkPath(name)}/${verb}`, { body: o.topic !== undefined ? { topic: o.topic } : {} });
        printResult(o.format, r, () => renderAction(done, r, o.topic));
      }),
    );
  }

  withAdminOptions(
    shadow
      .command('verify')
      .description(
        'compare source and shadow batch by batch (offsets, lengths, CRC32C recomputed over the stored bytes on both sides) ' +
          'over the range both hold; exit code 0 only when they match',
      )
      .argument('<name>', 'link name')
      .option('-t, --topic <topic>', 'only this shadow topic (any state); default every topic the link still shadows'),
  ).action(
    action(async (name: string, o: ShadowCommandOptions & { topic?: string }) => {
      if (o.topic === '') throw usage('--topic must not be empty');
      const r = await call<VerifyReport>(o, 'POST', `${linkPath(name)}/verify`, { body: o.topic !== undefined ? { topic: o.topic } : {}, timeoutMs: VERIFY_TIMEOUT_MS });
      printResult(o.format, r, () => renderVerify(r));
      if (!r.ok) process.exitCode = 1;
    }),
  );

  shadow.addCommand(drillCommand({ call, withAdminOptions, linkPath }));

  withAdminOptions(
    shadow
      .command('delete')
      .alias('rm')
      .description('delete a shadow link (never its topics); refused while topics are still shadowed unless --force')
      .argument('<name>', 'link name')
      .option('--force', 'fail over every still-shadowed topic first, then delete'),
  ).action(
    action(async (name: string, o: ShadowCommandOptions & { force?: boolean }) => {
      await call<undefined>(o, 'DELETE', `${linkPath(name)}${o.force ? '?force=true' : ''}`, { timeoutMs: o.force ? 120_000 : REQUEST_TIMEOUT_MS });
      printResult(o.format, { name, deleted: true }, () => `Deleted shadow link '${name}' (its topics are kept)`);
    }),
  );

  return shadow;
}
