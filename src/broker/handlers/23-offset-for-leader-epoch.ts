// OffsetForLeaderEpoch (key 23), v2-4.
//
// Behaviour: the end offset of the requested leader epoch (the start of the next larger epoch, or the log end
// offset for the current one). Consumers use it after a leader change to detect truncation; on a single node
// the epoch never changes, so it answers epoch 0 ending at the log end offset.
// Authorization (Kafka's handleOffsetForLeaderEpochRequest): CLUSTER_ACTION on the cluster (a follower) allows
// every topic; else DESCRIBE on each topic, TOPIC_AUTHORIZATION_FAILED on its partitions without it.
import * as Req from '../../protocol/generated/messages/OffsetForLeaderEpochRequest.js';
import * as Res from '../../protocol/generated/messages/OffsetForLeaderEpochResponse.js';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import { authorizationEnabled, authorizeCluster, authorizeTopics } from '../../security/authorizer-helpers.js';

export default defineHandler<Req.OffsetForLeaderEpochRequest, Res.OffsetForLeaderEpochResponse>(Req, Res, {
  handle(ctx, req) {
    const { partitions } = ctx.services;
    const describable =
      authorizationEnabled(ctx) && !authorizeCluster(ctx, 'CLUSTER_ACTION', { logIfDenied: false }) ? authorizeTopics(ctx, 'DESCRIBE', req.topics.map((t) => t.topic)) : null;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          if (describable !== null && !describable.has(t.topic)) return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          const log = partitions.log(t.topic, p.partition);
          if (!log) return { errorCode: partitions.missingLogError(t.topic, p.partition), partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          if (p.currentLeaderEpoch > 0) return { errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          try {
            const r = log.endOffsetForEpoch(p.leaderEpoch);
            return { errorCode: ErrorCode.NONE, partition: p.partition, leaderEpoch: r.leaderEpoch, endOffset: r.endOffset };
          } catch (err) {
            return { errorCode: errorCodeOf(err), partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          }
        }),
      })),
    };
  },
});
