// DescribeUserScramCredentials (key 50), v0. Behaviour (Kafka's ScramImage.describe):
// - Users null or empty: every user with credentials. Otherwise each named user once; a name given twice →
//   DUPLICATE_RESOURCE, an unknown one → RESOURCE_NOT_FOUND. Results sorted by name.
// - Each result lists mechanism (1 SCRAM-SHA-256, 2 SCRAM-SHA-512) and iterations only: never salts or keys.
// - Needs DESCRIBE on CLUSTER: without it the top-level error is CLUSTER_AUTHORIZATION_FAILED.
//   The check is the ACL engineer's authorizeCluster (src/security/authorizer-helpers.ts): it passes while
//   authorization is off (no services.authorizer), as in Kafka.
import * as Req from '../../protocol/generated/messages/DescribeUserScramCredentialsRequest.js';
import * as Res from '../../protocol/generated/messages/DescribeUserScramCredentialsResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CLUSTER_AUTHORIZATION_FAILED_MESSAGE, authorizeCluster } from '../../security/authorizer-helpers.js';
import { requireSecurity } from '../../security/context.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.DescribeUserScramCredentialsRequest, Res.DescribeUserScramCredentialsResponse>(Req, Res, {
  async handle(ctx, req) {
    const security = requireSecurity(ctx);
    if (!authorizeCluster(ctx, 'DESCRIBE')) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: CLUSTER_AUTHORIZATION_FAILED_MESSAGE, results: [] };
    }
    const users = req.users === null ? null : req.users.map((u) => u.name);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results: security.credentials.describe(users) };
  },
});
