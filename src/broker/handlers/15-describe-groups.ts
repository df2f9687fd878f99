// DescribeGroups (key 15), v0-6. Behaviour: state names are Kafka's (Empty, PreparingRebalance,
// CompletingRebalance, Stable, Dead). Members are always listed; their metadata and assignment bytes and the
// protocol name (ProtocolData) only when the group is Stable, as in Kafka. An unknown group is Dead with
// GROUP_ID_NOT_FOUND from v6 (KIP-1043), Dead with no error before. v4+ shows group instance ids.
// Authorization (Kafka's handleDescribeGroupsRequest): DESCRIBE on each group; the others get
// GROUP_AUTHORIZATION_FAILED (state, protocol type and data "", no members) and are not asked of the coordinator.
// v3+ includeAuthorizedOperations: every group answered without an error carries its authorized operations;
// otherwise the field is INT32_MIN ("omitted").
import * as Req from '../../protocol/generated/messages/DescribeGroupsRequest.js';
import * as Res from '../../protocol/generated/messages/DescribeGroupsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode } from '../../protocol/errors.js';
import { AUTHORIZED_OPERATIONS_OMITTED } from '../../security/acl.js';
import { authorizationEnabled, authorizeGroups, authorizedOperations } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';

type Group = Input<Res.DescribedGroup>;

export default defineHandler<Req.DescribeGroupsRequest, Res.DescribeGroupsResponse>(Req, Res, {
  versions: [0, 6],
  handle(ctx, req, version) {
    const describable = authorizationEnabled(ctx) ? authorizeGroups(ctx, 'DESCRIBE', req.groups) : null;
    const allowed = (groupId: string): boolean => describable === null || describable.has(groupId);
    const described = ctx.services.groups.describeGroups(req.groups.filter(allowed));
    const withOperations = version >= 3 && req.includeAuthorizedOperations;
    let next = 0;
    const groups = req.groups.map((groupId): Group => {
      if (!allowed(groupId)) return refused(groupId);
      let g: Group = described[next++]!;
      if (version < 6 && g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) g = { ...g, errorCode: ErrorCode.NONE, errorMessage: null };
      if (withOperations && g.errorCode === ErrorCode.NONE) g = { ...g, authorizedOperations: authorizedOperations(ctx, 'GROUP', groupId) };
      return g;
    });
    return { throttleTimeMs: 0, groups };
  },
});

/** Kafka's DescribeGroupsResponse.groupError(groupId, GROUP_AUTHORIZATION_FAILED). */
function refused(groupId: string): Group {
  return {
    errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
    errorMessage: null,
    groupId,
    groupState: '',
    protocolType: '',
    protocolData: '',
    members: [],
    authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}
