// CreateAcls (key 30), v1-3 (Kafka 4 removed v0).
//
// Behaviour (Kafka's AclApis.handleCreateAcls and the controller's AclControlManager):
// - Needs ALTER on the cluster: every creation gets CLUSTER_AUTHORIZATION_FAILED otherwise. With authorization
//   off the check passes and every creation gets SECURITY_DISABLED "No Authorizer is configured.".
// - One result per creation, in order. A creation is INVALID_REQUEST when its resource type is UNKNOWN/ANY, its
//   pattern type is not LITERAL or PREFIXED, its operation is UNKNOWN/ANY, its permission type is not ALLOW or
//   DENY, a CLUSTER resource is not named `kafka-cluster`, the name is empty, or the principal has no `Type:`
//   part (Kafka's authorizer would fail on it at every check; it is refused here up front). The others are created.
// - Creating an ACL that already exists succeeds and stores no second copy.
// - The valid creations of one request are stored in one atomic batch and take effect when it is durable, before
//   the answer.
import * as Req from '../../protocol/generated/messages/CreateAclsRequest.js';
import * as Res from '../../protocol/generated/messages/CreateAclsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CLUSTER_AUTHORIZATION_FAILED_MESSAGE, authorizeCluster, authorizerOf } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.CreateAclsRequest, Res.CreateAclsResponse>(Req, Res, {
  versions: [1, 3],
  async handle(ctx, req) {
    if (!authorizeCluster(ctx, 'ALTER')) return failedAll(req, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED_MESSAGE);
    const auth = authorizerOf(ctx);
    if (!auth) return failedAll(req, ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const results = await auth.createAcls(
      req.creations.map((c) => ({
        resourceType: c.resourceType,
        resourceName: c.resourceName,
        patternType: c.resourcePatternType,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permissionType: c.permissionType,
      })),
    );
    return { throttleTimeMs: 0, results };
  },
});

function failedAll(req: Req.CreateAclsRequest, errorCode: number, errorMessage: string): Input<Res.CreateAclsResponse> {
  return { throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode, errorMessage })) };
}
