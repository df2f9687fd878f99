// What a request handler can see: the broker's services and the connection the request came on.
import type { Logger } from 'pino';
import type { MetadataStore } from '../cluster/types.js';
import type { TopicRegistry } from '../cluster/topics.js';
import type { Storage } from '../storage/types.js';
import type { BrokerConfig } from '../config.js';
import type { HandlerRegistry } from './registry.js';
import type { PartitionManager } from './partitions.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { ProducerIdManager } from './producer-ids.js';
import type { FetchSessionCache } from './fetch-sessions.js';
import type { BufferPool } from './buffer-pool.js';
import type { SaslSession } from '../security/sasl-session.js';
import type { SecurityServices } from '../security/types.js';
import type { Authorizer } from '../security/authorizer.js';
import type { ShadowGuard } from '../shadow/manager.js';

export interface ConnectionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  clientId: string | null;
  /** Kafka principal, `User:NAME`; ANONYMOUS on unauthenticated listeners */
  principal: string;
  authenticated: boolean;
  /** SASL state on a SASL listener; null on listeners without authentication */
  sasl: SaslSession | null;
  /** the listener this connection came in on */
  listener: ListenerInfo;
}

export interface BoundListener {
  name: string;
  securityProtocol: string;
  host: string;
  port: number;
  advertised: AdvertisedListener;
}

export interface ListenerInfo {
  name: string;
  securityProtocol: string;
  /** what Metadata/FindCoordinator tell clients of this listener */
  advertised: AdvertisedListener;
}

/** The hot-path metric calls the network layer makes (implemented by src/admin/metrics.ts). */
export interface RequestMetrics {
  observeRequest(apiName: string, seconds: number): void;
  bytesIn(n: number): void;
  bytesOut(n: number): void;
  connectionOpened(): void;
  connectionClosed(): void;
}

export interface AdvertisedListener {
  host: string;
  port: number;
}

export interface BrokerServices {
  config: BrokerConfig;
  clusterId: string;
  nodeId: number;
  /** every Kafka listener with its bound port (known once listening), in configuration order */
  listeners: BoundListener[];
  store: MetadataStore;
  topics: TopicRegistry;
  storage: Storage;
  partitions: PartitionManager;
  groups: GroupCoordinator;
  producerIds: ProducerIdManager;
  registry: HandlerRegistry;
  security: SecurityServices;
  /** undefined when authorization is off: every check passes */
  authorizer?: Authorizer;
  /** reusable buffers for data read from segment files by fetches */
  readBuffers: BufferPool;
  /** incremental fetch sessions (KIP-227) */
  fetchSessions: FetchSessionCache;
  metrics: RequestMetrics;
  logger: Logger;
  /** shadow linking's read-only rules for shadowed topics; absent in unit tests of single handlers */
  shadow?: ShadowGuard;
}

export interface RequestContext {
  services: BrokerServices;
  connection: ConnectionInfo;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** for protocol violations detected inside a handler (e.g. an error on an acks=0 produce) */
  closeConnection(reason: string): void;
  /**
   * Runs `cb` once this request's response has been handed to the kernel, or the connection closed without it
   * (then too: the bytes will never be read again). Used to return buffers a response referenced.
   */
  onResponseDone(cb: () => void): void;
  /**
   * Marks `part` (a buffer the response references, larger than Writer.RAW_COPY_LIMIT so it is not copied) as
   * still being filled: the connection writes the response up to it, and the rest once `filled` resolves. A fetch
   * answers this way while its reads from segment files are still on the threadpool, so the first partitions go
   * out while later ones are read. The response's sizes are fixed when it is encoded, so the part must be filled
   * exactly; if `filled` rejects the connection is closed (the client retries), as the frame cannot be completed.
   */
  deferPart(part: Buffer, filled: Promise<void>): void;
}
