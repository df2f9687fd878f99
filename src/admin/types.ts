// What the admin API needs from the broker. The broker implements this (src/admin/broker-deps.ts builds it from
// the topic registry and storage); tests implement it with plain objects.
import type { FastifyInstance } from 'fastify';
import type { MetricsSource } from './metrics.js';
import type { BrokerView, ListenerView, TopicDetailView, TopicView } from './schemas.js';

export type { BrokerView, ListenerView, PartitionView, TopicConfigView, TopicDetailView, TopicView } from './schemas.js';

export interface AdminDeps {
  readonly clusterId: string;
  readonly nodeId: number;
  /** Umbra's version (package.json) */
  readonly brokerVersion: string;
  /** the Kafka listeners, with the addresses clients are told to use */
  listeners(): ListenerView[];
  brokers(): BrokerView[];
  /** every topic with per-partition stats, by name */
  listTopics(): TopicView[];
  /** undefined when the topic does not exist */
  describeTopic(name: string): TopicDetailView | undefined;
  /** Prometheus exposition for GET /metrics */
  readonly metrics: MetricsSource;
}

/** Extra routes (e.g. the shadow-link API) registered on the admin server; they appear in the OpenAPI document. */
export type AdminRoutes = (app: FastifyInstance) => void | Promise<void>;
