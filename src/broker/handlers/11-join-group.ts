// JoinGroup (key 11), v0-9 (v0-1 kept by Kafka 4.1 for librdkafka < 2.11, see kafka-protocol/NOTES.md (b)).
// Behaviour (Kafka's classic group protocol; the rules live in src/groups/coordinator.ts):
// - The response waits for the join phase: every known member rejoins, or the rebalance timeout passes (members
//   that did not rejoin are removed); a new group first waits group.initial.rebalance.delay.ms for more members.
// - v4+: a first join without a group instance id gets MEMBER_ID_REQUIRED with a generated id ("clientId-uuid",
//   KIP-394) and must join again with it. v5+: static members (group.instance.id) keep their place across restarts;
//   a new member id replaces the old one, whose parked requests get FENCED_INSTANCE_ID.
// - v0 has no rebalance timeout: the session timeout is used, as in Kafka.
// - v7+ returns the protocol type and name (nullable); older versions get "" for a missing protocol name.
// - v9: a rejoining static leader of a Stable group may be told to skip the assignment (KIP-814).
// - Errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID,
//   FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE.
// - Authorization: READ on the group, else GROUP_AUTHORIZATION_FAILED (Kafka's getErrorResponse: generation -1,
//   no member id, leader or members) and the coordinator never hears of the request.
import * as Req from '../../protocol/generated/messages/JoinGroupRequest.js';
import * as Res from '../../protocol/generated/messages/JoinGroupResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import { authorizeGroup } from '../../security/authorizer-helpers.js';

export default defineHandler<Req.JoinGroupRequest, Res.JoinGroupResponse>(Req, Res, {
  versions: [0, 9],
  async handle(ctx, req, version) {
    if (!authorizeGroup(ctx, 'READ', req.groupId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        generationId: -1,
        protocolType: null,
        protocolName: version < 7 ? '' : null,
        leader: '',
        memberId: '',
        members: [],
      };
    }
    const res = await ctx.services.groups.joinGroup({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      protocolType: req.protocolType,
      protocols: req.protocols,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: version === 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
      clientId: ctx.clientId ?? '',
      clientHost: clientHost(ctx.connection.remoteAddress),
      requireKnownMemberId: version >= 4 && req.groupInstanceId === null,
      supportSkippingAssignment: version >= 9,
      reason: req.reason,
    });
    return { throttleTimeMs: 0, ...res, protocolName: version < 7 ? (res.protocolName ?? '') : res.protocolName };
  },
});

/** Kafka prints the client address as InetAddress.toString(): "/127.0.0.1". */
function clientHost(remoteAddress: string): string {
  return `/${remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress}`;
}
