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
import * as Req from '../../protocol/generated/messages/MetadataRequest.js';
import * as Res from '../../protocol/generated/messages/MetadataResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.js';
import type { TopicRecord } from '../../cluster/types.js';
import { defineHandler } from '../registry.js';
import type { BrokerServices } from '../context.js';

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export default defineHandler<Req.MetadataRequest, Res.MetadataResponse>(Req, Res, {
  async handle(ctx, req, version) {
    const s = ctx.services;
    const allTopics = req.topics === null || (version === 0 && req.topics.length === 0);
    const topics: Input<Res.MetadataResponseTopic>[] = [];
    if (allTopics) {
      for (const record of s.partitions.list()) topics.push(describeTopic(s, record));
    } else {
      const allowCreate = s.config.autoCreateTopics && (version < 4 || req.allowAutoTopicCreation);
      for (const t of req.topics!) {
        let record = t.name !== null ? s.partitions.topic(t.name) : s.partitions.topicById(t.topicId);
        if (!record && t.name !== null && allowCreate) {
          try {
            record = await s.partitions.createTopic({ name: t.name });
          } catch (err) {
            topics.push(missing(t, errorCodeOf(err)));
            continue;
          }
        }
        if (!record) topics.push(missing(t, t.name === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        else topics.push(describeTopic(s, record));
      }
    }
    return {
      throttleTimeMs: 0,
      // the address of the listener this client came in on, as Kafka answers per listener
      brokers: [{ nodeId: s.nodeId, host: ctx.connection.listener.advertised.host, port: ctx.connection.listener.advertised.port, rack: null }],
      clusterId: s.clusterId,
      controllerId: s.nodeId,
      topics,
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      errorCode: ErrorCode.NONE,
    };
  },
});

function missing(t: Req.MetadataRequestTopic, errorCode: number): Input<Res.MetadataResponseTopic> {
  return { errorCode, name: t.name, topicId: t.topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}

function describeTopic(s: BrokerServices, record: TopicRecord): Input<Res.MetadataResponseTopic> {
  const node = [s.nodeId];
  const partitions: Input<Res.MetadataResponsePartition>[] = [];
  for (let p = 0; p < record.partitions; p++) {
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
