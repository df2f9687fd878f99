// ListGroups (key 16), v0-5. Behaviour: every group this node coordinates (all of them), including simple groups
// that only have committed offsets. v4 adds a states filter and the state of each group, v5 a types filter and the
// type (always "classic": Umbra has no KIP-848 groups); filters match case-insensitively, empty = no filter.
// Authorization (Kafka's handleListGroupsRequest): DESCRIBE on the cluster lists every group; without it only the
// groups the principal may DESCRIBE are listed. Never an error, and the denials are not logged (a listing).
import * as Req from '../../protocol/generated/messages/ListGroupsRequest.js';
import * as Res from '../../protocol/generated/messages/ListGroupsResponse.js';
import { authorizeCluster, authorizeGroup } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.ListGroupsRequest, Res.ListGroupsResponse>(Req, Res, {
  versions: [0, 5],
  handle(ctx, req) {
    const res = ctx.services.groups.listGroups({ statesFilter: req.statesFilter, typesFilter: req.typesFilter });
    const quiet = { logIfDenied: false };
    const groups = authorizeCluster(ctx, 'DESCRIBE', quiet) ? res.groups : res.groups.filter((g) => authorizeGroup(ctx, 'DESCRIBE', g.groupId, quiet));
    return { throttleTimeMs: 0, errorCode: res.errorCode, groups };
  },
});
