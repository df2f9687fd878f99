// OffsetDelete (key 47), v0. Behaviour: deletes committed offsets of a group (tombstones in __consumer_offsets).
// Allowed for Empty groups, and for "consumer" groups with members on topics none of them subscribes to: the
// subscriptions are read from the members' ConsumerProtocolSubscription metadata, as Kafka does; a subscribed
// topic's partitions get GROUP_SUBSCRIBED_TO_TOPIC. Other non-empty groups: NON_EMPTY_GROUP; unknown group:
// GROUP_ID_NOT_FOUND; a partition the cluster does not have: UNKNOWN_TOPIC_OR_PARTITION.
// Authorization (Kafka's handleOffsetDeleteRequest): DELETE on the group, else the top-level
// GROUP_AUTHORIZATION_FAILED and no topics; then READ on each topic, else TOPIC_AUTHORIZATION_FAILED on its
// partitions (before the existence check), which are not asked of the coordinator.
import * as Req from '../../protocol/generated/messages/OffsetDeleteRequest.js';
import * as Res from '../../protocol/generated/messages/OffsetDeleteResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { authorizationEnabled, authorizeGroup, authorizeTopics } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.OffsetDeleteRequest, Res.OffsetDeleteResponse>(Req, Res, {
  versions: [0, 0],
  async handle(ctx, req) {
    const { groups, partitions } = ctx.services;
    if (!authorizeGroup(ctx, 'DELETE', req.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    const readable = authorizationEnabled(ctx) ? authorizeTopics(ctx, 'READ', req.topics.map((t) => t.name)) : null;
    const allowed = (topic: string): boolean => readable === null || readable.has(topic);
    const exists = (topic: string, partition: number): boolean => {
      const record = partitions.topic(topic);
      return record !== undefined && partition >= 0 && partition < record.partitions;
    };
    const res = await groups.deleteOffsets({
      groupId: req.groupId,
      topics: req.topics
        .filter((t) => allowed(t.name))
        .map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex).filter((p) => exists(t.name, p)) })),
    });
    if (res.errorCode !== ErrorCode.NONE) return { errorCode: res.errorCode, throttleTimeMs: 0, topics: [] };
    const deleted = new Map(res.topics.map((t) => [t.name, new Map(t.partitions.map((p) => [p.partitionIndex, p.errorCode]))]));
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: !allowed(t.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : (deleted.get(t.name)?.get(p.partitionIndex) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        })),
      })),
    };
  },
});
