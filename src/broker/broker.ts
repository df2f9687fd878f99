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
import type { Storage } from '../storage/types.js';
import { GroupCoordinator } from '../groups/coordinator.js';
import { BrokerMetrics } from '../admin/metrics.js';
import { startAdminServer, type AdminServer } from '../admin/server.js';
import { brokerAdminDeps } from '../admin/broker-deps.js';
import { HandlerRegistry } from './registry.js';
import { ALL_HANDLERS } from './handlers/index.js';
import { PartitionManager } from './partitions.js';
import { ProducerIdManager } from './producer-ids.js';
import { KafkaServer } from './server.js';
import { BufferPool } from './buffer-pool.js';
import type { BrokerServices } from './context.js';

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

export async function startBroker(config: BrokerConfig, opts: { logger?: Logger } = {}): Promise<RunningBroker> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel, name: 'umbra' });
  // Security settings parse, but are not enforced yet: refuse rather than run an open broker someone asked to lock.
  const unsupported = [
    ...config.listeners.filter((l) => l.authentication !== 'none').map((l) => `SASL on listener ${l.name}`),
    ...config.listeners.filter((l) => l.tls).map((l) => `TLS on listener ${l.name}`),
    ...(config.authorization !== 'none' ? ['authorization: acl'] : []),
    ...(config.listeners.length > 1 ? ['more than one listener'] : []),
  ];
  if (unsupported.length > 0) throw new Error(`not supported yet: ${unsupported.join(', ')}`);
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
    });
    cleanup.push(() => storage.close());

    const partitions = new PartitionManager({ storage, topics, brokerConfigs: config.staticBrokerConfigs, logger });
    topics.onChange((change) => partitions.sync(change.topic.name));
    partitions.start();

    await topics.ensure({
      name: OFFSETS_TOPIC,
      partitions: config.offsetsTopicNumPartitions,
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(config.offsetsTopicSegmentBytes) },
    });

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

    const registry = new HandlerRegistry();
    for (const h of ALL_HANDLERS) registry.register(h);
    const metrics = new BrokerMetrics({ apiNames: registry.advertised().map((a) => registry.get(a.apiKey)!.name) });
    metrics.setPartitionSource(() => storage.logs());

    const services: BrokerServices = {
      config,
      clusterId: store.clusterId,
      nodeId: config.nodeId,
      advertised: { host: config.advertisedHost, port: config.advertisedPort ?? config.listen.port },
      store,
      topics,
      storage,
      partitions,
      groups,
      producerIds,
      registry,
      readBuffers: new BufferPool(READ_BUFFER_POOL_BYTES),
      metrics,
      logger,
    };

    const server = new KafkaServer({
      host: config.listen.host,
      port: config.listen.port,
      maxRequestBytes: config.maxRequestBytes,
      maxConnections: 10_000,
      registry,
      services: () => services,
    });
    const port = await server.listen();
    services.advertised = { host: config.advertisedHost, port: config.advertisedPort ?? port };
    cleanup.push(() => server.close());

    const admin: AdminServer = await startAdminServer({
      host: config.adminListen.host,
      port: config.adminListen.port,
      logger,
      deps: brokerAdminDeps({
        clusterId: store.clusterId,
        nodeId: config.nodeId,
        brokerVersion: BROKER_VERSION,
        listeners: () => [{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: services.advertised.host, port: services.advertised.port }],
        topics,
        storage,
        metrics,
      }),
    });
    cleanup.push(() => admin.close());

    logger.info(
      { kafka: `${config.listen.host}:${port}`, admin: `${config.adminListen.host}:${admin.port}`, dataDir: config.dataDir, clusterId: store.clusterId, nodeId: config.nodeId },
      `umbra listening on ${config.listen.host}:${port} (admin http://${config.adminListen.host}:${admin.port})`,
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
