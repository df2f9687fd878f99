// OffsetCommit (key 8), v2-9 (v10, topic ids only, is unstable in Kafka 4.1 and not advertised).
// Behaviour:
// - Members commit with their generation; ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID / REBALANCE_IN_PROGRESS
//   (CompletingRebalance) come from the group coordinator. Generation -1 with an empty member id is a simple
//   (standalone or admin) commit, accepted only while the group is Empty; it creates the group if needed.
// - Unknown group with a generation: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before.
// - A topic the cluster does not know gets UNKNOWN_TOPIC_OR_PARTITION for all its partitions (Kafka checks the topic,
//   not the partition). Metadata longer than offset.metadata.max.bytes: OFFSET_METADATA_TOO_LARGE.
// - RetentionTimeMs (v2-4) other than -1 gives the offset its own expiry (written as OffsetCommitValue v1).
// - Answered only after the records are fsynced in __consumer_offsets.
// - Authorization (Kafka's handleOffsetCommitRequest): READ on the group, else every requested partition gets
//   GROUP_AUTHORIZATION_FAILED; then READ on each topic: a topic without it gets TOPIC_AUTHORIZATION_FAILED on all
//   its partitions (before the existence check) and is not committed.
import * as Req from '../../protocol/generated/messages/OffsetCommitRequest.js';
import * as Res from '../../protocol/generated/messages/OffsetCommitResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { OffsetCommitTopicResult } from '../../groups/coordinator.js';
import { defineHandler } from '../registry.js';
import { authorizationEnabled, authorizeGroup, authorizeTopics } from '../../security/authorizer-helpers.js';

export default defineHandler<Req.OffsetCommitRequest, Res.OffsetCommitResponse>(Req, Res, {
  versions: [2, 9],
  async handle(ctx, req, version) {
    const { groups, partitions } = ctx.services;
    const failAll = (t: Req.OffsetCommitRequestTopic, errorCode: number): OffsetCommitTopicResult => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
    });
    if (!authorizeGroup(ctx, 'READ', req.groupId)) {
      return { throttleTimeMs: 0, topics: req.topics.map((t) => failAll(t, ErrorCode.GROUP_AUTHORIZATION_FAILED)) };
    }
    const readable = authorizationEnabled(ctx) ? authorizeTopics(ctx, 'READ', req.topics.map((t) => t.name)) : null;
    const allowed = (t: Req.OffsetCommitRequestTopic): boolean => readable === null || readable.has(t.name);
    const known = req.topics.filter((t) => allowed(t) && partitions.topic(t.name) !== undefined);
    const committed = await groups.commitOffsets(
      {
        groupId: req.groupId,
        generationIdOrMemberEpoch: req.generationIdOrMemberEpoch,
        memberId: req.memberId,
        groupInstanceId: req.groupInstanceId,
        retentionTimeMs: req.retentionTimeMs,
        topics: known,
      },
      version,
    );
    const byTopic = new Map<Req.OffsetCommitRequestTopic, OffsetCommitTopicResult>(known.map((t, i) => [t, committed[i]!]));
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => byTopic.get(t) ?? failAll(t, allowed(t) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.TOPIC_AUTHORIZATION_FAILED)),
    };
  },
});
