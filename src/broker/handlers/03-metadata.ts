// Metadata (key 3), v0-13.
//
// Behaviour:
// - Lists this node as the only broker and the leader of every partition (leader epoch 0, replicas = ISR = [node]).
// - Topic ids are real UUIDs (v10+), so clients may use Fetch v13+ and Produce v13 by topic id.
// - v0: an empty topic list means all topics; v1+: null means all, empty means none.
// - Unknown topics are created when `auto.create.topics.enable` is on and the client allows it (v4+ flag; before
//   v4 always allowed), with `num.partitions` partitions. Creation is immediate here, so the new topic is
//   returned ready instead of LEADER_NOT_AVAILABLE.
// - v13 adds a top-level error code.
// - Authorization (Kafka's handleTopicMetadataRequest), with an authorizer configured: unknown topic ids first
//   (UNKNOWN_TOPIC_ID: ids are not secret); then DESCRIBE on each topic. A request for all topics silently leaves
//   out the topics the principal may not describe; a topic asked for by name gets TOPIC_AUTHORIZATION_FAILED with
//   a zero topic id (by id: no name), whether or not it exists. Auto-creation needs CREATE on the cluster, else
//   CREATE on the topic (TOPIC_AUTHORIZATION_FAILED otherwise, and the topic is not created).
// - v8+ authorized operations, only when asked: the cluster's (v8-10) when the principal may DESCRIBE the
//   cluster (0 otherwise), and each described topic's. Not asked: INT32_MIN ("omitted").
import * as Req from '../../protocol/generated/messages/MetadataRequest.js';
import * as Res from '../../protocol/generated/messages/MetadataResponse.js';
import { ZERO_UUID, type Input } from '../../protocol/primitives.js';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.js';
import type { TopicRecord } from '../../cluster/types.js';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_NAME } from '../../security/acl.js';
import { authorizationEnabled, authorizeCluster, authorizeTopicCreation, authorizeTopics, authorizedOperations } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';
import type { BrokerServices, RequestContext } from '../context.js';

type TopicEntry = Input<Res.MetadataResponseTopic>;

export default defineHandler<Req.MetadataRequest, Res.MetadataResponse>(Req, Res, {
  async handle(ctx, req, version) {
    const s = ctx.services;
    const allTopics = req.topics === null || (version === 0 && req.topics.length === 0);
    const enabled = authorizationEnabled(ctx);
    const topicOps = version >= 8 && req.includeTopicAuthorizedOperations;
    /** a topic the principal may describe, with its authorized operations when asked */
    const described = (entry: TopicEntry, name: string): TopicEntry =>
      topicOps ? { ...entry, topicAuthorizedOperations: authorizedOperations(ctx, 'TOPIC', name) } : entry;

    const topics: TopicEntry[] = [];
    if (allTopics) {
      const records = s.partitions.list();
      // a listing: topics one may not describe are left out without a word (and without a log line each)
      const describable = enabled ? authorizeTopics(ctx, 'DESCRIBE', records.map((r) => r.name), { logIfDenied: false }) : null;
      for (const record of records) {
        if (describable === null || describable.has(record.name)) topics.push(described(describeTopic(s, record), record.name));
      }
    } else {
      const allowCreate = s.config.autoCreateTopics && (version < 4 || req.allowAutoTopicCreation);
      // Topic ids are resolved before any check; an unknown id has no name to check.
      const wanted = req.topics!.map((t) => ({ t, name: t.name ?? s.partitions.topicById(t.topicId)?.name ?? null }));
      const names = wanted.map((w) => w.name).filter((n): n is string => n !== null);
      const describable = enabled ? authorizeTopics(ctx, 'DESCRIBE', names) : null;
      const creatable = enabled && allowCreate ? creatableTopics(ctx, names, describable!) : null;
      for (const { t, name } of wanted) {
        if (name === null) {
          topics.push(missing(t, ErrorCode.UNKNOWN_TOPIC_ID));
          continue;
        }
        if (describable !== null && !describable.has(name)) {
          // never the real topic id with a name: that would say the topic exists
          topics.push(unauthorized(t.name === null ? { name: null, topicId: t.topicId } : { name, topicId: ZERO_UUID }));
          continue;
        }
        let record = t.name !== null ? s.partitions.topic(name) : s.partitions.topicById(t.topicId);
        // a name a shadow link would shadow is the link's to create (SPEC §2.1: shadow topics come from the source)
        if (!record && t.name !== null && allowCreate && s.shadow?.createReason(name) === undefined) {
          if (creatable !== null && !creatable.has(name)) {
            topics.push(unauthorized({ name, topicId: ZERO_UUID }));
            continue;
          }
          try {
            record = await s.partitions.createTopic({ name });
          } catch (err) {
            topics.push(described(missing(t, errorCodeOf(err)), name));
            continue;
          }
        }
        if (!record) topics.push(described(missing(t, t.name === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION), name));
        else topics.push(described(describeTopic(s, record), record.name));
      }
    }
    // A request by topic id (v10+) may leave a topic without a name, but the response's name is nullable only
    // from v12 on: earlier versions get an empty name (found by fuzzing: the null could not be encoded).
    if (version < 12) for (const t of topics) if (t.name === null) t.name = '';
    return {
      throttleTimeMs: 0,
      // the address of the listener this client came in on, as Kafka answers per listener
      brokers: [{ nodeId: s.nodeId, host: ctx.connection.listener.advertised.host, port: ctx.connection.listener.advertised.port, rack: null }],
      clusterId: s.clusterId,
      controllerId: s.nodeId,
      topics,
      clusterAuthorizedOperations: version >= 8 && req.includeClusterAuthorizedOperations ? clusterOperations(ctx) : AUTHORIZED_OPERATIONS_OMITTED,
      errorCode: ErrorCode.NONE,
    };
  },
});

/**
 * Of the describable topics that do not exist yet, those this principal may have auto-created: all with CREATE on
 * the cluster, else those with CREATE on the topic.
 */
function creatableTopics(ctx: RequestContext, names: readonly string[], describable: ReadonlySet<string>): Set<string> | null {
  const nonExisting = names.filter((n) => describable.has(n) && ctx.services.partitions.topic(n) === undefined);
  return nonExisting.length === 0 ? null : authorizeTopicCreation(ctx, nonExisting);
}

/** Kafka answers the cluster's authorized operations only to principals that may DESCRIBE the cluster. */
function clusterOperations(ctx: RequestContext): number {
  return authorizeCluster(ctx, 'DESCRIBE') ? authorizedOperations(ctx, 'CLUSTER', CLUSTER_NAME) : 0;
}

function unauthorized(id: { name: string | null; topicId: string }): TopicEntry {
  return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, ...id, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}

function missing(t: Req.MetadataRequestTopic, errorCode: number): TopicEntry {
  return { errorCode, name: t.name, topicId: t.topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}

function describeTopic(s: BrokerServices, record: TopicRecord): TopicEntry {
  const node = [s.nodeId];
  const partitions: Input<Res.MetadataResponsePartition>[] = [];
  for (let p = 0; p < record.partitions; p++) {
    if (s.partitions.log(record.name, p) === undefined) {
      // its log is still being created (a topic another client just made): no leader yet, as Kafka says until the
      // leader has its log; clients ask again
      partitions.push({ errorCode: ErrorCode.LEADER_NOT_AVAILABLE, partitionIndex: p, leaderId: -1, leaderEpoch: 0, replicaNodes: node, isrNodes: [], offlineReplicas: [] });
      continue;
    }
    partitions.push({ errorCode: ErrorCode.NONE, partitionIndex: p, leaderId: s.nodeId, leaderEpoch: 0, replicaNodes: node, isrNodes: node, offlineReplicas: [] });
  }
  return {
    errorCode: ErrorCode.NONE,
    name: record.name,
    topicId: record.topicId,
    isInternal: record.internal,
    partitions,
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}
