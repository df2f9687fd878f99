// OffsetFetch (key 9), v1-9 (v10, topic ids only, is unstable in Kafka 4.1 and not advertised).
// Behaviour:
// - Partitions without a committed offset get offset -1, leader epoch -1, metadata "" and no error; so do unknown
//   groups and topics.
// - v2+: null topics = every committed offset of the group; group-level errors (COORDINATOR_LOAD_IN_PROGRESS,
//   COORDINATOR_NOT_AVAILABLE) go in the top-level error code. v1 has no top-level error: it goes on each partition.
// - v7+ RequireStable: a partition whose commit is not yet durable gets UNSTABLE_OFFSET_COMMIT (retriable).
// - v8+ asks for several groups at once (Groups array); v9's member id/epoch only matter to KIP-848 groups.
// - Authorization (Kafka's handleOffsetFetchRequest), per group: DESCRIBE on the group, else the group error
//   GROUP_AUTHORIZATION_FAILED (v1: on each requested partition). Listed topics need DESCRIBE: the others are
//   answered TOPIC_AUTHORIZATION_FAILED (offset -1) after the rest, without asking the coordinator. All topics
//   (null): the offsets of topics one may not describe are left out.
import * as Req from '../../protocol/generated/messages/OffsetFetchRequest.js';
import * as Res from '../../protocol/generated/messages/OffsetFetchResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { OffsetFetchParams, OffsetFetchResult } from '../../groups/coordinator.js';
import { authorizationEnabled, authorizeGroup, authorizeTopics, partitionAuthorized } from '../../security/authorizer-helpers.js';
import type { RequestContext } from '../context.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.OffsetFetchRequest, Res.OffsetFetchResponse>(Req, Res, {
  versions: [1, 9],
  handle(ctx, req, version) {
    const requireStable = version >= 7 && req.requireStable;
    if (version >= 8) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((g) => {
          const res = fetchOffsets(ctx, { groupId: g.groupId, topics: g.topics, requireStable });
          return { groupId: g.groupId, errorCode: res.errorCode, topics: res.topics };
        }),
      };
    }
    const res = fetchOffsets(ctx, { groupId: req.groupId, topics: req.topics, requireStable });
    if (version < 2 && res.errorCode !== ErrorCode.NONE) {
      const topics = (req.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: res.errorCode })),
      }));
      return { throttleTimeMs: 0, topics };
    }
    return { throttleTimeMs: 0, errorCode: res.errorCode, topics: res.topics };
  },
});

/** One group's committed offsets, as far as this connection may see them. */
function fetchOffsets(ctx: RequestContext, params: OffsetFetchParams): OffsetFetchResult {
  const { groups } = ctx.services;
  if (!authorizeGroup(ctx, 'DESCRIBE', params.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
  if (!authorizationEnabled(ctx)) return groups.fetchOffsets(params);
  if (params.topics === null) {
    const res = groups.fetchOffsets(params);
    if (res.errorCode !== ErrorCode.NONE) return res;
    const describable = authorizeTopics(ctx, 'DESCRIBE', res.topics.map((t) => t.name), { logIfDenied: false });
    return { errorCode: res.errorCode, topics: res.topics.filter((t) => describable.has(t.name)) };
  }
  const [allowed, denied] = partitionAuthorized(ctx, 'DESCRIBE', 'TOPIC', params.topics, (t) => t.name);
  const res = groups.fetchOffsets({ ...params, topics: allowed });
  if (res.errorCode !== ErrorCode.NONE) return res;
  const refused = denied.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex) => ({
      partitionIndex,
      committedOffset: -1,
      committedLeaderEpoch: -1,
      metadata: '',
      errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    })),
  }));
  return { errorCode: ErrorCode.NONE, topics: [...res.topics, ...refused] };
}
