// AlterUserScramCredentials (key 51), v0. Behaviour (Kafka's ScramControlManager.alterCredentials):
// - Deletions and upsertions; each user may appear once per request (twice → DUPLICATE_RESOURCE for that user).
// - Upsertions carry salt and SaltedPassword computed by the client; only StoredKey and ServerKey derived from
//   them are stored. Iterations outside 4096..16384 or an empty name → UNACCEPTABLE_CREDENTIAL; an unknown
//   mechanism → UNSUPPORTED_SASL_MECHANISM; deleting a missing credential → RESOURCE_NOT_FOUND.
// - The accepted changes are durable (one atomic metadata batch) before the answer.
// - Needs ALTER on CLUSTER: without it every user in the request gets CLUSTER_AUTHORIZATION_FAILED.
//   The check is the ACL engineer's authorizeCluster (src/security/authorizer-helpers.ts): it passes while
//   authorization is off (no services.authorizer), as in Kafka.
import * as Req from '../../protocol/generated/messages/AlterUserScramCredentialsRequest.js';
import * as Res from '../../protocol/generated/messages/AlterUserScramCredentialsResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CLUSTER_AUTHORIZATION_FAILED_MESSAGE, authorizeCluster } from '../../security/authorizer-helpers.js';
import { requireSecurity } from '../../security/context.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.AlterUserScramCredentialsRequest, Res.AlterUserScramCredentialsResponse>(Req, Res, {
  async handle(ctx, req) {
    const security = requireSecurity(ctx);
    if (!authorizeCluster(ctx, 'ALTER')) {
      const users = [...new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)])];
      return {
        throttleTimeMs: 0,
        results: users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: CLUSTER_AUTHORIZATION_FAILED_MESSAGE })),
      };
    }
    return { throttleTimeMs: 0, results: await security.credentials.alter(req.deletions, req.upsertions) };
  },
});
