// The handler-side helpers (src/security/authorizer-helpers.ts): everything allowed with authorization off, one
// check per distinct name, order-keeping partitions, topic creation (cluster CREATE or topic CREATE), InitProducerId's
// by-type rule, authorized-operations bit fields, and denial logging only for named resources.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BrokerServices, RequestContext } from '../../src/broker/context.js';
import type { MetadataStore } from '../../src/cluster/types.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { AclOperation as Op, AclPermissionType as Perm, PatternType as Pat, ResourceType as RT, type AclBinding } from '../../src/security/acl.js';
import { AclAuthorizer, type Authorizer } from '../../src/security/authorizer.js';
import {
  authorizationEnabled,
  authorizationErrorCode,
  authorize,
  authorizeByResourceType,
  authorizeCluster,
  authorizeGroup,
  authorizeTopicCreation,
  authorizeTopics,
  authorizedOperations,
  partitionAuthorized,
} from '../../src/security/authorizer-helpers.js';

class MemoryStore implements MetadataStore {
  readonly clusterId = 'test-cluster';
  readonly nodeId = 0;
  private readonly data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  list<T>(prefix: string): [string, T][] {
    return [...this.data.entries()].filter(([k]) => k.startsWith(prefix)) as [string, T][];
  }
  async put(key: string, value: unknown): Promise<void> {
    this.data.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
  async batch(ops: ({ op: 'put'; key: string; value: unknown } | { op: 'delete'; key: string })[]): Promise<void> {
    for (const o of ops) {
      if (o.op === 'put') this.data.set(o.key, o.value);
      else this.data.delete(o.key);
    }
  }
  async close(): Promise<void> {}
}

/** An authorizer that counts checks, around a real one. */
class CountingAuthorizer extends AclAuthorizer {
  checks = 0;
  override authorize(principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean {
    this.checks++;
    return super.authorize(principal, host, operation, resourceType, resourceName);
  }
}

function ctxWith(authorizer: Authorizer | undefined, principal = 'User:alice', remoteAddress = '::ffff:10.0.0.1'): RequestContext & { logged: object[] } {
  const logged: object[] = [];
  const logger = { info: (obj: object) => logged.push(obj), debug: () => undefined, warn: () => undefined, error: () => undefined };
  return {
    services: { logger, authorizer } as unknown as BrokerServices,
    connection: { id: 1, remoteAddress, remotePort: 1, clientId: null, principal, authenticated: true, sasl: null, listener: { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', advertised: { host: '127.0.0.1', port: 9092 } } },
    apiKey: 0,
    apiVersion: 9,
    correlationId: 1,
    clientId: null,
    closeConnection: () => undefined,
    onResponseDone: () => undefined,
    deferPart: () => undefined,
    logged,
  };
}

const b = (p: Partial<AclBinding> & { resourceName: string }): AclBinding => ({
  resourceType: RT.TOPIC,
  patternType: Pat.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: Op.READ,
  permissionType: Perm.ALLOW,
  ...p,
});

async function counting(acls: AclBinding[], opts: { superUsers?: string[] } = {}): Promise<CountingAuthorizer> {
  const a = new CountingAuthorizer(new MemoryStore(), opts);
  const results = await a.createAcls(acls);
  assert.ok(results.every((r) => r.errorCode === ErrorCode.NONE));
  a.checks = 0;
  return a;
}

describe('authorization off', () => {
  it('allows everything and reports every supported operation', () => {
    const ctx = ctxWith(undefined);
    assert.equal(authorizationEnabled(ctx), false);
    assert.equal(authorize(ctx, 'WRITE', 'TOPIC', 't'), true);
    assert.equal(authorizeCluster(ctx, 'ALTER'), true);
    assert.deepEqual([...authorizeTopics(ctx, 'READ', ['a', 'b', 'a'])], ['a', 'b']);
    assert.deepEqual(partitionAuthorized(ctx, 'READ', 'TOPIC', [{ n: 'x' }], (x) => x.n), [[{ n: 'x' }], []]);
    assert.equal(authorizeByResourceType(ctx, 'WRITE', 'TOPIC'), true);
    assert.equal(authorizedOperations(ctx, 'GROUP', 'g'), (1 << Op.READ) | (1 << Op.DESCRIBE) | (1 << Op.DELETE) | (1 << Op.DESCRIBE_CONFIGS) | (1 << Op.ALTER_CONFIGS));
  });
});

describe('authorization on', () => {
  it('checks each distinct topic once: a fetch of 1000 partitions of 3 topics is 3 checks', async () => {
    const a = await counting([b({ resourceName: 'a' }), b({ resourceName: 'c' })]);
    const ctx = ctxWith(a);
    const partitions = Array.from({ length: 1000 }, (_, i) => ({ topic: ['a', 'b', 'c'][i % 3]!, partition: i }));
    const allowed = authorizeTopics(ctx, 'READ', partitions.map((p) => p.topic));
    assert.deepEqual([...allowed].sort(), ['a', 'c']);
    assert.equal(a.checks, 3);
    a.checks = 0;
    const [yes, no] = partitionAuthorized(ctx, 'READ', 'TOPIC', partitions, (p) => p.topic);
    assert.equal(a.checks, 3);
    assert.equal(yes.length + no.length, 1000);
    assert.ok(no.every((p) => p.topic === 'b'));
    assert.deepEqual(yes.slice(0, 2).map((p) => p.partition), [0, 2]); // order kept
  });

  it('uses the connection principal and its (IPv4-mapped) address', async () => {
    const a = await counting([b({ resourceName: 't', host: '10.0.0.1' })]);
    assert.equal(authorize(ctxWith(a), 'READ', 'TOPIC', 't'), true);
    assert.equal(authorize(ctxWith(a, 'User:alice', '10.0.0.2'), 'READ', 'TOPIC', 't'), false);
    assert.equal(authorize(ctxWith(a, 'User:bob'), 'READ', 'TOPIC', 't'), false);
  });

  it('logs denials of named resources at info, not of filtered listings', async () => {
    const a = await counting([]);
    const ctx = ctxWith(a);
    assert.equal(authorizeGroup(ctx, 'READ', 'g'), false);
    assert.equal(ctx.logged.length, 1);
    assert.deepEqual(ctx.logged[0], { principal: 'User:alice', host: '::ffff:10.0.0.1', operation: 'READ', resource: 'GROUP:g', apiKey: 0 });
    authorizeTopics(ctx, 'DESCRIBE', ['x', 'y'], { logIfDenied: false });
    assert.equal(ctx.logged.length, 1);
  });

  it('topic creation: CREATE on the cluster covers every topic, else CREATE per topic', async () => {
    const perTopic = await counting([b({ resourceName: 'new-', patternType: Pat.PREFIXED, operation: Op.CREATE })]);
    assert.deepEqual([...authorizeTopicCreation(ctxWith(perTopic), ['new-a', 'other'])], ['new-a']);
    const cluster = await counting([b({ resourceType: RT.CLUSTER, resourceName: 'kafka-cluster', operation: Op.CREATE })]);
    assert.deepEqual([...authorizeTopicCreation(ctxWith(cluster), ['new-a', 'other'])], ['new-a', 'other']);
    assert.equal(cluster.checks, 1);
  });

  it("InitProducerId's rule: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic", async () => {
    const writer = await counting([b({ resourceName: 'orders', operation: Op.WRITE })]);
    const ctx = ctxWith(writer);
    assert.equal(authorizeCluster(ctx, 'IDEMPOTENT_WRITE', { logIfDenied: false }), false);
    assert.equal(authorizeByResourceType(ctx, 'WRITE', 'TOPIC'), true);
    const reader = await counting([b({ resourceName: 'orders', operation: Op.READ })]);
    assert.equal(authorizeByResourceType(ctxWith(reader), 'WRITE', 'TOPIC'), false);
  });

  it('authorized operations of a topic for Metadata v8+', async () => {
    const a = await counting([b({ resourceName: 't', operation: Op.WRITE })]);
    assert.equal(authorizedOperations(ctxWith(a), 'TOPIC', 't'), (1 << Op.WRITE) | (1 << Op.DESCRIBE));
    assert.equal(authorizedOperations(ctxWith(a, 'User:bob'), 'TOPIC', 't'), 0);
  });

  it('maps resource types to their authorization error codes', () => {
    assert.equal(authorizationErrorCode('TOPIC'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(authorizationErrorCode('GROUP'), ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.equal(authorizationErrorCode('CLUSTER'), ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.equal(authorizationErrorCode('TRANSACTIONAL_ID'), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });
});
