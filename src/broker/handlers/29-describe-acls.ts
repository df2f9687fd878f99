// DescribeAcls (key 29), v1-3 (Kafka 4 removed v0).
//
// Behaviour (Kafka's AclApis.handleDescribeAcls):
// - Needs DESCRIBE on the cluster: CLUSTER_AUTHORIZATION_FAILED in the top-level error otherwise. The check comes
//   first, so with authorization off it passes and the answer is SECURITY_DISABLED "No Authorizer is configured on
//   the broker" (kafka-acls and admin clients report that as-is).
// - The filter selects ACLs by Kafka's rules: resource type ANY, null name = any name, pattern type ANY (any) or
//   MATCH (every LITERAL, wildcard `*` and PREFIXED pattern that would apply to the named resource); null
//   principal / host = any, operation and permission type ANY = any. Matching is exact otherwise.
// - The answer groups the ACLs by resource pattern, each binding once, in a stable order (type, pattern type,
//   name, then principal, host, operation, permission).
// - A filter with an UNKNOWN (or undefined) code is INVALID_REQUEST "DescribeAclsRequest contains UNKNOWN
//   elements". Kafka fails the request's parse and closes the connection instead; an error answer is kinder and
//   no real client sends one.
import * as Req from '../../protocol/generated/messages/DescribeAclsRequest.js';
import * as Res from '../../protocol/generated/messages/DescribeAclsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode } from '../../protocol/errors.js';
import { AclValidationError, validateFilter, type AclBinding } from '../../security/acl.js';
import { CLUSTER_AUTHORIZATION_FAILED_MESSAGE, authorizeCluster, authorizerOf } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.DescribeAclsRequest, Res.DescribeAclsResponse>(Req, Res, {
  versions: [1, 3],
  handle(ctx, req) {
    if (!authorizeCluster(ctx, 'DESCRIBE')) return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED_MESSAGE);
    const auth = authorizerOf(ctx);
    if (!auth) return failed(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured on the broker');
    const filter = {
      resourceType: req.resourceTypeFilter,
      resourceName: req.resourceNameFilter,
      patternType: req.patternTypeFilter,
      principal: req.principalFilter,
      host: req.hostFilter,
      operation: req.operation,
      permissionType: req.permissionType,
    };
    try {
      validateFilter(filter);
    } catch (err) {
      if (!(err instanceof AclValidationError)) throw err;
      return failed(ErrorCode.INVALID_REQUEST, 'DescribeAclsRequest contains UNKNOWN elements');
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: groupByResource(auth.acls(filter)) };
  },
});

function failed(errorCode: number, errorMessage: string): Input<Res.DescribeAclsResponse> {
  return { throttleTimeMs: 0, errorCode, errorMessage, resources: [] };
}

/** DescribeAclsResponse.aclsResources: one entry per resource pattern, in the order the bindings come. */
export function groupByResource(bindings: readonly AclBinding[]): Input<Res.DescribeAclsResource>[] {
  const byPattern = new Map<string, Input<Res.DescribeAclsResource> & { acls: Input<Res.AclDescription>[] }>();
  for (const b of bindings) {
    const key = JSON.stringify([b.resourceType, b.resourceName, b.patternType]);
    let resource = byPattern.get(key);
    if (!resource) {
      resource = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] };
      byPattern.set(key, resource);
    }
    resource.acls.push({ principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType });
  }
  return [...byPattern.values()];
}
