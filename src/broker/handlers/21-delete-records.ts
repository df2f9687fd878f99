// DeleteRecords (key 21), v0-2. Behaviour: moves each partition's log start offset up to the requested offset
// (-1 = the high watermark); whole segments below it are deleted, and reads below it get OFFSET_OUT_OF_RANGE.
// An offset above the high watermark is OFFSET_OUT_OF_RANGE. The answer carries the new low watermark.
// Authorization (Kafka's handleDeleteRecordsRequest): DELETE on each topic, else TOPIC_AUTHORIZATION_FAILED
// (low watermark -1) on its partitions, before the existence check.
import * as Req from '../../protocol/generated/messages/DeleteRecordsRequest.js';
import * as Res from '../../protocol/generated/messages/DeleteRecordsResponse.js';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.js';
import type { Input } from '../../protocol/primitives.js';
import { defineHandler } from '../registry.js';
import { authorizationEnabled, authorizeTopics } from '../../security/authorizer-helpers.js';

/** how long the partitions of one request are worked through before other requests get a turn */
const SLICE_MS = 2;

export default defineHandler<Req.DeleteRecordsRequest, Res.DeleteRecordsResponse>(Req, Res, {
  // Moving a log start costs about a millisecond per partition (its segments below are renamed away, a checkpoint
  // written), and a request may name hundreds of partitions at once (a topic trimmed behind its consumers): they
  // are worked through in slices of SLICE_MS, so fetches and produces on other connections are not held up for the
  // whole request (a 256-partition DeleteRecords stalled the broker for 150-250 ms).
  async handle(ctx, req) {
    const { partitions } = ctx.services;
    const deletable = authorizationEnabled(ctx) ? authorizeTopics(ctx, 'DELETE', req.topics.map((t) => t.name)) : null;
    const deleteOne = (topic: string, p: Req.DeleteRecordsPartition): Input<Res.DeleteRecordsPartitionResult> => {
      if (deletable !== null && !deletable.has(topic)) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
      const log = partitions.log(topic, p.partitionIndex);
      if (!log) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: partitions.missingLogError(topic, p.partitionIndex) };
      // DeleteRecords has no error message: the code alone says the topic is read-only (shadowed)
      if (ctx.services.shadow?.readOnlyReason(topic) !== undefined) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.POLICY_VIOLATION };
      const target = p.offset === -1 ? log.highWatermark : p.offset;
      if (target < 0 || target > log.highWatermark) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
      try {
        const lowWatermark = log.deleteRecordsBefore(target);
        partitions.wake(log);
        return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: ErrorCode.NONE };
      } catch (err) {
        return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: errorCodeOf(err) };
      }
    };
    let sliceEnd = performance.now() + SLICE_MS;
    const topics: Input<Res.DeleteRecordsTopicResult>[] = [];
    for (const t of req.topics) {
      const results: Input<Res.DeleteRecordsPartitionResult>[] = [];
      for (const p of t.partitions) {
        results.push(deleteOne(t.name, p));
        if (performance.now() >= sliceEnd) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceEnd = performance.now() + SLICE_MS;
        }
      }
      topics.push({ name: t.name, partitions: results });
    }
    return { throttleTimeMs: 0, topics };
  },
});
