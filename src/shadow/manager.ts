// The link manager: every shadow link of this cluster, persisted in the metadata store and run by ShadowLink. It
// implements ShadowLinkService (admin API, CLI) and answers the broker's read-only questions: is this topic
// shadowed, and is this property synced (handlers refuse writes with an error naming the link).
import type { Logger } from 'pino';
import type { PartitionManager } from '../broker/partitions.js';
import type { ProducerIdManager } from '../broker/producer-ids.js';
import type { MetadataStore } from '../cluster/types.js';
import type { TopicRegistry } from '../cluster/topics.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { Authorizer } from '../security/authorizer.js';
import { checkLinkUpdate, inheritSecrets, redactLinkConfig, validateLinkConfig } from './config.js';
import { assertNoLinkOverlap, isSyncedProperty, isTopicShadowed } from './filters.js';
import { ShadowLink } from './link.js';
import {
  ShadowLinkError,
  SHADOWED_TOPIC_STATES,
  type CreateLinkOptions,
  type LinkActionResult,
  type LinkStatus,
  type LinkSummary,
  type LinkView,
  type ShadowLinkService,
  type TopicState,
  type TopicStatus,
} from './service.js';
import { createSourceCluster } from './source/index.js';
import type { SourceCluster } from './source/types.js';
import { ShadowLinkStore } from './store.js';
import type { VerifyReport } from './service.js';
import { verifyLink } from './verify.js';
import { ShadowConfigError, ShadowLinkOverlapError, type ShadowLinkConfig, type SourceClientOptions } from './types.js';

export interface ShadowManagerOptions {
  store: MetadataStore;
  clusterId: string;
  topics: TopicRegistry;
  partitions: PartitionManager;
  groups: GroupCoordinator;
  producerIds: ProducerIdManager;
  authorizer?: Authorizer;
  logger: Logger;
  /** tests may replace the source client */
  createSource?: (opts: SourceClientOptions, linkName: string) => SourceCluster;
}

/** What the broker's handlers ask (BrokerServices.shadow). */
export interface ShadowGuard {
  /** the error message for a write to a shadowed topic, or undefined when the topic is writable */
  readOnlyReason(topic: string): string | undefined;
  /**
   * The error message for creating this topic locally (CreateTopics, auto-creation), or undefined when allowed: a
   * name some link would shadow is left to that link, so a local topic never takes the place of a shadow topic.
   */
  createReason(topic: string): string | undefined;
  /** the error message for a change to synced properties of a shadowed topic, or undefined when allowed */
  configChangeReason(topic: string, properties: readonly string[]): string | undefined;
  /**
   * Logs a refused write (at most once a minute per topic). Clients on older protocol versions (librdkafka 2.0
   * produces with v7, which has no error message) only see POLICY_VIOLATION; the broker log names the link.
   */
  noteRefusedWrite(topic: string, api: string, client: string): void;
}

const REFUSAL_LOG_INTERVAL_MS = 60_000;

function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

function configError(err: unknown): never {
  if (err instanceof ShadowConfigError) throw new ShadowLinkError('INVALID_CONFIG', err.message, err.field);
  if (err instanceof ShadowLinkOverlapError) throw new ShadowLinkError('CONFLICT', err.message);
  throw err;
}

export class ShadowLinkManager implements ShadowLinkService, ShadowGuard {
  private readonly links = new Map<string, ShadowLink>();
  private readonly linkStore: ShadowLinkStore;
  /** topic → link, for every topic some link shadows or shadowed */
  private owners = new Map<string, ShadowLink>();
  private readonly logger: Logger;
  /** serializes create / update / delete */
  private chain: Promise<unknown> = Promise.resolve();
  private started = false;
  private closing = false;

  constructor(private readonly opts: ShadowManagerOptions) {
    this.linkStore = new ShadowLinkStore(opts.store);
    this.logger = opts.logger.child({ component: 'shadow' });
  }

  /** Loads the stored links, so the read-only rules hold before anything runs. */
  load(): void {
    for (const l of this.linkStore.load()) {
      const link = this.newLink(l.config, l.stored.state, l.stored.createdAtMs, l.stored.updatedAtMs, l.topics);
      this.links.set(link.name, link);
    }
    this.reindex();
  }

  /** Starts the loaded links: replication resumes at each shadow partition's log end. */
  start(): void {
    this.started = true;
    for (const link of this.links.values()) link.start();
    if (this.links.size > 0) this.logger.info({ links: [...this.links.keys()] }, 'shadow links resumed');
  }

  /** Stops every link; a create or update in progress finishes first, and none starts afterwards. */
  async close(): Promise<void> {
    this.closing = true;
    await this.serialize(async () => {});
    await Promise.all([...this.links.values()].map((l) => l.stop()));
  }

  private newLink(
    config: ShadowLinkConfig,
    state: 'ACTIVE' | 'PAUSED',
    createdAtMs: number,
    updatedAtMs: number,
    topics: Parameters<ShadowLink['addTopic']>[0][],
    /** the run time this one replaces (update): its counters carry over */
    previous?: ShadowLink,
  ): ShadowLink {
    const o = this.opts;
    return new ShadowLink(
      {
        topics: o.topics,
        partitions: o.partitions,
        groups: o.groups,
        producerIds: o.producerIds,
        ...(o.authorizer ? { authorizer: o.authorizer } : {}),
        logger: this.logger,
        linkStore: this.linkStore,
        createSource:
          o.createSource ??
          ((opts, name) =>
            createSourceCluster(opts, {
              logger: this.logger.child({ link: name, component: 'shadow-source' }),
              // a stalled source must show as LINK_UNAVAILABLE within seconds, not after the client's 30 s default
              requestTimeoutMs: Math.max(5_000, opts.fetchWaitMaxMs + 5_000),
            })),
        topicOwner: (topic) => this.owners.get(topic)?.name,
        onTopicsChanged: () => this.reindex(),
      },
      { config, state, createdAtMs, updatedAtMs, topics, ...(previous ? { totals: previous.totals(), gapsRecorded: previous.totals().gaps } : {}) },
    );
  }

  private reindex(): void {
    const owners = new Map<string, ShadowLink>();
    for (const link of this.links.values()) for (const t of link.topics.keys()) owners.set(t, link);
    this.owners = owners;
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  private require(name: string): ShadowLink {
    const link = this.links.get(name);
    if (!link) throw new ShadowLinkError('NOT_FOUND', `no shadow link named '${name}'`);
    return link;
  }

  // ---- read-only guard ------------------------------------------------------------------------------------

  private shadowingLink(topic: string): ShadowLink | undefined {
    const link = this.owners.get(topic);
    const state = link?.topics.get(topic)?.state;
    return state !== undefined && SHADOWED_TOPIC_STATES.has(state) ? link : undefined;
  }

  private readonly refusalsLogged = new Map<string, number>();

  noteRefusedWrite(topic: string, api: string, client: string): void {
    const now = Date.now();
    if (now - (this.refusalsLogged.get(topic) ?? 0) < REFUSAL_LOG_INTERVAL_MS) return;
    this.refusalsLogged.set(topic, now);
    this.logger.warn({ topic, api, client }, this.readOnlyReason(topic) ?? `topic '${topic}' is read-only`);
  }

  readOnlyReason(topic: string): string | undefined {
    const link = this.shadowingLink(topic);
    if (!link) return undefined;
    return `topic '${topic}' is shadowed by link '${link.name}' and read-only until failover`;
  }

  createReason(topic: string): string | undefined {
    const owner = this.owners.get(topic);
    if (owner) return `topic '${topic}' belongs to shadow link '${owner.name}'`;
    for (const link of this.links.values()) {
      if (isTopicShadowed(topic, link.config)) {
        return `topic '${topic}' matches the filters of shadow link '${link.name}': the link creates it when the source has it (change the link's filters to create it here)`;
      }
    }
    return undefined;
  }

  configChangeReason(topic: string, properties: readonly string[]): string | undefined {
    const link = this.shadowingLink(topic);
    if (!link) return undefined;
    const synced = properties.filter((p) => isSyncedProperty(p, link.config));
    if (synced.length === 0) return undefined;
    return `topic '${topic}' is shadowed by link '${link.name}': ${synced.join(', ')} ${synced.length === 1 ? 'is' : 'are'} synced from the source and read-only until failover`;
  }

  // ---- ShadowLinkService ----------------------------------------------------------------------------------

  list(): LinkSummary[] {
    return [...this.links.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((link) => {
        const status = link.status();
        const topics: Partial<Record<TopicState, number>> = {};
        let totalLag = 0;
        let maxRpoSeconds = 0;
        for (const t of status.topics) {
          topics[t.state] = (topics[t.state] ?? 0) + 1;
          for (const p of t.partitions) {
            totalLag += p.lag;
            maxRpoSeconds = Math.max(maxRpoSeconds, p.rpoSeconds);
          }
        }
        return {
          name: link.name,
          state: link.state,
          bootstrapServers: link.config.clientOptions.bootstrapServers.map((h) => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`)),
          sourceClusterId: link.source.clusterId ?? '',
          topics,
          totalLag,
          maxRpoSeconds,
        };
      });
  }

  private view(link: ShadowLink): LinkView {
    return { name: link.name, state: link.state, createdAt: toIso(link.createdAtMs), updatedAt: toIso(link.updatedAtMs), config: redactLinkConfig(link.config) };
  }

  describe(name: string): LinkView {
    return this.view(this.require(name));
  }

  /** Contacts the source (create/update without --no-validate): reachable, right cluster, not this cluster. */
  private async validateSource(cfg: ShadowLinkConfig): Promise<void> {
    const source = (this.opts.createSource ?? ((o) => createSourceCluster(o, {})))(cfg.clientOptions, cfg.name);
    try {
      await source.connect();
      if (source.clusterId === this.opts.clusterId) {
        throw new ShadowLinkError('INVALID_CONFIG', `client_options.bootstrap_servers: the source is this cluster (id ${this.opts.clusterId}); a link needs another cluster`, 'client_options.bootstrap_servers');
      }
    } catch (err) {
      if (err instanceof ShadowLinkError) throw err;
      const servers = cfg.clientOptions.bootstrapServers.map((h) => `${h.host}:${h.port}`).join(',');
      throw new ShadowLinkError('SOURCE_UNAVAILABLE', `cannot use the source at ${servers}: ${(err as Error).message} (create with --no-validate to store the link anyway)`);
    } finally {
      await source.close().catch(() => {});
    }
  }

  create(doc: unknown, opts: CreateLinkOptions = {}): Promise<LinkView> {
    return this.serialize(async () => {
      let cfg: ShadowLinkConfig;
      try {
        cfg = validateLinkConfig(doc);
      } catch (err) {
        configError(err);
      }
      if (this.links.has(cfg.name)) throw new ShadowLinkError('ALREADY_EXISTS', `a shadow link named '${cfg.name}' exists`);
      try {
        assertNoLinkOverlap([...[...this.links.values()].map((l) => l.config), cfg], this.owners.keys());
      } catch (err) {
        configError(err);
      }
      if (opts.validateSource !== false) await this.validateSource(cfg);
      const now = Date.now();
      await this.linkStore.putLink(cfg, 'ACTIVE', now);
      const link = this.newLink(cfg, 'ACTIVE', now, now, []);
      this.links.set(cfg.name, link);
      if (this.started && !this.closing) link.start();
      this.logger.info({ link: cfg.name, source: cfg.clientOptions.bootstrapServers }, 'shadow link created');
      return this.view(link);
    });
  }

  update(name: string, doc: unknown, opts: CreateLinkOptions = {}): Promise<LinkView> {
    return this.serialize(async () => {
      const prev = this.require(name);
      let cfg: ShadowLinkConfig;
      try {
        const d = doc && typeof doc === 'object' && !Array.isArray(doc) && !('name' in doc) ? { ...doc, name } : doc;
        cfg = inheritSecrets(validateLinkConfig(d, { allowMissingPasswords: true }), prev.config);
        checkLinkUpdate(prev.config, cfg);
        const others = [...this.links.values()].filter((l) => l !== prev).map((l) => l.config);
        const foreign = [...this.owners].filter(([, l]) => l !== prev).map(([t]) => t);
        assertNoLinkOverlap([...others, cfg], foreign);
      } catch (err) {
        configError(err);
      }
      if (opts.validateSource !== false) await this.validateSource(cfg);
      // queued transitions (a failover, a pause) finish on the old run time first; later ones are refused
      await prev.retire();
      await this.linkStore.putLink(cfg, prev.state, prev.createdAtMs);
      // restart the link's run time with the new config; replication resumes at each shadow log end
      await prev.stop();
      const next = this.newLink(cfg, prev.state, prev.createdAtMs, Date.now(), [...prev.topics.values()], prev);
      this.links.set(name, next);
      this.reindex();
      if (this.started && !this.closing) next.start();
      this.logger.info({ link: name }, 'shadow link updated');
      return this.view(next);
    });
  }

  delete(name: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.serialize(async () => {
      const link = this.require(name);
      const blocking = link.blockingDelete();
      if (blocking.length > 0) {
        if (!opts.force) {
          throw new ShadowLinkError(
            'CONFLICT',
            `link '${name}' still shadows ${blocking.length} topic(s): ${blocking.join(', ')}; fail them over first, or delete with force (which fails them over)`,
          );
        }
        await link.failover();
      }
      await link.retire();
      await link.stop();
      await this.linkStore.deleteLink(name);
      this.links.delete(name);
      this.reindex();
      this.logger.info({ link: name, force: opts.force === true }, 'shadow link deleted; its topics are kept');
    });
  }

  status(name: string): LinkStatus {
    return this.require(name).status();
  }

  topic(name: string, topic: string): TopicStatus {
    const s = this.require(name).topicStatus(topic);
    if (!s) throw new ShadowLinkError('NOT_FOUND', `link '${name}' does not shadow topic '${topic}'`);
    return s;
  }

  failover(name: string, topic?: string): Promise<LinkActionResult> {
    return this.require(name).failover(topic);
  }

  promote(name: string, topic?: string, opts: { timeoutMs?: number } = {}): Promise<LinkActionResult> {
    return this.require(name).promote(topic, opts.timeoutMs);
  }

  pause(name: string, topic?: string): Promise<LinkActionResult> {
    return this.require(name).pause(topic);
  }

  resume(name: string, topic?: string): Promise<LinkActionResult> {
    return this.require(name).resume(topic);
  }

  /** `umbra shadow verify`: compares with a source client of its own, so the link's replication is not disturbed. */
  verify(name: string, topic?: string): Promise<VerifyReport> {
    const link = this.require(name);
    const create = this.opts.createSource;
    return verifyLink(link, {
      topics: this.opts.topics,
      partitions: this.opts.partitions,
      createSource: (o) =>
        create ? create(o, name) : createSourceCluster(o, { logger: this.logger.child({ link: name, component: 'shadow-verify' }), fetchConnectionsPerNode: 1, idleAnswerMs: 1000 }),
      logger: this.logger.child({ link: name }),
    }, topic !== undefined ? { topic } : {});
  }

  /** Every running link (metrics). */
  allLinks(): readonly ShadowLink[] {
    return [...this.links.values()];
  }
}
