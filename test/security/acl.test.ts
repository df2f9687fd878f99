// The ACL model: names and codes, Kafka's ResourcePatternFilter / AccessControlEntryFilter matching, validation,
// host normalization (Java's address text), and the index (prefix lengths kept right as ACLs come and go).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANY_ACL_FILTER,
  AclOperation as Op,
  AclPermissionType as Perm,
  AclValidationError,
  PatternType as Pat,
  ResourceType as RT,
  describeBinding,
  filterMatches,
  operationName,
  parseEnumName,
  parsePrincipal,
  patternFilterMatches,
  resourceTypeName,
  supportedOperations,
  toOperationsBitField,
  validateFilter,
  type AclBinding,
  type AclBindingFilter,
} from '../../src/security/acl.js';
import { AclIndex, normalizeHost, type StoredAcl } from '../../src/security/acl-index.js';

const binding = (p: Partial<AclBinding> = {}): AclBinding => ({
  resourceType: RT.TOPIC,
  resourceName: 'foo',
  patternType: Pat.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: Op.READ,
  permissionType: Perm.ALLOW,
  ...p,
});
const f = (p: Partial<AclBindingFilter>): AclBindingFilter => ({ ...ANY_ACL_FILTER, ...p });

describe('codes and names', () => {
  it('uses Kafka codes', () => {
    assert.deepEqual([RT.TOPIC, RT.GROUP, RT.CLUSTER, RT.TRANSACTIONAL_ID, RT.DELEGATION_TOKEN, RT.USER], [2, 3, 4, 5, 6, 7]);
    assert.deepEqual([Pat.ANY, Pat.MATCH, Pat.LITERAL, Pat.PREFIXED], [1, 2, 3, 4]);
    assert.deepEqual([Op.ALL, Op.READ, Op.DESCRIBE, Op.IDEMPOTENT_WRITE, Op.DESCRIBE_TOKENS], [2, 3, 8, 12, 14]);
    assert.deepEqual([Perm.DENY, Perm.ALLOW], [2, 3]);
  });

  it('names codes, and parses names the way kafka-acls spells them', () => {
    assert.equal(resourceTypeName(RT.TRANSACTIONAL_ID), 'TRANSACTIONAL_ID');
    assert.equal(operationName(99), 'UNKNOWN(99)');
    assert.equal(parseEnumName(Op, 'IdempotentWrite'), Op.IDEMPOTENT_WRITE);
    assert.equal(parseEnumName(Op, 'describe-configs'), Op.DESCRIBE_CONFIGS);
    assert.equal(parseEnumName(RT, 'TransactionalId'), RT.TRANSACTIONAL_ID);
    assert.equal(parseEnumName(Pat, 'prefixed'), Pat.PREFIXED);
    assert.equal(parseEnumName(Op, 'nope'), undefined);
  });

  it('prints bindings as Kafka does', () => {
    assert.equal(
      describeBinding(binding()),
      '(pattern=ResourcePattern(resourceType=TOPIC, name=foo, patternType=LITERAL), entry=(principal=User:alice, host=*, operation=READ, permissionType=ALLOW))',
    );
  });

  it('bit fields of supported operations', () => {
    assert.equal(toOperationsBitField(supportedOperations(RT.TRANSACTIONAL_ID)), (1 << Op.DESCRIBE) | (1 << Op.WRITE));
    assert.throws(() => supportedOperations(RT.ANY), /not a concrete resource type/);
  });

  it('splits principals at the first colon', () => {
    assert.deepEqual(parsePrincipal('User:CN=a,O=b:c'), { type: 'User', name: 'CN=a,O=b:c' });
    assert.deepEqual(parsePrincipal('User:'), { type: 'User', name: '' });
    assert.throws(() => parsePrincipal('alice'), AclValidationError);
  });
});

describe('filter matching (ResourcePatternFilter, AccessControlEntryFilter)', () => {
  it('resource type ANY and null name match anything', () => {
    assert.equal(filterMatches(ANY_ACL_FILTER, binding({ resourceType: RT.USER, patternType: Pat.PREFIXED })), true);
  });

  it('LITERAL / PREFIXED filters compare the name exactly and the pattern type', () => {
    assert.equal(patternFilterMatches(f({ resourceName: 'foo', patternType: Pat.LITERAL }), binding()), true);
    assert.equal(patternFilterMatches(f({ resourceName: 'foo', patternType: Pat.PREFIXED }), binding()), false);
    assert.equal(patternFilterMatches(f({ resourceName: 'fo', patternType: Pat.PREFIXED }), binding({ resourceName: 'fo', patternType: Pat.PREFIXED })), true);
    assert.equal(patternFilterMatches(f({ resourceName: 'foobar', patternType: Pat.PREFIXED }), binding({ resourceName: 'foo', patternType: Pat.PREFIXED })), false);
  });

  it('ANY with a name compares the name exactly (a `*` filter name finds only wildcard ACLs)', () => {
    assert.equal(patternFilterMatches(f({ resourceName: 'foo' }), binding({ patternType: Pat.PREFIXED })), true);
    assert.equal(patternFilterMatches(f({ resourceName: '*' }), binding()), false);
    assert.equal(patternFilterMatches(f({ resourceName: '*' }), binding({ resourceName: '*' })), true);
  });

  it('MATCH finds the exact literal, the wildcard and every prefix', () => {
    const m = f({ resourceType: RT.TOPIC, resourceName: 'foobar', patternType: Pat.MATCH });
    assert.equal(patternFilterMatches(m, binding({ resourceName: 'foobar' })), true);
    assert.equal(patternFilterMatches(m, binding({ resourceName: '*' })), true);
    assert.equal(patternFilterMatches(m, binding({ resourceName: 'foo', patternType: Pat.PREFIXED })), true);
    assert.equal(patternFilterMatches(m, binding({ resourceName: 'foobar', patternType: Pat.PREFIXED })), true);
    assert.equal(patternFilterMatches(m, binding({ resourceName: 'foo' })), false);
    assert.equal(patternFilterMatches(m, binding({ resourceName: 'foobarbaz', patternType: Pat.PREFIXED })), false);
    assert.equal(patternFilterMatches(m, binding({ resourceName: '*', patternType: Pat.PREFIXED })), false);
    assert.equal(patternFilterMatches(m, binding({ resourceType: RT.GROUP, resourceName: 'foobar' })), false);
  });

  it('entry fields are exact; principal and host filters are not patterns', () => {
    assert.equal(filterMatches(f({ principal: 'User:*' }), binding()), false);
    assert.equal(filterMatches(f({ principal: 'User:*' }), binding({ principal: 'User:*' })), true);
    assert.equal(filterMatches(f({ host: '10.0.0.1' }), binding()), false);
    assert.equal(filterMatches(f({ operation: Op.DESCRIBE }), binding()), false);
    assert.equal(filterMatches(f({ permissionType: Perm.DENY }), binding()), false);
  });

  it('validateFilter refuses UNKNOWN and undefined codes', () => {
    assert.doesNotThrow(() => validateFilter(ANY_ACL_FILTER));
    assert.throws(() => validateFilter(f({ resourceType: 0 })), /Unknown patternFilter/);
    assert.throws(() => validateFilter(f({ patternType: 7 })), /Unknown patternFilter/);
    assert.throws(() => validateFilter(f({ operation: 0 })), /Unknown entryFilter/);
    assert.throws(() => validateFilter(f({ permissionType: 0 })), /Unknown entryFilter/);
  });
});

describe('host normalization (Java getHostAddress)', () => {
  it('IPv4-mapped becomes IPv4; IPv6 is written out in full; names and * stay', () => {
    assert.equal(normalizeHost('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeHost('::FFFF:10.1.2.3'), '10.1.2.3');
    assert.equal(normalizeHost('::1'), '0:0:0:0:0:0:0:1');
    assert.equal(normalizeHost('fe80::1%eth0'), 'fe80:0:0:0:0:0:0:1%eth0');
    assert.equal(normalizeHost('2001:db8::'), '2001:db8:0:0:0:0:0:0');
    assert.equal(normalizeHost('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8:0:0:0:0:0:1');
    assert.equal(normalizeHost('::1.2.3.4'), '0:0:0:0:0:0:102:304');
    assert.equal(normalizeHost('10.0.0.1'), '10.0.0.1');
    assert.equal(normalizeHost('*'), '*');
    assert.equal(normalizeHost('broker.example'), 'broker.example');
  });
});

describe('AclIndex', () => {
  const stored = (id: string, p: Partial<AclBinding>): StoredAcl => ({ ...binding(p), id, origin: 'local' });
  const matching = (idx: AclIndex, name: string): string[] => {
    const ids: string[] = [];
    idx.forEachMatching(RT.TOPIC, name, (a) => (ids.push(a.id), false));
    return ids.sort();
  };

  it('finds literal, wildcard and prefixed ACLs, and forgets removed prefixes', () => {
    const idx = new AclIndex();
    idx.add(stored('lit', { resourceName: 'abc' }));
    idx.add(stored('wild', { resourceName: '*' }));
    idx.add(stored('p1', { resourceName: 'a', patternType: Pat.PREFIXED }));
    idx.add(stored('p3', { resourceName: 'abc', patternType: Pat.PREFIXED }));
    idx.add(stored('p3b', { resourceName: 'abd', patternType: Pat.PREFIXED }));
    idx.add(stored('group', { resourceName: 'abc', resourceType: RT.GROUP }));
    assert.deepEqual(matching(idx, 'abc'), ['lit', 'p1', 'p3', 'wild']);
    assert.deepEqual(matching(idx, 'abdx'), ['p1', 'p3b', 'wild']);
    assert.deepEqual(matching(idx, 'b'), ['wild']);
    idx.remove('p3');
    assert.deepEqual(matching(idx, 'abc'), ['lit', 'p1', 'wild']);
    assert.deepEqual(matching(idx, 'abdx'), ['p1', 'p3b', 'wild']); // length 3 still present (abd)
    idx.remove('p3b');
    idx.remove('p1');
    assert.deepEqual(matching(idx, 'abdx'), ['wild']);
    assert.equal(idx.size, 3);
    // stopping early
    let seen = 0;
    idx.forEachMatching(RT.TOPIC, 'abc', () => (++seen, true));
    assert.equal(seen, 1);
    // re-adding an id replaces it
    idx.add(stored('lit', { resourceName: 'xyz' }));
    assert.deepEqual(matching(idx, 'abc'), ['wild']);
    assert.deepEqual(matching(idx, 'xyz'), ['lit', 'wild']);
  });
});
