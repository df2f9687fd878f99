// DeleteAcls (key 31), v1-3 (Kafka 4 removed v0).
//
// Behaviour (Kafka's AclApis.handleDeleteAcls and the controller's AclControlManager.deleteAcls):
// - Needs ALTER on the cluster: every filter result gets CLUSTER_AUTHORIZATION_FAILED otherwise. With
//   authorization off the check passes and every filter result gets SECURITY_DISABLED "No Authorizer is
//   configured.".
// - One result per filter, in order, listing each binding it deleted (each once). Filters match as in
//   DescribeAcls (see 29-describe-acls.ts). Every filter sees the ACLs as they were before the request, so an ACL
//   matching two filters appears in both results. A filter with an UNKNOWN part is INVALID_REQUEST ("Unknown
//   patternFilter." / "Unknown entryFilter.") and deletes nothing.
// - All deletions of one request are one atomic store batch, durable before the answer.
import * as Req from '../../protocol/generated/messages/DeleteAclsRequest.js';
import * as Res from '../../protocol/generated/messages/DeleteAclsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CLUSTER_AUTHORIZATION_FAILED_MESSAGE, authorizeCluster, authorizerOf } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.DeleteAclsRequest, Res.DeleteAclsResponse>(Req, Res, {
  versions: [1, 3],
  async handle(ctx, req) {
    if (!authorizeCluster(ctx, 'ALTER')) return failedAll(req, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED_MESSAGE);
    const auth = authorizerOf(ctx);
    if (!auth) return failedAll(req, ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const results = await auth.deleteAcls(
      req.filters.map((f) => ({
        resourceType: f.resourceTypeFilter,
        resourceName: f.resourceNameFilter,
        patternType: f.patternTypeFilter,
        principal: f.principalFilter,
        host: f.hostFilter,
        operation: f.operation,
        permissionType: f.permissionType,
      })),
    );
    return {
      throttleTimeMs: 0,
      filterResults: results.map((r) => ({
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        matchingAcls: r.matchingAcls.map((b) => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          patternType: b.patternType,
          principal: b.principal,
          host: b.host,
          operation: b.operation,
          permissionType: b.permissionType,
        })),
      })),
    };
  },
});

function failedAll(req: Req.DeleteAclsRequest, errorCode: number, errorMessage: string): Input<Res.DeleteAclsResponse> {
  return { throttleTimeMs: 0, filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })) };
}
