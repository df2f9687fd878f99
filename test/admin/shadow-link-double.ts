// A small in-memory ShadowLinkService for the HTTP and CLI tests of the shadow-link API: it keeps links and the
// topic states the test seeds, follows the contract of src/shadow/service.ts (errors, delete refusal, redacted
// configs), records every call, and replicates nothing. The link manager has its own tests; these test the layers
// above it. It validates with the real config validator, so a bad field is reported as the manager would.
import { startAdminServer, type AdminServer, type AdminServerOptions } from '../../src/admin/server.js';
import { shadowLinkRoutes } from '../../src/admin/routes/shadow-links.js';
import type { AdminDeps } from '../../src/admin/types.js';
import { inheritSecrets, checkLinkUpdate, redactLinkConfig, validateLinkConfig } from '../../src/shadow/config.js';
import {
  SHADOWED_TOPIC_STATES,
  ShadowLinkError,
  type CreateLinkOptions,
  type LinkActionResult,
  type LinkState,
  type LinkStatus,
  type LinkSummary,
  type LinkView,
  type ShadowLinkService,
  type TaskStatus,
  type TopicState,
  type TopicStatus,
  type VerifyPartitionReport,
  type VerifyReport,
} from '../../src/shadow/service.js';
import { ShadowConfigError, type ShadowLinkConfig } from '../../src/shadow/types.js';

interface StoredLink {
  cfg: ShadowLinkConfig;
  state: LinkState;
  createdAt: string;
  updatedAt: string;
  topics: Map<string, TopicStatus>;
}

export interface RecordedCall {
  method: string;
  args: unknown[];
}

/** A bootstrap server with this host "cannot be reached" unless the source is not validated. */
export const UNREACHABLE_HOST = 'unreachable.invalid';

const TASKS = ['source_topic_sync', 'replication', 'consumer_offset_sync', 'security_sync', 'schema_registry_sync'];

export class InMemoryShadowLinks implements ShadowLinkService {
  readonly calls: RecordedCall[] = [];
  private readonly links = new Map<string, StoredLink>();
  private clock = Date.parse('2026-01-02T03:04:05.000Z');

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  private get(name: string): StoredLink {
    const link = this.links.get(name);
    if (!link) throw new ShadowLinkError('NOT_FOUND', `shadow link '${name}' does not exist`);
    return link;
  }

  private validate(doc: unknown, allowMissingPasswords: boolean): ShadowLinkConfig {
    try {
      return validateLinkConfig(doc, { allowMissingPasswords });
    } catch (err) {
      if (err instanceof ShadowConfigError) throw new ShadowLinkError('INVALID_CONFIG', err.message, err.field);
      throw err;
    }
  }

  private checkSource(cfg: ShadowLinkConfig, opts: CreateLinkOptions | undefined): void {
    if (opts?.validateSource === false) return;
    if (cfg.clientOptions.bootstrapServers.some((hp) => hp.host === UNREACHABLE_HOST)) {
      throw new ShadowLinkError('SOURCE_UNAVAILABLE', `cannot reach the source of link '${cfg.name}' at ${UNREACHABLE_HOST}`);
    }
  }

  /** Test seeding: a shadow topic of a link, with the given state and partitions. */
  seedTopic(link: string, topic: TopicStatus): void {
    this.get(link).topics.set(topic.name, structuredClone(topic));
  }

  /** Test seeding: verify reports this partition's batch at `offset` as different (a corrupt shadow copy). */
  seedVerifyDifference(link: string, topic: string, partition: number, offset: number, difference: string): void {
    this.get(link);
    this.verifyDifferences.set(`${link}/${topic}/${partition}`, { offset, difference });
  }

  private readonly verifyDifferences = new Map<string, { offset: number; difference: string }>();

  /** The stored config, secrets included (to check that an update kept the password). */
  storedConfig(name: string): ShadowLinkConfig {
    return this.get(name).cfg;
  }

  list(): LinkSummary[] {
    this.calls.push({ method: 'list', args: [] });
    return [...this.links.values()].map((l) => {
      const counts: Partial<Record<TopicState, number>> = {};
      let totalLag = 0;
      let maxRpoSeconds = 0;
      for (const t of l.topics.values()) {
        counts[t.state] = (counts[t.state] ?? 0) + 1;
        for (const p of t.partitions) {
          totalLag += p.lag;
          maxRpoSeconds = Math.max(maxRpoSeconds, p.rpoSeconds);
        }
      }
      return {
        name: l.cfg.name,
        state: l.state,
        bootstrapServers: redactLinkConfig(l.cfg).client_options.bootstrap_servers,
        sourceClusterId: l.cfg.clientOptions.sourceClusterId ?? '',
        topics: counts,
        totalLag,
        maxRpoSeconds,
      };
    });
  }

  describe(name: string): LinkView {
    this.calls.push({ method: 'describe', args: [name] });
    const l = this.get(name);
    return { name, state: l.state, createdAt: l.createdAt, updatedAt: l.updatedAt, config: redactLinkConfig(l.cfg) };
  }

  async create(doc: unknown, opts?: CreateLinkOptions): Promise<LinkView> {
    this.calls.push({ method: 'create', args: [structuredClone(doc), opts] });
    const cfg = this.validate(doc, false);
    if (this.links.has(cfg.name)) throw new ShadowLinkError('ALREADY_EXISTS', `shadow link '${cfg.name}' already exists`);
    this.checkSource(cfg, opts);
    const at = this.now();
    this.links.set(cfg.name, { cfg, state: cfg.topicMetadataSync.paused ? 'PAUSED' : 'ACTIVE', createdAt: at, updatedAt: at, topics: new Map() });
    return this.describe(cfg.name);
  }

  async update(name: string, doc: unknown, opts?: CreateLinkOptions): Promise<LinkView> {
    this.calls.push({ method: 'update', args: [name, structuredClone(doc), opts] });
    const l = this.get(name);
    const withName = doc !== null && typeof doc === 'object' && !Array.isArray(doc) && !('name' in doc) ? { name, ...doc } : doc;
    let next = this.validate(withName, true);
    try {
      checkLinkUpdate(l.cfg, next);
      next = inheritSecrets(next, l.cfg);
    } catch (err) {
      if (err instanceof ShadowConfigError) throw new ShadowLinkError('INVALID_CONFIG', err.message, err.field);
      throw err;
    }
    this.checkSource(next, opts);
    l.cfg = next;
    l.updatedAt = this.now();
    return this.describe(name);
  }

  async delete(name: string, opts?: { force?: boolean }): Promise<void> {
    this.calls.push({ method: 'delete', args: [name, opts] });
    const l = this.get(name);
    const shadowed = [...l.topics.values()].filter((t) => SHADOWED_TOPIC_STATES.has(t.state)).map((t) => t.name);
    if (shadowed.length > 0 && !opts?.force) {
      throw new ShadowLinkError(
        'CONFLICT',
        `shadow link '${name}' still shadows ${shadowed.map((t) => `'${t}'`).join(', ')}: fail them over first, or delete with force`,
      );
    }
    this.links.delete(name);
  }

  status(name: string): LinkStatus {
    this.calls.push({ method: 'status', args: [name] });
    const l = this.get(name);
    const tasks: TaskStatus[] = TASKS.map((t) => ({
      name: t,
      state: t === 'schema_registry_sync' ? 'NOT_RUNNING' : l.state === 'PAUSED' ? 'PAUSED' : 'ACTIVE',
      reason: t === 'schema_registry_sync' ? 'schema registry sync is off' : '',
    }));
    return { name, state: l.state, tasks, topics: [...l.topics.values()].map((t) => structuredClone(t)) };
  }

  topic(name: string, topic: string): TopicStatus {
    this.calls.push({ method: 'topic', args: [name, topic] });
    const t = this.get(name).topics.get(topic);
    if (!t) throw new ShadowLinkError('NOT_FOUND', `shadow link '${name}' does not shadow topic '${topic}'`);
    return structuredClone(t);
  }

  private act(name: string, topic: string | undefined, change: (t: TopicStatus) => void): LinkActionResult {
    const l = this.get(name);
    const targets = topic !== undefined ? [this.topic(name, topic)].map((t) => l.topics.get(t.name)!) : [...l.topics.values()];
    for (const t of targets) change(t);
    return { name, state: l.state, topics: targets.map((t) => ({ name: t.name, state: t.state, reason: t.reason })) };
  }

  async failover(name: string, topic?: string): Promise<LinkActionResult> {
    this.calls.push({ method: 'failover', args: [name, topic] });
    return this.act(name, topic, (t) => {
      if (SHADOWED_TOPIC_STATES.has(t.state)) t.state = 'FAILED_OVER';
    });
  }

  async promote(name: string, topic?: string, opts?: { timeoutMs?: number }): Promise<LinkActionResult> {
    this.calls.push({ method: 'promote', args: [name, topic, opts] });
    return this.act(name, topic, (t) => {
      if (SHADOWED_TOPIC_STATES.has(t.state)) t.state = 'PROMOTED';
    });
  }

  /**
   * A report built from the seeded topic statuses: every partition compared over [sourceLogStart, min(HWMs)), one
   * batch per 10 offsets of 1 KiB, identical unless seedVerifyDifference said otherwise.
   */
  async verify(name: string, topic?: string): Promise<VerifyReport> {
    this.calls.push({ method: 'verify', args: [name, topic] });
    const l = this.get(name);
    const topics = topic !== undefined ? [this.topic(name, topic)] : [...l.topics.values()].filter((t) => SHADOWED_TOPIC_STATES.has(t.state));
    const summary = { topics: 0, partitions: 0, batches: 0, bytes: 0, differences: 0, missingRanges: 0 };
    const reports = topics.map((t) => {
      summary.topics++;
      const partitions = t.partitions.map((p): VerifyPartitionReport => {
        const compared = { from: p.sourceLogStartOffset, to: Math.min(p.sourceHighWatermark, p.highWatermark) };
        const batches = Math.ceil(Math.max(0, compared.to - compared.from) / 10);
        const diff = this.verifyDifferences.get(`${name}/${t.name}/${p.partition}`);
        summary.partitions++;
        summary.batches += batches;
        summary.bytes += batches * 1024;
        if (diff) summary.differences++;
        return {
          partition: p.partition,
          source: { from: p.sourceLogStartOffset, to: p.sourceHighWatermark },
          shadow: { from: p.sourceLogStartOffset, to: p.highWatermark },
          compared,
          batches,
          bytes: batches * 1024,
          firstDifferenceOffset: diff ? diff.offset : -1,
          difference: diff ? diff.difference : '',
          differences: diff ? 1 : 0,
          missingOnShadow: [],
          missingOnSource: [],
          compactedDifferently: [],
          ok: !diff,
        };
      });
      return { name: t.name, compacted: false, ok: partitions.every((p) => p.ok), error: '', partitions };
    });
    return { link: name, ok: reports.every((t) => t.ok), startedAt: this.now(), elapsedMs: 12, topics: reports, summary };
  }

  async pause(name: string, topic?: string): Promise<LinkActionResult> {
    this.calls.push({ method: 'pause', args: [name, topic] });
    if (topic === undefined) this.get(name).state = 'PAUSED';
    return this.act(name, topic, (t) => {
      if (t.state === 'ACTIVE') t.state = 'PAUSED';
    });
  }

  async resume(name: string, topic?: string): Promise<LinkActionResult> {
    this.calls.push({ method: 'resume', args: [name, topic] });
    if (topic === undefined) this.get(name).state = 'ACTIVE';
    return this.act(name, topic, (t) => {
      if (t.state === 'PAUSED') t.state = 'ACTIVE';
    });
  }
}

/** A shadow topic status with `partitions` partitions, the first one lagging. */
export function topicStatus(name: string, state: TopicState, partitions = 2): TopicStatus {
  return {
    name,
    state,
    reason: state === 'FAULTED' ? 'source topic was recreated (new topic id)' : '',
    sourceTopicId: 'Zm9vYmFyYmF6cXV1eDEyMw',
    partitions: Array.from({ length: partitions }, (_, p) => ({
      partition: p,
      sourceLogStartOffset: 0,
      sourceLastStableOffset: 100,
      sourceHighWatermark: 100,
      highWatermark: p === 0 ? 90 : 100,
      lag: p === 0 ? 10 : 0,
      rpoSeconds: p === 0 ? 2.5 : 0,
      state: 'ACTIVE',
      lastError: p === 0 ? 'NOT_LEADER_OR_FOLLOWER (retrying)' : '',
      gaps: p === 1 ? [{ from: 10, to: 20 }] : [],
    })),
  };
}

/** A minimal valid link document; `password` is the one secret the tests look for in every output. */
export const SECRET = 'hunter2-do-not-print';

export function linkDoc(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    client_options: {
      bootstrap_servers: ['source-1:9092'],
      authentication_configuration: { scram_configuration: { username: 'shadow', password: SECRET, scram_mechanism: 'SCRAM-SHA-512' } },
    },
    topic_metadata_sync_options: {
      interval: '5s',
      auto_create_shadow_topic_filters: [{ pattern_type: 'PREFIX', filter_type: 'INCLUDE', name: 'a_' }],
      start_at_earliest: {},
    },
    ...extra,
  };
}

/** AdminDeps for a broker with no topics: the shadow-link tests need only the server around the routes. */
export function emptyAdminDeps(): AdminDeps {
  return {
    clusterId: 'shadow-test-cluster',
    nodeId: 0,
    brokerVersion: '0.1.0',
    listeners: () => [],
    brokers: () => [],
    listTopics: () => [],
    describeTopic: () => undefined,
    metrics: { contentType: 'text/plain; version=0.0.4', metrics: async () => '' },
  };
}

/** The admin server with the shadow-link routes over `service`, on a free port. */
export async function startShadowAdmin(
  service: ShadowLinkService,
  opts: { basicAuth?: AdminServerOptions['basicAuth'] } = {},
): Promise<{ server: AdminServer; url: string }> {
  const server = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    deps: emptyAdminDeps(),
    routes: [shadowLinkRoutes(service)],
    ...(opts.basicAuth ? { basicAuth: opts.basicAuth } : {}),
  });
  return { server, url: `http://127.0.0.1:${server.port}` };
}
