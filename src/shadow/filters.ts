// Which source topics and consumer groups a shadow link selects, which topic properties it keeps in sync, and which
// topics two links would both claim (SPEC §2.1, §2.3).
//
// Name filters (`auto_create_shadow_topic_filters`, `group_filters`):
//   - pattern_type LITERAL matches the exact name, and `*` alone matches every name; PREFIX matches names that
//     start with `name`;
//   - filter_type EXCLUDE wins: a name matched by any EXCLUDE is not selected, whatever the INCLUDEs say;
//     otherwise it is selected when any INCLUDE matches; a name no filter matches is not selected.
// Topics have two more rules, applied before the filters:
//   - internal topics (`__consumer_offsets`, `__transaction_state`, `__cluster_metadata`) are never shadowed: each
//     cluster owns its own. `*` or a prefix never reaches them; config.ts rejects an INCLUDE that names them;
//   - `_schemas` is shadowed exactly when schema_registry_sync_options.shadow_schema_registry_topic is set, and
//     topic filters neither add nor remove it (one switch, one place to look).
import type { LinkOverlap, NameFilter, ShadowLinkConfig } from './types.js';
import { ShadowLinkOverlapError } from './types.js';

/** Topics each cluster keeps for itself; a link never shadows them. */
export const INTERNAL_TOPICS: readonly string[] = Object.freeze(['__consumer_offsets', '__transaction_state', '__cluster_metadata']);
/** The schema registry's topic: shadowed only through schema_registry_sync_options. */
export const SCHEMAS_TOPIC = '_schemas';
/** The LITERAL name that matches every name. */
export const MATCH_ALL = '*';

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.includes(name);
}

/** Whether one filter's pattern matches a name (ignoring its filter_type). */
export function filterMatchesName(filter: NameFilter, name: string): boolean {
  if (filter.patternType === 'PREFIX') return name.startsWith(filter.name);
  return filter.name === MATCH_ALL || filter.name === name;
}

/** The outcome of filtering one name, with a reason fit for a status line. */
export interface FilterDecision {
  selected: boolean;
  reason: string;
  /** the filter that decided, when one did */
  filter?: NameFilter;
}

function describeFilter(f: NameFilter): string {
  return `${f.filterType} ${f.patternType} '${f.name}'`;
}

/** EXCLUDE wins; otherwise selected when any INCLUDE matches; unmatched = not selected. */
export function evaluateNameFilters(filters: readonly NameFilter[], name: string): FilterDecision {
  const exclude = filters.find((f) => f.filterType === 'EXCLUDE' && filterMatchesName(f, name));
  if (exclude) return { selected: false, reason: `excluded by filter ${describeFilter(exclude)}`, filter: exclude };
  const include = filters.find((f) => f.filterType === 'INCLUDE' && filterMatchesName(f, name));
  if (include) return { selected: true, reason: `included by filter ${describeFilter(include)}`, filter: include };
  return { selected: false, reason: 'no INCLUDE filter matches' };
}

/** Whether the link shadows a source topic, and why. */
export function topicFilterDecision(name: string, cfg: ShadowLinkConfig): FilterDecision {
  if (isInternalTopic(name)) return { selected: false, reason: `'${name}' is an internal topic and is never shadowed` };
  if (name === SCHEMAS_TOPIC) {
    return cfg.schemaRegistrySync.shadowSchemaRegistryTopic
      ? { selected: true, reason: 'schema_registry_sync_options.shadow_schema_registry_topic is set' }
      : { selected: false, reason: `'${SCHEMAS_TOPIC}' is shadowed only with schema_registry_sync_options.shadow_schema_registry_topic` };
  }
  return evaluateNameFilters(cfg.topicMetadataSync.autoCreateShadowTopicFilters, name);
}

export function isTopicShadowed(name: string, cfg: ShadowLinkConfig): boolean {
  return topicFilterDecision(name, cfg).selected;
}

/** The source topics (from a Metadata listing) this link shadows, in the order given. */
export function selectShadowedTopics(sourceTopics: Iterable<string>, cfg: ShadowLinkConfig): string[] {
  const out: string[] = [];
  for (const t of sourceTopics) if (isTopicShadowed(t, cfg)) out.push(t);
  return out;
}

/** Whether the link syncs a source consumer group's committed offsets (by group_filters). */
export function isGroupSynced(groupId: string, cfg: ShadowLinkConfig): boolean {
  return evaluateNameFilters(cfg.consumerOffsetSync.groupFilters, groupId).selected;
}

// ---- synced topic properties --------------------------------------------------------------------------------

/** Always kept equal to the source (besides the partition count, which always follows the source too). */
export const ALWAYS_SYNCED_TOPIC_PROPERTIES: readonly string[] = Object.freeze([
  'max.message.bytes',
  'cleanup.policy',
  'message.timestamp.type',
]);

/** Kept equal to the source unless topic_metadata_sync_options.exclude_default (as is the replication factor). */
export const DEFAULT_SYNCED_TOPIC_PROPERTIES: readonly string[] = Object.freeze([
  'compression.type',
  'retention.bytes',
  'retention.ms',
  'delete.retention.ms',
  'min.compaction.lag.ms',
  'max.compaction.lag.ms',
]);

/**
 * Whether a topic config is synced from the source on this link's shadow topics. The broker refuses local changes
 * to these while the topic is shadowed; every other property may be set locally.
 */
export function isSyncedProperty(name: string, cfg: ShadowLinkConfig): boolean {
  if (ALWAYS_SYNCED_TOPIC_PROPERTIES.includes(name)) return true;
  if (!cfg.topicMetadataSync.excludeDefault && DEFAULT_SYNCED_TOPIC_PROPERTIES.includes(name)) return true;
  return cfg.topicMetadataSync.syncedShadowTopicProperties.includes(name);
}

/** Every topic config name this link syncs, sorted. */
export function syncedPropertyNames(cfg: ShadowLinkConfig): string[] {
  const names = new Set<string>(ALWAYS_SYNCED_TOPIC_PROPERTIES);
  if (!cfg.topicMetadataSync.excludeDefault) for (const n of DEFAULT_SYNCED_TOPIC_PROPERTIES) names.add(n);
  for (const n of cfg.topicMetadataSync.syncedShadowTopicProperties) names.add(n);
  return [...names].sort();
}

/** Whether the replication factor follows the source (it is in the "synced by default" set). */
export function isReplicationFactorSynced(cfg: ShadowLinkConfig): boolean {
  return !cfg.topicMetadataSync.excludeDefault;
}

/** What topic sync learned about a source topic (Metadata + DescribeConfigs). */
export interface SourceTopicDescription {
  partitionCount: number;
  replicationFactor: number;
  /** config name → value; null or undefined = the source reported no value (leave the shadow's own default) */
  configs: Readonly<Record<string, string | null | undefined>>;
}

/** What to create / alter on the shadow topic. */
export interface ShadowTopicSettings {
  partitionCount: number;
  /** the source's replication factor when synced (the caller caps it at the shadow's broker count), else undefined */
  replicationFactor: number | undefined;
  /** the synced configs the source has values for */
  configs: Record<string, string>;
}

/** Picks, from a source topic's description, what the shadow topic must carry. */
export function shadowTopicSettings(source: SourceTopicDescription, cfg: ShadowLinkConfig): ShadowTopicSettings {
  const configs: Record<string, string> = {};
  for (const name of Object.keys(source.configs).sort()) {
    const value = source.configs[name];
    if (value !== null && value !== undefined && isSyncedProperty(name, cfg)) configs[name] = value;
  }
  return {
    partitionCount: source.partitionCount,
    replicationFactor: isReplicationFactorSynced(cfg) ? source.replicationFactor : undefined,
    configs,
  };
}

// ---- overlapping links --------------------------------------------------------------------------------------

function overlap(a: string, b: string, topic: string, message: string): LinkOverlap {
  return { links: [a, b], topic, message };
}

/**
 * Source topics that two or more links would both shadow. For each such topic one entry per pair of links, in the
 * order the links were given.
 */
export function findTopicOverlaps(links: readonly ShadowLinkConfig[], sourceTopics: Iterable<string>): LinkOverlap[] {
  const out: LinkOverlap[] = [];
  for (const topic of sourceTopics) {
    const claiming = links.filter((l) => isTopicShadowed(topic, l));
    for (let i = 0; i < claiming.length; i++) {
      for (let j = i + 1; j < claiming.length; j++) {
        const a = claiming[i]!.name;
        const b = claiming[j]!.name;
        out.push(overlap(a, b, topic, `topic '${topic}' is claimed by shadow links '${a}' and '${b}'; a topic can be shadowed by one link only`));
      }
    }
  }
  return out;
}

/**
 * Overlaps visible from the configs alone, before any topic exists: a LITERAL topic one link includes that another
 * link also selects (identical LITERAL includes among them), both links including every topic with `*`, and both
 * shadowing `_schemas`. Prefix-against-prefix overlaps depend on the actual topic names: findTopicOverlaps.
 */
export function findStaticOverlaps(links: readonly ShadowLinkConfig[]): LinkOverlap[] {
  const out: LinkOverlap[] = [];
  const seen = new Set<string>();
  const add = (o: LinkOverlap): void => {
    const key = JSON.stringify([o.links, o.topic]);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(o);
    }
  };
  const literalIncludes = (l: ShadowLinkConfig): string[] =>
    l.topicMetadataSync.autoCreateShadowTopicFilters
      .filter((f) => f.filterType === 'INCLUDE' && f.patternType === 'LITERAL')
      .map((f) => f.name);
  for (let i = 0; i < links.length; i++) {
    for (let j = i + 1; j < links.length; j++) {
      const a = links[i]!;
      const b = links[j]!;
      const la = literalIncludes(a);
      const lb = literalIncludes(b);
      if (la.includes(MATCH_ALL) && lb.includes(MATCH_ALL)) {
        add(overlap(a.name, b.name, MATCH_ALL, `shadow links '${a.name}' and '${b.name}' both include every topic ('*'); a topic can be shadowed by one link only`));
      }
      for (const [self, other, names] of [[a, b, la], [b, a, lb]] as const) {
        for (const topic of names) {
          if (topic === MATCH_ALL || !isTopicShadowed(topic, self) || !isTopicShadowed(topic, other)) continue;
          add(overlap(a.name, b.name, topic, `topic '${topic}' is included by shadow link '${self.name}' and also selected by '${other.name}'; a topic can be shadowed by one link only`));
        }
      }
      if (a.schemaRegistrySync.shadowSchemaRegistryTopic && b.schemaRegistrySync.shadowSchemaRegistryTopic) {
        add(overlap(a.name, b.name, SCHEMAS_TOPIC, `shadow links '${a.name}' and '${b.name}' both shadow '${SCHEMAS_TOPIC}'; pick one link for schema registry sync`));
      }
    }
  }
  return out;
}

/**
 * Throws ShadowLinkOverlapError when the links overlap statically or, given the source's topic names, on a
 * concrete topic. Meant for link create/update: pass the existing links plus the new one.
 */
export function assertNoLinkOverlap(links: readonly ShadowLinkConfig[], sourceTopics: Iterable<string> = []): void {
  const seen = new Set<string>();
  const overlaps = [...findStaticOverlaps(links), ...findTopicOverlaps(links, sourceTopics)].filter((o) => {
    const key = JSON.stringify([o.links, o.topic]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (overlaps.length > 0) throw new ShadowLinkOverlapError(overlaps);
}
