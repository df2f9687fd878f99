// The periodic tasks of a link (SPEC §2.1):
//   TopicSyncTask    discovers source topics by filter, creates shadow topics with the source's partition count and
//                    synced configs, follows partition increases and synced property changes, and faults topics
//                    whose source was deleted or recreated (data kept)
//   OffsetSyncTask   copies committed offsets of selected groups on shadowed topics, clamped to the shadow HWM,
//                    skipping groups with live members on the shadow
//   AclSyncTask      makes the ACLs this link created equal to the source's ACLs selected by acl_filters
import { ErrorCode, errorName } from '../protocol/errors.js';
import { TOPIC_CONFIGS, parseTopicConfigValue } from '../cluster/topic-config.js';
import { AclAuthorizer, linkOrigin } from '../security/authorizer.js';
import { isGroupSynced, isTopicShadowed, shadowTopicSettings, syncedPropertyNames } from './filters.js';
import type { ShadowLink } from './link.js';
import { PeriodicTask, type TaskLogger } from './task.js';
import { SourceUnsupportedError, type SourceTopic } from './source/types.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

function sameTopicId(a: string, b: string): boolean {
  if (!a || !b || a === ZERO_UUID || b === ZERO_UUID) return true;
  return a === b;
}

/** The synced configs Umbra knows and accepts; others are reported, not applied. */
function acceptedConfigs(configs: Record<string, string>): { ok: Record<string, string>; skipped: string[] } {
  const ok: Record<string, string> = {};
  const skipped: string[] = [];
  for (const [k, v] of Object.entries(configs)) {
    if (!TOPIC_CONFIGS.has(k)) {
      skipped.push(k);
      continue;
    }
    try {
      ok[k] = parseTopicConfigValue(k, v);
    } catch {
      skipped.push(`${k}=${v}`);
    }
  }
  return { ok, skipped };
}

export class TopicSyncTask extends PeriodicTask {
  constructor(
    private readonly link: ShadowLink,
    intervalMs: () => number,
    paused: () => boolean,
    logger: TaskLogger,
    backoff: () => number,
  ) {
    super('source_topic_sync', intervalMs, paused, logger, backoff);
  }

  protected async run(): Promise<void> {
    const link = this.link;
    await link.connected();
    const sourceTopics = await link.source.topics();
    await link.serialize(() => this.apply(sourceTopics));
  }

  private async apply(sourceTopics: SourceTopic[]): Promise<void> {
    const link = this.link;
    const { topics, partitions } = link.deps;
    const cfg = link.config;
    const byName = new Map(sourceTopics.map((t) => [t.name, t]));
    const notes: string[] = [];

    // 1. Source topics deleted or recreated: the shadow topic keeps its data and goes FAULTED.
    for (const t of link.topics.values()) {
      if (t.state !== 'ACTIVE' && t.state !== 'PAUSED') continue;
      const src = byName.get(t.name);
      if (!src) await link.setTopicState(t.name, 'FAULTED', 'the source topic was deleted; the shadow topic and its data are kept');
      else if (!sameTopicId(src.topicId, t.sourceTopicId)) {
        await link.setTopicState(t.name, 'FAULTED', `the source topic was recreated (topic id ${src.topicId}, was ${t.sourceTopicId}); the shadow topic and its data are kept`);
      }
    }

    // 2. Which topics this link shadows now, and their configs.
    const selected = sourceTopics.filter((t) => !t.internal && isTopicShadowed(t.name, cfg)).map((t) => t.name);
    const live = selected.filter((n) => {
      const t = link.topics.get(n);
      return t === undefined || t.state === 'ACTIVE' || t.state === 'PAUSED';
    });
    let configs = new Map<string, Record<string, string | null>>();
    if (live.length > 0) {
      try {
        configs = await link.source.describeTopicConfigs(live);
      } catch (err) {
        if (!(err instanceof SourceUnsupportedError)) throw err;
        notes.push(`topic configs are not synced: ${err.message}`);
      }
    }

    for (const name of live) {
      const src = byName.get(name)!;
      const settings = shadowTopicSettings(
        { partitionCount: src.partitions.length, replicationFactor: src.partitions[0]?.replicas.length ?? 1, configs: configs.get(name) ?? {} },
        cfg,
      );
      const { ok: synced, skipped } = acceptedConfigs(settings.configs);
      if (skipped.length > 0) notes.push(`${name}: not applied (unknown or invalid here): ${skipped.join(', ')}`);
      const existing = link.topics.get(name);
      if (!existing) {
        // 3. New: claim it, unless another link or a local topic has the name.
        const owner = link.deps.topicOwner(name);
        if (owner !== undefined && owner !== link.name) {
          notes.push(`${name}: not shadowed, the topic is claimed by link '${owner}'`);
          continue;
        }
        if (topics.has(name)) {
          notes.push(`${name}: not shadowed, a local topic of that name exists on this cluster`);
          continue;
        }
        // Claim first (read-only from now on, and persisted), then create: no client can write to the new topic
        // in between, and after a crash in between the claim is found and the topic created then.
        const now = Date.now();
        await link.addTopic({
          link: link.name,
          name,
          sourceTopicId: src.topicId,
          state: 'ACTIVE',
          reason: '',
          createdAtMs: now,
          updatedAtMs: now,
          gaps: [],
          initialPartitions: settings.partitionCount,
          startedPartitions: [],
        });
        try {
          await topics.create({ name, partitions: settings.partitionCount, configs: synced });
        } catch (err) {
          await link.removeTopic(name);
          throw err;
        }
        partitions.sync(name);
        await partitions.ready(name);
        this.logger.info({ topic: name, partitions: settings.partitionCount }, 'shadow topic created');
        continue;
      }
      // 4. Existing: follow partition increases and synced property changes.
      const record = topics.get(name);
      if (!record) {
        // claimed, but the broker stopped before creating it (or it was lost): create it now
        await topics.create({ name, partitions: settings.partitionCount, configs: synced });
        partitions.sync(name);
        await partitions.ready(name);
        this.logger.info({ topic: name, partitions: settings.partitionCount }, 'shadow topic created (claimed before a restart)');
        continue;
      }
      if (settings.partitionCount > record.partitions) {
        await topics.addPartitions(name, settings.partitionCount);
        partitions.sync(name);
        await partitions.ready(name);
        this.logger.info({ topic: name, from: record.partitions, to: settings.partitionCount }, 'shadow topic partitions added');
      } else if (settings.partitionCount < record.partitions) {
        notes.push(`${name}: the source has ${settings.partitionCount} partitions, the shadow ${record.partitions}`);
      }
      if (configs.has(name)) {
        const ops: { name: string; op: 'SET' | 'DELETE'; value: string | null }[] = [];
        for (const prop of syncedPropertyNames(cfg)) {
          const want = synced[prop];
          const have = record.configs[prop];
          if (want !== undefined && want !== have) ops.push({ name: prop, op: 'SET', value: want });
        }
        if (ops.length > 0) {
          await topics.incrementalAlterConfigs(name, ops);
          partitions.sync(name);
        }
      }
    }
    link.reconcile();
    this.note = notes.join('; ');
  }
}

/** Topic states whose consumer offsets follow the source (a failover's last sync runs in FAILING_OVER / PROMOTING). */
const OFFSET_SYNC_STATES: ReadonlySet<string> = new Set(['ACTIVE', 'PAUSED', 'PROMOTING', 'FAILING_OVER']);

export class OffsetSyncTask extends PeriodicTask {
  constructor(
    private readonly link: ShadowLink,
    intervalMs: () => number,
    paused: () => boolean,
    logger: TaskLogger,
    backoff: () => number,
  ) {
    super('consumer_offset_sync', intervalMs, paused, logger, backoff);
  }

  protected async run(): Promise<void> {
    const topics = this.link.shadowedTopicNames().filter((n) => {
      const s = this.link.topics.get(n)?.state;
      return s === 'ACTIVE' || s === 'PAUSED' || s === 'PROMOTING' || s === 'FAILING_OVER';
    });
    this.note = await this.sync(topics);
  }

  /** The last sync of a failover or promotion: best effort, bounded in time, only these topics. */
  async finalSync(topics: readonly string[], timeoutMs: number): Promise<void> {
    if (this.link.config.consumerOffsetSync.groupFilters.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.sync(topics), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    } catch (err) {
      this.logger.warn({ err, topics }, 'the last consumer offset sync before failover failed; offsets are as of the previous sync');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Returns a note for the status ('' when nothing to say). */
  private async sync(topics: readonly string[]): Promise<string> {
    const link = this.link;
    const cfg = link.config;
    if (topics.length === 0 || cfg.consumerOffsetSync.groupFilters.length === 0) return '';
    await link.connected();
    const groupIds = (await link.source.listGroups()).filter((g) => isGroupSynced(g, cfg)).sort();
    const { groups, partitions } = link.deps;
    const skipped: string[] = [];
    const failed: string[] = [];
    let written = 0;
    for (const groupId of groupIds) {
      const offsets = await link.source.committedOffsets(groupId, topics);
      if (offsets.length === 0) continue;
      const desc = groups.describeGroups([groupId])[0];
      if (desc && desc.errorCode === ErrorCode.NONE && desc.members.length > 0) {
        skipped.push(groupId);
        continue;
      }
      const current = groups.fetchOffsets({ groupId, topics: null, requireStable: false });
      const have = new Map<string, number>();
      for (const t of current.topics) for (const p of t.partitions) have.set(`${t.name}/${p.partitionIndex}`, p.committedOffset);
      const byTopic = new Map<string, { partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string | null }[]>();
      for (const o of offsets) {
        // the source may answer slowly: a topic that became writable meanwhile (failed over) is never rewritten
        if (!OFFSET_SYNC_STATES.has(link.topics.get(o.topic)?.state ?? 'FAILED_OVER')) continue;
        const log = partitions.log(o.topic, o.partition);
        if (!log) continue;
        const offset = Math.min(o.offset, log.highWatermark);
        if (have.get(`${o.topic}/${o.partition}`) === offset) continue;
        let list = byTopic.get(o.topic);
        if (!list) byTopic.set(o.topic, (list = []));
        list.push({ partitionIndex: o.partition, committedOffset: offset, committedLeaderEpoch: o.leaderEpoch, committedMetadata: o.metadata });
      }
      if (byTopic.size === 0) continue;
      const results = await groups.commitOffsets(
        {
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          retentionTimeMs: -1,
          topics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps })),
        },
        8,
      );
      const errors = results.flatMap((t) => t.partitions.filter((p) => p.errorCode !== ErrorCode.NONE));
      if (errors.length > 0) {
        // a member joined between the check and the commit, most likely
        if (errors.some((e) => e.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || e.errorCode === ErrorCode.ILLEGAL_GENERATION)) skipped.push(groupId);
        else failed.push(`${groupId} (${errorName(errors[0]!.errorCode)})`);
      }
      written += results.reduce((n, t) => n + t.partitions.length - t.partitions.filter((p) => p.errorCode !== ErrorCode.NONE).length, 0);
    }
    if (written > 0) this.logger.info({ groups: groupIds.length, offsets: written }, 'consumer offsets synced');
    const notes: string[] = [];
    if (skipped.length > 0) notes.push(`skipped groups with live members on the shadow: ${skipped.join(', ')}`);
    if (failed.length > 0) notes.push(`could not write offsets of: ${failed.join(', ')}`);
    return notes.join('; ');
  }
}

export class AclSyncTask extends PeriodicTask {
  constructor(
    private readonly link: ShadowLink,
    intervalMs: () => number,
    paused: () => boolean,
    logger: TaskLogger,
    backoff: () => number,
  ) {
    super('security_sync', intervalMs, paused, logger, backoff);
  }

  protected async run(): Promise<void> {
    const link = this.link;
    const authorizer = link.deps.authorizer;
    if (!(authorizer instanceof AclAuthorizer)) {
      throw new SourceUnsupportedError('ACLs', 'authorization is off on this broker (set authorization: acl to sync ACLs)');
    }
    const filters = link.config.securitySync.aclFilters;
    let bindings: Awaited<ReturnType<typeof link.source.describeAcls>> = [];
    if (filters.length > 0) {
      await link.connected();
      bindings = await link.source.describeAcls(filters);
    }
    const result = await authorizer.syncOrigin(linkOrigin(link.name), bindings);
    if (result.created + result.deleted > 0) this.logger.info({ created: result.created, deleted: result.deleted }, 'ACLs synced from the source');
    const notes: string[] = [];
    if (filters.length === 0) notes.push('no acl_filters: no ACL is synced');
    if (result.invalid.length > 0) notes.push(`${result.invalid.length} source ACL(s) not applied: ${result.invalid[0]!.message}`);
    this.note = notes.join('; ');
  }
}
