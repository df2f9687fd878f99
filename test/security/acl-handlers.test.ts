// CreateAcls (30), DescribeAcls (29) and DeleteAcls (31) through the generated codecs, every version 1-3: bytes in,
// handler, bytes out; then over TCP from Umbra's client and from kafkajs's admin (v1), served by the real handlers
// on the test FakeBroker with a real AclAuthorizer on the embedded store. Covers SECURITY_DISABLED without an
// authorizer and CLUSTER_AUTHORIZATION_FAILED for principals without ALTER / DESCRIBE on the cluster.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin } from 'kafkajs';
import type { BrokerServices, RequestContext } from '../../src/broker/context.js';
import type { ApiHandler } from '../../src/broker/registry.js';
import describeAclsHandler from '../../src/broker/handlers/29-describe-acls.js';
import createAclsHandler from '../../src/broker/handlers/30-create-acls.js';
import deleteAclsHandler from '../../src/broker/handlers/31-delete-acls.js';
import { openEmbeddedStore } from '../../src/cluster/embedded-store.js';
import type { MetadataStore } from '../../src/cluster/types.js';
import { KafkaClient } from '../../src/client/client.js';
import { createLogger } from '../../src/log.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import * as CreateReq from '../../src/protocol/generated/messages/CreateAclsRequest.js';
import * as CreateRes from '../../src/protocol/generated/messages/CreateAclsResponse.js';
import * as DescribeReq from '../../src/protocol/generated/messages/DescribeAclsRequest.js';
import * as DescribeRes from '../../src/protocol/generated/messages/DescribeAclsResponse.js';
import * as DeleteReq from '../../src/protocol/generated/messages/DeleteAclsRequest.js';
import * as DeleteRes from '../../src/protocol/generated/messages/DeleteAclsResponse.js';
import { ANY_ACL_FILTER, AclOperation as Op, AclPermissionType as Perm, PatternType as Pat, ResourceType as RT } from '../../src/security/acl.js';
import { AclAuthorizer, type Authorizer } from '../../src/security/authorizer.js';
import { FakeBroker, metadataResponse } from '../client/fake-broker.js';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

const ADMIN = 'User:admin';
const logger = createLogger({ level: 'silent' });

function context(authorizer: Authorizer | undefined, principal: string, apiKey: number, apiVersion: number): RequestContext {
  const services = { logger, authorizer } as unknown as BrokerServices;
  return {
    services,
    connection: { id: 1, remoteAddress: '127.0.0.1', remotePort: 5000, clientId: null, principal, authenticated: true, sasl: null, listener: { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', advertised: { host: '127.0.0.1', port: 9092 } } },
    apiKey,
    apiVersion,
    correlationId: 1,
    clientId: null,
    closeConnection: () => assert.fail('closeConnection'),
    onResponseDone: () => undefined,
    deferPart: () => undefined,
  };
}

/** Encodes a request at `version`, decodes it as the broker would, handles it, and decodes the encoded response. */
async function roundTrip<Res>(
  handler: ApiHandler,
  writeRequest: (w: Writer, v: number, m: never) => void,
  readResponse: (r: Reader, v: number) => Res,
  body: unknown,
  version: number,
  authorizer: Authorizer | undefined,
  principal = ADMIN,
): Promise<Res> {
  const w = new Writer();
  writeRequest(w, version, body as never);
  const r = new Reader(w.toBuffer());
  const decoded = handler.readRequest(r, version);
  assert.equal(r.remaining, 0);
  const res = await handler.handle(context(authorizer, principal, handler.apiKey, version), decoded, version);
  assert.ok(res !== null);
  const out = new Writer();
  handler.writeResponse(out, version, res);
  const rr = new Reader(out.toBuffer());
  const decodedRes = readResponse(rr, version);
  assert.equal(rr.remaining, 0);
  return decodedRes;
}

const creation = (p: Partial<CreateReq.AclCreation>): CreateReq.AclCreation => ({
  resourceType: RT.TOPIC,
  resourceName: 'orders',
  resourcePatternType: Pat.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: Op.READ,
  permissionType: Perm.ALLOW,
  ...p,
});

const anyFilter: DescribeReq.DescribeAclsRequest = {
  resourceTypeFilter: RT.ANY,
  resourceNameFilter: null,
  patternTypeFilter: Pat.ANY,
  principalFilter: null,
  hostFilter: null,
  operation: Op.ANY,
  permissionType: Perm.ANY,
};

let dir: string;
let store: MetadataStore;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-acl-handlers-'));
  store = await openEmbeddedStore(dir, { nodeId: 0 });
});

after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('codec round trips, v1-3', () => {
  for (const version of [1, 2, 3]) {
    it(`create, describe and delete at v${version}`, async () => {
      const auth = new AclAuthorizer(store, { superUsers: [ADMIN] });
      await auth.deleteAcls([ANY_ACL_FILTER]);
      const created = await roundTrip(createAclsHandler, CreateReq.write, CreateRes.read, {
        creations: [
          creation({}),
          creation({ resourceName: 'pay', resourcePatternType: Pat.PREFIXED, principal: 'User:bob', host: '10.0.0.1', operation: Op.WRITE, permissionType: Perm.DENY }),
          creation({ resourceType: RT.CLUSTER, resourceName: 'other-cluster' }),
          creation({ principal: 'alice' }),
        ],
      }, version, auth);
      assert.deepEqual(created.results.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
      assert.equal(created.results[0]!.errorMessage, null);
      assert.match(created.results[2]!.errorMessage ?? '', /kafka-cluster/);

      const described = await roundTrip(describeAclsHandler, DescribeReq.write, DescribeRes.read, anyFilter, version, auth);
      assert.equal(described.errorCode, ErrorCode.NONE);
      assert.equal(described.errorMessage, null);
      assert.deepEqual(described.resources, [
        { resourceType: RT.TOPIC, resourceName: 'orders', patternType: Pat.LITERAL, acls: [{ principal: 'User:alice', host: '*', operation: Op.READ, permissionType: Perm.ALLOW }] },
        { resourceType: RT.TOPIC, resourceName: 'pay', patternType: Pat.PREFIXED, acls: [{ principal: 'User:bob', host: '10.0.0.1', operation: Op.WRITE, permissionType: Perm.DENY }] },
      ]);
      const matched = await roundTrip(
        describeAclsHandler,
        DescribeReq.write,
        DescribeRes.read,
        { ...anyFilter, resourceTypeFilter: RT.TOPIC, resourceNameFilter: 'payments', patternTypeFilter: Pat.MATCH },
        version,
        auth,
      );
      assert.deepEqual(matched.resources.map((r) => r.resourceName), ['pay']);

      const deleted = await roundTrip(deleteAclsHandler, DeleteReq.write, DeleteRes.read, {
        filters: [
          { ...anyFilter, resourceTypeFilter: RT.TOPIC, resourceNameFilter: 'orders', patternTypeFilter: Pat.LITERAL },
          { ...anyFilter, patternTypeFilter: 0 },
        ],
      }, version, auth);
      assert.equal(deleted.filterResults[0]!.errorCode, ErrorCode.NONE);
      assert.deepEqual(deleted.filterResults[0]!.matchingAcls, [
        { errorCode: 0, errorMessage: null, resourceType: RT.TOPIC, resourceName: 'orders', patternType: Pat.LITERAL, principal: 'User:alice', host: '*', operation: Op.READ, permissionType: Perm.ALLOW },
      ]);
      assert.equal(deleted.filterResults[1]!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(auth.aclCount, 1);
    });
  }

  it('DescribeAcls with an UNKNOWN element is INVALID_REQUEST', async () => {
    const auth = new AclAuthorizer(store);
    const res = await roundTrip(describeAclsHandler, DescribeReq.write, DescribeRes.read, { ...anyFilter, operation: 0 }, 2, auth, ADMIN);
    // no superuser here, and no ACLs: the cluster check fails first
    assert.equal(res.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const admin = new AclAuthorizer(store, { superUsers: [ADMIN] });
    const res2 = await roundTrip(describeAclsHandler, DescribeReq.write, DescribeRes.read, { ...anyFilter, operation: 0 }, 2, admin, ADMIN);
    assert.equal(res2.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(res2.errorMessage ?? '', /UNKNOWN elements/);
  });

  it('without an authorizer every API answers SECURITY_DISABLED', async () => {
    const c = await roundTrip(createAclsHandler, CreateReq.write, CreateRes.read, { creations: [creation({}), creation({})] }, 3, undefined);
    assert.deepEqual(c.results.map((r) => r.errorCode), [ErrorCode.SECURITY_DISABLED, ErrorCode.SECURITY_DISABLED]);
    assert.match(c.results[0]!.errorMessage ?? '', /No Authorizer is configured/);
    const d = await roundTrip(describeAclsHandler, DescribeReq.write, DescribeRes.read, anyFilter, 3, undefined);
    assert.equal(d.errorCode, ErrorCode.SECURITY_DISABLED);
    assert.match(d.errorMessage ?? '', /No Authorizer is configured on the broker/);
    const x = await roundTrip(deleteAclsHandler, DeleteReq.write, DeleteRes.read, { filters: [anyFilter] }, 3, undefined);
    assert.equal(x.filterResults[0]!.errorCode, ErrorCode.SECURITY_DISABLED);
  });
});

describe('cluster authorization of the ACL APIs', () => {
  it('CreateAcls/DeleteAcls need ALTER on the cluster, DescribeAcls DESCRIBE (which ALTER implies)', async () => {
    const auth = new AclAuthorizer(store, { superUsers: [ADMIN] });
    await auth.deleteAcls([ANY_ACL_FILTER]);
    const carol = 'User:carol';
    const c = await roundTrip(createAclsHandler, CreateReq.write, CreateRes.read, { creations: [creation({})] }, 2, auth, carol);
    assert.equal(c.results[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.equal(auth.aclCount, 0);
    const d = await roundTrip(describeAclsHandler, DescribeReq.write, DescribeRes.read, anyFilter, 2, auth, carol);
    assert.equal(d.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const x = await roundTrip(deleteAclsHandler, DeleteReq.write, DeleteRes.read, { filters: [anyFilter] }, 2, auth, carol);
    assert.equal(x.filterResults[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);

    // the superuser grants carol ALTER on the cluster: she may now create, describe (implied) and delete
    const grant = await roundTrip(createAclsHandler, CreateReq.write, CreateRes.read, {
      creations: [creation({ resourceType: RT.CLUSTER, resourceName: 'kafka-cluster', principal: carol, operation: Op.ALTER })],
    }, 2, auth, ADMIN);
    assert.equal(grant.results[0]!.errorCode, ErrorCode.NONE);
    const c2 = await roundTrip(createAclsHandler, CreateReq.write, CreateRes.read, { creations: [creation({})] }, 2, auth, carol);
    assert.equal(c2.results[0]!.errorCode, ErrorCode.NONE);
    const d2 = await roundTrip(describeAclsHandler, DescribeReq.write, DescribeRes.read, anyFilter, 2, auth, carol);
    assert.equal(d2.errorCode, ErrorCode.NONE);
    assert.equal(d2.resources.length, 2);
  });
});

describe('over the wire', () => {
  let broker: FakeBroker;
  let auth: AclAuthorizer;
  let client: KafkaClient;
  let admin: Admin;

  before(async () => {
    auth = new AclAuthorizer(store, { superUsers: [ADMIN] });
    await auth.deleteAcls([ANY_ACL_FILTER]);
    const serve = (h: ApiHandler) => async (req: { body: unknown; version: number; apiKey: number }) =>
      h.handle(context(auth, ADMIN, req.apiKey, req.version), req.body, req.version);
    broker = await FakeBroker.start({
      handlers: {
        3: () => metadataResponse(broker, {}, null, { nodeId: 0 }),
        29: serve(describeAclsHandler),
        30: serve(createAclsHandler),
        31: serve(deleteAclsHandler),
      },
    });
    client = new KafkaClient({ brokers: broker.address, clientId: 'acl-test', retries: 0 });
    admin = new Kafka({ clientId: 'acl-test-kafkajs', brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    await admin.connect();
  });

  after(async () => {
    await admin?.disconnect();
    await client?.close();
    await broker?.close();
  });

  it('Umbra client at every version', async () => {
    for (const version of [1, 2, 3]) {
      const name = `wire-v${version}`;
      const c = await client.request(30, { creations: [creation({ resourceName: name })] }, { version });
      assert.equal(c.results[0]!.errorCode, ErrorCode.NONE);
      const d = await client.request(29, { ...anyFilter, resourceTypeFilter: RT.TOPIC, resourceNameFilter: name, patternTypeFilter: Pat.LITERAL }, { version });
      assert.deepEqual(d.resources.map((r) => r.resourceName), [name]);
      const x = await client.request(31, { filters: [{ ...anyFilter, resourceNameFilter: name }] }, { version });
      assert.equal(x.filterResults[0]!.matchingAcls.length, 1);
    }
    assert.equal(auth.aclCount, 0);
  });

  it('kafkajs admin creates, describes and deletes ACLs', async () => {
    const created = await admin.createAcls({
      acl: [
        {
          resourceType: AclResourceTypes.TOPIC,
          resourceName: 'kjs',
          resourcePatternType: ResourcePatternTypes.PREFIXED,
          principal: 'User:kafkajs',
          host: '*',
          operation: AclOperationTypes.WRITE,
          permissionType: AclPermissionTypes.ALLOW,
        },
        {
          resourceType: AclResourceTypes.GROUP,
          resourceName: 'kjs-group',
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal: 'User:kafkajs',
          host: '*',
          operation: AclOperationTypes.READ,
          permissionType: AclPermissionTypes.ALLOW,
        },
      ],
    });
    assert.equal(created, true);
    assert.equal(auth.authorize('User:kafkajs', '127.0.0.1', Op.WRITE, RT.TOPIC, 'kjs-orders'), true);

    const described = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    // kafkajs returns only the resources (and throws on an error code)
    assert.deepEqual(
      described.resources.map((r) => [r.resourceType, r.resourceName, r.resourcePatternType, r.acls.length]),
      [
        [RT.TOPIC, 'kjs', Pat.PREFIXED, 1],
        [RT.GROUP, 'kjs-group', Pat.LITERAL, 1],
      ],
    );

    const deleted = await admin.deleteAcls({
      filters: [
        {
          resourceType: AclResourceTypes.TOPIC,
          resourceName: 'kjs-orders',
          resourcePatternType: ResourcePatternTypes.MATCH,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        },
      ],
    });
    assert.equal(deleted.filterResponses[0]!.errorCode, 0);
    assert.deepEqual(deleted.filterResponses[0]!.matchingAcls.map((m) => m.resourceName), ['kjs']);
    assert.equal(auth.aclCount, 1);
  });
});
