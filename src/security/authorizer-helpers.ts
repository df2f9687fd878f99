// Authorization checks as handlers make them, mirroring Kafka's AuthHelper (core/src/main/scala/kafka/server/
// AuthHelper.scala): with no authorizer configured every check passes (`authorizer.forall`), and batch checks ask
// once per distinct resource name, so a Fetch of 1000 partitions of 3 topics costs 3 checks.
//
// The principal is the connection's (`User:ANONYMOUS` before or without SASL), the host the peer's IP address.
// Denials of resources a request names are logged at info (Kafka's `kafka.authorizer.logger` does the same);
// checks that only filter a listing (Metadata for all topics, ListGroups) pass `logIfDenied: false`, as Kafka does.
import type { BrokerServices, RequestContext } from '../broker/context.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  AclOperation,
  CLUSTER_NAME,
  ResourceType,
  supportedOperations,
  toOperationsBitField,
  type AclOperationName,
  type ResourceTypeName,
} from './acl.js';
import type { Authorizer } from './authorizer.js';

/** An operation a request can be checked for (the concrete ones: not ANY / UNKNOWN / ALL). */
export type Operation = Exclude<AclOperationName, 'UNKNOWN' | 'ANY' | 'ALL'>;
/** A resource type a request can be checked against. */
export type Resource = Exclude<ResourceTypeName, 'UNKNOWN' | 'ANY'>;

export interface CheckOptions {
  /** log a denial at info (default true; false for checks that only filter what a listing shows) */
  logIfDenied?: boolean;
}

/**
 * The broker's authorizer, or undefined when authorization is off. Reads `services.authorizer` without requiring
 * the field in BrokerServices' type, so this module compiles before and after the field is added there.
 */
export function authorizerOf(ctx: RequestContext): Authorizer | undefined {
  return (ctx.services as BrokerServices & { authorizer?: Authorizer }).authorizer;
}

/** Is authorization on for this broker? (Handlers skip building authorized-operations fields when it is not.) */
export function authorizationEnabled(ctx: RequestContext): boolean {
  return authorizerOf(ctx) !== undefined;
}

function check(ctx: RequestContext, auth: Authorizer, op: Operation, type: Resource, name: string, opts: CheckOptions | undefined): boolean {
  const { principal, remoteAddress } = ctx.connection;
  const ok = auth.authorize(principal, remoteAddress, AclOperation[op], ResourceType[type], name);
  if (!ok && (opts?.logIfDenied ?? true)) {
    ctx.services.logger.info({ principal, host: remoteAddress, operation: op, resource: `${type}:${name}`, apiKey: ctx.apiKey }, 'authorization denied');
  }
  return ok;
}

/** One check: may this connection perform `op` on the named resource? (true when authorization is off) */
export function authorize(ctx: RequestContext, op: Operation, type: Resource, name: string, opts?: CheckOptions): boolean {
  const auth = authorizerOf(ctx);
  return auth === undefined || check(ctx, auth, op, type, name, opts);
}

/** `op` on the cluster resource (`kafka-cluster`). */
export function authorizeCluster(ctx: RequestContext, op: Operation, opts?: CheckOptions): boolean {
  return authorize(ctx, op, 'CLUSTER', CLUSTER_NAME, opts);
}

export function authorizeTopic(ctx: RequestContext, op: Operation, topic: string, opts?: CheckOptions): boolean {
  return authorize(ctx, op, 'TOPIC', topic, opts);
}

export function authorizeGroup(ctx: RequestContext, op: Operation, groupId: string, opts?: CheckOptions): boolean {
  return authorize(ctx, op, 'GROUP', groupId, opts);
}

export function authorizeTransactionalId(ctx: RequestContext, op: Operation, transactionalId: string, opts?: CheckOptions): boolean {
  return authorize(ctx, op, 'TRANSACTIONAL_ID', transactionalId, opts);
}

/**
 * The names (of resources of one type) this connection may perform `op` on, each checked once (Kafka's
 * filterByAuthorized). With authorization off: every name.
 */
export function authorizedNames(ctx: RequestContext, op: Operation, type: Resource, names: Iterable<string>, opts?: CheckOptions): Set<string> {
  const distinct = new Set(names);
  const auth = authorizerOf(ctx);
  if (auth === undefined) return distinct;
  const allowed = new Set<string>();
  for (const name of distinct) if (check(ctx, auth, op, type, name, opts)) allowed.add(name);
  return allowed;
}

/** authorizedNames for topics: `authorizeTopics(ctx, 'WRITE', req.topicData.map((t) => t.name))`. */
export function authorizeTopics(ctx: RequestContext, op: Operation, topics: Iterable<string>, opts?: CheckOptions): Set<string> {
  return authorizedNames(ctx, op, 'TOPIC', topics, opts);
}

/** authorizedNames for groups. */
export function authorizeGroups(ctx: RequestContext, op: Operation, groupIds: Iterable<string>, opts?: CheckOptions): Set<string> {
  return authorizedNames(ctx, op, 'GROUP', groupIds, opts);
}

/**
 * Splits items into [authorized, unauthorized] by the name of the resource each concerns, keeping their order
 * (Kafka's partitionSeqByAuthorized): `partitionAuthorized(ctx, 'DESCRIBE', 'TOPIC', req.topics, (t) => t.name)`.
 */
export function partitionAuthorized<T>(
  ctx: RequestContext,
  op: Operation,
  type: Resource,
  items: readonly T[],
  nameOf: (item: T) => string,
  opts?: CheckOptions,
): [T[], T[]] {
  if (authorizerOf(ctx) === undefined) return [[...items], []];
  const allowed = authorizedNames(ctx, op, type, items.map(nameOf), opts);
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (allowed.has(nameOf(item)) ? yes : no).push(item);
  return [yes, no];
}

/**
 * The names of topics this connection may create: all of them with CREATE on the cluster, else those with
 * CREATE on the topic itself (CreateTopics in ControllerApis.createTopics, auto-creation in Metadata).
 */
export function authorizeTopicCreation(ctx: RequestContext, topics: Iterable<string>): Set<string> {
  if (authorizeCluster(ctx, 'CREATE', { logIfDenied: false })) return new Set(topics);
  return authorizeTopics(ctx, 'CREATE', topics);
}

/**
 * May this connection perform `op` on at least one resource of the type? (Kafka's authorizeByResourceType; with
 * authorization off, true.) InitProducerId without a transactional id: IDEMPOTENT_WRITE on the cluster, or this
 * with WRITE on TOPIC.
 */
export function authorizeByResourceType(ctx: RequestContext, op: Operation, type: Resource): boolean {
  const auth = authorizerOf(ctx);
  if (auth === undefined) return true;
  const { principal, remoteAddress } = ctx.connection;
  return auth.authorizeByResourceType(principal, remoteAddress, AclOperation[op], ResourceType[type]);
}

/**
 * The `*AuthorizedOperations` bit field of a resource (Metadata v8+ topics and cluster, DescribeGroups v3+,
 * DescribeCluster): every supported operation allowed; with authorization off, every supported operation (Kafka's
 * AuthHelper.authorizedOperations). Only for requests that asked for it: otherwise the field keeps the schema
 * default INT32_MIN (AUTHORIZED_OPERATIONS_OMITTED in ./acl.ts).
 */
export function authorizedOperations(ctx: RequestContext, type: Resource, name: string): number {
  const auth = authorizerOf(ctx);
  if (auth === undefined) return toOperationsBitField(supportedOperations(ResourceType[type]));
  return auth.authorizedOperations(ctx.connection.principal, ctx.connection.remoteAddress, ResourceType[type], name);
}

/** The error code Kafka answers when a check on this resource type fails. */
export function authorizationErrorCode(type: Resource): number {
  switch (type) {
    case 'TOPIC':
      return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    case 'GROUP':
      return ErrorCode.GROUP_AUTHORIZATION_FAILED;
    case 'CLUSTER':
      return ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    case 'TRANSACTIONAL_ID':
      return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    case 'DELEGATION_TOKEN':
    case 'USER':
      return ErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED;
  }
}

/** Kafka's default message of CLUSTER_AUTHORIZATION_FAILED (Errors.CLUSTER_AUTHORIZATION_FAILED). */
export const CLUSTER_AUTHORIZATION_FAILED_MESSAGE = 'Cluster authorization failed.';
