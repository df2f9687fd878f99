// The broker configuration: built-in defaults, then a YAML (or JSON) file, then command-line flags. The file has a
// few structured keys for what is specific to this process, and a `broker:` map of Kafka-named broker configs for
// everything a Kafka operator already knows by name:
//
//   node_id: 0
//   listen: 127.0.0.1:9092          # Kafka listener (host:port, [v6]:port)
//   admin_listen: 127.0.0.1:9644    # REST admin API and /metrics
//   advertised_host: kafka-1.internal   # optional: what Metadata tells clients (default: the listen host)
//   advertised_port: 9092           # optional (default: the bound Kafka port)
//   data_dir: ./data                # relative paths are relative to the working directory
//   log_level: info
//   broker:
//     num.partitions: 3
//     log.retention.hours: 24
//
// Unknown keys and bad values are rejected with an error naming the key, never ignored.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { BROKER_CONFIGS, brokerConfigValue, parseBrokerConfigValue } from './cluster/broker-configs.js';
import { ConfigValueError, toSafeNumber } from './cluster/config-def.js';
import { resolveTopicConfig, toLogConfig, validateTopicConfigs } from './cluster/topic-config.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import type { LogConfig } from './storage/types.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface ListenerConfig {
  name: string;
  listen: HostPort;
  advertisedHost: string;
  /** undefined = the port the listener bound */
  advertisedPort: number | undefined;
  authentication: 'none' | 'sasl';
  /** absolute paths; undefined = plaintext */
  tls: { certPath: string; keyPath: string; caPath: string | undefined; clientAuth: 'none' | 'requested' | 'required' } | undefined;
  /** Kafka's name for the combination: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL */
  securityProtocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
}

export interface BrokerConfig {
  nodeId: number;
  /** every Kafka listener; the first is the one `listen`/`advertisedHost` below describe */
  listeners: ListenerConfig[];
  saslMechanisms: SaslMechanism[];
  authorization: 'none' | 'acl';
  /** principals (`User:NAME`) every ACL check allows */
  superUsers: string[];
  allowEveryoneIfNoAclFound: boolean; // allow.everyone.if.no.acl.found
  /** Kafka listener bind address (port 0 = any free port) */
  listen: HostPort;
  /** admin REST API and /metrics bind address */
  adminListen: HostPort;
  /** host clients are told to connect to (Metadata, FindCoordinator) */
  advertisedHost: string;
  /** port clients are told to connect to; undefined = the port the Kafka listener bound */
  advertisedPort: number | undefined;
  /** absolute */
  dataDir: string;
  logLevel: LogLevel;
  /**
   * The Kafka-named broker configs set in the file or by flags, normalized: DescribeConfigs reports these with
   * source STATIC_BROKER_CONFIG, and topic configs take their broker-wide defaults from them.
   */
  staticBrokerConfigs: Readonly<Record<string, string>>;

  // Typed views of the Kafka-named settings the broker uses (each comment names the Kafka config).
  numPartitions: number; // num.partitions
  defaultReplicationFactor: number; // default.replication.factor
  autoCreateTopics: boolean; // auto.create.topics.enable
  deleteTopicEnable: boolean; // delete.topic.enable
  maxRequestBytes: number; // socket.request.max.bytes
  connectionsMaxIdleMs: number; // connections.max.idle.ms
  maxConnections: number; // max.connections
  fetchSessionCacheSlots: number; // max.incremental.fetch.session.cache.slots
  logRetentionCheckIntervalMs: number; // log.retention.check.interval.ms
  offsetsTopicNumPartitions: number; // offsets.topic.num.partitions
  offsetsTopicSegmentBytes: number; // offsets.topic.segment.bytes
  offsetsRetentionMs: number; // offsets.retention.minutes, in ms
  offsetsRetentionCheckIntervalMs: number; // offsets.retention.check.interval.ms
  groupMinSessionTimeoutMs: number; // group.min.session.timeout.ms
  groupMaxSessionTimeoutMs: number; // group.max.session.timeout.ms
  groupInitialRebalanceDelayMs: number; // group.initial.rebalance.delay.ms
  groupMaxSize: number; // group.max.size
  producerIdExpirationMs: number; // producer.id.expiration.ms
  transactionalIdExpirationMs: number; // transactional.id.expiration.ms
  transactionMaxTimeoutMs: number; // transaction.max.timeout.ms
  /** log settings of a topic without overrides (from log.* / message.max.bytes / ... and Kafka's defaults) */
  logDefaults: LogConfig;
}

const BrokerValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const SASL_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

const ListenerSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_-]+$' }),
    listen: Type.String({ minLength: 1 }),
    advertised_host: Type.Optional(Type.String({ minLength: 1 })),
    advertised_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    /** none: anyone may connect; sasl: SaslHandshake/SaslAuthenticate first (SASL_PLAINTEXT, or SASL_SSL with tls) */
    authentication: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('sasl')])),
    tls: Type.Optional(
      Type.Object(
        {
          cert_path: Type.String({ minLength: 1 }),
          key_path: Type.String({ minLength: 1 }),
          /** CA bundle for verifying client certificates */
          ca_path: Type.Optional(Type.String({ minLength: 1 })),
          client_auth: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('requested'), Type.Literal('required')])),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The file format (also the shape of command-line overrides). */
export const ConfigFileSchema = Type.Object(
  {
    node_id: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
    listen: Type.Optional(Type.String({ minLength: 1 })),
    admin_listen: Type.Optional(Type.String({ minLength: 1 })),
    advertised_host: Type.Optional(Type.String({ minLength: 1 })),
    advertised_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    data_dir: Type.Optional(Type.String({ minLength: 1 })),
    log_level: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)))),
    broker: Type.Optional(Type.Record(Type.String(), BrokerValue)),
    /** several Kafka listeners (replaces `listen`): each with its own authentication and optional TLS */
    listeners: Type.Optional(Type.Array(ListenerSchema, { minItems: 1 })),
    /** `umbra start --sasl`: every listener requires SASL authentication */
    sasl: Type.Optional(Type.Boolean()),
    sasl_mechanisms: Type.Optional(Type.Array(Type.Union(SASL_MECHANISMS.map((m) => Type.Literal(m))), { minItems: 1 })),
    /** none (default) or acl: the ACL authorizer with Kafka's semantics */
    authorization: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('acl')])),
    /** user names (without `User:`) that every ACL check allows */
    superusers: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigFileSchema>;
/** Command-line flags, in the file's shape (`--data-dir x` → `{ data_dir: 'x' }`, `--set k=v` → `{ broker: { k: v } }`). */
export type ConfigOverrides = ConfigFile;

export const DEFAULTS = {
  node_id: 0,
  listen: '127.0.0.1:9092',
  admin_listen: '127.0.0.1:9644',
  data_dir: './data',
  log_level: 'info',
} as const satisfies ConfigFile;

/** A configuration problem; `key` names the offending key (e.g. `listen`, `broker.num.partitions`). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly key: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface LoadConfigOptions {
  /** path of a YAML or JSON file */
  file?: string;
  overrides?: ConfigOverrides;
  /** base for relative paths (default: process.cwd()) */
  cwd?: string;
}

/** `host:port` or `[v6addr]:port`. */
export function parseHostPort(text: string, key: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(key, `${key}: expected host:port (e.g. 127.0.0.1:9092), got '${text}'`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** YAML integers too large for a JS number stay exact as text (broker configs such as flush.ms take Long.MAX_VALUE). */
function unBigInt(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(unBigInt);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, unBigInt(v)]));
  }
  return value;
}

function checkShape(value: unknown, origin: string): ConfigFile {
  if (value === null || value === undefined) return {};
  const first = Value.Errors(ConfigFileSchema, value).First();
  if (first) {
    const key = first.path.replace(/^\//, '').replace(/\//g, '.') || undefined;
    const message =
      first.message === 'Unexpected property' ? `unknown key '${key}'` : first.path === '' ? 'expected a mapping of keys to values' : `${key}: ${first.message}`;
    throw new ConfigError(key, `${origin}: ${message}`);
  }
  return value as ConfigFile;
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(undefined, `cannot read config file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { intAsBigInt: true });
  } catch (err) {
    throw new ConfigError(undefined, `config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  return checkShape(unBigInt(doc), `config file ${path}`);
}

function advertisedHostFor(listenHost: string): string {
  // A wildcard bind address cannot be connected to; tell clients this machine's name instead (as Kafka does).
  return listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '' ? hostname() : listenHost;
}

/** Defaults < file < overrides. Throws ConfigError naming the key on any problem. */
export function loadConfig(opts: LoadConfigOptions = {}): BrokerConfig {
  const file = opts.file ? readConfigFile(opts.file) : {};
  // a flag that was not given arrives as undefined and must not override the file
  const given = opts.overrides ? Object.fromEntries(Object.entries(opts.overrides).filter(([, v]) => v !== undefined)) : undefined;
  const overrides = checkShape(given ? unBigInt(given) : undefined, 'command-line options');
  const merged = { ...DEFAULTS, ...file, ...overrides, broker: { ...file.broker, ...overrides.broker } };

  const staticBrokerConfigs: Record<string, string> = {};
  for (const [name, raw] of Object.entries(merged.broker)) {
    try {
      staticBrokerConfigs[name] = parseBrokerConfigValue(name, raw);
    } catch (err) {
      if (err instanceof ConfigValueError) throw new ConfigError(`broker.${name}`, `broker.${name}: ${err.message}`);
      throw err;
    }
  }

  const int = (name: string): number => {
    if (!BROKER_CONFIGS.has(name)) throw new Error(`not a broker config: ${name}`);
    return toSafeNumber(brokerConfigValue(staticBrokerConfigs, name)!);
  };
  const bool = (name: string): boolean => brokerConfigValue(staticBrokerConfigs, name) === 'true';

  if (int('group.min.session.timeout.ms') > int('group.max.session.timeout.ms')) {
    throw new ConfigError('broker.group.min.session.timeout.ms', 'broker.group.min.session.timeout.ms must not exceed broker.group.max.session.timeout.ms');
  }
  if (int('default.replication.factor') > 1) {
    throw new ConfigError('broker.default.replication.factor', 'broker.default.replication.factor: a single node can hold only 1 replica');
  }
  try {
    // cross-key checks of the broker-wide topic defaults (e.g. min vs max compaction lag)
    validateTopicConfigs({}, staticBrokerConfigs);
  } catch (err) {
    throw new ConfigError('broker', `broker: ${(err as Error).message}`);
  }

  const adminListen = parseHostPort(merged.admin_listen, 'admin_listen');
  const cwd = opts.cwd ?? process.cwd();
  const listeners = resolveListeners(merged, file, overrides, cwd);
  const first = listeners[0]!;
  const listen = first.listen;
  return {
    nodeId: merged.node_id,
    listeners,
    saslMechanisms: merged.sasl_mechanisms ?? [...SASL_MECHANISMS],
    authorization: merged.authorization ?? 'none',
    superUsers: (merged.superusers ?? []).map((u) => (u.startsWith('User:') ? u : `User:${u}`)),
    allowEveryoneIfNoAclFound: bool('allow.everyone.if.no.acl.found'),
    listen,
    adminListen,
    advertisedHost: first.advertisedHost,
    advertisedPort: first.advertisedPort,
    dataDir: resolve(opts.cwd ?? process.cwd(), merged.data_dir),
    logLevel: merged.log_level,
    staticBrokerConfigs,
    numPartitions: int('num.partitions'),
    defaultReplicationFactor: int('default.replication.factor'),
    autoCreateTopics: bool('auto.create.topics.enable'),
    deleteTopicEnable: bool('delete.topic.enable'),
    maxRequestBytes: int('socket.request.max.bytes'),
    connectionsMaxIdleMs: int('connections.max.idle.ms'),
    maxConnections: int('max.connections'),
    fetchSessionCacheSlots: int('max.incremental.fetch.session.cache.slots'),
    logRetentionCheckIntervalMs: int('log.retention.check.interval.ms'),
    offsetsTopicNumPartitions: int('offsets.topic.num.partitions'),
    offsetsTopicSegmentBytes: int('offsets.topic.segment.bytes'),
    offsetsRetentionMs: int('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: int('offsets.retention.check.interval.ms'),
    groupMinSessionTimeoutMs: int('group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: int('group.max.session.timeout.ms'),
    groupInitialRebalanceDelayMs: int('group.initial.rebalance.delay.ms'),
    groupMaxSize: int('group.max.size'),
    producerIdExpirationMs: int('producer.id.expiration.ms'),
    transactionalIdExpirationMs: int('transactional.id.expiration.ms'),
    transactionMaxTimeoutMs: int('transaction.max.timeout.ms'),
    logDefaults: toLogConfig(resolveTopicConfig({}, staticBrokerConfigs)),
  };
}

/**
 * The Kafka listeners: `listeners` from the file, or one listener from `listen` (then `advertised_*` apply to it).
 * A `--listen` flag moves the first listener. `sasl: true` makes every listener require SASL.
 */
function resolveListeners(merged: ConfigFile & { listen: string }, file: ConfigFile, overrides: ConfigFile, cwd: string): ListenerConfig[] {
  if (file.listeners && file.listen !== undefined) {
    throw new ConfigError('listen', "listen: give either 'listen' or 'listeners', not both");
  }
  const specs = merged.listeners ?? [
    { name: merged.sasl ? 'SASL_PLAINTEXT' : 'PLAINTEXT', listen: merged.listen, advertised_host: merged.advertised_host, advertised_port: merged.advertised_port },
  ];
  const names = new Set<string>();
  return specs.map((spec, i) => {
    const key = merged.listeners ? `listeners.${i}` : 'listen';
    if (names.has(spec.name)) throw new ConfigError(`${key}.name`, `${key}.name: listener name '${spec.name}' is used twice`);
    names.add(spec.name);
    const address = i === 0 && merged.listeners && overrides.listen !== undefined ? overrides.listen : spec.listen;
    const listen = parseHostPort(address, merged.listeners ? `${key}.listen` : 'listen');
    const authentication = merged.sasl ? 'sasl' : (spec.authentication ?? 'none');
    const tls = spec.tls
      ? {
          certPath: resolve(cwd, spec.tls.cert_path),
          keyPath: resolve(cwd, spec.tls.key_path),
          caPath: spec.tls.ca_path === undefined ? undefined : resolve(cwd, spec.tls.ca_path),
          clientAuth: spec.tls.client_auth ?? 'none',
        }
      : undefined;
    if (tls && tls.clientAuth !== 'none' && !tls.caPath) {
      throw new ConfigError(`${key}.tls.ca_path`, `${key}.tls.ca_path: client_auth '${tls.clientAuth}' needs a CA to verify client certificates`);
    }
    const securityProtocol = authentication === 'sasl' ? (tls ? 'SASL_SSL' : 'SASL_PLAINTEXT') : tls ? 'SSL' : 'PLAINTEXT';
    return {
      name: spec.name,
      listen,
      advertisedHost: spec.advertised_host ?? advertisedHostFor(listen.host),
      advertisedPort: spec.advertised_port,
      authentication,
      tls,
      securityProtocol,
    };
  });
}
