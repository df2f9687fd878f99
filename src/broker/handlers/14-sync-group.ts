// SyncGroup (key 14), v0-5. Behaviour: after the join phase every member sends SyncGroup; the leader's carries the
// assignment. Followers wait until the leader's assignment is stored in __consumer_offsets, then everyone gets its
// own (members the leader left out get an empty one) and the group is Stable. A member that does not sync within
// the rebalance timeout is removed. REBALANCE_IN_PROGRESS when a new rebalance started meanwhile (rejoin);
// ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID (v3+ group instance id) as for Heartbeat.
// v5 (KIP-559): ProtocolType and ProtocolName are mandatory and must match the group's
// (INCONSISTENT_GROUP_PROTOCOL otherwise); the response echoes them.
// Authorization: READ on the group, after the v5 presence check (as Kafka orders them), else
// GROUP_AUTHORIZATION_FAILED with an empty assignment.
import * as Req from '../../protocol/generated/messages/SyncGroupRequest.js';
import * as Res from '../../protocol/generated/messages/SyncGroupResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { EMPTY } from '../../protocol/primitives.js';
import { defineHandler } from '../registry.js';
import { authorizeGroup } from '../../security/authorizer-helpers.js';

export default defineHandler<Req.SyncGroupRequest, Res.SyncGroupResponse>(Req, Res, {
  versions: [0, 5],
  async handle(ctx, req, version) {
    if (version >= 5 && (req.protocolType === null || req.protocolName === null)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, protocolType: null, protocolName: null, assignment: EMPTY };
    }
    if (!authorizeGroup(ctx, 'READ', req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: EMPTY };
    }
    const res = await ctx.services.groups.syncGroup({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      protocolType: req.protocolType,
      protocolName: req.protocolName,
      assignments: req.assignments,
    });
    return { throttleTimeMs: 0, ...res };
  },
});
