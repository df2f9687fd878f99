// AdminDeps built from the broker's own services: the topic registry for what exists, storage for offsets and
// sizes. The broker only supplies its identity and where it listens.
import { describeConfigEntries } from '../cluster/topic-config.js';
import { configSourceName } from '../cluster/config-def.js';
import type { TopicRegistry } from '../cluster/topics.js';
import type { TopicRecord } from '../cluster/types.js';
import type { Storage } from '../storage/types.js';
import type { MetricsSource } from './metrics.js';
import type { AdminDeps, BrokerView, ListenerView, PartitionView, TopicDetailView, TopicView } from './types.js';

export interface BrokerAdminDepsOptions {
  clusterId: string;
  nodeId: number;
  brokerVersion: string;
  /** advertised Kafka listeners (known once the listener has bound its port) */
  listeners: () => ListenerView[];
  topics: TopicRegistry;
  storage: Pick<Storage, 'getLog'>;
  metrics: MetricsSource;
}

export function brokerAdminDeps(o: BrokerAdminDepsOptions): AdminDeps {
  const topicView = (t: TopicRecord): TopicView => {
    const partitions: PartitionView[] = [];
    let sizeBytes = 0;
    for (let p = 0; p < t.partitions; p++) {
      const log = o.storage.getLog({ topic: t.name, partition: p });
      if (log) sizeBytes += log.sizeInBytes;
      partitions.push({
        partition: p,
        leader: log ? o.nodeId : -1,
        logStartOffset: log?.logStartOffset ?? null,
        highWatermark: log?.highWatermark ?? null,
        logEndOffset: log?.logEndOffset ?? null,
        sizeBytes: log?.sizeInBytes ?? null,
      });
    }
    return {
      name: t.name,
      topicId: t.topicId,
      internal: t.internal,
      partitionCount: t.partitions,
      replicationFactor: t.replicationFactor,
      sizeBytes,
      partitions,
    };
  };

  return {
    clusterId: o.clusterId,
    nodeId: o.nodeId,
    brokerVersion: o.brokerVersion,
    metrics: o.metrics,
    listeners: o.listeners,
    brokers(): BrokerView[] {
      const first = o.listeners()[0];
      return first ? [{ nodeId: o.nodeId, host: first.host, port: first.port, rack: null }] : [];
    },
    listTopics: () => o.topics.list().map(topicView),
    describeTopic(name: string): TopicDetailView | undefined {
      const t = o.topics.get(name);
      if (!t) return undefined;
      const configs = describeConfigEntries(o.topics.resolvedConfig(name)).map((e) => ({
        name: e.name,
        value: e.value,
        source: configSourceName(e.configSource),
        sensitive: e.isSensitive,
      }));
      return { ...topicView(t), configs };
    },
  };
}
