// DescribeGroups (key 15), v0-6. Behaviour: state names are Kafka's (Empty, PreparingRebalance,
// CompletingRebalance, Stable, Dead). Members are always listed; their metadata and assignment bytes and the
// protocol name (ProtocolData) only when the group is Stable, as in Kafka. An unknown group is Dead with
// GROUP_ID_NOT_FOUND from v6 (KIP-1043), Dead with no error before. v4+ shows group instance ids.
// AuthorizedOperations (v3+) stays "not provided" (INT32_MIN) until the ACL authorizer exists.
import * as Req from '../../protocol/generated/messages/DescribeGroupsRequest.js';
import * as Res from '../../protocol/generated/messages/DescribeGroupsResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.DescribeGroupsRequest, Res.DescribeGroupsResponse>(Req, Res, {
  versions: [0, 6],
  handle(ctx, req, version) {
    const groups = ctx.services.groups.describeGroups(req.groups).map((g) =>
      version < 6 && g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND ? { ...g, errorCode: ErrorCode.NONE, errorMessage: null } : g,
    );
    return { throttleTimeMs: 0, groups };
  },
});
