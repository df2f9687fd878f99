// Shadow link configuration: parse a link file (YAML or JSON, Redpanda's shadow-link field names, SPEC §2.3),
// validate it, and return the normalized model of types.ts; render the model back to the file format, with
// passwords redacted for every output; generate a commented template for `umbra shadow config generate`.
//
// Validation rejects rather than guesses: unknown fields, wrong types, bad durations, malformed host:port, bad
// filter enums, filters that reach internal topics, conflicting choices. Every problem is reported with the full
// path of its field in the file's own names (`client_options.bootstrap_servers[0]`), all of them at once.
//
// Compatibility notes (Redpanda's rpk/Admin API accept the same files):
//   - durations are Go durations: "5s", "1m30s", "500ms", "1h"; "0s" means the default;
//   - numeric client options of 0 mean the default, as in Redpanda;
//   - enum values are case-insensitive and may carry Redpanda's protobuf prefixes (PATTERN_TYPE_LITERAL,
//     FILTER_TYPE_INCLUDE, ACL_RESOURCE_TOPIC, ACL_OPERATION_READ, SCRAM_MECHANISM_SCRAM_SHA_256, ...).
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  AclOperation,
  AclPermissionType,
  PatternType,
  ResourceType,
  operationName,
  parseEnumName,
  patternTypeName,
  permissionTypeName,
  resourceTypeName,
  type AclBindingFilter,
} from '../security/acl.js';
import { INTERNAL_TOPICS, MATCH_ALL, SCHEMAS_TOPIC, filterMatchesName } from './filters.js';
import {
  REDACTED,
  Secret,
  ShadowConfigError,
  type ConfigIssue,
  type FilterPatternType,
  type FilterType,
  type HostPort,
  type NameFilter,
  type ScramMechanism,
  type ShadowLinkConfig,
  type SourceAuthentication,
  type SourceClientOptions,
  type SourceTls,
  type StartAt,
} from './types.js';

// ---- defaults -----------------------------------------------------------------------------------------------

/** The values a field takes when the file leaves it out (or, for numbers and durations, sets it to 0). */
export const LINK_CONFIG_DEFAULTS = Object.freeze({
  clientId: 'umbra-shadow-link',
  metadataMaxAgeMs: 10_000,
  connectionTimeoutMs: 1_000,
  retryBackoffMs: 100,
  fetchWaitMaxMs: 500,
  fetchMinBytes: 1,
  fetchMaxBytes: 20_971_520,
  fetchPartitionMaxBytes: 5_242_880,
  fetchConnectionsPerNode: 2,
  topicSyncIntervalMs: 5_000,
  consumerOffsetSyncIntervalMs: 5_000,
  securitySyncIntervalMs: 30_000,
  scramMechanism: 'SCRAM-SHA-256' as ScramMechanism,
});

const INT32_MAX = 2_147_483_647;
/** fetch connections a link may open to one source broker */
const MAX_FETCH_CONNECTIONS_PER_NODE = 16;

// ---- durations ----------------------------------------------------------------------------------------------

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go duration ("5s", "1m30s", "500ms", "1.5h", "0") to milliseconds. undefined when the text is not a
 * duration or is not a whole number of milliseconds.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    part.lastIndex = pos;
    const m = part.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNIT_MS[m[2]!]!;
    pos = part.lastIndex;
  }
  if (pos === 0) return undefined;
  const ms = Math.round(total * 1e6) / 1e6;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Renders milliseconds as the shortest exact Go duration ("5s", "1m", "1500ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

// ---- the checker --------------------------------------------------------------------------------------------

type Mapping = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a timestamp';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean '${best}'?)` : '';
}

function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

class Checker {
  readonly issues: ConfigIssue[] = [];

  add(field: string, message: string): void {
    this.issues.push({ field, message });
  }

  /** A mapping with only `known` keys; absent or null = empty. undefined when it is not a mapping. */
  mapping(v: unknown, path: string, known: readonly string[]): Mapping | undefined {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v) || v instanceof Date) {
      this.add(path, `expected a mapping, got ${typeOf(v)}`);
      return undefined;
    }
    for (const k of Object.keys(v)) {
      if (!known.includes(k)) this.add(at(path, k), `unknown field${suggestion(k, known)}`);
    }
    return v as Mapping;
  }

  list(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.add(path, `expected a list, got ${typeOf(v)}`);
      return [];
    }
    return v;
  }

  /** A string; '' and absent give undefined (unset). */
  optString(v: unknown, path: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      this.add(path, `expected a string, got ${typeOf(v)}`);
      return undefined;
    }
    return v === '' ? undefined : v;
  }

  bool(v: unknown, path: string, dflt: boolean): boolean {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') {
      this.add(path, `expected true or false, got ${typeOf(v)}`);
      return dflt;
    }
    return v;
  }

  /** A non-negative int32; 0 or absent = the default. */
  intOrDefault(v: unknown, path: string, dflt: number): number {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.add(path, `expected a whole number, got ${typeOf(v)}${typeof v === 'number' ? ` (${v})` : ''}`);
      return dflt;
    }
    if (v < 0 || v > INT32_MAX) {
      this.add(path, `must be between 0 (the default, ${dflt}) and ${INT32_MAX}, got ${v}`);
      return dflt;
    }
    return v === 0 ? dflt : v;
  }

  /** A Go duration string in whole milliseconds; "0s" or absent = the default. */
  duration(v: unknown, path: string, dflt: number): number {
    if (v === undefined || v === null) return dflt;
    const hint = 'expected a duration such as "5s", "1m" or "500ms"';
    if (typeof v !== 'string') {
      this.add(path, `${hint}, got ${typeOf(v)}${typeof v === 'number' ? ` (${v}; write the unit)` : ''}`);
      return dflt;
    }
    const ms = parseDuration(v);
    if (ms === undefined) {
      this.add(path, `${hint}, got '${v}'`);
      return dflt;
    }
    if (ms > INT32_MAX) {
      this.add(path, `must be at most ${formatDuration(INT32_MAX)}, got '${v}'`);
      return dflt;
    }
    return ms === 0 ? dflt : ms;
  }

  /** An enum value: case-insensitive, Redpanda's protobuf prefix allowed, aliases mapped. */
  choice<T extends string>(v: unknown, path: string, allowed: readonly T[], prefixes: readonly string[], aliases: Readonly<Record<string, T>> = {}): T | undefined {
    if (v === undefined || v === null || v === '') {
      this.add(path, `required: one of ${allowed.join(', ')}`);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(path, `expected one of ${allowed.join(', ')}, got ${typeOf(v)}`);
      return undefined;
    }
    let norm = v.trim().toUpperCase().replace(/-/g, '_');
    for (const p of prefixes) if (norm.startsWith(p)) norm = norm.slice(p.length);
    const hit = (allowed as readonly string[]).find((a) => a.replace(/-/g, '_') === norm) ?? aliases[norm];
    if (hit === undefined) this.add(path, `expected one of ${allowed.join(', ')}, got '${v}'`);
    return hit as T | undefined;
  }
}

// ---- names --------------------------------------------------------------------------------------------------

const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic-name rule (Topic.validate), which link names follow too. undefined when valid. */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name === '.' || name === '..') return `'${name}' is not allowed`;
  if (name.length > 249) return `is ${name.length} characters long; the limit is 249`;
  if (!LEGAL_NAME.test(name)) return `'${name}' may contain only ASCII letters, digits, '.', '_' and '-'`;
  return undefined;
}

/** Parses host:port or [v6]:port. */
function parseHostPort(text: string): HostPort | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

// ---- sections -----------------------------------------------------------------------------------------------

export interface ParseLinkConfigOptions {
  /**
   * Accept a username whose password is absent or `[REDACTED]` (the output of describe), leaving
   * `password` undefined for inheritSecrets to fill from the stored link. For updates; creation needs the password.
   */
  allowMissingPasswords?: boolean;
  /** shown in YAML syntax errors, e.g. the file name */
  origin?: string;
}

const CLIENT_OPTION_FIELDS = [
  'bootstrap_servers',
  'source_cluster_id',
  'client_id',
  'tls_settings',
  'authentication_configuration',
  'metadata_max_age_ms',
  'connection_timeout_ms',
  'retry_backoff_ms',
  'fetch_wait_max_ms',
  'fetch_min_bytes',
  'fetch_max_bytes',
  'fetch_partition_max_bytes',
  'fetch_connections_per_node',
] as const;

function checkTls(c: Checker, v: unknown, path: string, opts: ParseLinkConfigOptions): SourceTls {
  const tls: SourceTls = {
    enabled: false,
    caPath: undefined,
    certPath: undefined,
    keyPath: undefined,
    caPem: undefined,
    certPem: undefined,
    keyPem: undefined,
    doNotSetSniHostname: false,
  };
  const m = c.mapping(v, path, ['enabled', 'tls_file_settings', 'tls_pem_settings', 'do_not_set_sni_hostname']);
  if (!m) return tls;
  tls.enabled = c.bool(m['enabled'], at(path, 'enabled'), false);
  tls.doNotSetSniHostname = c.bool(m['do_not_set_sni_hostname'], at(path, 'do_not_set_sni_hostname'), false);
  const filesPath = at(path, 'tls_file_settings');
  const files = c.mapping(m['tls_file_settings'], filesPath, ['ca_path', 'cert_path', 'key_path']);
  if (files) {
    tls.caPath = c.optString(files['ca_path'], at(filesPath, 'ca_path'));
    tls.certPath = c.optString(files['cert_path'], at(filesPath, 'cert_path'));
    tls.keyPath = c.optString(files['key_path'], at(filesPath, 'key_path'));
  }
  const pemPath = at(path, 'tls_pem_settings');
  const pem = c.mapping(m['tls_pem_settings'], pemPath, ['ca', 'cert', 'key']);
  if (pem) {
    tls.caPem = c.optString(pem['ca'], at(pemPath, 'ca'));
    tls.certPem = c.optString(pem['cert'], at(pemPath, 'cert'));
    const key = c.optString(pem['key'], at(pemPath, 'key'));
    tls.keyPem = key === undefined || key === REDACTED ? undefined : new Secret(key);
    if (key === REDACTED && !opts.allowMissingPasswords) c.add(at(pemPath, 'key'), `'${REDACTED}' is a placeholder: write the PEM key`);
  }
  // A key given as `[REDACTED]` (from describe) counts as given: inheritSecrets keeps the stored one.
  const keyGiven = typeof pem?.['key'] === 'string' && pem['key'] !== '';
  const anyFile = tls.caPath ?? tls.certPath ?? tls.keyPath;
  if (anyFile !== undefined && (tls.caPem !== undefined || tls.certPem !== undefined || keyGiven)) {
    c.add(path, 'set tls_file_settings or tls_pem_settings, not both');
  }
  if ((tls.certPath === undefined) !== (tls.keyPath === undefined)) {
    c.add(tls.certPath === undefined ? at(filesPath, 'cert_path') : at(filesPath, 'key_path'), 'cert_path and key_path go together: set both or neither');
  }
  if ((tls.certPem !== undefined) !== keyGiven) {
    c.add(tls.certPem === undefined ? at(pemPath, 'cert') : at(pemPath, 'key'), 'cert and key go together: set both or neither');
  }
  return tls;
}

function checkCredentials(
  c: Checker,
  m: Mapping,
  path: string,
  opts: ParseLinkConfigOptions,
): { username: string; password: Secret | undefined } | undefined {
  const username = c.optString(m['username'], at(path, 'username'));
  const rawPassword = m['password'];
  let password: Secret | undefined;
  // Never echo the password's value in a message: only its type.
  if (rawPassword !== undefined && rawPassword !== null && typeof rawPassword !== 'string') {
    c.add(at(path, 'password'), `expected a string, got ${typeOf(rawPassword)}`);
  } else if (typeof rawPassword === 'string' && rawPassword !== '' && rawPassword !== REDACTED) {
    password = new Secret(rawPassword);
  }
  const passwordGiven = password !== undefined || rawPassword === REDACTED;
  if (username === undefined) {
    c.add(at(path, 'username'), passwordGiven ? 'a password needs a username' : 'required');
    return undefined;
  }
  if (password === undefined && !opts.allowMissingPasswords) {
    c.add(at(path, 'password'), rawPassword === REDACTED ? `'${REDACTED}' is a placeholder: write the password` : 'required with a username');
  }
  return { username, password };
}

function checkAuthentication(c: Checker, v: unknown, path: string, opts: ParseLinkConfigOptions): SourceAuthentication | undefined {
  const m = c.mapping(v, path, ['scram_configuration', 'plain_configuration']);
  if (!m) return undefined;
  const scram = m['scram_configuration'];
  const plain = m['plain_configuration'];
  const has = (x: unknown): boolean => x !== undefined && x !== null;
  if (has(scram) && has(plain)) {
    c.add(path, 'set scram_configuration or plain_configuration, not both');
    return undefined;
  }
  if (has(scram)) {
    const p = at(path, 'scram_configuration');
    const sm = c.mapping(scram, p, ['username', 'password', 'scram_mechanism']);
    if (!sm) return undefined;
    const mechanism =
      sm['scram_mechanism'] === undefined || sm['scram_mechanism'] === null || sm['scram_mechanism'] === ''
        ? LINK_CONFIG_DEFAULTS.scramMechanism
        : c.choice<ScramMechanism>(sm['scram_mechanism'], at(p, 'scram_mechanism'), ['SCRAM-SHA-256', 'SCRAM-SHA-512'], ['SCRAM_MECHANISM_']);
    const creds = checkCredentials(c, sm, p, opts);
    return creds && mechanism ? { mechanism, ...creds } : undefined;
  }
  if (has(plain)) {
    const p = at(path, 'plain_configuration');
    const pm = c.mapping(plain, p, ['username', 'password']);
    if (!pm) return undefined;
    const creds = checkCredentials(c, pm, p, opts);
    return creds ? { mechanism: 'PLAIN', ...creds } : undefined;
  }
  return undefined;
}

function checkClientOptions(c: Checker, v: unknown, opts: ParseLinkConfigOptions): SourceClientOptions {
  const path = 'client_options';
  const d = LINK_CONFIG_DEFAULTS;
  const out: SourceClientOptions = {
    bootstrapServers: [],
    sourceClusterId: undefined,
    clientId: d.clientId,
    tls: checkTls(new Checker(), undefined, '', opts),
    authentication: undefined,
    metadataMaxAgeMs: d.metadataMaxAgeMs,
    connectionTimeoutMs: d.connectionTimeoutMs,
    retryBackoffMs: d.retryBackoffMs,
    fetchWaitMaxMs: d.fetchWaitMaxMs,
    fetchMinBytes: d.fetchMinBytes,
    fetchMaxBytes: d.fetchMaxBytes,
    fetchPartitionMaxBytes: d.fetchPartitionMaxBytes,
    fetchConnectionsPerNode: d.fetchConnectionsPerNode,
  };
  if (v === undefined || v === null) {
    c.add(path, 'required (with at least bootstrap_servers)');
    return out;
  }
  const m = c.mapping(v, path, CLIENT_OPTION_FIELDS);
  if (!m) return out;

  const bsPath = at(path, 'bootstrap_servers');
  if (m['bootstrap_servers'] === undefined || m['bootstrap_servers'] === null) {
    c.add(bsPath, 'required: a list of host:port addresses of the source cluster');
  } else {
    const list = c.list(m['bootstrap_servers'], bsPath);
    if (Array.isArray(m['bootstrap_servers']) && list.length === 0) c.add(bsPath, 'must list at least one host:port');
    list.forEach((item, i) => {
      const p = `${bsPath}[${i}]`;
      if (typeof item !== 'string') return c.add(p, `expected a host:port string, got ${typeOf(item)}`);
      const hp = parseHostPort(item);
      if (!hp) return c.add(p, `expected host:port with a port from 1 to 65535 (e.g. source-1:9092), got '${item}'`);
      out.bootstrapServers.push(hp);
    });
  }
  out.sourceClusterId = c.optString(m['source_cluster_id'], at(path, 'source_cluster_id'));
  out.clientId = c.optString(m['client_id'], at(path, 'client_id')) ?? d.clientId;
  out.tls = checkTls(c, m['tls_settings'], at(path, 'tls_settings'), opts);
  out.authentication = checkAuthentication(c, m['authentication_configuration'], at(path, 'authentication_configuration'), opts);
  out.metadataMaxAgeMs = c.intOrDefault(m['metadata_max_age_ms'], at(path, 'metadata_max_age_ms'), d.metadataMaxAgeMs);
  out.connectionTimeoutMs = c.intOrDefault(m['connection_timeout_ms'], at(path, 'connection_timeout_ms'), d.connectionTimeoutMs);
  out.retryBackoffMs = c.intOrDefault(m['retry_backoff_ms'], at(path, 'retry_backoff_ms'), d.retryBackoffMs);
  out.fetchWaitMaxMs = c.intOrDefault(m['fetch_wait_max_ms'], at(path, 'fetch_wait_max_ms'), d.fetchWaitMaxMs);
  out.fetchMinBytes = c.intOrDefault(m['fetch_min_bytes'], at(path, 'fetch_min_bytes'), d.fetchMinBytes);
  out.fetchMaxBytes = c.intOrDefault(m['fetch_max_bytes'], at(path, 'fetch_max_bytes'), d.fetchMaxBytes);
  out.fetchPartitionMaxBytes = c.intOrDefault(m['fetch_partition_max_bytes'], at(path, 'fetch_partition_max_bytes'), d.fetchPartitionMaxBytes);
  if (out.fetchPartitionMaxBytes > out.fetchMaxBytes) {
    c.add(at(path, 'fetch_partition_max_bytes'), `(${out.fetchPartitionMaxBytes}) must not exceed fetch_max_bytes (${out.fetchMaxBytes})`);
  }
  if (out.fetchMinBytes > out.fetchMaxBytes) {
    c.add(at(path, 'fetch_min_bytes'), `(${out.fetchMinBytes}) must not exceed fetch_max_bytes (${out.fetchMaxBytes})`);
  }
  const lanesPath = at(path, 'fetch_connections_per_node');
  out.fetchConnectionsPerNode = c.intOrDefault(m['fetch_connections_per_node'], lanesPath, d.fetchConnectionsPerNode);
  if (out.fetchConnectionsPerNode > MAX_FETCH_CONNECTIONS_PER_NODE) {
    c.add(lanesPath, `must be at most ${MAX_FETCH_CONNECTIONS_PER_NODE}, got ${out.fetchConnectionsPerNode}`);
    out.fetchConnectionsPerNode = d.fetchConnectionsPerNode;
  }
  return out;
}

const PATTERN_TYPES: readonly FilterPatternType[] = ['LITERAL', 'PREFIX'];
const FILTER_TYPES: readonly FilterType[] = ['INCLUDE', 'EXCLUDE'];

function checkNameFilters(c: Checker, v: unknown, path: string, kind: 'topic' | 'group'): NameFilter[] {
  const out: NameFilter[] = [];
  c.list(v, path).forEach((item, i) => {
    const p = `${path}[${i}]`;
    const m = c.mapping(item, p, ['pattern_type', 'filter_type', 'name']);
    if (!m) return;
    if (item === null) return c.add(p, 'expected a filter: { pattern_type, filter_type, name }');
    const patternType = c.choice(m['pattern_type'], at(p, 'pattern_type'), PATTERN_TYPES, ['PATTERN_TYPE_'], { PREFIXED: 'PREFIX' });
    const filterType = c.choice(m['filter_type'], at(p, 'filter_type'), FILTER_TYPES, ['FILTER_TYPE_']);
    const namePath = at(p, 'name');
    const raw = m['name'];
    if (typeof raw !== 'string' || raw === '') {
      c.add(namePath, raw === undefined || raw === null || raw === '' ? `required: a ${kind} name, a prefix, or '*'` : `expected a string, got ${typeOf(raw)}`);
      return;
    }
    if (!patternType || !filterType) return;
    const name = raw;
    if (name === MATCH_ALL && patternType === 'PREFIX') {
      return c.add(namePath, `'*' means "every name" only with pattern_type LITERAL; a PREFIX '*' would match names starting with '*'`);
    }
    if (kind === 'topic' && name !== MATCH_ALL) {
      const problem = patternType === 'LITERAL' ? nameProblem(name) : LEGAL_NAME.test(name) ? undefined : `'${name}' is not a valid topic-name prefix`;
      if (problem) return c.add(namePath, problem);
    }
    const filter: NameFilter = { patternType, filterType, name };
    if (kind === 'topic' && filterType === 'INCLUDE' && name !== MATCH_ALL) {
      const internal = INTERNAL_TOPICS.find((t) => filterMatchesName(filter, t));
      if (internal) return c.add(namePath, `'${name}' would include the internal topic '${internal}', which is never shadowed`);
      if (filterMatchesName(filter, SCHEMAS_TOPIC)) {
        return c.add(namePath, `'${name}' would include '${SCHEMAS_TOPIC}'; shadow it with schema_registry_sync_options.shadow_schema_registry_topic: {}`);
      }
    }
    out.push(filter);
  });
  return out;
}

function checkStartAt(c: Checker, m: Mapping, path: string): StartAt {
  const given = (['start_at_earliest', 'start_at_latest', 'start_at_timestamp'] as const).filter((k) => k in m);
  if (given.length > 1) {
    c.add(at(path, given[1]!), `only one of start_at_earliest, start_at_latest, start_at_timestamp may be set (also found ${given[0]})`);
    return { kind: 'earliest' };
  }
  const key = given[0];
  if (key === undefined) return { kind: 'earliest' };
  const v = m[key];
  if (key === 'start_at_timestamp') {
    const p = at(path, key);
    let ms: number | undefined;
    if (v instanceof Date) ms = v.getTime();
    else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ms = v;
    else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v.trim())) ms = Date.parse(v.trim());
    if (ms === undefined || Number.isNaN(ms)) {
      c.add(p, `expected an RFC 3339 timestamp such as 2026-01-01T00:00:00Z (or epoch milliseconds), got ${typeof v === 'string' ? `'${v}'` : typeOf(v)}`);
      return { kind: 'earliest' };
    }
    return { kind: 'timestamp', timestampMs: ms };
  }
  // start_at_earliest / start_at_latest carry no settings: `{}` (or an empty value).
  c.mapping(v, at(path, key), []);
  return { kind: key === 'start_at_latest' ? 'latest' : 'earliest' };
}

function checkTopicSync(c: Checker, v: unknown): ShadowLinkConfig['topicMetadataSync'] {
  const path = 'topic_metadata_sync_options';
  const m =
    c.mapping(v, path, [
      'interval',
      'auto_create_shadow_topic_filters',
      'synced_shadow_topic_properties',
      'exclude_default',
      'start_at_earliest',
      'start_at_latest',
      'start_at_timestamp',
      'paused',
    ]) ?? {};
  const props: string[] = [];
  const propsPath = at(path, 'synced_shadow_topic_properties');
  c.list(m['synced_shadow_topic_properties'], propsPath).forEach((item, i) => {
    const p = `${propsPath}[${i}]`;
    if (typeof item !== 'string') return c.add(p, `expected a topic property name, got ${typeOf(item)}`);
    if (!/^[a-z0-9]+([._-][a-z0-9]+)*$/.test(item)) return c.add(p, `'${item}' is not a topic property name (e.g. segment.bytes)`);
    if (!props.includes(item)) props.push(item);
  });
  return {
    intervalMs: c.duration(m['interval'], at(path, 'interval'), LINK_CONFIG_DEFAULTS.topicSyncIntervalMs),
    autoCreateShadowTopicFilters: checkNameFilters(c, m['auto_create_shadow_topic_filters'], at(path, 'auto_create_shadow_topic_filters'), 'topic'),
    syncedShadowTopicProperties: props,
    excludeDefault: c.bool(m['exclude_default'], at(path, 'exclude_default'), false),
    startAt: checkStartAt(c, m, path),
    paused: c.bool(m['paused'], at(path, 'paused'), false),
  };
}

function checkOffsetSync(c: Checker, v: unknown): ShadowLinkConfig['consumerOffsetSync'] {
  const path = 'consumer_offset_sync_options';
  const m = c.mapping(v, path, ['interval', 'paused', 'group_filters']) ?? {};
  return {
    intervalMs: c.duration(m['interval'], at(path, 'interval'), LINK_CONFIG_DEFAULTS.consumerOffsetSyncIntervalMs),
    paused: c.bool(m['paused'], at(path, 'paused'), false),
    groupFilters: checkNameFilters(c, m['group_filters'], at(path, 'group_filters'), 'group'),
  };
}

const RESOURCE_TYPES = ['ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN', 'USER'] as const;
const ACL_PATTERN_TYPES = ['ANY', 'MATCH', 'LITERAL', 'PREFIXED'] as const;
const OPERATIONS = Object.keys(AclOperation).filter((k) => k !== 'UNKNOWN');
const PERMISSION_TYPES = ['ANY', 'ALLOW', 'DENY'] as const;

function checkAclFilters(c: Checker, v: unknown, path: string): AclBindingFilter[] {
  const out: AclBindingFilter[] = [];
  c.list(v, path).forEach((item, i) => {
    const p = `${path}[${i}]`;
    const m = c.mapping(item, p, ['resource_filter', 'access_filter']);
    if (!m) return;
    const rp = at(p, 'resource_filter');
    const ap = at(p, 'access_filter');
    const r = c.mapping(m['resource_filter'], rp, ['resource_type', 'pattern_type', 'name']) ?? {};
    const a = c.mapping(m['access_filter'], ap, ['principal', 'operation', 'permission_type', 'host']) ?? {};
    const orAny = (x: unknown): unknown => (x === undefined || x === null || x === '' ? 'ANY' : x);
    const resourceType = c.choice(orAny(r['resource_type']), at(rp, 'resource_type'), RESOURCE_TYPES, ['ACL_RESOURCE_', 'RESOURCE_TYPE_'], { TXN_ID: 'TRANSACTIONAL_ID', TRANSACTIONALID: 'TRANSACTIONAL_ID' });
    const patternType = c.choice(orAny(r['pattern_type']), at(rp, 'pattern_type'), ACL_PATTERN_TYPES, ['ACL_PATTERN_', 'PATTERN_TYPE_'], { PREFIX: 'PREFIXED' });
    const operation = c.choice(orAny(a['operation']), at(ap, 'operation'), OPERATIONS, ['ACL_OPERATION_', 'OPERATION_']);
    const permissionType = c.choice(orAny(a['permission_type']), at(ap, 'permission_type'), PERMISSION_TYPES, ['ACL_PERMISSION_TYPE_', 'PERMISSION_TYPE_']);
    const resourceName = c.optString(r['name'], at(rp, 'name')) ?? null;
    const principal = c.optString(a['principal'], at(ap, 'principal')) ?? null;
    const host = c.optString(a['host'], at(ap, 'host')) ?? null;
    if (principal !== null && !principal.includes(':')) c.add(at(ap, 'principal'), `expected Type:name such as User:alice, got '${principal}'`);
    if (!resourceType || !patternType || !operation || !permissionType) return;
    out.push({
      resourceType: ResourceType[resourceType],
      resourceName,
      patternType: PatternType[patternType],
      principal,
      host,
      operation: parseEnumName(AclOperation, operation) ?? AclOperation.ANY,
      permissionType: AclPermissionType[permissionType],
    });
  });
  return out;
}

function checkSecuritySync(c: Checker, v: unknown): ShadowLinkConfig['securitySync'] {
  const path = 'security_sync_options';
  const m = c.mapping(v, path, ['interval', 'paused', 'acl_filters']) ?? {};
  return {
    intervalMs: c.duration(m['interval'], at(path, 'interval'), LINK_CONFIG_DEFAULTS.securitySyncIntervalMs),
    paused: c.bool(m['paused'], at(path, 'paused'), false),
    aclFilters: checkAclFilters(c, m['acl_filters'], at(path, 'acl_filters')),
  };
}

function checkSchemaSync(c: Checker, v: unknown): ShadowLinkConfig['schemaRegistrySync'] {
  const path = 'schema_registry_sync_options';
  const m = c.mapping(v, path, ['shadow_schema_registry_topic']) ?? {};
  const p = at(path, 'shadow_schema_registry_topic');
  const s = m['shadow_schema_registry_topic'];
  if (!('shadow_schema_registry_topic' in m) || s === false) return { shadowSchemaRegistryTopic: false };
  if (s !== true) c.mapping(s, p, []);
  return { shadowSchemaRegistryTopic: true };
}

const TOP_LEVEL_FIELDS = [
  'name',
  'client_options',
  'topic_metadata_sync_options',
  'consumer_offset_sync_options',
  'security_sync_options',
  'schema_registry_sync_options',
] as const;

/**
 * Validates an already-decoded link document (a REST request body, or the YAML decoded) and returns the normalized
 * config. Throws ShadowConfigError listing every problem, each with its field's full path.
 */
export function validateLinkConfig(doc: unknown, opts: ParseLinkConfigOptions = {}): ShadowLinkConfig {
  const c = new Checker();
  if (doc === undefined || doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ShadowConfigError([{ field: '', message: `expected a mapping with name and client_options, got ${typeOf(doc)}` }]);
  }
  const m = c.mapping(doc, '', TOP_LEVEL_FIELDS) ?? {};
  const rawName = m['name'];
  let name = '';
  if (rawName === undefined || rawName === null || rawName === '') c.add('name', 'required');
  else if (typeof rawName !== 'string') c.add('name', `expected a string, got ${typeOf(rawName)}`);
  else {
    const problem = nameProblem(rawName);
    if (problem) c.add('name', `${problem} (a link name follows the topic-name rules)`);
    else name = rawName;
  }
  const cfg: ShadowLinkConfig = {
    name,
    clientOptions: checkClientOptions(c, m['client_options'], opts),
    topicMetadataSync: checkTopicSync(c, m['topic_metadata_sync_options']),
    consumerOffsetSync: checkOffsetSync(c, m['consumer_offset_sync_options']),
    securitySync: checkSecuritySync(c, m['security_sync_options']),
    schemaRegistrySync: checkSchemaSync(c, m['schema_registry_sync_options']),
  };
  if (c.issues.length > 0) throw new ShadowConfigError(c.issues);
  return cfg;
}

/** Parses a link file (YAML, or JSON, which YAML reads too) and validates it: see validateLinkConfig. */
export function parseLinkConfig(text: string, opts: ParseLinkConfigOptions = {}): ShadowLinkConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    // YAML's message quotes the offending line; with a password on it, that would leak. Keep the position only.
    const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    const code = (err as { code?: string }).code ?? 'syntax error';
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    throw new ShadowConfigError([{ field: '', message: `${opts.origin ? `${opts.origin}: ` : ''}not valid YAML or JSON (${code}${where})` }]);
  }
  return validateLinkConfig(doc, opts);
}

// ---- rendering ----------------------------------------------------------------------------------------------

/** A link config in the file format (snake_case, Go durations), as the API and CLI show it. */
export interface LinkConfigDocument {
  name: string;
  client_options: {
    bootstrap_servers: string[];
    source_cluster_id: string;
    client_id: string;
    tls_settings: {
      enabled: boolean;
      tls_file_settings?: { ca_path: string; cert_path: string; key_path: string };
      tls_pem_settings?: { ca: string; cert: string; key: string };
      do_not_set_sni_hostname: boolean;
    };
    authentication_configuration: {
      scram_configuration?: { username: string; password: string; scram_mechanism: ScramMechanism };
      plain_configuration?: { username: string; password: string };
    };
    metadata_max_age_ms: number;
    connection_timeout_ms: number;
    retry_backoff_ms: number;
    fetch_wait_max_ms: number;
    fetch_min_bytes: number;
    fetch_max_bytes: number;
    fetch_partition_max_bytes: number;
    fetch_connections_per_node: number;
  };
  topic_metadata_sync_options: {
    interval: string;
    auto_create_shadow_topic_filters: Array<{ pattern_type: FilterPatternType; filter_type: FilterType; name: string }>;
    synced_shadow_topic_properties: string[];
    exclude_default: boolean;
    start_at_earliest?: Record<string, never>;
    start_at_latest?: Record<string, never>;
    start_at_timestamp?: string;
    paused: boolean;
  };
  consumer_offset_sync_options: {
    interval: string;
    paused: boolean;
    group_filters: Array<{ pattern_type: FilterPatternType; filter_type: FilterType; name: string }>;
  };
  security_sync_options: {
    interval: string;
    paused: boolean;
    acl_filters: Array<{
      resource_filter: { resource_type: string; pattern_type: string; name: string };
      access_filter: { principal: string; operation: string; permission_type: string; host: string };
    }>;
  };
  schema_registry_sync_options: { shadow_schema_registry_topic?: Record<string, never> };
}

export interface RenderOptions {
  /**
   * Put the real passwords and PEM key in the document. Only for the link store, which must persist them; every
   * output goes through redactLinkConfig instead.
   */
  revealSecrets?: boolean;
}

function secretText(s: Secret | undefined, reveal: boolean): string {
  if (s === undefined) return reveal ? '' : REDACTED;
  return reveal ? s.reveal() : REDACTED;
}

function renderFilters(filters: readonly NameFilter[]): LinkConfigDocument['consumer_offset_sync_options']['group_filters'] {
  return filters.map((f) => ({ pattern_type: f.patternType, filter_type: f.filterType, name: f.name }));
}

/** Renders the config in the file format. Passwords are redacted unless `revealSecrets`. parseLinkConfig reads it back. */
export function toLinkConfigDocument(cfg: ShadowLinkConfig, opts: RenderOptions = {}): LinkConfigDocument {
  const reveal = opts.revealSecrets === true;
  const co = cfg.clientOptions;
  const tls: LinkConfigDocument['client_options']['tls_settings'] = { enabled: co.tls.enabled, do_not_set_sni_hostname: co.tls.doNotSetSniHostname };
  if (co.tls.caPem !== undefined || co.tls.certPem !== undefined || co.tls.keyPem !== undefined) {
    tls.tls_pem_settings = { ca: co.tls.caPem ?? '', cert: co.tls.certPem ?? '', key: co.tls.keyPem ? secretText(co.tls.keyPem, reveal) : '' };
  } else {
    tls.tls_file_settings = { ca_path: co.tls.caPath ?? '', cert_path: co.tls.certPath ?? '', key_path: co.tls.keyPath ?? '' };
  }
  const auth: LinkConfigDocument['client_options']['authentication_configuration'] = {};
  const a = co.authentication;
  if (a?.mechanism === 'PLAIN') auth.plain_configuration = { username: a.username, password: secretText(a.password, reveal) };
  else if (a) auth.scram_configuration = { username: a.username, password: secretText(a.password, reveal), scram_mechanism: a.mechanism };
  const ts = cfg.topicMetadataSync;
  const topicSync: LinkConfigDocument['topic_metadata_sync_options'] = {
    interval: formatDuration(ts.intervalMs),
    auto_create_shadow_topic_filters: renderFilters(ts.autoCreateShadowTopicFilters),
    synced_shadow_topic_properties: [...ts.syncedShadowTopicProperties],
    exclude_default: ts.excludeDefault,
    paused: ts.paused,
  };
  if (ts.startAt.kind === 'earliest') topicSync.start_at_earliest = {};
  else if (ts.startAt.kind === 'latest') topicSync.start_at_latest = {};
  else topicSync.start_at_timestamp = new Date(ts.startAt.timestampMs).toISOString();
  return {
    name: cfg.name,
    client_options: {
      bootstrap_servers: co.bootstrapServers.map(formatHostPort),
      source_cluster_id: co.sourceClusterId ?? '',
      client_id: co.clientId,
      tls_settings: tls,
      authentication_configuration: auth,
      metadata_max_age_ms: co.metadataMaxAgeMs,
      connection_timeout_ms: co.connectionTimeoutMs,
      retry_backoff_ms: co.retryBackoffMs,
      fetch_wait_max_ms: co.fetchWaitMaxMs,
      fetch_min_bytes: co.fetchMinBytes,
      fetch_max_bytes: co.fetchMaxBytes,
      fetch_partition_max_bytes: co.fetchPartitionMaxBytes,
      fetch_connections_per_node: co.fetchConnectionsPerNode,
    },
    topic_metadata_sync_options: topicSync,
    consumer_offset_sync_options: {
      interval: formatDuration(cfg.consumerOffsetSync.intervalMs),
      paused: cfg.consumerOffsetSync.paused,
      group_filters: renderFilters(cfg.consumerOffsetSync.groupFilters),
    },
    security_sync_options: {
      interval: formatDuration(cfg.securitySync.intervalMs),
      paused: cfg.securitySync.paused,
      acl_filters: cfg.securitySync.aclFilters.map((f) => ({
        resource_filter: { resource_type: resourceTypeName(f.resourceType), pattern_type: patternTypeName(f.patternType), name: f.resourceName ?? '' },
        access_filter: { principal: f.principal ?? '', operation: operationName(f.operation), permission_type: permissionTypeName(f.permissionType), host: f.host ?? '' },
      })),
    },
    schema_registry_sync_options: cfg.schemaRegistrySync.shadowSchemaRegistryTopic ? { shadow_schema_registry_topic: {} } : {},
  };
}

/** The config in the file format with every password (and PEM private key) replaced by `[REDACTED]`: for any output. */
export function redactLinkConfig(cfg: ShadowLinkConfig): LinkConfigDocument {
  return toLinkConfigDocument(cfg, { revealSecrets: false });
}

/** The redacted config as YAML (what `umbra shadow describe --format yaml` prints). */
export function formatLinkConfigYaml(cfg: ShadowLinkConfig): string {
  return stringifyYaml(redactLinkConfig(cfg));
}

const SECRET_FIELDS = new Set(['password', 'key']);

/**
 * Redacts a raw, unvalidated link document (e.g. a request body echoed in an error or a log line): every
 * `password`, and the `key` of tls_pem_settings, becomes `[REDACTED]`. Returns a copy.
 */
export function redactLinkDocument(doc: unknown, parentKey = ''): unknown {
  if (Array.isArray(doc)) return doc.map((v) => redactLinkDocument(v, parentKey));
  if (doc === null || typeof doc !== 'object' || doc instanceof Date) return doc;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    const secret = k === 'password' || (SECRET_FIELDS.has(k) && parentKey === 'tls_pem_settings');
    out[k] = secret && v !== undefined && v !== null && v !== '' ? REDACTED : redactLinkDocument(v, k);
  }
  return out;
}

// ---- updates ------------------------------------------------------------------------------------------------

/**
 * For an update parsed with allowMissingPasswords: fills a password left out (or `[REDACTED]`) from the stored
 * link, when the username and mechanism are unchanged; throws ShadowConfigError when there is none to keep.
 */
export function inheritSecrets(next: ShadowLinkConfig, prev: ShadowLinkConfig): ShadowLinkConfig {
  const issues: ConfigIssue[] = [];
  let authentication = next.clientOptions.authentication;
  if (authentication && authentication.password === undefined) {
    const old = prev.clientOptions.authentication;
    const kind = authentication.mechanism === 'PLAIN' ? 'plain_configuration' : 'scram_configuration';
    // A stored password is only ever sent where it was sent before: someone who sees `[REDACTED]` must not be
    // able to point the link (and so the password) at a server of their choosing.
    const destination = (c: ShadowLinkConfig): string =>
      JSON.stringify([c.clientOptions.bootstrapServers.map(formatHostPort).sort(), c.clientOptions.tls.enabled, c.clientOptions.tls.caPath ?? '', c.clientOptions.tls.caPem ?? '']);
    if (old && old.password && old.username === authentication.username && old.mechanism === authentication.mechanism && destination(prev) === destination(next)) {
      authentication = { ...authentication, password: old.password };
    } else {
      issues.push({
        field: `client_options.authentication_configuration.${kind}.password`,
        message:
          old && old.username === authentication.username && old.mechanism === authentication.mechanism
            ? 'required: the source address or TLS settings changed, so the stored password is not sent to the new destination'
            : 'required: the username or mechanism changed, so the stored password cannot be kept',
      });
    }
  }
  let tls = next.clientOptions.tls;
  if (tls.certPem !== undefined && tls.keyPem === undefined) {
    if (prev.clientOptions.tls.keyPem) tls = { ...tls, keyPem: prev.clientOptions.tls.keyPem };
    else issues.push({ field: 'client_options.tls_settings.tls_pem_settings.key', message: 'required with cert' });
  }
  if (issues.length > 0) throw new ShadowConfigError(issues);
  return { ...next, clientOptions: { ...next.clientOptions, authentication, tls } };
}

/** Checks what an update may not change (the name is immutable). Throws ShadowConfigError. */
export function checkLinkUpdate(prev: ShadowLinkConfig, next: ShadowLinkConfig): void {
  if (prev.name !== next.name) {
    throw new ShadowConfigError([{ field: 'name', message: `is immutable: the link is '${prev.name}', the update says '${next.name}'` }]);
  }
}

// ---- template -----------------------------------------------------------------------------------------------

/**
 * A commented link file for `umbra shadow config generate`: every field with its default, placeholders to edit.
 * It parses and validates as is (a link named `name` to source-1:9092 shadowing nothing until filters are edited).
 */
export function generateLinkConfigTemplate(name = 'dr'): string {
  const problem = nameProblem(name);
  if (problem) throw new ShadowConfigError([{ field: 'name', message: problem }]);
  const d = LINK_CONFIG_DEFAULTS;
  return `# Shadow link configuration (field names follow Redpanda's shadow-link format).
# Create the link with:  umbra shadow create -c <this file>
# Reference of every field: docs/shadow-link-config.md

# The link's name: letters, digits, '.', '_', '-'. It cannot change after creation.
name: ${name}

# How the shadow cluster reaches the source. The source needs no configuration: it only sees a Kafka client.
client_options:
  # host:port of one or more source brokers.
  bootstrap_servers:
    - "source-1:9092"
  # Optional: the source's cluster id; the link refuses to replicate from a cluster with another id.
  source_cluster_id: ""
  tls_settings:
    enabled: false
    # PEM files on the shadow broker (or tls_pem_settings: { ca, cert, key } with inline PEM).
    tls_file_settings:
      ca_path: ""
      cert_path: ""
      key_path: ""
  # Optional SASL credentials of a source user allowed to read the shadowed topics, describe their configs,
  # describe consumer groups and ACLs. Passwords are write-only: no output ever shows them.
  authentication_configuration: {}
  #   scram_configuration:
  #     username: shadow-link
  #     password: change-me
  #     scram_mechanism: SCRAM-SHA-256      # or SCRAM-SHA-512
  #   plain_configuration:                  # or SASL PLAIN (use it with TLS)
  #     username: shadow-link
  #     password: change-me
  # Kafka client tuning (0 = the default shown).
  metadata_max_age_ms: ${d.metadataMaxAgeMs}
  connection_timeout_ms: ${d.connectionTimeoutMs}
  retry_backoff_ms: ${d.retryBackoffMs}
  fetch_wait_max_ms: ${d.fetchWaitMaxMs}
  fetch_min_bytes: ${d.fetchMinBytes}
  fetch_max_bytes: ${d.fetchMaxBytes}
  fetch_partition_max_bytes: ${d.fetchPartitionMaxBytes}
  # Fetch connections per source broker (1-${MAX_FETCH_CONNECTIONS_PER_NODE}): one more than the long polls it keeps open at once.
  fetch_connections_per_node: ${d.fetchConnectionsPerNode}

# Which source topics are shadowed, and how shadow topics are created and kept in sync.
topic_metadata_sync_options:
  # How often the source's topic list, partition counts and properties are checked ("5s", "1m", "500ms").
  interval: ${formatDuration(d.topicSyncIntervalMs)}
  # pattern_type: LITERAL (exact name; '*' alone = every topic) or PREFIX.
  # filter_type: INCLUDE or EXCLUDE. EXCLUDE wins; a topic no INCLUDE matches is not shadowed.
  # Internal topics are never shadowed; _schemas only through schema_registry_sync_options.
  auto_create_shadow_topic_filters:
    - pattern_type: LITERAL
      filter_type: INCLUDE
      name: "*"
  #  - pattern_type: PREFIX
  #    filter_type: EXCLUDE
  #    name: "scratch_"
  # Always synced: partition count, max.message.bytes, cleanup.policy, message.timestamp.type.
  # Synced unless exclude_default: compression.type, retention.bytes, retention.ms, delete.retention.ms,
  # min.compaction.lag.ms, max.compaction.lag.ms and the replication factor. Add others here:
  synced_shadow_topic_properties: []
  exclude_default: false
  # Where a new shadow topic starts: start_at_earliest: {}, start_at_latest: {},
  # or start_at_timestamp: 2026-01-01T00:00:00Z. Set one.
  start_at_earliest: {}
  paused: false

# Committed offsets of the selected source consumer groups, for shadowed topics, clamped to the shadow's data.
consumer_offset_sync_options:
  interval: ${formatDuration(d.consumerOffsetSyncIntervalMs)}
  paused: false
  group_filters:
    - pattern_type: LITERAL
      filter_type: INCLUDE
      name: "*"

# ACLs copied from the source: each filter is a resource_filter and an access_filter (Kafka ACL filter fields;
# a field left out matches anything). ACLs created locally are never touched.
security_sync_options:
  interval: ${formatDuration(d.securitySyncIntervalMs)}
  paused: false
  acl_filters: []
  #  - resource_filter: { resource_type: TOPIC, pattern_type: PREFIXED, name: "a_" }
  #    access_filter: { principal: "User:app", operation: ANY, permission_type: ANY, host: "*" }

# Schema registry: set shadow_schema_registry_topic: {} to shadow the _schemas topic.
schema_registry_sync_options: {}
#  shadow_schema_registry_topic: {}
`;
}
