// ListGroups (key 16), v0-5. Behaviour: every group this node coordinates (all of them), including simple groups
// that only have committed offsets. v4 adds a states filter and the state of each group, v5 a types filter and the
// type (always "classic": Umbra has no KIP-848 groups); filters match case-insensitively, empty = no filter.
import * as Req from '../../protocol/generated/messages/ListGroupsRequest.js';
import * as Res from '../../protocol/generated/messages/ListGroupsResponse.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.ListGroupsRequest, Res.ListGroupsResponse>(Req, Res, {
  versions: [0, 5],
  handle(ctx, req) {
    const res = ctx.services.groups.listGroups({ statesFilter: req.statesFilter, typesFilter: req.typesFilter });
    return { throttleTimeMs: 0, errorCode: res.errorCode, groups: res.groups };
  },
});
