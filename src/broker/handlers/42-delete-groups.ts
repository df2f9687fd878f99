// DeleteGroups (key 42), v0-2 (v0 kept by Kafka 4.x for sarama). Behaviour: deletes Empty groups with all their
// committed offsets (tombstones in __consumer_offsets); a group with members gets NON_EMPTY_GROUP, an unknown one
// GROUP_ID_NOT_FOUND. Each group is answered once its tombstones are durable.
import * as Req from '../../protocol/generated/messages/DeleteGroupsRequest.js';
import * as Res from '../../protocol/generated/messages/DeleteGroupsResponse.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.DeleteGroupsRequest, Res.DeleteGroupsResponse>(Req, Res, {
  versions: [0, 2],
  async handle(ctx, req) {
    return { throttleTimeMs: 0, results: await ctx.services.groups.deleteGroups(req.groupsNames) };
  },
});
