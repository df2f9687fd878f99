// DescribeClientQuotas (key 48), v0-1.
//
// Behaviour: Umbra enforces no client quotas and stores none, so every well-formed filter matches nothing and the
// answer is an empty list — which is what `kafka-configs --describe --entity-type users|clients` needs to work
// (it asks for quotas next to the SCRAM credentials). Like Kafka it checks the filter (entity types user,
// client-id and ip; match types exact = 0 with a name, default = 1 and any = 2 without one; no type twice; ip not
// combined with the others) and requires DESCRIBE_CONFIGS on the cluster. AlterClientQuotas (49) is not
// implemented, so nothing could ever be listed.
import * as Req from '../../protocol/generated/messages/DescribeClientQuotasRequest.js';
import * as Res from '../../protocol/generated/messages/DescribeClientQuotasResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { authorizeCluster } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';

const ENTITY_TYPES = new Set(['user', 'client-id', 'ip']);
const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_ANY = 2;

export default defineHandler<Req.DescribeClientQuotasRequest, Res.DescribeClientQuotasResponse>(Req, Res, {
  handle(ctx, req) {
    if (!authorizeCluster(ctx, 'DESCRIBE_CONFIGS')) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entries: null };
    }
    const problem = filterProblem(req.components);
    if (problem) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, entries: null };
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries: [] };
  },
});

function filterProblem(components: readonly Req.ComponentData[]): string | null {
  const seen = new Set<string>();
  for (const c of components) {
    if (!ENTITY_TYPES.has(c.entityType)) return `Custom entity type '${c.entityType}' not supported`;
    if (seen.has(c.entityType)) return `Duplicate ${c.entityType} filter component entity type`;
    seen.add(c.entityType);
    if (c.matchType === MATCH_EXACT && c.match === null) return `Exact match for ${c.entityType} needs a name`;
    if ((c.matchType === MATCH_DEFAULT || c.matchType === MATCH_ANY) && c.match !== null) return `Unexpected match name for ${c.entityType}`;
    if (c.matchType !== MATCH_EXACT && c.matchType !== MATCH_DEFAULT && c.matchType !== MATCH_ANY) return `Unknown match type ${c.matchType}`;
  }
  if (seen.has('ip') && (seen.has('user') || seen.has('client-id'))) return 'Invalid entity filter component combination, IP filter component should not be used with user or clientId filter component.';
  return null;
}
