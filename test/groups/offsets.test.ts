// Committed offsets and __consumer_offsets persistence: commit/fetch with generation checks, durability,
// reload after a restart, tombstones (OffsetDelete, DeleteGroups), expiry, the partitioner and the record formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCoordinator, partitionFor, type OffsetCommitParams } from '../../src/groups/coordinator.js';
import { coordinatorRecordsOf, decodeCoordinatorRecord } from '../../src/groups/records.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { RecordBatch } from '../../src/protocol/record-batch.js';
import { MemoryOffsetsTopic, type MemoryLog } from './memory-log.js';
import { isPending, joinParams, silentLogger, startCoordinator, subscription, TEST_CONFIG, waitFor, within } from './helpers.js';

function commit(groupId: string, offsets: Record<string, number[]>, over: Partial<OffsetCommitParams> = {}): OffsetCommitParams {
  return {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: Object.entries(offsets).map(([name, list]) => ({
      name,
      partitions: list.map((committedOffset, partitionIndex) => ({ partitionIndex, committedOffset, committedLeaderEpoch: 3, committedMetadata: `m${partitionIndex}` })),
    })),
    ...over,
  };
}

const errorsOf = (res: { partitions: { errorCode: number }[] }[]): number[] => res.flatMap((t) => t.partitions.map((p) => p.errorCode));

function offsetOf(c: GroupCoordinator, groupId: string, topic: string, partition: number, requireStable = false) {
  return c.fetchOffsets({ groupId, topics: [{ name: topic, partitionIndexes: [partition] }], requireStable }).topics[0]!.partitions[0]!;
}

/** Every record in the log, decoded. */
function recordsIn(log: MemoryLog) {
  return log.batches.flatMap((b) => [...coordinatorRecordsOf(new RecordBatch(b.bytes))].map((r) => ({ key: r.key!, value: r.value, decoded: decodeCoordinatorRecord(r.key!, r.value) })));
}

/** A Stable single-member group; returns its member id and generation. */
async function stableGroup(c: GroupCoordinator, groupId: string, topics = ['t1']) {
  const first = await c.joinGroup(joinParams(groupId, { protocols: [{ name: 'range', metadata: subscription(topics) }] }));
  const joined = await within(c.joinGroup(joinParams(groupId, { memberId: first.memberId, protocols: [{ name: 'range', metadata: subscription(topics) }] })), 'join');
  await within(
    c.syncGroup({ groupId, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] }),
    'sync',
  );
  return { memberId: joined.memberId, generationId: joined.generationId };
}

test("partitionFor is Kafka's abs(String.hashCode) % partitions", () => {
  assert.equal(partitionFor('hello', 50), 99162322 % 50); // "hello".hashCode() = 99162322
  assert.equal(partitionFor('abc', 50), 96354 % 50);
  assert.equal(partitionFor('polygenelubricants', 50), 0); // hashCode() = Integer.MIN_VALUE, Utils.abs -> 0
  assert.equal(partitionFor('my-group', 50), 1906497762 % 50); // hashCode() = -1906497762
  assert.equal(partitionFor('', 50), 0);
  assert.equal(partitionFor('héllo', 7), 103094734 % 7); // UTF-16 code units, as Java
});

test('commit and fetch: simple commits, member commits with generation checks, errors per partition', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    // a simple commit creates an Empty group without protocol type
    assert.deepEqual(errorsOf(await c.commitOffsets(commit('simple', { t1: [10, 20] }), 8)), [0, 0]);
    assert.deepEqual(offsetOf(c, 'simple', 't1', 1), { partitionIndex: 1, committedOffset: 20, committedLeaderEpoch: 3, metadata: 'm1', errorCode: 0 });
    assert.deepEqual(offsetOf(c, 'simple', 't1', 5), { partitionIndex: 5, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 });
    assert.deepEqual(offsetOf(c, 'nobody', 't1', 0).committedOffset, -1);
    assert.deepEqual(c.listGroups().groups, [{ groupId: 'simple', protocolType: '', groupState: 'Empty', groupType: 'classic' }]);
    const all = c.fetchOffsets({ groupId: 'simple', topics: null, requireStable: false });
    assert.deepEqual(all.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)]), [['t1', [10, 20]]]);

    // unknown group with a generation: ILLEGAL_GENERATION before v9, GROUP_ID_NOT_FOUND from v9
    assert.deepEqual(errorsOf(await c.commitOffsets(commit('ghost', { t1: [1] }, { generationIdOrMemberEpoch: 3, memberId: 'm' }), 8)), [ErrorCode.ILLEGAL_GENERATION]);
    assert.deepEqual(errorsOf(await c.commitOffsets(commit('ghost', { t1: [1] }, { generationIdOrMemberEpoch: 3, memberId: 'm' }), 9)), [ErrorCode.GROUP_ID_NOT_FOUND]);

    const { memberId, generationId } = await stableGroup(c, 'members');
    const asMember = (over: Partial<OffsetCommitParams>) => c.commitOffsets(commit('members', { t1: [5] }, { generationIdOrMemberEpoch: generationId, memberId, ...over }), 8);
    assert.deepEqual(errorsOf(await asMember({})), [ErrorCode.NONE]);
    assert.equal(offsetOf(c, 'members', 't1', 0).committedOffset, 5);
    assert.deepEqual(errorsOf(await asMember({ generationIdOrMemberEpoch: generationId + 1 })), [ErrorCode.ILLEGAL_GENERATION]);
    assert.deepEqual(errorsOf(await asMember({ memberId: 'impostor' })), [ErrorCode.UNKNOWN_MEMBER_ID]);
    assert.deepEqual(errorsOf(await asMember({ groupInstanceId: 'not-mine' })), [ErrorCode.UNKNOWN_MEMBER_ID]);
    // a simple commit may not overwrite the offsets of a group with members
    assert.deepEqual(errorsOf(await c.commitOffsets(commit('members', { t1: [99] }), 8)), [ErrorCode.UNKNOWN_MEMBER_ID]);
    assert.equal(offsetOf(c, 'members', 't1', 0).committedOffset, 5);

    // metadata too large fails only that partition
    const big = commit('simple', { t2: [1, 2] });
    (big.topics[0]!.partitions[1] as { committedMetadata: string }).committedMetadata = 'x'.repeat(4097);
    assert.deepEqual(errorsOf(await c.commitOffsets(big, 8)), [ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE]);
    assert.equal(offsetOf(c, 'simple', 't2', 1).committedOffset, -1);
    assert.deepEqual(errorsOf(await c.commitOffsets(commit('', { t1: [1] }), 8)), [ErrorCode.INVALID_GROUP_ID]);
  } finally {
    c.close();
  }
});

test('a member commit during CompletingRebalance gets REBALANCE_IN_PROGRESS and commits keep the session alive', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const first = await c.joinGroup(joinParams('g-cr', { sessionTimeoutMs: 600 }));
    const joined = await within(c.joinGroup(joinParams('g-cr', { memberId: first.memberId, sessionTimeoutMs: 600 })), 'join');
    const res = await c.commitOffsets(commit('g-cr', { t1: [1] }, { generationIdOrMemberEpoch: 1, memberId: joined.memberId }), 8);
    assert.deepEqual(errorsOf(res), [ErrorCode.REBALANCE_IN_PROGRESS]);
    await c.syncGroup({ groupId: 'g-cr', generationId: 1, memberId: joined.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    // commits alone (no heartbeats) keep the member for three session timeouts
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(errorsOf(await c.commitOffsets(commit('g-cr', { t1: [i] }, { generationIdOrMemberEpoch: 1, memberId: joined.memberId }), 8)), [ErrorCode.NONE]);
    }
    assert.equal(c.describeGroups(['g-cr'])[0]!.groupState, 'Stable');
  } finally {
    c.close();
  }
});

test('OffsetCommit answers only once durable; RequireStable reports the commit in flight', async () => {
  const { coordinator: c, topic } = await startCoordinator();
  try {
    await c.commitOffsets(commit('durable', { t1: [1] }), 8);
    const log = topic.offsetsLog(c.partitionFor('durable'));
    const release = log.holdFlushes();
    const pending = c.commitOffsets(commit('durable', { t1: [2] }), 8);
    assert.ok(await isPending(pending), 'the commit waits for the fsync');
    assert.equal(offsetOf(c, 'durable', 't1', 0).committedOffset, 1, 'readers see the last durable offset');
    assert.equal(offsetOf(c, 'durable', 't1', 0, true).errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT);
    release();
    assert.deepEqual(errorsOf(await within(pending, 'commit')), [ErrorCode.NONE]);
    assert.equal(offsetOf(c, 'durable', 't1', 0, true).committedOffset, 2);

    // a failed fsync fails the commit and leaves the old offset
    log.failFlushes = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR);
    assert.deepEqual(errorsOf(await c.commitOffsets(commit('durable', { t1: [3] }), 8)), [ErrorCode.NOT_COORDINATOR]);
    log.failFlushes = null;
    assert.equal(offsetOf(c, 'durable', 't1', 0).committedOffset, 2);
    log.failNextAppend = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR);
    assert.deepEqual(errorsOf(await c.commitOffsets(commit('durable', { t1: [4] }), 8)), [ErrorCode.NOT_COORDINATOR]);
    assert.equal(offsetOf(c, 'durable', 't1', 0).committedOffset, 2);
  } finally {
    c.close();
  }
});

test('records use Kafka formats: OffsetCommitKey v1 / OffsetCommitValue v3 (v1 with retention), GroupMetadata v2 / v3', async () => {
  const now = 1_700_000_000_000;
  const { coordinator: c, topic } = await startCoordinator(undefined, {}, () => now);
  try {
    await c.commitOffsets(commit('fmt', { orders: [42] }), 8);
    await c.commitOffsets(commit('fmt', { orders: [43] }, { retentionTimeMs: 1000 }), 4);
    const log = topic.offsetsLog(c.partitionFor('fmt'));
    const recs = recordsIn(log);
    const offsetRecs = recs.filter((r) => r.decoded.type === 'offset');
    assert.equal(offsetRecs.length, 2);
    assert.equal(offsetRecs[0]!.key.readInt16BE(0), 1, 'OffsetCommitKey version 1');
    assert.equal(offsetRecs[0]!.value!.readInt16BE(0), 3, 'OffsetCommitValue version 3');
    // v3: int16 version, int64 offset, int32 leader epoch, string metadata, int64 commit timestamp
    const v = offsetRecs[0]!.value!;
    assert.equal(Number(v.readBigInt64BE(2)), 42);
    assert.equal(v.readInt32BE(10), 3);
    assert.equal(v.readInt16BE(14), 2);
    assert.equal(v.toString('utf8', 16, 18), 'm0');
    assert.equal(Number(v.readBigInt64BE(18)), now);
    assert.equal(v.length, 26);
    // key: int16 version, string group, string topic, int32 partition
    const k = offsetRecs[0]!.key;
    assert.equal(k.readInt16BE(2), 3);
    assert.equal(k.toString('utf8', 4, 7), 'fmt');
    assert.equal(offsetRecs[1]!.value!.readInt16BE(0), 1, 'a commit with its own retention is OffsetCommitValue v1');
    assert.deepEqual(offsetRecs[1]!.decoded, {
      type: 'offset',
      group: 'fmt',
      topic: 'orders',
      partition: 0,
      value: { committedOffset: 43, leaderEpoch: -1, metadata: 'm0', commitTimestampMs: now, expireTimestampMs: now + 1000 },
    });

    await stableGroup(c, 'fmt-members');
    const groupRecs = recordsIn(topic.offsetsLog(c.partitionFor('fmt-members'))).filter((r) => r.decoded.type === 'group');
    assert.ok(groupRecs.length >= 2, 'the new group, then its assignment');
    for (const r of groupRecs) {
      assert.equal(r.key.readInt16BE(0), 2, 'GroupMetadataKey version 2');
      assert.equal(r.value!.readInt16BE(0), 3, 'GroupMetadataValue version 3');
    }
    const last = groupRecs.at(-1)!.decoded;
    assert.equal(last.type, 'group');
    if (last.type === 'group') {
      assert.equal(last.value!.protocolType, 'consumer');
      assert.equal(last.value!.protocol, 'range');
      assert.equal(last.value!.generation, 1);
      assert.equal(last.value!.members.length, 1);
      assert.equal(last.value!.members[0]!.clientHost, '/127.0.0.1');
    }
  } finally {
    c.close();
  }
});

test('after a restart the offsets, groups and members come back from __consumer_offsets', async () => {
  const topic = new MemoryOffsetsTopic(3);
  const first = await startCoordinator(topic);
  const c1 = first.coordinator;
  await c1.commitOffsets(commit('g-a', { t1: [100, 200, 300], t2: [7] }), 8);
  await c1.commitOffsets(commit('g-a', { t1: [101] }), 8); // latest value per key wins
  await c1.commitOffsets(commit('g-b', { t9: [9] }), 8);
  const { memberId, generationId } = await stableGroup(c1, 'g-live');
  await c1.commitOffsets(commit('g-live', { t1: [55] }, { generationIdOrMemberEpoch: generationId, memberId }), 8);
  await c1.commitOffsets(commit('g-gone', { t1: [1] }), 8);
  assert.deepEqual(await c1.deleteGroups(['g-gone']), [{ groupId: 'g-gone', errorCode: ErrorCode.NONE }]);
  c1.close();

  const c2 = new GroupCoordinator({
    storage: { numPartitions: 3, offsetsLog: (p) => topic.offsetsLog(p) },
    config: { ...TEST_CONFIG },
    logger: silentLogger,
  });
  assert.equal(c2.fetchOffsets({ groupId: 'g-a', topics: null, requireStable: false }).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  const loading = c2.load();
  assert.equal(c2.heartbeat({ groupId: 'g-live', generationId, memberId, groupInstanceId: null }), ErrorCode.NONE, 'heartbeats pass while loading');
  assert.deepEqual(errorsOf(await c2.commitOffsets(commit('g-a', { t1: [0] }), 8)), [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);
  await loading;
  try {
    const all = c2.fetchOffsets({ groupId: 'g-a', topics: null, requireStable: false });
    assert.deepEqual(
      all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata])]),
      [
        ['t1', [[0, 101, 3, 'm0'], [1, 200, 3, 'm1'], [2, 300, 3, 'm2']]],
        ['t2', [[0, 7, 3, 'm0']]],
      ],
    );
    assert.equal(offsetOf(c2, 'g-b', 't9', 0).committedOffset, 9);
    assert.equal(offsetOf(c2, 'g-live', 't1', 0).committedOffset, 55);
    assert.equal(offsetOf(c2, 'g-gone', 't1', 0).committedOffset, -1, 'deleted groups stay deleted');
    assert.deepEqual(c2.listGroups().groups.map((g) => g.groupId).sort(), ['g-a', 'g-b', 'g-live']);

    // Kafka reloads a group with members as Stable: a member that keeps heartbeating continues with its generation
    const [live] = c2.describeGroups(['g-live']);
    assert.equal(live!.groupState, 'Stable');
    assert.equal(live!.members[0]!.memberId, memberId);
    assert.equal(c2.heartbeat({ groupId: 'g-live', generationId, memberId, groupInstanceId: null }), ErrorCode.NONE);
    assert.deepEqual(errorsOf(await c2.commitOffsets(commit('g-live', { t1: [56] }, { generationIdOrMemberEpoch: generationId, memberId }), 8)), [ErrorCode.NONE]);
  } finally {
    c2.close();
  }
});

test('reloaded members that do not come back are expired and the group ends up Empty with its offsets', async () => {
  const topic = new MemoryOffsetsTopic(2);
  const { coordinator: c1 } = await startCoordinator(topic);
  const first = await c1.joinGroup(joinParams('g-restart', { sessionTimeoutMs: 100, rebalanceTimeoutMs: 100 }));
  const joined = await within(c1.joinGroup(joinParams('g-restart', { memberId: first.memberId, sessionTimeoutMs: 100, rebalanceTimeoutMs: 100 })), 'join');
  await within(c1.syncGroup({ groupId: 'g-restart', generationId: 1, memberId: joined.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }), 'sync');
  await c1.commitOffsets(commit('g-restart', { t1: [12] }, { generationIdOrMemberEpoch: 1, memberId: joined.memberId }), 8);
  c1.close();

  const { coordinator: c2 } = await startCoordinator(topic);
  try {
    assert.equal(c2.describeGroups(['g-restart'])[0]!.groupState, 'Stable');
    await waitFor(() => c2.describeGroups(['g-restart'])[0]!.groupState === 'Empty', 'the silent member to expire');
    assert.equal(offsetOf(c2, 'g-restart', 't1', 0).committedOffset, 12);
    // the member must join again (and gets a new generation)
    assert.equal(c2.heartbeat({ groupId: 'g-restart', generationId: 1, memberId: joined.memberId, groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);
  } finally {
    c2.close();
  }
  // the Empty state (generation 2) was persisted too
  const { coordinator: c3 } = await startCoordinator(topic);
  try {
    assert.equal(c3.describeGroups(['g-restart'])[0]!.groupState, 'Empty');
    const rejoin = await within(c3.joinGroup(joinParams('g-restart', { requireKnownMemberId: false })), 'join');
    assert.equal(rejoin.generationId, 3);
  } finally {
    c3.close();
  }
});

test('OffsetDelete writes tombstones; a consumer group cannot delete offsets of topics it subscribes to', async () => {
  const topic = new MemoryOffsetsTopic(2);
  const { coordinator: c } = await startCoordinator(topic);
  try {
    assert.equal((await c.deleteOffsets({ groupId: 'nope', topics: [] })).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    await c.commitOffsets(commit('g-del', { t1: [1, 2], t2: [3] }), 8);
    const res = await c.deleteOffsets({ groupId: 'g-del', topics: [{ name: 't1', partitions: [0, 5] }] });
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.deepEqual(res.topics, [{ name: 't1', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 5, errorCode: 0 }] }]);
    assert.equal(offsetOf(c, 'g-del', 't1', 0).committedOffset, -1);
    assert.equal(offsetOf(c, 'g-del', 't1', 1).committedOffset, 2);
    const tombstones = recordsIn(topic.offsetsLog(c.partitionFor('g-del'))).filter((r) => r.value === null);
    assert.deepEqual(tombstones.map((r) => r.decoded), [{ type: 'offset', group: 'g-del', topic: 't1', partition: 0, value: null }]);

    // members subscribed to t1 (ConsumerProtocolSubscription): t1 is protected, t2 is not
    const { memberId, generationId } = await stableGroup(c, 'g-sub', ['t1']);
    await c.commitOffsets(commit('g-sub', { t1: [1], t2: [2] }, { generationIdOrMemberEpoch: generationId, memberId }), 8);
    const sub = await c.deleteOffsets({ groupId: 'g-sub', topics: [{ name: 't1', partitions: [0] }, { name: 't2', partitions: [0] }] });
    assert.equal(sub.errorCode, ErrorCode.NONE);
    assert.deepEqual(sub.topics.map((t) => t.partitions[0]!.errorCode), [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.NONE]);
    assert.equal(offsetOf(c, 'g-sub', 't1', 0).committedOffset, 1);
    assert.equal(offsetOf(c, 'g-sub', 't2', 0).committedOffset, -1);
    // a non-consumer group with members: NON_EMPTY_GROUP
    const f = await within(c.joinGroup(joinParams('g-connect', { protocolType: 'connect', requireKnownMemberId: false })), 'join');
    assert.equal(f.errorCode, ErrorCode.NONE);
    assert.equal((await c.deleteOffsets({ groupId: 'g-connect', topics: [] })).errorCode, ErrorCode.NON_EMPTY_GROUP);
  } finally {
    c.close();
  }
  const { coordinator: again } = await startCoordinator(topic);
  try {
    assert.equal(offsetOf(again, 'g-del', 't1', 0).committedOffset, -1, 'the tombstone survives a restart');
    assert.equal(offsetOf(again, 'g-del', 't1', 1).committedOffset, 2);
  } finally {
    again.close();
  }
});

test('DeleteGroups: only Empty groups; offsets and group go with tombstones', async () => {
  const topic = new MemoryOffsetsTopic(2);
  const { coordinator: c } = await startCoordinator(topic);
  try {
    const { memberId, generationId } = await stableGroup(c, 'g-dg');
    await c.commitOffsets(commit('g-dg', { t1: [5, 6] }, { generationIdOrMemberEpoch: generationId, memberId }), 8);
    assert.deepEqual(await c.deleteGroups(['g-dg', 'nope']), [
      { groupId: 'g-dg', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    c.leaveGroup('g-dg', [{ memberId, groupInstanceId: null }]);
    assert.equal(c.describeGroups(['g-dg'])[0]!.groupState, 'Empty');
    assert.deepEqual(await c.deleteGroups(['g-dg']), [{ groupId: 'g-dg', errorCode: ErrorCode.NONE }]);
    assert.equal(offsetOf(c, 'g-dg', 't1', 0).committedOffset, -1);
    assert.deepEqual(c.listGroups().groups, []);
    const described = c.describeGroups(['g-dg'])[0]!;
    assert.equal(described.groupState, 'Dead');
    assert.equal(described.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    const tail = recordsIn(topic.offsetsLog(c.partitionFor('g-dg'))).slice(-3).map((r) => r.decoded);
    assert.deepEqual(tail, [
      { type: 'offset', group: 'g-dg', topic: 't1', partition: 0, value: null },
      { type: 'offset', group: 'g-dg', topic: 't1', partition: 1, value: null },
      { type: 'group', group: 'g-dg', value: null },
    ]);
  } finally {
    c.close();
  }
  const { coordinator: again } = await startCoordinator(topic);
  try {
    assert.deepEqual(again.listGroups().groups, []);
    assert.equal(offsetOf(again, 'g-dg', 't1', 1).committedOffset, -1);
  } finally {
    again.close();
  }
});

test('a group deleted while a commit is in flight stays deleted, in memory and after a restart', async () => {
  const topic = new MemoryOffsetsTopic(1);
  const { coordinator: c } = await startCoordinator(topic);
  try {
    await c.commitOffsets(commit('g-race', { t1: [1] }), 8);
    const release = topic.offsetsLog(0).holdFlushes();
    const inFlight = c.commitOffsets(commit('g-race', { t1: [2], t2: [5] }), 8);
    const deleting = c.deleteGroups(['g-race']);
    release();
    assert.deepEqual(errorsOf(await within(inFlight, 'commit')), [ErrorCode.NONE, ErrorCode.NONE]);
    assert.deepEqual(await within(deleting, 'delete'), [{ groupId: 'g-race', errorCode: ErrorCode.NONE }]);
    assert.equal(offsetOf(c, 'g-race', 't1', 0).committedOffset, -1);
    assert.equal(offsetOf(c, 'g-race', 't2', 0).committedOffset, -1, 'the tombstones cover the commit that was in flight');
  } finally {
    c.close();
  }
  const { coordinator: again } = await startCoordinator(topic);
  try {
    assert.equal(offsetOf(again, 'g-race', 't2', 0).committedOffset, -1);
    assert.deepEqual(again.listGroups().groups, []);
  } finally {
    again.close();
  }
});

test('offsets expire after the retention period; an Empty group without offsets is deleted', async () => {
  let now = 1_000_000;
  const topic = new MemoryOffsetsTopic(2);
  const { coordinator: c } = await startCoordinator(topic, { offsetsRetentionMs: 10_000 }, () => now);
  try {
    await c.commitOffsets(commit('old', { t1: [1] }), 8);
    const { memberId, generationId } = await stableGroup(c, 'active', ['t1']);
    await c.commitOffsets(commit('active', { t1: [1], t2: [2] }, { generationIdOrMemberEpoch: generationId, memberId }), 8);
    now += 5_000;
    await c.commitOffsets(commit('young', { t1: [1] }), 8);
    assert.equal(c.expireOffsets(), 0);
    now += 6_000;
    // old: expired and the group deleted; active: t2 (not subscribed) expires, t1 stays; young: not yet
    assert.equal(c.expireOffsets(), 2);
    assert.equal(offsetOf(c, 'old', 't1', 0).committedOffset, -1);
    assert.equal(c.describeGroups(['old'])[0]!.groupState, 'Dead');
    assert.equal(offsetOf(c, 'active', 't1', 0).committedOffset, 1);
    assert.equal(offsetOf(c, 'active', 't2', 0).committedOffset, -1);
    assert.equal(offsetOf(c, 'young', 't1', 0).committedOffset, 1);
    // an explicit retention (OffsetCommit v2-4) expires on its own clock
    await c.commitOffsets(commit('young', { t3: [3] }, { retentionTimeMs: 100 }), 2);
    now += 200;
    assert.equal(c.expireOffsets(), 1);
    assert.equal(offsetOf(c, 'young', 't3', 0).committedOffset, -1);
    assert.equal(offsetOf(c, 'young', 't1', 0).committedOffset, 1);
  } finally {
    c.close();
  }
  const { coordinator: again } = await startCoordinator(topic);
  try {
    assert.deepEqual(again.listGroups().groups.map((g) => g.groupId).sort(), ['active', 'young']);
  } finally {
    again.close();
  }
});

test('a coordinator that was never loaded is not available', () => {
  const c = new GroupCoordinator({
    storage: { numPartitions: 1, offsetsLog: () => new MemoryOffsetsTopic(1).offsetsLog(0) },
    config: TEST_CONFIG,
    logger: silentLogger,
  });
  assert.equal(c.isActive, false);
  assert.equal(c.heartbeat({ groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null }), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(c.describeGroups(['g'])[0]!.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  c.close();
});
