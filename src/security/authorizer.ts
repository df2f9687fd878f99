// The ACL authorizer, with the semantics of Kafka's StandardAuthorizer (KRaft), persisted in the metadata store.
//
// Deciding (StandardAuthorizerData.authorize / findAclRule / findResult):
// - A superuser (`super.users`, by principal string) is always allowed.
// - The ACLs that apply to a resource are its LITERAL ACLs, the LITERAL `*` of its type, and every PREFIXED ACL
//   whose name is a prefix of (or equal to) the resource name. Of those, an ACL matches the request when its
//   principal is the request's or `User:*`, its host is the client's address or `*`, and its operation covers the
//   requested one.
// - Operations: ALL covers everything. In an ALLOW ACL, READ, WRITE, DELETE and ALTER also cover DESCRIBE, and
//   ALTER_CONFIGS covers DESCRIBE_CONFIGS. A DENY ACL covers only its own operation (or all, for ALL): denying
//   READ does not deny DESCRIBE.
// - Any matching DENY wins over any matching ALLOW. Else a matching ALLOW allows.
// - Else, when no ACL at all applies to the resource (whatever its principal, host or operation), the answer is
//   `allow.everyone.if.no.acl.found` (default false); when some ACL applies but none matched, deny.
// authorizeByResourceType is the default method of Kafka's Authorizer interface (used by InitProducerId: an
// idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on at least one topic).
//
// Storing: each ACL is one JSON value under `acls/<id>` in the MetadataStore; a CreateAcls or DeleteAcls request
// is one atomic store batch, applied to the in-memory index only once durable. Mutations are serialized, so two
// concurrent requests never both create the same ACL. Every ACL carries an `origin` (`local`, or `link:<name>`
// for the ACLs a shadow link's ACL sync copies from its source) that is never sent on the wire: a link can later
// remove exactly what it created (`syncOrigin`) without touching ACLs an operator made, even identical ones.
// Identical bindings of different origins may coexist; listings show each binding once.
import { randomUUID } from 'node:crypto';
import type { MetadataStore } from '../cluster/types.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import {
  AclOperation,
  AclPermissionType,
  AclValidationError,
  PatternType,
  ResourceType,
  WILDCARD,
  WILDCARD_PRINCIPAL,
  bindingKey,
  compareBindings,
  filterMatches,
  supportedOperations,
  toBinding,
  toOperationsBitField,
  validateBinding,
  validateFilter,
  type AclBinding,
  type AclBindingFilter,
} from './acl.js';
import { AclIndex, normalizeHost, type IndexedAcl, type StoredAcl } from './acl-index.js';

export type { StoredAcl } from './acl-index.js';

/** Metadata-store key prefix of the ACLs. */
export const ACL_KEY_PREFIX = 'acls/';
/** Origin of ACLs created through CreateAcls (the API, the CLI, any admin client). */
export const LOCAL_ORIGIN = 'local';
/** Origin of the ACLs a shadow link's ACL sync created. */
export function linkOrigin(linkName: string): string {
  return `link:${linkName}`;
}

/** The per-creation outcome of CreateAcls (NONE, or INVALID_REQUEST / a storage failure with a message). */
export interface AclCreateResult {
  errorCode: number;
  errorMessage: string | null;
}

/** The per-filter outcome of DeleteAcls: the bindings it deleted, or an error. */
export interface AclDeleteResult {
  errorCode: number;
  errorMessage: string | null;
  matchingAcls: AclBinding[];
}

/**
 * What the broker needs from an authorizer; `BrokerServices.authorizer` (absent = authorization off). Principals
 * are `Type:name` strings (`User:alice`), hosts the client's IP address as the socket reports it.
 */
export interface Authorizer {
  /** May `principal` connecting from `host` perform `operation` on the named resource? */
  authorize(principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean;
  /** May it perform `operation` on at least one resource of this type (Kafka's authorizeByResourceType)? */
  authorizeByResourceType(principal: string, host: string, operation: number, resourceType: number): boolean;
  /** The `*AuthorizedOperations` bit field for a resource: every supported operation the principal may perform. */
  authorizedOperations(principal: string, host: string, resourceType: number, resourceName: string): number;
  isSuperUser(principal: string): boolean;
  /** Bindings matching the filter, each once, in listing order (DescribeAcls). */
  acls(filter: AclBindingFilter): AclBinding[];
  /** One result per binding, in order (CreateAcls). */
  createAcls(bindings: readonly AclBinding[], opts?: { origin?: string }): Promise<AclCreateResult[]>;
  /** One result per filter, in order (DeleteAcls). With `origin`, only ACLs of that origin are deleted. */
  deleteAcls(filters: readonly AclBindingFilter[], opts?: { origin?: string }): Promise<AclDeleteResult[]>;
  readonly aclCount: number;
}

export interface AclAuthorizerOptions {
  /** principals every check allows (`super.users`), e.g. `User:admin` */
  superUsers?: Iterable<string>;
  /** `allow.everyone.if.no.acl.found`: the answer when no ACL applies to a resource (default false) */
  allowEveryoneIfNoAclFound?: boolean;
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** The stored JSON of one ACL (under `acls/<id>`). */
interface AclRecord extends AclBinding {
  origin: string;
}

/** ALLOW ACLs of these operations also allow DESCRIBE (StandardAuthorizerData.IMPLIES_DESCRIBE). */
const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE,
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.DELETE,
  AclOperation.ALTER,
]);
/** ALLOW ACLs of these operations also allow DESCRIBE_CONFIGS. */
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

const ALLOWED = 1;
const DENIED = 2;

/**
 * StandardAuthorizerData.findResult: ALLOWED or DENIED when the ACL matches the request (its resource pattern is
 * known to apply), 0 when it does not.
 */
function aclResult(acl: IndexedAcl, principal: string, host: string, operation: number): number {
  if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) return 0;
  if (acl.host !== WILDCARD && acl.host !== host && acl.normalizedHost !== host) return 0;
  if (acl.operation !== AclOperation.ALL) {
    if (acl.permissionType === AclPermissionType.ALLOW) {
      if (operation === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return 0;
      } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return 0;
      } else if (operation !== acl.operation) {
        return 0;
      }
    } else if (operation !== acl.operation) {
      return 0;
    }
  }
  return acl.permissionType === AclPermissionType.ALLOW ? ALLOWED : DENIED;
}

export class AclAuthorizer implements Authorizer {
  private readonly store: MetadataStore;
  private readonly index = new AclIndex();
  private readonly superUsers: Set<string>;
  private readonly allowIfNoAcl: boolean;
  private readonly logger: AclAuthorizerOptions['logger'];
  /** tail of the mutation queue: creates and deletes run one at a time */
  private mutations: Promise<unknown> = Promise.resolve();

  /** Loads every ACL from the store (synchronously: the store keeps its key space in memory). */
  constructor(store: MetadataStore, opts: AclAuthorizerOptions = {}) {
    this.store = store;
    this.superUsers = new Set(opts.superUsers ?? []);
    this.allowIfNoAcl = opts.allowEveryoneIfNoAclFound ?? false;
    this.logger = opts.logger;
    this.reload();
  }

  /** Re-reads the ACLs from the store. Records that do not validate are skipped with a warning. */
  reload(): void {
    this.index.clear();
    for (const [key, value] of this.store.list<AclRecord>(ACL_KEY_PREFIX)) {
      const id = key.slice(ACL_KEY_PREFIX.length);
      try {
        const binding = toBinding(value);
        validateBinding(binding);
        this.index.add({ ...binding, id, origin: typeof value.origin === 'string' ? value.origin : LOCAL_ORIGIN });
      } catch (err) {
        this.logger?.warn({ key, err: (err as Error).message }, 'ignoring an invalid stored ACL');
      }
    }
    this.logger?.info({ acls: this.index.size }, 'ACLs loaded');
  }

  get aclCount(): number {
    return this.index.size;
  }

  isSuperUser(principal: string): boolean {
    return this.superUsers.has(principal);
  }

  authorize(principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean {
    if (this.superUsers.has(principal)) return true;
    const clientHost = normalizeHost(host);
    let hasResourceAcls = false;
    let allowed = false;
    let denied = false;
    this.index.forEachMatching(resourceType, resourceName, (acl) => {
      hasResourceAcls = true;
      const r = aclResult(acl, principal, clientHost, operation);
      if (r === DENIED) {
        denied = true;
        return true; // a DENY decides: stop looking
      }
      if (r === ALLOWED) allowed = true;
      return false;
    });
    if (denied) return false;
    if (allowed) return true;
    return hasResourceAcls ? false : this.allowIfNoAcl;
  }

  /**
   * Kafka's Authorizer.authorizeByResourceType default method, step by step: first a check on a made-up name
   * ("hardcode", so that superusers and `allow.everyone.if.no.acl.found` answer as for any resource), then the
   * ACLs of the type that name this principal (or `User:*`) and host (or `*`) with exactly this operation or ALL
   * (no implied operations here): a LITERAL `*` DENY denies; a LITERAL `*` ALLOW allows; else any ALLOW whose
   * name no DENY dominates (a LITERAL DENY of the same name, for a LITERAL ALLOW; a PREFIXED DENY on a prefix of
   * the name, for either) allows.
   */
  authorizeByResourceType(principal: string, host: string, operation: number, resourceType: number): boolean {
    if (this.authorize(principal, host, operation, resourceType, 'hardcode')) return true;
    const clientHost = normalizeHost(host);
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allowLiteral = new Set<string>();
    const allowPrefixed = new Set<string>();
    let wildcardAllow = false;
    for (const acl of this.index.ofType(resourceType)) {
      if (acl.host !== clientHost && acl.normalizedHost !== clientHost && acl.host !== WILDCARD) continue;
      if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.operation !== operation && acl.operation !== AclOperation.ALL) continue;
      const literal = acl.patternType === PatternType.LITERAL;
      if (acl.permissionType === AclPermissionType.DENY) {
        if (literal && acl.resourceName === WILDCARD) return false;
        (literal ? denyLiteral : denyPrefixed).add(acl.resourceName);
      } else if (acl.permissionType === AclPermissionType.ALLOW) {
        if (literal && acl.resourceName === WILDCARD) wildcardAllow = true;
        else (literal ? allowLiteral : allowPrefixed).add(acl.resourceName);
      }
    }
    if (wildcardAllow) return true;
    const dominatedByPrefixDeny = (name: string): boolean => {
      for (let i = 1; i <= name.length; i++) if (denyPrefixed.has(name.slice(0, i))) return true;
      return false;
    };
    for (const name of allowLiteral) if (!denyLiteral.has(name) && !dominatedByPrefixDeny(name)) return true;
    for (const name of allowPrefixed) if (!dominatedByPrefixDeny(name)) return true;
    return false;
  }

  authorizedOperations(principal: string, host: string, resourceType: number, resourceName: string): number {
    const allowed = supportedOperations(resourceType).filter((op) => this.authorize(principal, host, op, resourceType, resourceName));
    return toOperationsBitField(allowed);
  }

  acls(filter: AclBindingFilter): AclBinding[] {
    return dedupe(this.matching(filter).map(toBinding)).sort(compareBindings);
  }

  /** Stored ACLs matching the filter, with ids and origins, optionally of one origin only (for ACL sync). */
  storedAcls(filter: AclBindingFilter, opts: { origin?: string } = {}): StoredAcl[] {
    return this.matching(filter, opts.origin).map(({ normalizedHost: _h, ...acl }) => acl).sort(compareBindings);
  }

  createAcls(bindings: readonly AclBinding[], opts: { origin?: string } = {}): Promise<AclCreateResult[]> {
    const origin = opts.origin ?? LOCAL_ORIGIN;
    return this.serialize(async () => {
      const results: AclCreateResult[] = [];
      const toCreate: { index: number; acl: StoredAcl }[] = [];
      const existing = this.keysOfOrigin(origin);
      for (const [i, b] of bindings.entries()) {
        const binding = toBinding(b);
        try {
          validateBinding(binding);
        } catch (err) {
          results.push(invalid(err));
          continue;
        }
        results.push({ errorCode: ErrorCode.NONE, errorMessage: null });
        // Creating an ACL that exists succeeds without a second copy (AclControlManager.existingAcls).
        const key = bindingKey(binding);
        if (existing.has(key)) continue;
        existing.add(key);
        toCreate.push({ index: i, acl: { ...binding, id: randomUUID(), origin } });
      }
      if (toCreate.length === 0) return results;
      try {
        await this.store.batch(toCreate.map(({ acl }) => ({ op: 'put' as const, key: ACL_KEY_PREFIX + acl.id, value: toRecord(acl) })));
      } catch (err) {
        this.logger?.warn({ err }, 'storing created ACLs failed');
        const failure = storeFailure(err);
        for (const { index } of toCreate) results[index] = failure;
        return results;
      }
      for (const { acl } of toCreate) this.index.add(acl);
      return results;
    });
  }

  deleteAcls(filters: readonly AclBindingFilter[], opts: { origin?: string } = {}): Promise<AclDeleteResult[]> {
    return this.serialize(async () => {
      const results: AclDeleteResult[] = [];
      const ids = new Set<string>();
      // Every filter sees the ACLs as they were before the request (Kafka's controller applies the removals at
      // the end), so an ACL matching two filters is listed in both results.
      for (const filter of filters) {
        try {
          validateFilter(filter);
        } catch (err) {
          results.push({ ...invalid(err), matchingAcls: [] });
          continue;
        }
        const matched = this.matching(filter, opts.origin);
        for (const acl of matched) ids.add(acl.id);
        results.push({ errorCode: ErrorCode.NONE, errorMessage: null, matchingAcls: dedupe(matched.map(toBinding)).sort(compareBindings) });
      }
      if (ids.size === 0) return results;
      try {
        await this.store.batch([...ids].map((id) => ({ op: 'delete' as const, key: ACL_KEY_PREFIX + id })));
      } catch (err) {
        this.logger?.warn({ err }, 'storing deleted ACLs failed');
        const failure = storeFailure(err);
        return results.map((r) => (r.errorCode === ErrorCode.NONE && r.matchingAcls.length > 0 ? { ...failure, matchingAcls: [] } : r));
      }
      for (const id of ids) this.index.remove(id);
      return results;
    });
  }

  /**
   * Makes the ACLs of one origin exactly `bindings`, in one atomic store batch: what a shadow link's ACL sync
   * calls with the source cluster's (filtered) ACLs. ACLs of other origins are never touched. Bindings that do
   * not validate are skipped and reported.
   */
  syncOrigin(origin: string, bindings: readonly AclBinding[]): Promise<{ created: number; deleted: number; invalid: { binding: AclBinding; message: string }[] }> {
    if (origin === LOCAL_ORIGIN) return Promise.reject(new Error('syncOrigin is for link origins, not local ACLs'));
    return this.serialize(async () => {
      const invalidBindings: { binding: AclBinding; message: string }[] = [];
      const wanted = new Map<string, AclBinding>();
      for (const b of bindings) {
        const binding = toBinding(b);
        try {
          validateBinding(binding);
        } catch (err) {
          invalidBindings.push({ binding, message: (err as Error).message });
          continue;
        }
        wanted.set(bindingKey(binding), binding);
      }
      const current = new Map<string, IndexedAcl[]>();
      for (const acl of this.index.values()) {
        if (acl.origin !== origin) continue;
        const key = bindingKey(acl);
        const list = current.get(key);
        if (list) list.push(acl);
        else current.set(key, [acl]);
      }
      const toDelete: string[] = [];
      for (const [key, list] of current) {
        // keep one copy of a wanted binding; drop the rest
        for (const [i, acl] of list.entries()) if (!wanted.has(key) || i > 0) toDelete.push(acl.id);
      }
      const toCreate: StoredAcl[] = [];
      for (const [key, binding] of wanted) if (!current.has(key)) toCreate.push({ ...binding, id: randomUUID(), origin });
      if (toDelete.length + toCreate.length > 0) {
        await this.store.batch([
          ...toDelete.map((id) => ({ op: 'delete' as const, key: ACL_KEY_PREFIX + id })),
          ...toCreate.map((acl) => ({ op: 'put' as const, key: ACL_KEY_PREFIX + acl.id, value: toRecord(acl) })),
        ]);
        for (const id of toDelete) this.index.remove(id);
        for (const acl of toCreate) this.index.add(acl);
      }
      return { created: toCreate.length, deleted: toDelete.length, invalid: invalidBindings };
    });
  }

  private matching(filter: AclBindingFilter, origin?: string): IndexedAcl[] {
    const out: IndexedAcl[] = [];
    const source =
      filter.resourceType === ResourceType.ANY || filter.resourceType === ResourceType.UNKNOWN ? this.index.values() : this.index.ofType(filter.resourceType);
    for (const acl of source) {
      if (origin !== undefined && acl.origin !== origin) continue;
      if (filterMatches(filter, acl)) out.push(acl);
    }
    return out;
  }

  private keysOfOrigin(origin: string): Set<string> {
    const keys = new Set<string>();
    for (const acl of this.index.values()) if (acl.origin === origin) keys.add(bindingKey(acl));
    return keys;
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mutations.then(fn, fn);
    this.mutations = run.catch(() => undefined);
    return run;
  }
}

function toRecord(acl: StoredAcl): AclRecord {
  return { ...toBinding(acl), origin: acl.origin };
}

function dedupe(bindings: AclBinding[]): AclBinding[] {
  const seen = new Set<string>();
  return bindings.filter((b) => {
    const k = bindingKey(b);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function invalid(err: unknown): AclCreateResult {
  if (err instanceof AclValidationError) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: err.message };
  return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (err as Error).message };
}

function storeFailure(err: unknown): AclCreateResult {
  if (err instanceof KafkaError) return { errorCode: err.code, errorMessage: err.message };
  return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'The ACL change could not be stored; see the broker log' };
}
