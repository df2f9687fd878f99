// The in-memory index the authorizer checks requests against. A check must be cheap (a Fetch of 1000 partitions
// asks once per distinct topic, a Produce the same), so ACLs are kept by resource type, then:
//   - LITERAL by exact name (the wildcard `*` is just the literal name "*"): one map lookup each;
//   - PREFIXED by prefix, with the sorted set of prefix lengths present: a name of length L costs one lookup per
//     distinct prefix length <= L (a handful in practice), instead of a scan of every prefixed ACL.
// This finds exactly the ACLs Kafka's StandardAuthorizerData.findAclRule walks in its reverse-sorted set: the
// literal ACLs of the name, the prefixed ACLs whose name is a prefix of (or equal to) it, and the literal `*`.
import { isIP } from 'node:net';
import { PatternType, WILDCARD, type AclBinding } from './acl.js';

/** An ACL as stored: a binding with its storage id and who created it. */
export interface StoredAcl extends AclBinding {
  /** key suffix in the metadata store (`acls/<id>`) */
  id: string;
  /** who created it: `local` (CreateAcls, the CLI) or `link:<name>` (a shadow link's ACL sync) */
  origin: string;
}

/** An indexed ACL: the stored one plus its host in the form client addresses are compared in. */
export interface IndexedAcl extends StoredAcl {
  normalizedHost: string;
}

class TypeIndex {
  readonly literal = new Map<string, IndexedAcl[]>();
  readonly prefixed = new Map<string, IndexedAcl[]>();
  /** distinct lengths of the prefixed names, ascending */
  prefixLengths: number[] = [];
  /** how many prefixed names have each length */
  private readonly lengthCounts = new Map<number, number>();
  size = 0;

  add(acl: IndexedAcl): void {
    const map = acl.patternType === PatternType.PREFIXED ? this.prefixed : this.literal;
    const list = map.get(acl.resourceName);
    if (list) list.push(acl);
    else {
      map.set(acl.resourceName, [acl]);
      if (map === this.prefixed) this.countLength(acl.resourceName.length, 1);
    }
    this.size++;
  }

  remove(acl: IndexedAcl): void {
    const map = acl.patternType === PatternType.PREFIXED ? this.prefixed : this.literal;
    const list = map.get(acl.resourceName);
    if (!list) return;
    const i = list.findIndex((a) => a.id === acl.id);
    if (i < 0) return;
    list.splice(i, 1);
    this.size--;
    if (list.length === 0) {
      map.delete(acl.resourceName);
      if (map === this.prefixed) this.countLength(acl.resourceName.length, -1);
    }
  }

  private countLength(len: number, delta: number): void {
    const n = (this.lengthCounts.get(len) ?? 0) + delta;
    if (n > 0) this.lengthCounts.set(len, n);
    else this.lengthCounts.delete(len);
    // the sorted list changes only when a length appears or disappears
    if ((delta > 0 && n === 1) || n === 0) this.prefixLengths = [...this.lengthCounts.keys()].sort((a, b) => a - b);
  }

  /** Calls fn with each ACL whose pattern matches `name`; stops when fn returns true. */
  forEachMatching(name: string, fn: (acl: IndexedAcl) => boolean): boolean {
    const exact = this.literal.get(name);
    if (exact) for (const a of exact) if (fn(a)) return true;
    if (name !== WILDCARD) {
      const wildcard = this.literal.get(WILDCARD);
      if (wildcard) for (const a of wildcard) if (fn(a)) return true;
    }
    for (const len of this.prefixLengths) {
      if (len > name.length) break;
      const list = this.prefixed.get(len === name.length ? name : name.slice(0, len));
      if (list) for (const a of list) if (fn(a)) return true;
    }
    return false;
  }

  *all(): IterableIterator<IndexedAcl> {
    for (const list of this.literal.values()) yield* list;
    for (const list of this.prefixed.values()) yield* list;
  }
}

export class AclIndex {
  private readonly byId = new Map<string, IndexedAcl>();
  private readonly byType = new Map<number, TypeIndex>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): IndexedAcl | undefined {
    return this.byId.get(id);
  }

  add(acl: StoredAcl): void {
    if (this.byId.has(acl.id)) this.remove(acl.id);
    const indexed: IndexedAcl = { ...acl, normalizedHost: normalizeHost(acl.host) };
    this.byId.set(acl.id, indexed);
    let t = this.byType.get(acl.resourceType);
    if (!t) {
      t = new TypeIndex();
      this.byType.set(acl.resourceType, t);
    }
    t.add(indexed);
  }

  remove(id: string): void {
    const acl = this.byId.get(id);
    if (!acl) return;
    this.byId.delete(id);
    const t = this.byType.get(acl.resourceType);
    if (!t) return;
    t.remove(acl);
    if (t.size === 0) this.byType.delete(acl.resourceType);
  }

  clear(): void {
    this.byId.clear();
    this.byType.clear();
  }

  /** Calls fn with each ACL of this resource type whose pattern matches the name; stops when fn returns true. */
  forEachMatching(resourceType: number, name: string, fn: (acl: IndexedAcl) => boolean): void {
    this.byType.get(resourceType)?.forEachMatching(name, fn);
  }

  /** Every ACL of one resource type (any pattern, any name). */
  *ofType(resourceType: number): IterableIterator<IndexedAcl> {
    const t = this.byType.get(resourceType);
    if (t) yield* t.all();
  }

  values(): IterableIterator<IndexedAcl> {
    return this.byId.values();
  }
}

/**
 * The text form hosts are compared in: Java's InetAddress.getHostAddress, which Kafka compares ACL hosts with.
 * An IPv4-mapped IPv6 address (Node reports `::ffff:10.0.0.1` on dual-stack sockets) is its IPv4 address; other
 * IPv6 addresses are written out in full without leading zeros (`0:0:0:0:0:0:0:1`), as Java does. Anything else
 * (`*`, a host name) is left as it is.
 */
export function normalizeHost(host: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  if (isIP(host) !== 6) return host;
  const pct = host.indexOf('%');
  const scope = pct >= 0 ? host.slice(pct) : '';
  let addr = pct >= 0 ? host.slice(0, pct) : host;
  // an embedded IPv4 tail (::1.2.3.4) becomes two hex groups
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    addr = addr.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = addr.includes('::') ? (addr.split('::') as [string, string]) : [addr, undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups].map((g) => parseInt(g, 16).toString(16));
  return groups.join(':') + scope;
}
