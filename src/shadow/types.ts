// The shadow link configuration model, normalized: what config.ts returns after parsing and validating a link file
// written in Redpanda's shadow-link format (SPEC §2.3; docs/shadow-link-config.md is the field reference).
//
// The file speaks snake_case and Go durations (`interval: 5s`); this model speaks camelCase and milliseconds, so the
// rest of shadow/ never parses a string twice. config.ts also renders the model back to the file format
// (toLinkConfigDocument), which is what the API and CLI show.
//
// Secrets. A password (and an inline TLS private key) is held in a `Secret`: a class whose only copy of the value
// is an ECMAScript private field (#value). Private fields are invisible to JSON.stringify, Object.keys/entries,
// spread, structuredClone and util.inspect; on top of that toJSON, toString, Symbol.toPrimitive and
// util.inspect.custom all answer the marker. So a parsed config can be logged, serialized or interpolated into a
// message without leaking; the one way to the value is an explicit `secret.reveal()` (the source client, when it
// authenticates, and the link store, when it persists).
import { inspect } from 'node:util';
import type { AclBindingFilter } from '../security/acl.js';

/** What every output (API, CLI, logs) shows instead of a password. Equal to log.ts's REDACTED (a test checks). */
export const REDACTED = '[REDACTED]';

/** A write-only string: see the header comment. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The plain value. Call it only where the value is needed (authentication, the link store), never for output. */
  reveal(): string {
    return this.#value;
  }

  /** Compares without revealing (for "did the password change?" on update). */
  equals(other: Secret | undefined): boolean {
    return other !== undefined && other.#value === this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export interface HostPort {
  host: string;
  port: number;
}

/** LITERAL: the exact name (`*` alone = every name); PREFIX: names starting with `name`. */
export type FilterPatternType = 'LITERAL' | 'PREFIX';
/** EXCLUDE wins over INCLUDE; a name no INCLUDE matches is not selected. */
export type FilterType = 'INCLUDE' | 'EXCLUDE';

/** A topic or consumer-group name filter (`auto_create_shadow_topic_filters[]`, `group_filters[]`). */
export interface NameFilter {
  patternType: FilterPatternType;
  filterType: FilterType;
  name: string;
}

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/**
 * SASL credentials for the source. `password` undefined means "not given": the file said `[REDACTED]` (it was
 * produced by `describe`), so an update keeps the stored password (see inheritSecrets in config.ts).
 */
export type SourceAuthentication =
  | { mechanism: ScramMechanism; username: string; password: Secret | undefined }
  | { mechanism: 'PLAIN'; username: string; password: Secret | undefined };

export interface SourceTls {
  enabled: boolean;
  /** PEM files on the shadow broker's disk (`tls_file_settings`) */
  caPath: string | undefined;
  certPath: string | undefined;
  keyPath: string | undefined;
  /** inline PEM (`tls_pem_settings`); the private key is a secret */
  caPem: string | undefined;
  certPem: string | undefined;
  keyPem: Secret | undefined;
  doNotSetSniHostname: boolean;
}

export interface SourceClientOptions {
  bootstrapServers: HostPort[];
  /** when set, the link refuses a source whose cluster id differs (guards against pointing at the wrong cluster) */
  sourceClusterId: string | undefined;
  clientId: string;
  tls: SourceTls;
  authentication: SourceAuthentication | undefined;
  metadataMaxAgeMs: number;
  connectionTimeoutMs: number;
  retryBackoffMs: number;
  fetchWaitMaxMs: number;
  fetchMinBytes: number;
  fetchMaxBytes: number;
  fetchPartitionMaxBytes: number;
  /** fetch connections ("lanes") per source broker: up to this many − 1 long polls at once, plus one that never waits long */
  fetchConnectionsPerNode: number;
}

/** Where a new shadow partition starts replicating. */
export type StartAt = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'timestamp'; timestampMs: number };

export interface TopicMetadataSyncOptions {
  intervalMs: number;
  autoCreateShadowTopicFilters: NameFilter[];
  /** extra topic properties to sync on top of the always/default sets (filters.ts) */
  syncedShadowTopicProperties: string[];
  /** true: do not sync the "synced by default" properties (compression, retention, compaction lags, RF) */
  excludeDefault: boolean;
  startAt: StartAt;
  paused: boolean;
}

export interface ConsumerOffsetSyncOptions {
  intervalMs: number;
  paused: boolean;
  groupFilters: NameFilter[];
}

export interface SecuritySyncOptions {
  intervalMs: number;
  paused: boolean;
  /** Kafka ACL binding filters (the security module's type, usable as-is for DescribeAcls and filterMatches) */
  aclFilters: AclBindingFilter[];
}

export interface SchemaRegistrySyncOptions {
  /** true: the `_schemas` topic is shadowed like any other topic */
  shadowSchemaRegistryTopic: boolean;
}

/** A validated shadow link configuration with every default filled in. */
export interface ShadowLinkConfig {
  name: string;
  clientOptions: SourceClientOptions;
  topicMetadataSync: TopicMetadataSyncOptions;
  consumerOffsetSync: ConsumerOffsetSyncOptions;
  securitySync: SecuritySyncOptions;
  schemaRegistrySync: SchemaRegistrySyncOptions;
}

/** One problem found in a config: `field` is the full path in the file's own names, e.g. `client_options.bootstrap_servers[1]`. */
export interface ConfigIssue {
  field: string;
  message: string;
}

/**
 * A rejected shadow link config. `field` names the first problem's full path ('' for the document itself);
 * `issues` lists every problem found, so one round trip shows them all.
 */
export class ShadowConfigError extends Error {
  override name = 'ShadowConfigError';
  readonly field: string;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const text = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message));
    super(text.length === 1 ? `invalid shadow link config: ${text[0]}` : `invalid shadow link config:\n  - ${text.join('\n  - ')}`);
    this.issues = issues;
    this.field = issues[0]?.field ?? '';
  }
}

/** Two links claim the same topic (or could, statically). The message names both links and the topic or filter. */
export class ShadowLinkOverlapError extends Error {
  override name = 'ShadowLinkOverlapError';
  constructor(
    readonly overlaps: readonly LinkOverlap[],
  ) {
    super(overlaps.map((o) => o.message).join('; '));
  }
}

export interface LinkOverlap {
  /** the two link names, in the order given */
  links: [string, string];
  /** the topic both claim, or the filter name both include */
  topic: string;
  message: string;
}
