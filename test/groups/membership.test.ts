// The classic group protocol against the coordinator directly: join/sync, MEMBER_ID_REQUIRED, static members,
// session and rebalance timeouts, protocol selection, LeaveGroup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupCoordinator, JoinGroupParams, JoinGroupResult } from '../../src/groups/coordinator.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { joinParams, startCoordinator, subscription, waitFor, within } from './helpers.js';

/** Forms a Stable group of n dynamic members the way a v4+ client does (MEMBER_ID_REQUIRED, join, sync). */
async function formGroup(c: GroupCoordinator, groupId: string, n: number, overrides: Partial<JoinGroupParams> = {}) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const first = await c.joinGroup(joinParams(groupId, { clientId: `c${i}`, ...overrides }));
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    ids.push(first.memberId);
  }
  const joins = await within(Promise.all(ids.map((memberId, i) => c.joinGroup(joinParams(groupId, { clientId: `c${i}`, memberId, ...overrides })))), 'join phase');
  const leader = joins.find((j) => j.members.length > 0)!;
  const assignments = ids.map((memberId) => ({ memberId, assignment: Buffer.from(`assignment of ${memberId}`) }));
  const syncs = await within(
    Promise.all(
      joins.map((j) =>
        c.syncGroup({
          groupId,
          generationId: j.generationId,
          memberId: j.memberId,
          groupInstanceId: null,
          protocolType: 'consumer',
          protocolName: j.protocolName,
          assignments: j.memberId === leader.memberId ? assignments : [],
        }),
      ),
    ),
    'sync phase',
  );
  return { ids, joins, syncs, leaderId: leader.memberId, generationId: leader.generationId };
}

const stateOf = (c: GroupCoordinator, groupId: string): string => c.describeGroups([groupId])[0]!.groupState;

test('three members join and sync: one leader, one generation, assignments distributed', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const { ids, joins, syncs, leaderId, generationId } = await formGroup(c, 'g3', 3);
    assert.equal(generationId, 1);
    for (const j of joins) {
      assert.equal(j.errorCode, ErrorCode.NONE);
      assert.equal(j.generationId, 1);
      assert.equal(j.leader, leaderId);
      assert.equal(j.protocolType, 'consumer');
      assert.equal(j.protocolName, 'range');
      assert.equal(j.members.length, j.memberId === leaderId ? 3 : 0);
    }
    assert.deepEqual(new Set(joins.find((j) => j.memberId === leaderId)!.members.map((m) => m.memberId)), new Set(ids));
    syncs.forEach((s, i) => {
      assert.equal(s.errorCode, ErrorCode.NONE);
      assert.equal(s.assignment.toString(), `assignment of ${joins[i]!.memberId}`);
      assert.equal(s.protocolName, 'range');
    });
    const [described] = c.describeGroups(['g3']);
    assert.equal(described!.groupState, 'Stable');
    assert.equal(described!.protocolData, 'range');
    assert.equal(described!.members.length, 3);
    assert.equal(described!.members[0]!.memberAssignment.toString(), `assignment of ${described!.members[0]!.memberId}`);
    assert.deepEqual(c.listGroups({ statesFilter: ['stable'] }).groups.map((g) => g.groupId), ['g3']);
    assert.deepEqual(c.listGroups({ statesFilter: ['Empty'] }).groups, []);
    for (const id of ids) assert.equal(c.heartbeat({ groupId: 'g3', generationId: 1, memberId: id, groupInstanceId: null }), ErrorCode.NONE);
  } finally {
    c.close();
  }
});

test('MEMBER_ID_REQUIRED hands out "clientId-uuid"; unknown and expired member ids are refused', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const first = await c.joinGroup(joinParams('g-mid', { clientId: 'my-client' }));
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(first.memberId, /^my-client-[0-9a-f-]{36}$/);
    assert.equal(first.generationId, -1);
    assert.equal(stateOf(c, 'g-mid'), 'Empty');

    assert.equal((await c.joinGroup(joinParams('g-mid', { memberId: 'someone-else' }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await c.joinGroup(joinParams('no-such-group', { memberId: 'x' }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);

    // a pending member id expires after the session timeout if the member never joins with it
    const shortLived = await c.joinGroup(joinParams('g-mid', { sessionTimeoutMs: 30 }));
    assert.equal(shortLived.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal((await c.joinGroup(joinParams('g-mid', { memberId: shortLived.memberId }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);

    // the first id is still good
    const joined = await within(c.joinGroup(joinParams('g-mid', { memberId: first.memberId })), 'join');
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.memberId, first.memberId);
    assert.equal(joined.leader, first.memberId);

    // JoinGroup v0-3 has no MEMBER_ID_REQUIRED round trip
    const old = await within(c.joinGroup(joinParams('g-old', { requireKnownMemberId: false })), 'join v3');
    assert.equal(old.errorCode, ErrorCode.NONE);
    assert.equal(old.generationId, 1);
  } finally {
    c.close();
  }
});

test('join validation: session timeout bounds, group id, protocol type and common protocol', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    assert.equal((await c.joinGroup(joinParams('g-v', { sessionTimeoutMs: 5 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await c.joinGroup(joinParams('g-v', { sessionTimeoutMs: 60_001 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await c.joinGroup(joinParams(''))).errorCode, ErrorCode.INVALID_GROUP_ID);
    assert.equal((await c.joinGroup(joinParams('g-empty-type', { protocolType: '' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);

    await formGroup(c, 'g-v', 1);
    assert.equal((await c.joinGroup(joinParams('g-v', { protocolType: 'connect' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const noCommon = await c.joinGroup(joinParams('g-v', { protocols: [{ name: 'roundrobin', metadata: subscription(['t1']) }] }));
    assert.equal(noCommon.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  } finally {
    c.close();
  }
});

test('protocol selection: the protocol all members support that most prefer', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const meta = subscription(['t1']);
    const prefs = [
      ['range', 'roundrobin', 'sticky'],
      ['roundrobin', 'range'],
      ['range', 'roundrobin'],
    ];
    const ids: string[] = [];
    for (const p of prefs) ids.push((await c.joinGroup(joinParams('g-sel', { protocols: p.map((name) => ({ name, metadata: meta })) }))).memberId);
    const joins = await within(
      Promise.all(ids.map((memberId, i) => c.joinGroup(joinParams('g-sel', { memberId, protocols: prefs[i]!.map((name) => ({ name, metadata: meta })) })))),
      'join',
    );
    for (const j of joins) assert.equal(j.protocolName, 'range');
  } finally {
    c.close();
  }
});

test('static member rejoining with an unknown member id replaces its old id without a rebalance', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const dyn = await c.joinGroup(joinParams('g-static', { clientId: 'dyn' }));
    const staticParams = joinParams('g-static', { groupInstanceId: 'inst-a', clientId: 'static' });
    // a static member joins at once: no MEMBER_ID_REQUIRED round trip, and its id starts with the instance id
    const [a, b] = await within(Promise.all([c.joinGroup(staticParams), c.joinGroup(joinParams('g-static', { memberId: dyn.memberId, clientId: 'dyn' }))]), 'join');
    assert.equal(a!.errorCode, ErrorCode.NONE);
    assert.match(a!.memberId, /^inst-a-/);
    assert.equal(a!.generationId, 1);
    const leaderId = a!.leader;
    const leaderJoin = [a!, b!].find((j) => j.memberId === leaderId)!;
    const followerJoin = [a!, b!].find((j) => j.memberId !== leaderId)!;
    const assignments = [a!, b!].map((j) => ({ memberId: j.memberId, assignment: Buffer.from(j.memberId) }));
    await within(
      Promise.all([
        c.syncGroup({ groupId: 'g-static', generationId: 1, memberId: followerJoin.memberId, groupInstanceId: followerJoin === a ? 'inst-a' : null, protocolType: null, protocolName: null, assignments: [] }),
        c.syncGroup({ groupId: 'g-static', generationId: 1, memberId: leaderJoin.memberId, groupInstanceId: leaderJoin === a ? 'inst-a' : null, protocolType: null, protocolName: null, assignments }),
      ]),
      'sync',
    );
    assert.equal(stateOf(c, 'g-static'), 'Stable');

    // the static member restarts: same instance id, no member id, same metadata
    const again = await within(c.joinGroup(staticParams), 'static rejoin');
    assert.equal(again.errorCode, ErrorCode.NONE);
    assert.notEqual(again.memberId, a!.memberId);
    assert.match(again.memberId, /^inst-a-/);
    assert.equal(again.generationId, 1, 'no new generation');
    assert.equal(again.leader, leaderId, 'the old leader id, so a pre-v9 leader does not reassign');
    assert.deepEqual(again.members, []);
    assert.equal(stateOf(c, 'g-static'), 'Stable');

    // the old incarnation is fenced, the new one is a member, the other member notices nothing
    assert.equal(c.heartbeat({ groupId: 'g-static', generationId: 1, memberId: a!.memberId, groupInstanceId: 'inst-a' }), ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(c.heartbeat({ groupId: 'g-static', generationId: 1, memberId: a!.memberId, groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(c.heartbeat({ groupId: 'g-static', generationId: 1, memberId: again.memberId, groupInstanceId: 'inst-a' }), ErrorCode.NONE);
    assert.equal(c.heartbeat({ groupId: 'g-static', generationId: 1, memberId: dyn.memberId, groupInstanceId: null }), ErrorCode.NONE);
    const synced = await c.syncGroup({ groupId: 'g-static', generationId: 1, memberId: again.memberId, groupInstanceId: 'inst-a', protocolType: 'consumer', protocolName: 'range', assignments: [] });
    assert.equal(synced.assignment.toString(), a!.memberId, 'the assignment stays with the instance');

    // JoinGroup v9: a rejoining static leader learns it leads and may skip the assignment (KIP-814)
    if (leaderJoin === a) {
      const v9 = await within(c.joinGroup({ ...staticParams, supportSkippingAssignment: true }), 'v9 rejoin');
      assert.equal(v9.leader, v9.memberId);
      assert.equal(v9.skipAssignment, true);
      assert.equal(v9.members.length, 2);
    }

    // LeaveGroup by instance id alone removes the static member administratively
    const left = c.leaveGroup('g-static', [{ memberId: '', groupInstanceId: 'inst-a' }]);
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.members[0]!.errorCode, ErrorCode.NONE);
    assert.equal(c.describeGroups(['g-static'])[0]!.members.length, 1);
    assert.equal(c.leaveGroup('g-static', [{ memberId: '', groupInstanceId: 'inst-a' }]).members[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  } finally {
    c.close();
  }
});

test('a member that stops heartbeating is removed after its session timeout and the group rebalances', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const { ids } = await formGroup(c, 'g-session', 2, { sessionTimeoutMs: 150 });
    const [alive, silent] = ids as [string, string];
    // `alive` keeps heartbeating; `silent` does not
    const beat = setInterval(() => c.heartbeat({ groupId: 'g-session', generationId: 1, memberId: alive, groupInstanceId: null }), 30);
    try {
      await waitFor(() => c.describeGroups(['g-session'])[0]!.members.length === 1, 'the silent member to be removed');
    } finally {
      clearInterval(beat);
    }
    assert.equal(stateOf(c, 'g-session'), 'PreparingRebalance');
    assert.equal(c.heartbeat({ groupId: 'g-session', generationId: 1, memberId: alive, groupInstanceId: null }), ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(c.heartbeat({ groupId: 'g-session', generationId: 1, memberId: silent, groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);
    const rejoined = await within(c.joinGroup(joinParams('g-session', { memberId: alive, sessionTimeoutMs: 150 })), 'rejoin');
    assert.equal(rejoined.errorCode, ErrorCode.NONE);
    assert.equal(rejoined.generationId, 2);
    assert.equal(rejoined.leader, alive);
    assert.deepEqual(rejoined.members.map((m) => m.memberId), [alive]);
    // heartbeats of the old generation are refused
    assert.equal(c.heartbeat({ groupId: 'g-session', generationId: 1, memberId: alive, groupInstanceId: null }), ErrorCode.ILLEGAL_GENERATION);
  } finally {
    c.close();
  }
});

test('a member that does not rejoin within the rebalance timeout is dropped from the next generation', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const { ids, leaderId } = await formGroup(c, 'g-rebalance', 3, { sessionTimeoutMs: 5000, rebalanceTimeoutMs: 200 });
    const others = ids.filter((id) => id !== leaderId);
    const [follower, silent] = others as [string, string];
    const started = Date.now();
    // the leader rejoining starts a rebalance
    const leaderRejoin = c.joinGroup(joinParams('g-rebalance', { memberId: leaderId, sessionTimeoutMs: 5000, rebalanceTimeoutMs: 200 }));
    assert.equal(stateOf(c, 'g-rebalance'), 'PreparingRebalance');
    assert.equal(c.heartbeat({ groupId: 'g-rebalance', generationId: 1, memberId: follower, groupInstanceId: null }), ErrorCode.REBALANCE_IN_PROGRESS);
    const followerRejoin = c.joinGroup(joinParams('g-rebalance', { memberId: follower, sessionTimeoutMs: 5000, rebalanceTimeoutMs: 200 }));
    const [l, f] = (await within(Promise.all([leaderRejoin, followerRejoin]), 'join phase')) as [JoinGroupResult, JoinGroupResult];
    assert.ok(Date.now() - started >= 150, 'the join phase waited for the silent member');
    assert.equal(l.generationId, 2);
    assert.equal(f.generationId, 2);
    assert.deepEqual(new Set(l.members.map((m) => m.memberId)), new Set([leaderId, follower]));
    assert.equal(c.heartbeat({ groupId: 'g-rebalance', generationId: 1, memberId: silent, groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(stateOf(c, 'g-rebalance'), 'CompletingRebalance');
  } finally {
    c.close();
  }
});

test('a member that does not send SyncGroup within the rebalance timeout is removed', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await c.joinGroup(joinParams('g-sync', { rebalanceTimeoutMs: 150 }))).memberId);
    const joins = await within(Promise.all(ids.map((memberId) => c.joinGroup(joinParams('g-sync', { memberId, rebalanceTimeoutMs: 150 })))), 'join');
    const leader = joins.find((j) => j.members.length > 0)!;
    const follower = joins.find((j) => j !== leader)!;
    // followers that already synced wait for the leader; here only the leader syncs
    const s = await within(
      c.syncGroup({ groupId: 'g-sync', generationId: 1, memberId: leader.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] }),
      'leader sync',
    );
    assert.equal(s.errorCode, ErrorCode.NONE);
    assert.equal(stateOf(c, 'g-sync'), 'Stable');
    await waitFor(() => c.describeGroups(['g-sync'])[0]!.members.length === 1, 'the member that never synced to be removed');
    assert.equal(c.heartbeat({ groupId: 'g-sync', generationId: 1, memberId: follower.memberId, groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(c.heartbeat({ groupId: 'g-sync', generationId: 1, memberId: leader.memberId, groupInstanceId: null }), ErrorCode.REBALANCE_IN_PROGRESS);
  } finally {
    c.close();
  }
});

test('sync and heartbeat checks: generation, member, protocol, rebalance in progress', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const { ids, leaderId } = await formGroup(c, 'g-checks', 2);
    const other = ids.find((id) => id !== leaderId)!;
    const sync = (over: Partial<Parameters<GroupCoordinator['syncGroup']>[0]>) =>
      c.syncGroup({ groupId: 'g-checks', generationId: 1, memberId: other, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [], ...over });
    assert.equal((await sync({ generationId: 7 })).errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal((await sync({ memberId: 'nobody' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await sync({ protocolName: 'roundrobin' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal((await sync({ protocolType: 'connect' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal((await sync({ groupId: 'nope' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await sync({})).errorCode, ErrorCode.NONE, 'a Stable group answers a late SyncGroup with the assignment');
    assert.equal(c.heartbeat({ groupId: 'nope', generationId: 1, memberId: other, groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);

    // a follower whose metadata changed triggers a rebalance; the other member is told to rejoin
    const changed = c.joinGroup(joinParams('g-checks', { memberId: other, protocols: [{ name: 'range', metadata: subscription(['t1', 't2']) }] }));
    assert.equal(stateOf(c, 'g-checks'), 'PreparingRebalance');
    assert.equal((await sync({ memberId: leaderId })).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(c.heartbeat({ groupId: 'g-checks', generationId: 1, memberId: leaderId, groupInstanceId: null }), ErrorCode.REBALANCE_IN_PROGRESS);
    const leaderRejoin = c.joinGroup(joinParams('g-checks', { memberId: leaderId }));
    const [x, y] = await within(Promise.all([changed, leaderRejoin]), 'join');
    assert.equal(x.generationId, 2);
    assert.equal(y.generationId, 2);
  } finally {
    c.close();
  }
});

test('LeaveGroup: the group rebalances at once; v3 batches report per member', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const { ids, leaderId } = await formGroup(c, 'g-leave', 2);
    const other = ids.find((id) => id !== leaderId)!;
    const res = c.leaveGroup('g-leave', [
      { memberId: other, groupInstanceId: null, reason: 'shutting down' },
      { memberId: 'ghost', groupInstanceId: null },
    ]);
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      res.members.map((m) => m.errorCode),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
    );
    assert.equal(stateOf(c, 'g-leave'), 'PreparingRebalance');
    assert.equal(c.leaveGroup('no-group', [{ memberId: 'x', groupInstanceId: null }]).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    // the last member leaving ends the join phase with an empty group
    c.leaveGroup('g-leave', [{ memberId: leaderId, groupInstanceId: null }]);
    assert.equal(stateOf(c, 'g-leave'), 'Empty');
    assert.equal(c.describeGroups(['g-leave'])[0]!.members.length, 0);
  } finally {
    c.close();
  }
});

test('a new group waits the initial rebalance delay for more members', async () => {
  const { coordinator: c } = await startCoordinator(undefined, { groupInitialRebalanceDelayMs: 100 });
  try {
    const a = await c.joinGroup(joinParams('g-delay'));
    const b = await c.joinGroup(joinParams('g-delay'));
    const started = Date.now();
    const first = c.joinGroup(joinParams('g-delay', { memberId: a.memberId }));
    await new Promise((r) => setTimeout(r, 30));
    const second = c.joinGroup(joinParams('g-delay', { memberId: b.memberId }));
    const [x, y] = await within(Promise.all([first, second]), 'initial join');
    assert.ok(Date.now() - started >= 90, 'waited for the initial delay');
    assert.equal(x.generationId, 1);
    assert.equal(y.generationId, 1);
    assert.equal(x.leader, y.leader);
  } finally {
    c.close();
  }
});

test('before load and after close the coordinator is not available; parked joins are answered on close', async () => {
  const { coordinator: c } = await startCoordinator();
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) ids.push((await c.joinGroup(joinParams('g-close'))).memberId);
  await within(Promise.all(ids.map((memberId) => c.joinGroup(joinParams('g-close', { memberId })))), 'join');
  const { ids: stable } = await formGroup(c, 'g-close-2', 1);
  const parked = c.joinGroup(joinParams('g-close', { memberId: ids[0]!, protocols: [{ name: 'range', metadata: subscription(['other']) }] }));
  c.close();
  assert.equal((await within(parked, 'parked join')).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(c.heartbeat({ groupId: 'g-close-2', generationId: 1, memberId: stable[0]!, groupInstanceId: null }), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal((await c.joinGroup(joinParams('g-close'))).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(c.listGroups().errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
});

test('a leader that does not rejoin is replaced by a member that did', async () => {
  const { coordinator: c } = await startCoordinator();
  try {
    const { ids, leaderId } = await formGroup(c, 'g-new-leader', 2, { rebalanceTimeoutMs: 150 });
    const follower = ids.find((id) => id !== leaderId)!;
    // the follower changes its subscription: rebalance; the leader stays silent
    const rejoin = await within(
      c.joinGroup(joinParams('g-new-leader', { memberId: follower, rebalanceTimeoutMs: 150, protocols: [{ name: 'range', metadata: subscription(['t2']) }] })),
      'rejoin',
    );
    assert.equal(rejoin.generationId, 2);
    assert.equal(rejoin.leader, follower);
    assert.deepEqual(rejoin.members.map((m) => m.memberId), [follower]);
  } finally {
    c.close();
  }
});

test('a failed write of the assignment is reported to the members and the group rebalances', async () => {
  const { coordinator: c, topic } = await startCoordinator();
  try {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await c.joinGroup(joinParams('g-fail'))).memberId);
    const joins = await within(Promise.all(ids.map((memberId) => c.joinGroup(joinParams('g-fail', { memberId })))), 'join');
    const leader = joins.find((j) => j.members.length > 0)!;
    const follower = joins.find((j) => j !== leader)!;
    const followerSync = c.syncGroup({ groupId: 'g-fail', generationId: 1, memberId: follower.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    topic.offsetsLog(c.partitionFor('g-fail')).failFlushes = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR);
    const leaderSync = c.syncGroup({ groupId: 'g-fail', generationId: 1, memberId: leader.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    const [f, l] = await within(Promise.all([followerSync, leaderSync]), 'sync');
    assert.equal(f.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(l.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(stateOf(c, 'g-fail'), 'PreparingRebalance');
  } finally {
    c.close();
  }
});
