// DeleteGroups (key 42), v0-2 (v0 kept by Kafka 4.x for sarama). Behaviour: deletes Empty groups with all their
// committed offsets (tombstones in __consumer_offsets); a group with members gets NON_EMPTY_GROUP, an unknown one
// GROUP_ID_NOT_FOUND. Each group is answered once its tombstones are durable.
// Authorization (Kafka's handleDeleteGroupsRequest): DELETE on each group; the others get
// GROUP_AUTHORIZATION_FAILED and are not asked of the coordinator.
import * as Req from '../../protocol/generated/messages/DeleteGroupsRequest.js';
import * as Res from '../../protocol/generated/messages/DeleteGroupsResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { partitionAuthorized } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.DeleteGroupsRequest, Res.DeleteGroupsResponse>(Req, Res, {
  versions: [0, 2],
  async handle(ctx, req) {
    const [allowed, denied] = partitionAuthorized(ctx, 'DELETE', 'GROUP', req.groupsNames, (g) => g);
    const deleted = await ctx.services.groups.deleteGroups(allowed);
    if (denied.length === 0) return { throttleTimeMs: 0, results: deleted };
    // answered in request order
    let next = 0;
    const refused = new Set(denied);
    const results = req.groupsNames.map((groupId) => (refused.has(groupId) ? { groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED } : deleted[next++]!));
    return { throttleTimeMs: 0, results };
  },
});
