// DeleteRecords (key 21), v0-2. Behaviour: moves each partition's log start offset up to the requested offset
// (-1 = the high watermark); whole segments below it are deleted, and reads below it get OFFSET_OUT_OF_RANGE.
// An offset above the high watermark is OFFSET_OUT_OF_RANGE. The answer carries the new low watermark.
import * as Req from '../../protocol/generated/messages/DeleteRecordsRequest.js';
import * as Res from '../../protocol/generated/messages/DeleteRecordsResponse.js';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.DeleteRecordsRequest, Res.DeleteRecordsResponse>(Req, Res, {
  handle(ctx, req) {
    const { partitions } = ctx.services;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const log = partitions.log(t.name, p.partitionIndex);
          if (!log) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
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
