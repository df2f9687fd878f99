// Heartbeat (key 12), v0-4. Behaviour: keeps a member's session alive (the session timeout restarts).
// REBALANCE_IN_PROGRESS while the group prepares a rebalance (the member must rejoin); ILLEGAL_GENERATION for an
// old generation; UNKNOWN_MEMBER_ID for unknown members or groups; FENCED_INSTANCE_ID for a replaced static member
// (v3+ carries the group instance id). While the coordinator loads, NONE (the session is kept).
// Authorization: READ on the group, else GROUP_AUTHORIZATION_FAILED.
import * as Req from '../../protocol/generated/messages/HeartbeatRequest.js';
import * as Res from '../../protocol/generated/messages/HeartbeatResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import { authorizeGroup } from '../../security/authorizer-helpers.js';

export default defineHandler<Req.HeartbeatRequest, Res.HeartbeatResponse>(Req, Res, {
  versions: [0, 4],
  handle(ctx, req) {
    if (!authorizeGroup(ctx, 'READ', req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = ctx.services.groups.heartbeat({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
    });
    return { throttleTimeMs: 0, errorCode };
  },
});
