// The ACL model in Kafka's own words and codes: resource types, pattern types, operations, permission types,
// bindings (a resource pattern + an access control entry) and binding filters, with Kafka's matching and
// validation rules. Codes are the wire values of CreateAcls/DescribeAcls/DeleteAcls (Kafka's ResourceType,
// PatternType, AclOperation and AclPermissionType enums).
//
// Sources (apache/kafka): clients/.../common/resource/ResourcePatternFilter.java (filter matching),
// clients/.../common/acl/AccessControlEntryFilter.java, metadata/.../controller/AclControlManager.java
// (validateNewAcl, validateFilter), core/.../server/AclApis.scala (cluster name and empty-name checks),
// clients/.../common/requests/CreateAclsRequest.java (UNKNOWN elements), server/.../authorizer/AclEntry.java
// (supportedOperations).

export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;
export type ResourceTypeName = keyof typeof ResourceType;

export const PatternType = {
  UNKNOWN: 0,
  /** filters only: any pattern type */
  ANY: 1,
  /** filters only: every pattern that would match the filter's name (literal, wildcard, prefixes) */
  MATCH: 2,
  LITERAL: 3,
  PREFIXED: 4,
} as const;
export type PatternTypeName = keyof typeof PatternType;

export const AclOperation = {
  UNKNOWN: 0,
  /** filters only */
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
  /** KIP-939 (Kafka 4.1), on transactional ids; accepted and stored, never checked here (no 2PC) */
  TWO_PHASE_COMMIT: 15,
} as const;
export type AclOperationName = keyof typeof AclOperation;

export const AclPermissionType = {
  UNKNOWN: 0,
  /** filters only */
  ANY: 1,
  DENY: 2,
  ALLOW: 3,
} as const;
export type AclPermissionTypeName = keyof typeof AclPermissionType;

/** The only valid name of the CLUSTER resource (Kafka's Resource.CLUSTER_NAME). */
export const CLUSTER_NAME = 'kafka-cluster';
/** A LITERAL resource name, or an ACL host, that matches every name / host. */
export const WILDCARD = '*';
/** The principal of an ACL that applies to every user. */
export const WILDCARD_PRINCIPAL = 'User:*';

/** An ACL: a resource pattern and an access control entry (Kafka's AclBinding). */
export interface AclBinding {
  resourceType: number;
  resourceName: string;
  /** LITERAL or PREFIXED */
  patternType: number;
  /** `Type:name`, e.g. `User:alice` or `User:*` */
  principal: string;
  /** an IP address or `*` */
  host: string;
  operation: number;
  /** ALLOW or DENY */
  permissionType: number;
}

/**
 * Which ACLs a DescribeAcls / DeleteAcls filter selects (Kafka's AclBindingFilter). null = any value; type fields
 * may be ANY; patternType MATCH selects every pattern that would match `resourceName`.
 */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

/** A filter that selects every ACL (Kafka's AclBindingFilter.ANY). */
export const ANY_ACL_FILTER: Readonly<AclBindingFilter> = Object.freeze({
  resourceType: ResourceType.ANY,
  resourceName: null,
  patternType: PatternType.ANY,
  principal: null,
  host: null,
  operation: AclOperation.ANY,
  permissionType: AclPermissionType.ANY,
});

const reverseTables = new WeakMap<Record<string, number>, Map<number, string>>();

function nameOf(table: Record<string, number>, code: number): string | undefined {
  let reverse = reverseTables.get(table);
  if (!reverse) {
    reverse = new Map(Object.entries(table).map(([k, v]) => [v, k]));
    reverseTables.set(table, reverse);
  }
  return reverse.get(code);
}

/** `TOPIC`, … (`UNKNOWN(9)` for a code Kafka does not define). */
export function resourceTypeName(code: number): string {
  return nameOf(ResourceType, code) ?? `UNKNOWN(${code})`;
}
export function patternTypeName(code: number): string {
  return nameOf(PatternType, code) ?? `UNKNOWN(${code})`;
}
export function operationName(code: number): string {
  return nameOf(AclOperation, code) ?? `UNKNOWN(${code})`;
}
export function permissionTypeName(code: number): string {
  return nameOf(AclPermissionType, code) ?? `UNKNOWN(${code})`;
}

function known(table: Record<string, number>, code: number): boolean {
  return code !== 0 && nameOf(table, code) !== undefined;
}

/**
 * Parses a name as Kafka's `fromString` does: case-insensitive, and for operations and resource types also the
 * CamelCase forms kafka-acls accepts (`IdempotentWrite`, `TransactionalId`, `DescribeConfigs`). undefined when unknown.
 */
export function parseEnumName<T extends Record<string, number>>(table: T, s: string): T[keyof T] | undefined {
  const norm = s.trim().replace(/[-_\s]/g, '').toUpperCase();
  for (const [k, v] of Object.entries(table)) if (k.replace(/_/g, '') === norm) return v as T[keyof T];
  return undefined;
}

/** A validation failure Kafka answers with INVALID_REQUEST. */
export class AclValidationError extends Error {
  override name = 'AclValidationError';
}

/**
 * Splits `Type:name` as Kafka's SecurityUtils.parseKafkaPrincipal does (the first colon separates; the name may be
 * empty or contain colons). Throws AclValidationError without a colon.
 */
export function parsePrincipal(principal: string): { type: string; name: string } {
  const i = principal.indexOf(':');
  if (i < 0) throw new AclValidationError(`expected a string in format principalType:principalName but got ${principal}`);
  return { type: principal.slice(0, i), name: principal.slice(i + 1) };
}

/**
 * Checks a binding to be created, in the order and with the messages of Kafka (CreateAclsRequest.validate,
 * AclApis.handleCreateAcls, AclControlManager.validateNewAcl). Throws AclValidationError (INVALID_REQUEST).
 *
 * One deliberate difference: Kafka fails the parse of a request carrying a code 0 (UNKNOWN) element, which closes
 * the connection; here that creation alone is refused with INVALID_REQUEST, like any other code Kafka does not know.
 */
export function validateBinding(b: AclBinding): void {
  if (!known(ResourceType, b.resourceType) || b.resourceType === ResourceType.ANY) {
    throw new AclValidationError(`Invalid resourceType ${resourceTypeName(b.resourceType)}`);
  }
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) {
    throw new AclValidationError(`Invalid patternType ${patternTypeName(b.patternType)}`);
  }
  if (!known(AclOperation, b.operation) || b.operation === AclOperation.ANY) {
    throw new AclValidationError(`Invalid operation ${operationName(b.operation)}`);
  }
  if (b.permissionType !== AclPermissionType.ALLOW && b.permissionType !== AclPermissionType.DENY) {
    throw new AclValidationError(`Invalid permissionType ${permissionTypeName(b.permissionType)}`);
  }
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) {
    throw new AclValidationError(`The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`);
  }
  if (b.resourceName === '') throw new AclValidationError('Invalid empty resource name');
  // Kafka's authorizer parses the principal on every check and would fail there; refuse it up front instead.
  try {
    parsePrincipal(b.principal);
  } catch (err) {
    throw new AclValidationError(`Invalid principal: ${(err as Error).message}`);
  }
}

/**
 * Checks a DescribeAcls / DeleteAcls filter (AclControlManager.validateFilter: no UNKNOWN part). Throws
 * AclValidationError (INVALID_REQUEST).
 */
export function validateFilter(f: AclBindingFilter): void {
  if (!known(ResourceType, f.resourceType) || !known(PatternType, f.patternType)) {
    throw new AclValidationError('Unknown patternFilter.');
  }
  if (!known(AclOperation, f.operation) || !known(AclPermissionType, f.permissionType)) {
    throw new AclValidationError('Unknown entryFilter.');
  }
}

/** Kafka's ResourcePatternFilter.matches. */
export function patternFilterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== b.patternType) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === PatternType.ANY || f.patternType === b.patternType) return f.resourceName === b.resourceName;
  // MATCH: the patterns that would match a resource called f.resourceName
  if (b.patternType === PatternType.LITERAL) return f.resourceName === b.resourceName || b.resourceName === WILDCARD;
  if (b.patternType === PatternType.PREFIXED) return f.resourceName.startsWith(b.resourceName);
  return false;
}

/** Kafka's AccessControlEntryFilter.matches: exact comparisons, null / ANY = any. */
export function entryFilterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  if (f.permissionType !== AclPermissionType.ANY && f.permissionType !== b.permissionType) return false;
  return true;
}

/** Kafka's AclBindingFilter.matches. */
export function filterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  return patternFilterMatches(f, b) && entryFilterMatches(f, b);
}

/** A string that is equal for equal bindings (Kafka compares bindings field by field). */
export function bindingKey(b: AclBinding): string {
  return JSON.stringify([b.resourceType, b.resourceName, b.patternType, b.principal, b.host, b.operation, b.permissionType]);
}

/** Just the seven binding fields (drops anything else an object carries, such as a stored ACL's id and origin). */
export function toBinding(b: AclBinding): AclBinding {
  return {
    resourceType: b.resourceType,
    resourceName: b.resourceName,
    patternType: b.patternType,
    principal: b.principal,
    host: b.host,
    operation: b.operation,
    permissionType: b.permissionType,
  };
}

/** Orders bindings as a listing should read: by resource type, pattern type, name, then principal, host, op. */
export function compareBindings(a: AclBinding, b: AclBinding): number {
  return (
    a.resourceType - b.resourceType ||
    a.patternType - b.patternType ||
    cmp(a.resourceName, b.resourceName) ||
    cmp(a.principal, b.principal) ||
    cmp(a.host, b.host) ||
    a.operation - b.operation ||
    a.permissionType - b.permissionType
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Kafka's toString of a binding, as kafka-acls prints it. */
export function describeBinding(b: AclBinding): string {
  return (
    `(pattern=ResourcePattern(resourceType=${resourceTypeName(b.resourceType)}, name=${b.resourceName}, ` +
    `patternType=${patternTypeName(b.patternType)}), entry=(principal=${b.principal}, host=${b.host}, ` +
    `operation=${operationName(b.operation)}, permissionType=${permissionTypeName(b.permissionType)}))`
  );
}

const SUPPORTED_OPERATIONS: Readonly<Record<number, readonly number[]>> = {
  [ResourceType.TOPIC]: [
    AclOperation.READ,
    AclOperation.WRITE,
    AclOperation.CREATE,
    AclOperation.DESCRIBE,
    AclOperation.DELETE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [ResourceType.GROUP]: [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS],
  [ResourceType.CLUSTER]: [
    AclOperation.CREATE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
  ],
  [ResourceType.TRANSACTIONAL_ID]: [AclOperation.DESCRIBE, AclOperation.WRITE],
  [ResourceType.DELEGATION_TOKEN]: [AclOperation.DESCRIBE],
  [ResourceType.USER]: [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS],
};

/**
 * The operations that make sense on a resource type (Kafka's AclEntry.supportedOperations): the ones reported in
 * the `*AuthorizedOperations` bit fields of Metadata, DescribeGroups and DescribeCluster.
 */
export function supportedOperations(resourceType: number): readonly number[] {
  const ops = SUPPORTED_OPERATIONS[resourceType];
  if (!ops) throw new Error(`not a concrete resource type: ${resourceTypeName(resourceType)}`);
  return ops;
}

/** Value of an `*AuthorizedOperations` field the request did not ask for (the schema default, INT32_MIN). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** Kafka's Utils.to32BitField: bit `code` set for each operation code. */
export function toOperationsBitField(ops: Iterable<number>): number {
  let field = 0;
  for (const op of ops) field |= 1 << op;
  return field;
}
