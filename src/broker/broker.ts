// Starting and stopping a broker: opens the metadata store and the logs, loads consumer groups, then starts the
// Kafka listener and the admin API. Shutdown runs in the reverse order, so no request is accepted once the logs
// it would touch are closing.
import type { Logger } from 'pino';
import { openEmbeddedStore } from '../cluster/embedded-store.js';
import { TopicRegistry } from '../cluster/topics.js';
import type { MetadataStore } from '../cluster/types.js';
import type { BrokerConfig } from '../config.js';
import { createLogger } from '../log.js';
import { openStorage } from '../storage/index.js';
import type { Storage, StorageFs } from '../storage/types.js';
import { GroupCoordinator } from '../groups/coordinator.js';
import { BrokerMetrics } from '../admin/metrics.js';
import { startAdminServer, type AdminServer } from '../admin/server.js';
import { brokerAdminDeps } from '../admin/broker-deps.js';
import { HandlerRegistry } from './registry.js';
import { ALL_HANDLERS } from './handlers/index.js';
import { PartitionManager } from './partitions.js';
import { ProducerIdManager } from './producer-ids.js';
import { KafkaServer } from './server.js';
import { FetchSessionCache } from './fetch-sessions.js';
import { BufferPool } from './buffer-pool.js';
import { bootstrapUserFromEnv, createSecurityServices } from '../security/index.js';
import { AclAuthorizer } from '../security/authorizer.js';
import type { BrokerServices } from './context.js';
import { ShadowLinkManager } from '../shadow/manager.js';
import { registerShadowMetrics } from '../shadow/metrics.js';
import { shadowLinkRoutes } from '../admin/routes/shadow-links.js';

export const BROKER_VERSION = '0.1.0';
const OFFSETS_TOPIC = '__consumer_offsets';
/** idle fetch read buffers kept for reuse */
const READ_BUFFER_POOL_BYTES = 64 * 1024 * 1024;

export interface RunningBroker {
  /** bound Kafka port */
  port: number;
  /** bound admin API port */
  adminPort: number;
  services: BrokerServices;
  stop(): Promise<void>;
}

export interface StartBrokerOptions {
  logger?: Logger;
  /**
   * The filesystem the partition logs use (default: node:fs). A test seam, for in-process brokers only: fault tests
   * pass one that fails a write or an fsync on demand, to see what the Kafka APIs make of it. Never configurable
   * from a file, a flag or the environment.
   */
  storageFs?: StorageFs;
}

export async function startBroker(config: BrokerConfig, opts: StartBrokerOptions = {}): Promise<RunningBroker> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel, name: 'umbra' });
  const cleanup: (() => Promise<void> | void)[] = [];
  const unwind = async (): Promise<void> => {
    for (const step of cleanup.reverse()) {
      try {
        await step();
      } catch (err) {
        logger.error({ err }, 'shutdown step failed');
      }
    }
  };

  try {
    const store: MetadataStore = await openEmbeddedStore(config.dataDir, { nodeId: config.nodeId, logger });
    cleanup.push(() => store.close());

    const security = createSecurityServices({ store, logger, enabledMechanisms: config.saslMechanisms });
    // UMBRA_BOOTSTRAP_USER=name:password creates that SCRAM user (both mechanisms) once; the value is never logged
    await bootstrapUserFromEnv(security.credentials, process.env, logger);
    const authorizer =
      config.authorization === 'acl'
        ? new AclAuthorizer(store, { superUsers: config.superUsers, allowEveryoneIfNoAclFound: config.allowEveryoneIfNoAclFound, logger })
        : undefined;

    const topics = new TopicRegistry(store, {
      numPartitions: config.numPartitions,
      defaultReplicationFactor: config.defaultReplicationFactor,
      staticBrokerConfigs: config.staticBrokerConfigs,
      logger,
    });

    const storage: Storage = await openStorage({
      dataDir: config.dataDir,
      defaultConfig: config.logDefaults,
      maintenanceIntervalMs: config.logRetentionCheckIntervalMs,
      ...(opts.storageFs ? { fs: opts.storageFs } : {}),
    });
    cleanup.push(() => storage.close());

    const partitions = new PartitionManager({ storage, topics, brokerConfigs: config.staticBrokerConfigs, logger });
    topics.onChange((change) => partitions.sync(change.topic.name));
    partitions.start();
    cleanup.push(() => partitions.stop()); // before storage closes

    await topics.ensure({
      name: OFFSETS_TOPIC,
      partitions: config.offsetsTopicNumPartitions,
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(config.offsetsTopicSegmentBytes) },
    });
    await partitions.ready(OFFSETS_TOPIC); // created on the first start: the group coordinator reads its logs

    const producerIds = new ProducerIdManager(store);
    let maxProducerId = -1;
    for (const log of storage.logs()) maxProducerId = Math.max(maxProducerId, log.producerIds().maxProducerId);
    await producerIds.raiseAbove(maxProducerId);

    const groups = new GroupCoordinator({
      storage: {
        numPartitions: partitions.topic(OFFSETS_TOPIC)!.partitions,
        offsetsLog: (p) => partitions.log(OFFSETS_TOPIC, p)!,
        onAppend: (log) => partitions.wake(log),
      },
      config: {
        nodeId: config.nodeId,
        groupMinSessionTimeoutMs: config.groupMinSessionTimeoutMs,
        groupMaxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
        groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        offsetsRetentionMs: config.offsetsRetentionMs,
        offsetsRetentionCheckIntervalMs: config.offsetsRetentionCheckIntervalMs,
        groupMaxSize: config.groupMaxSize,
      },
      logger,
    });
    await groups.load();
    cleanup.push(() => groups.close());

    // Shadow links: loaded now (so read-only rules hold from the first request), started once the listeners are up.
    const shadow = new ShadowLinkManager({ store, clusterId: store.clusterId, topics, partitions, groups, producerIds, ...(authorizer ? { authorizer } : {}), logger });
    shadow.load();
    cleanup.push(() => shadow.close());

    const registry = new HandlerRegistry();
    for (const h of ALL_HANDLERS) registry.register(h);
    const metrics = new BrokerMetrics({ apiNames: registry.advertised().map((a) => registry.get(a.apiKey)!.name) });
    metrics.setPartitionSource(() => storage.logs());
    registerShadowMetrics(metrics.registry, shadow);
    const fetchSessions = new FetchSessionCache(config.fetchSessionCacheSlots);
    metrics.setFetchSessionSource(() => ({ sessions: fetchSessions.size, partitions: fetchSessions.partitionCount }));

    const services: BrokerServices = {
      config,
      clusterId: store.clusterId,
      nodeId: config.nodeId,
      listeners: [],
      store,
      topics,
      storage,
      partitions,
      groups,
      producerIds,
      registry,
      security,
      authorizer,
      readBuffers: new BufferPool(READ_BUFFER_POOL_BYTES),
      fetchSessions,
      metrics,
      logger,
      shadow,
    };

    // One server per listener. Each tells its clients (Metadata, FindCoordinator) its own advertised address.
    const bound = services.listeners;
    for (const l of config.listeners) {
      const server = new KafkaServer({
        host: l.listen.host,
        port: l.listen.port,
        maxRequestBytes: config.maxRequestBytes,
        maxConnections: config.maxConnections,
        idleTimeoutMs: config.connectionsMaxIdleMs,
        registry,
        services: () => services,
        name: l.name,
        securityProtocol: l.securityProtocol,
        advertised: { host: l.advertisedHost, port: l.advertisedPort ?? 0 },
        sasl: l.authentication === 'sasl',
        tls: l.tls,
      });
      const port = await server.listen();
      cleanup.push(() => server.close());
      bound.push({ name: l.name, securityProtocol: l.securityProtocol, host: l.listen.host, port, advertised: { host: l.advertisedHost, port: l.advertisedPort ?? port } });
    }
    const port = bound[0]!.port;

    // A broker whose Kafka listeners require SASL keeps its admin API just as closed: superusers, HTTP basic.
    const secured = config.listeners.some((l) => l.authentication === 'sasl');
    const admin: AdminServer = await startAdminServer({
      host: config.adminListen.host,
      port: config.adminListen.port,
      logger,
      ...(secured
        ? {
            basicAuth: {
              verify: (user: string, password: string) => security.credentials.verifyPassword(user, password),
              allowed: (user: string) => config.superUsers.includes(`User:${user}`),
            },
          }
        : {}),
      routes: [shadowLinkRoutes(shadow)],
      deps: brokerAdminDeps({
        clusterId: store.clusterId,
        nodeId: config.nodeId,
        brokerVersion: BROKER_VERSION,
        listeners: () => bound.map((b) => ({ name: b.name, securityProtocol: b.securityProtocol, host: b.advertised.host, port: b.advertised.port })),
        topics,
        storage,
        metrics,
      }),
    });
    cleanup.push(() => admin.close());
    shadow.start();

    logger.info(
      {
        kafka: `${config.listen.host}:${port}`,
        listeners: bound.map((b) => `${b.name}://${b.host}:${b.port}`),
        admin: `${config.adminListen.host}:${admin.port}`,
        dataDir: config.dataDir,
        clusterId: store.clusterId,
        nodeId: config.nodeId,
      },
      `umbra listening on ${bound.map((b) => `${b.name}://${b.host}:${b.port}`).join(', ')} (admin http://${config.adminListen.host}:${admin.port})`,
    );

    let stopping: Promise<void> | null = null;
    return {
      port,
      adminPort: admin.port,
      services,
      stop: () => (stopping ??= unwind().then(() => logger.info('umbra stopped'))),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
