// ListOffsets (key 2), v1-10.
//
// Behaviour: timestamp -2 = earliest (log start offset), -1 = latest (high watermark, or the last stable offset
// for read_committed), -3 = the record with the largest timestamp (v7+), -4 = earliest local (same as earliest:
// no tiered storage), -5 = latest tiered (none: offset -1); any other timestamp = the first offset whose record
// timestamp is at or after it, or -1 when there is none.
// Authorization (Kafka's handleListOffsetRequest): DESCRIBE on each topic; every partition of a topic without it
// gets TOPIC_AUTHORIZATION_FAILED (timestamp -1, offset -1), whether or not the topic exists.
import * as Req from '../../protocol/generated/messages/ListOffsetsRequest.js';
import * as Res from '../../protocol/generated/messages/ListOffsetsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.js';
import type { PartitionLog } from '../../storage/types.js';
import { defineHandler } from '../registry.js';
import { authorizationEnabled, authorizeTopics } from '../../security/authorizer-helpers.js';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;

export default defineHandler<Req.ListOffsetsRequest, Res.ListOffsetsResponse>(Req, Res, {
  handle(ctx, req) {
    const { partitions } = ctx.services;
    const readCommitted = req.isolationLevel === 1;
    const describable = authorizationEnabled(ctx) ? authorizeTopics(ctx, 'DESCRIBE', req.topics.map((t) => t.name)) : null;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p): Input<Res.ListOffsetsPartitionResponse> => {
          if (describable !== null && !describable.has(t.name)) {
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, timestamp: -1, offset: -1, leaderEpoch: -1 };
          }
          const log = partitions.log(t.name, p.partitionIndex);
          if (!log) return { partitionIndex: p.partitionIndex, errorCode: partitions.missingLogError(t.name, p.partitionIndex), timestamp: -1, offset: -1, leaderEpoch: -1 };
          if (p.currentLeaderEpoch > 0) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH, timestamp: -1, offset: -1, leaderEpoch: -1 };
          try {
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, ...lookup(log, p.timestamp, readCommitted) };
          } catch (err) {
            return { partitionIndex: p.partitionIndex, errorCode: errorCodeOf(err), timestamp: -1, offset: -1, leaderEpoch: -1 };
          }
        }),
      })),
    };
  },
});

function lookup(log: PartitionLog, timestamp: number, readCommitted: boolean): { timestamp: number; offset: number; leaderEpoch: number } {
  switch (timestamp) {
    case EARLIEST:
    case EARLIEST_LOCAL:
      return { timestamp: -1, offset: log.logStartOffset, leaderEpoch: 0 };
    case LATEST:
      return { timestamp: -1, offset: readCommitted ? log.lastStableOffset : log.highWatermark, leaderEpoch: 0 };
    case LATEST_TIERED:
      return { timestamp: -1, offset: -1, leaderEpoch: -1 };
    case MAX_TIMESTAMP: {
      const found = log.offsetOfMaxTimestamp();
      return found ?? { timestamp: -1, offset: -1, leaderEpoch: -1 };
    }
    default: {
      const found = log.offsetForTimestamp(timestamp);
      return found ?? { timestamp: -1, offset: -1, leaderEpoch: -1 };
    }
  }
}
