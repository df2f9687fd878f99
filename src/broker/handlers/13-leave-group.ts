// LeaveGroup (key 13), v0-5. Behaviour: the members leave at once (no session timeout wait) and the group
// rebalances. v0-2 name one member (MemberId) and get one error code: the group's, else that member's. v3+ batch
// members (MemberId + GroupInstanceId) with an error per member; a member id of "" with a group instance id removes
// that static member administratively (Admin.removeMembersFromConsumerGroup). v5 adds a reason.
// An unknown group gets UNKNOWN_MEMBER_ID.
// Authorization: READ on the group, else the top-level GROUP_AUTHORIZATION_FAILED with no member results.
import * as Req from '../../protocol/generated/messages/LeaveGroupRequest.js';
import * as Res from '../../protocol/generated/messages/LeaveGroupResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import { authorizeGroup } from '../../security/authorizer-helpers.js';

export default defineHandler<Req.LeaveGroupRequest, Res.LeaveGroupResponse>(Req, Res, {
  versions: [0, 5],
  handle(ctx, req, version) {
    if (!authorizeGroup(ctx, 'READ', req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const members = version >= 3 ? req.members : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
    const res = ctx.services.groups.leaveGroup(req.groupId, members);
    if (version <= 2) {
      const memberError = res.members.find((m) => m.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
      return { throttleTimeMs: 0, errorCode: res.errorCode !== ErrorCode.NONE ? res.errorCode : memberError };
    }
    return { throttleTimeMs: 0, errorCode: res.errorCode, members: res.members };
  },
});
