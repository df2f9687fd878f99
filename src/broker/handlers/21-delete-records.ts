// DeleteRecords (key 21), v0-2. Behaviour: moves each partition's log start offset up to the requested offset
// (-1 = the high watermark); whole segments below it are deleted, and reads below it get OFFSET_OUT_OF_RANGE.
// An offset above the high watermark is OFFSET_OUT_OF_RANGE. The answer carries the new low watermark.
// Authorization (Kafka's handleDeleteRecordsRequest): DELETE on each topic, else TOPIC_AUTHORIZATION_FAILED
// (low watermark -1) on its partitions, before the existence check.
import * as Req from '../../protocol/generated/messages/DeleteRecordsRequest.js';
import * as Res from '../../protocol/generated/messages/DeleteRecordsResponse.js';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import { authorizationEnabled, authorizeTopics } from '../../security/authorizer-helpers.js';

export default defineHandler<Req.DeleteRecordsRequest, Res.DeleteRecordsResponse>(Req, Res, {
  handle(ctx, req) {
    const { partitions } = ctx.services;
    const deletable = authorizationEnabled(ctx) ? authorizeTopics(ctx, 'DELETE', req.topics.map((t) => t.name)) : null;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          if (deletable !== null && !deletable.has(t.name)) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
          const log = partitions.log(t.name, p.partitionIndex);
          if (!log) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          // DeleteRecords has no error message: the code alone says the topic is read-only (shadowed)
          if (ctx.services.shadow?.readOnlyReason(t.name) !== undefined) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.POLICY_VIOLATION };
          const target = p.offset === -1 ? log.highWatermark : p.offset;
          if (target < 0 || target > log.highWatermark) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
          try {
            const lowWatermark = log.deleteRecordsBefore(target);
            partitions.wake(log);
            return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: ErrorCode.NONE };
          } catch (err) {
            return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: errorCodeOf(err) };
          }
        }),
      })),
    };
  },
});
