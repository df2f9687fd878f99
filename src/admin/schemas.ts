// The admin API's JSON shapes, as TypeBox schemas: fastify validates and serializes with them, the OpenAPI document
// is generated from them, and the TypeScript types below are derived from them, so the three cannot drift apart.
import { Type, type Static } from '@sinclair/typebox';
import { LINK_STATES, TASK_STATES, TOPIC_STATES, type LinkState, type TaskState, type TopicState } from '../shadow/service.js';

const Nullable = <T extends ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'stable error code, e.g. UNKNOWN_TOPIC_OR_PARTITION, NOT_FOUND, INVALID_REQUEST' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'for INVALID_CONFIG: the full path of the first bad field of the link config, e.g. client_options.bootstrap_servers[0]' })),
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

// ---- shadow links (the documents of src/shadow/service.ts) ------------------------------------------------------
//
// States are plain strings carrying an `enum` for the document: fast-json-stringify writes a string as is, whereas a
// union of literals would make it try each branch, and a state added to the service later would turn into a 500.

const LinkStateSchema = Type.Unsafe<LinkState>(Type.String({ enum: [...LINK_STATES], description: 'link state' }));
const TaskStateSchema = Type.Unsafe<TaskState>(Type.String({ enum: [...TASK_STATES], description: 'task state' }));
const TopicStateSchema = Type.Unsafe<TopicState>(Type.String({ enum: [...TOPIC_STATES], description: 'shadow topic state' }));

export const ShadowLinkNameParams = Type.Object({ name: Type.String({ description: 'shadow link name' }) });
export const ShadowLinkTopicParams = Type.Object({
  name: Type.String({ description: 'shadow link name' }),
  topic: Type.String({ description: 'shadow topic name' }),
});

/** A link config document in the file format (SPEC §2.3): free-form here, the link manager validates it. */
export const ShadowLinkConfigDocument = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      "A shadow link config in Redpanda's shadow-link format (name, client_options, topic_metadata_sync_options, " +
      'consumer_offset_sync_options, security_sync_options, schema_registry_sync_options). Also accepted as ' +
      'application/yaml or text/yaml. Responses show every password as [REDACTED].',
  },
);

const TopicCount = Type.Optional(Type.Integer({ minimum: 0 }));

export const ShadowLinkSummary = Type.Object({
  name: Type.String(),
  state: LinkStateSchema,
  bootstrapServers: Type.Array(Type.String(), { description: "the source's bootstrap servers, as configured" }),
  sourceClusterId: Type.String({ description: "the source's cluster id once known ('' before the first contact)" }),
  topics: Type.Object(
    {
      ACTIVE: TopicCount,
      PAUSED: TopicCount,
      FAULTED: TopicCount,
      FAILING_OVER: TopicCount,
      FAILED_OVER: TopicCount,
      PROMOTING: TopicCount,
      PROMOTED: TopicCount,
    } satisfies Record<TopicState, unknown>,
    { description: 'shadow topics of the link by state, e.g. { "ACTIVE": 3, "FAILED_OVER": 1 }' },
  ),
  totalLag: Type.Integer({ description: "sum of every partition's lag (messages)" }),
  maxRpoSeconds: Type.Number({ description: 'the worst partition RPO (seconds)' }),
});

export const ShadowLinkList = Type.Object({ links: Type.Array(ShadowLinkSummary) });

export const ShadowLinkView = Type.Object({
  name: Type.String(),
  state: LinkStateSchema,
  createdAt: Type.String({ description: 'RFC 3339' }),
  updatedAt: Type.String({ description: 'RFC 3339' }),
  config: ShadowLinkConfigDocument,
});

export const ShadowTaskStatus = Type.Object({
  name: Type.String({ description: 'source_topic_sync | replication | consumer_offset_sync | security_sync | schema_registry_sync' }),
  state: TaskStateSchema,
  reason: Type.String({ description: "why the task is in that state ('' when ACTIVE and healthy)" }),
});

export const ShadowPartitionStatus = Type.Object({
  partition: Type.Integer(),
  sourceLogStartOffset: Type.Integer(),
  sourceLastStableOffset: Type.Integer(),
  sourceHighWatermark: Type.Integer(),
  highWatermark: Type.Integer({ description: "the shadow partition's high watermark" }),
  lag: Type.Integer({ description: 'sourceHighWatermark - highWatermark, never negative (messages)' }),
  rpoSeconds: Type.Number({ description: 'time since the partition was last fully caught up (0 while caught up)' }),
  state: Type.String({ description: "the replicator's state for this partition" }),
  lastError: Type.String({ description: "the last error seen, '' when none" }),
  gaps: Type.Array(Type.Object({ from: Type.Integer(), to: Type.Integer() }), {
    description: 'offset ranges [from, to) the shadow will never have because the source deleted them first',
  }),
});

export const ShadowTopicStatus = Type.Object({
  name: Type.String(),
  state: TopicStateSchema,
  reason: Type.String(),
  sourceTopicId: Type.String({ description: 'the source topic id this shadow topic follows' }),
  partitions: Type.Array(ShadowPartitionStatus),
});

export const ShadowLinkStatus = Type.Object({
  name: Type.String(),
  state: LinkStateSchema,
  tasks: Type.Array(ShadowTaskStatus),
  topics: Type.Array(ShadowTopicStatus),
});

export const ShadowLinkTopicList = Type.Object({ topics: Type.Array(ShadowTopicStatus) });

export const ShadowLinkActionResult = Type.Object({
  name: Type.String(),
  state: LinkStateSchema,
  topics: Type.Array(Type.Object({ name: Type.String(), state: TopicStateSchema, reason: Type.String() }), {
    description: 'the topics acted on and their state afterwards',
  }),
});

// ---- shadow link verify (`umbra shadow verify`, POST /v1/shadow-links/{name}/verify) --------------------------

const OffsetRangeSchema = Type.Object({ from: Type.Integer(), to: Type.Integer() }, { description: 'offsets [from, to)' });

export const ShadowVerifyPartition = Type.Object({
  partition: Type.Integer(),
  source: OffsetRangeSchema,
  shadow: OffsetRangeSchema,
  compared: Type.Object({ from: Type.Integer(), to: Type.Integer() }, { description: 'the range both sides hold, which was compared (from >= to: nothing in common)' }),
  batches: Type.Integer({ description: 'batches compared (source side)' }),
  bytes: Type.Integer({ description: 'bytes compared (source side)' }),
  firstDifferenceOffset: Type.Integer({ description: 'first offset where the sides differ, -1 when none' }),
  difference: Type.String({ description: "what differs there, '' when nothing" }),
  differences: Type.Integer({ description: 'batches that differ' }),
  missingOnShadow: Type.Array(OffsetRangeSchema, { description: 'ranges inside the compared range the source holds and the shadow does not' }),
  missingOnSource: Type.Array(OffsetRangeSchema, { description: 'ranges inside the compared range the shadow holds and the source does not' }),
  compactedDifferently: Type.Array(OffsetRangeSchema, { description: 'compacted topics: ranges each side compacted on its own (not differences)' }),
  ok: Type.Boolean({ description: 'no difference and nothing missing' }),
});

export const ShadowVerifyTopic = Type.Object({
  name: Type.String(),
  compacted: Type.Boolean({ description: 'cleanup.policy contains compact' }),
  ok: Type.Boolean(),
  error: Type.String({ description: "why (part of) the topic could not be compared, '' when it was" }),
  partitions: Type.Array(ShadowVerifyPartition),
});

export const ShadowVerifyReport = Type.Object({
  link: Type.String(),
  ok: Type.Boolean({ description: 'true only when every compared topic is ok' }),
  startedAt: Type.String({ description: 'RFC 3339' }),
  elapsedMs: Type.Integer(),
  topics: Type.Array(ShadowVerifyTopic),
  summary: Type.Object({
    topics: Type.Integer(),
    partitions: Type.Integer(),
    batches: Type.Integer(),
    bytes: Type.Integer(),
    differences: Type.Integer({ description: 'batches that differ, over every partition' }),
    missingRanges: Type.Integer({ description: 'ranges missing on either side, over every partition' }),
  }),
});
