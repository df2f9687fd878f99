// The admin API's JSON shapes, as TypeBox schemas: fastify validates and serializes with them, the OpenAPI document
// is generated from them, and the TypeScript types below are derived from them, so the three cannot drift apart.
import { Type, type Static } from '@sinclair/typebox';

const Nullable = <T extends ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'stable error code, e.g. UNKNOWN_TOPIC_OR_PARTITION, NOT_FOUND, INVALID_REQUEST' }),
    message: Type.String(),
  },
  { description: 'An error' },
);

export const Listener = Type.Object({
  name: Type.String({ description: 'listener name, e.g. PLAINTEXT' }),
  host: Type.String({ description: 'advertised host' }),
  port: Type.Integer({ description: 'advertised port' }),
  securityProtocol: Type.String({ description: 'PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' }),
});

export const ClusterInfo = Type.Object({
  clusterId: Type.String(),
  nodeId: Type.Integer({ description: 'the node answering' }),
  controllerId: Type.Integer(),
  brokerVersion: Type.String(),
  listeners: Type.Array(Listener),
});

export const Broker = Type.Object({
  nodeId: Type.Integer(),
  host: Type.String(),
  port: Type.Integer(),
  rack: Type.Union([Type.String(), Type.Null()]),
});

export const BrokerList = Type.Object({ brokers: Type.Array(Broker) });

export const Partition = Type.Object({
  partition: Type.Integer(),
  leader: Type.Integer({ description: 'node id of the leader, -1 when none' }),
  logStartOffset: Nullable(Type.Integer({ description: 'null when the log is not open on this node' })),
  highWatermark: Nullable(Type.Integer()),
  logEndOffset: Nullable(Type.Integer()),
  sizeBytes: Nullable(Type.Integer({ description: 'bytes on disk over all segments' })),
});

export const Topic = Type.Object({
  name: Type.String(),
  topicId: Type.String({ description: 'UUID' }),
  internal: Type.Boolean(),
  partitionCount: Type.Integer(),
  replicationFactor: Type.Integer(),
  sizeBytes: Type.Integer({ description: 'sum over the partitions open on this node' }),
  partitions: Type.Array(Partition),
});

export const TopicList = Type.Object({ topics: Type.Array(Topic) });

export const TopicConfigEntry = Type.Object({
  name: Type.String(),
  value: Type.Union([Type.String(), Type.Null()], { description: 'null for sensitive values' }),
  source: Type.String({ description: 'TOPIC_CONFIG, STATIC_BROKER_CONFIG or DEFAULT_CONFIG' }),
  sensitive: Type.Boolean(),
});

export const TopicDetail = Type.Composite([Topic, Type.Object({ configs: Type.Array(TopicConfigEntry) })]);

export const TopicNameParams = Type.Object({ name: Type.String({ description: 'topic name' }) });

export type ErrorBody = Static<typeof ErrorBody>;
export type ListenerView = Static<typeof Listener>;
export type ClusterInfo = Static<typeof ClusterInfo>;
export type BrokerView = Static<typeof Broker>;
export type PartitionView = Static<typeof Partition>;
export type TopicView = Static<typeof Topic>;
export type TopicConfigView = Static<typeof TopicConfigEntry>;
export type TopicDetailView = Static<typeof TopicDetail>;
