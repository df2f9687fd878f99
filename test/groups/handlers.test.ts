// The group handlers at every version they advertise: the request is encoded and decoded with the generated codecs,
// handled against a real coordinator, and the response encoded and decoded again, so version-specific fields
// (nullable in some versions only, present in some versions only) are exercised end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiHandler } from '../../src/broker/registry.js';
import type { RequestContext } from '../../src/broker/context.js';
import type { GroupCoordinator } from '../../src/groups/coordinator.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import { API_CODECS } from '../../src/protocol/generated/api.js';
import offsetCommit from '../../src/broker/handlers/08-offset-commit.js';
import offsetFetch from '../../src/broker/handlers/09-offset-fetch.js';
import findCoordinator from '../../src/broker/handlers/10-find-coordinator.js';
import joinGroup from '../../src/broker/handlers/11-join-group.js';
import heartbeat from '../../src/broker/handlers/12-heartbeat.js';
import leaveGroup from '../../src/broker/handlers/13-leave-group.js';
import syncGroup from '../../src/broker/handlers/14-sync-group.js';
import describeGroups from '../../src/broker/handlers/15-describe-groups.js';
import listGroups from '../../src/broker/handlers/16-list-groups.js';
import deleteGroups from '../../src/broker/handlers/42-delete-groups.js';
import offsetDelete from '../../src/broker/handlers/47-offset-delete.js';
import { joinParams, startCoordinator, subscription, within } from './helpers.js';

function contextFor(groups: GroupCoordinator): RequestContext {
  const services = {
    nodeId: 1,
    groups,
    partitions: { topic: (name: string) => (name === 't1' ? { name, partitions: 3 } : undefined) },
  };
  return {
    services,
    connection: { id: 1, remoteAddress: '::ffff:10.0.0.7', remotePort: 5000, clientId: 'test-client', principal: 'User:ANONYMOUS', authenticated: true, sasl: null, listener: { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', advertised: { host: 'broker.local', port: 19092 } } },
    apiKey: 0,
    apiVersion: 0,
    correlationId: 1,
    clientId: 'test-client',
    closeConnection: () => {},
  } as unknown as RequestContext;
}

/** Encodes `request` at `version`, decodes it with the handler's codec, handles it, and returns the decoded response. */
async function roundTrip(ctx: RequestContext, handler: ApiHandler<any, any>, version: number, request: object): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const codec = API_CODECS.get(handler.apiKey)!;
  const w = new Writer();
  codec.writeRequest(w, version, request as never);
  const req = handler.readRequest(new Reader(w.toBuffer()), version);
  const res = await within(Promise.resolve(handler.handle(ctx, req, version)), `${handler.name} v${version}`);
  const out = new Writer();
  handler.writeResponse(out, version, res as never);
  const r = new Reader(out.toBuffer());
  const decoded = codec.readResponse(r, version) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(r.remaining, 0, `${handler.name} v${version} response has trailing bytes`);
  return decoded;
}

function versions(h: ApiHandler<any, any>): number[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return Array.from({ length: h.maxVersion - h.minVersion + 1 }, (_, i) => h.minVersion + i);
}

test('the group handlers advertise Kafka 4.1 ranges', () => {
  const ranges = [offsetCommit, offsetFetch, findCoordinator, joinGroup, heartbeat, leaveGroup, syncGroup, describeGroups, listGroups, deleteGroups, offsetDelete].map((h) => [
    h.apiKey,
    h.minVersion,
    h.maxVersion,
  ]);
  assert.deepEqual(ranges, [
    [8, 2, 9],
    [9, 1, 9],
    [10, 0, 6],
    [11, 0, 9],
    [12, 0, 4],
    [13, 0, 5],
    [14, 0, 5],
    [15, 0, 6],
    [16, 0, 5],
    [42, 0, 2],
    [47, 0, 0],
  ]);
});

test('JoinGroup, SyncGroup, Heartbeat, LeaveGroup at every version', async () => {
  const { coordinator } = await startCoordinator();
  const ctx = contextFor(coordinator);
  try {
    const protocols = [{ name: 'range', metadata: subscription(['t1']) }];
    for (const v of versions(joinGroup)) {
      const res = await roundTrip(ctx, joinGroup, v, { groupId: `join-v${v}`, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols });
      if (v < 4) {
        assert.equal(res.errorCode, ErrorCode.NONE, `v${v}`);
        assert.equal(res.generationId, 1);
        assert.equal(res.protocolName, 'range');
        assert.equal(res.members.length, 1);
        assert.match(res.memberId, /^test-client-/);
      } else {
        assert.equal(res.errorCode, ErrorCode.MEMBER_ID_REQUIRED, `v${v}`);
        assert.equal(res.protocolName, v >= 7 ? null : '', `v${v}: a missing protocol name`);
        const again = await roundTrip(ctx, joinGroup, v, { groupId: `join-v${v}`, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: res.memberId, protocolType: 'consumer', protocols });
        assert.equal(again.errorCode, ErrorCode.NONE);
        if (v >= 7) assert.equal(again.protocolType, 'consumer');
      }
    }
    const described = coordinator.describeGroups(['join-v0'])[0]!;
    assert.equal(described.members[0]!.clientHost, '/10.0.0.7');

    for (const v of versions(syncGroup)) {
      const unknown = await roundTrip(ctx, syncGroup, v, { groupId: 'nope', generationId: 1, memberId: 'm', protocolType: 'consumer', protocolName: 'range', assignments: [] });
      assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID, `v${v}`);
      const memberId = coordinator.describeGroups([`join-v${Math.min(v, 9)}`])[0]!.members[0]!.memberId;
      const ok = await roundTrip(ctx, syncGroup, v, {
        groupId: `join-v${v}`,
        generationId: 1,
        memberId,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: [{ memberId, assignment: Buffer.from('mine') }],
      });
      assert.equal(ok.errorCode, ErrorCode.NONE, `v${v}`);
      assert.equal(ok.assignment.toString(), 'mine');
      if (v >= 5) {
        assert.equal(ok.protocolName, 'range');
        const missing = await roundTrip(ctx, syncGroup, v, { groupId: `join-v${v}`, generationId: 1, memberId, protocolType: null, protocolName: null, assignments: [] });
        assert.equal(missing.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL, 'v5 requires protocol type and name');
      }
    }

    for (const v of versions(heartbeat)) {
      const memberId = coordinator.describeGroups([`join-v${v}`])[0]!.members[0]!.memberId;
      assert.equal((await roundTrip(ctx, heartbeat, v, { groupId: `join-v${v}`, generationId: 1, memberId })).errorCode, ErrorCode.NONE, `v${v}`);
      assert.equal((await roundTrip(ctx, heartbeat, v, { groupId: `join-v${v}`, generationId: 9, memberId })).errorCode, ErrorCode.ILLEGAL_GENERATION);
    }

    for (const v of versions(leaveGroup)) {
      const memberId = coordinator.describeGroups([`join-v${v}`])[0]!.members[0]!.memberId;
      const bogus = await roundTrip(ctx, leaveGroup, v, { groupId: `join-v${v}`, memberId: 'ghost', members: [{ memberId: 'ghost', groupInstanceId: null }] });
      if (v < 3) assert.equal(bogus.errorCode, ErrorCode.UNKNOWN_MEMBER_ID, `v${v}: the member's error becomes the response's`);
      else assert.deepEqual([bogus.errorCode, bogus.members[0].errorCode], [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
      const left = await roundTrip(ctx, leaveGroup, v, { groupId: `join-v${v}`, memberId, members: [{ memberId, groupInstanceId: null, reason: 'bye' }] });
      assert.equal(left.errorCode, ErrorCode.NONE, `v${v}`);
      assert.equal(coordinator.describeGroups([`join-v${v}`])[0]!.groupState, 'Empty');
    }
  } finally {
    coordinator.close();
  }
});

test('DescribeGroups, ListGroups, DeleteGroups, FindCoordinator at every version', async () => {
  const { coordinator } = await startCoordinator();
  const ctx = contextFor(coordinator);
  try {
    const first = await coordinator.joinGroup(joinParams('stable'));
    const joined = await within(coordinator.joinGroup(joinParams('stable', { memberId: first.memberId, groupInstanceId: null })), 'join');
    await within(
      coordinator.syncGroup({ groupId: 'stable', generationId: 1, memberId: joined.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId: joined.memberId, assignment: Buffer.from('a') }] }),
      'sync',
    );
    await coordinator.commitOffsets({ groupId: 'simple', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 't1', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }] }, 8);

    for (const v of versions(describeGroups)) {
      const res = await roundTrip(ctx, describeGroups, v, { groups: ['stable', 'unknown'], includeAuthorizedOperations: v >= 3 });
      const [stable, unknown] = res.groups;
      assert.equal(stable.groupState, 'Stable', `v${v}`);
      assert.equal(stable.protocolData, 'range');
      assert.equal(stable.members[0].memberAssignment.toString(), 'a');
      assert.equal(unknown.groupState, 'Dead');
      assert.equal(unknown.errorCode, v >= 6 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE, `v${v}`);
    }
    for (const v of versions(listGroups)) {
      const res = await roundTrip(ctx, listGroups, v, { statesFilter: ['Stable'], typesFilter: ['classic'] });
      const ids = res.groups.map((g: { groupId: string }) => g.groupId).sort();
      assert.deepEqual(ids, v >= 4 ? ['stable'] : ['simple', 'stable'], `v${v}`);
      if (v >= 5) assert.equal(res.groups[0].groupType, 'classic');
    }
    for (const v of versions(deleteGroups)) {
      const res = await roundTrip(ctx, deleteGroups, v, { groupsNames: ['stable', 'unknown'] });
      assert.deepEqual(
        res.results.map((r: { errorCode: number }) => r.errorCode),
        [ErrorCode.NON_EMPTY_GROUP, ErrorCode.GROUP_ID_NOT_FOUND],
      );
    }
    for (const v of versions(findCoordinator)) {
      const res = await roundTrip(ctx, findCoordinator, v, { key: 'stable', keyType: v >= 1 ? 1 : 0, coordinatorKeys: ['a', 'b'] });
      if (v >= 4) {
        assert.deepEqual(
          res.coordinators.map((c: { key: string; nodeId: number; host: string; port: number; errorCode: number }) => [c.key, c.nodeId, c.host, c.port, c.errorCode]),
          [
            ['a', 1, 'broker.local', 19092, 0],
            ['b', 1, 'broker.local', 19092, 0],
          ],
        );
      } else {
        assert.deepEqual([res.errorCode, res.nodeId, res.host, res.port], [0, 1, 'broker.local', 19092], `v${v}`);
      }
    }
    const share = await roundTrip(ctx, findCoordinator, 6, { keyType: 2, coordinatorKeys: ['g:topic:0'] });
    assert.equal(share.coordinators[0].errorCode, ErrorCode.INVALID_REQUEST);
  } finally {
    coordinator.close();
  }
});

test('OffsetCommit, OffsetFetch, OffsetDelete at every version', async () => {
  const { coordinator } = await startCoordinator();
  const ctx = contextFor(coordinator);
  try {
    for (const v of versions(offsetCommit)) {
      const res = await roundTrip(ctx, offsetCommit, v, {
        groupId: 'offsets',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        topics: [
          { name: 't1', partitions: [{ partitionIndex: 0, committedOffset: 100 + v, committedLeaderEpoch: 2, committedMetadata: 'meta' }] },
          { name: 'nope', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] },
        ],
      });
      assert.deepEqual(
        res.topics.map((t: { name: string; partitions: { errorCode: number }[] }) => [t.name, t.partitions[0]!.errorCode]),
        [
          ['t1', ErrorCode.NONE],
          ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        ],
        `v${v}`,
      );
    }
    for (const v of versions(offsetFetch)) {
      const res = await roundTrip(ctx, offsetFetch, v, {
        groupId: 'offsets',
        topics: [{ name: 't1', partitionIndexes: [0, 1] }],
        groups: [{ groupId: 'offsets', memberId: null, memberEpoch: -1, topics: null }],
        requireStable: true,
      });
      const partitions = v >= 8 ? res.groups[0].topics[0].partitions : res.topics[0].partitions;
      assert.equal(partitions[0].committedOffset, 109, `v${v}`);
      assert.equal(partitions[0].metadata, 'meta');
      if (v >= 5) assert.equal(partitions[0].committedLeaderEpoch, 2);
      if (v < 8) assert.equal(partitions[1].committedOffset, -1);
    }
    const deleted = await roundTrip(ctx, offsetDelete, 0, { groupId: 'offsets', topics: [{ name: 't1', partitions: [{ partitionIndex: 0 }, { partitionIndex: 7 }] }] });
    assert.equal(deleted.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      deleted.topics[0].partitions.map((p: { errorCode: number }) => p.errorCode),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    );
    const after = await roundTrip(ctx, offsetFetch, 1, { groupId: 'offsets', topics: [{ name: 't1', partitionIndexes: [0] }] });
    assert.equal(after.topics[0].partitions[0].committedOffset, -1);
    const unknownGroup = await roundTrip(ctx, offsetDelete, 0, { groupId: 'none', topics: [] });
    assert.equal(unknownGroup.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  } finally {
    coordinator.close();
  }
});
