// The consumer protocol encoding and the range / round-robin assignors (same results as Java's).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writer } from '../../src/protocol/primitives.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  rangeAssignor,
  roundRobinAssignor,
  type MemberSubscription,
} from '../../src/client/assignors.js';

function member(memberId: string, topics: string[], groupInstanceId: string | null = null): MemberSubscription {
  return { memberId, groupInstanceId, topics, userData: null, ownedPartitions: [] };
}

function plain(m: Map<string, Map<string, number[]>>): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const [k, v] of m) out[k] = Object.fromEntries([...v].map(([t, ps]) => [t, [...ps].sort((a, b) => a - b)]));
  return out;
}

describe('consumer protocol encoding', () => {
  it('round-trips a v1 subscription', () => {
    const buf = encodeSubscription({ topics: ['a', 'b'], userData: Buffer.from('ud'), ownedPartitions: [{ topic: 'a', partitions: [0, 2] }] });
    assert.equal(buf.readInt16BE(0), 1);
    const s = decodeSubscription(buf);
    assert.deepEqual(s.topics, ['a', 'b']);
    assert.equal(s.userData?.toString(), 'ud');
    assert.deepEqual(s.ownedPartitions, [{ topic: 'a', partitions: [0, 2] }]);
  });

  it('reads a v0 subscription as kafkajs writes it (version, topics, user data)', () => {
    const w = new Writer();
    w.int16(0);
    w.int32(1);
    w.string('orders');
    w.int32(-1); // null user data
    const s = decodeSubscription(w.toBuffer());
    assert.deepEqual(s.topics, ['orders']);
    assert.equal(s.userData, null);
  });

  it('reads a subscription of a newer version than it knows, by its known prefix', () => {
    const v3 = encodeSubscription({ topics: ['x'], userData: null, ownedPartitions: [] }, 3);
    const future = Buffer.concat([v3, Buffer.from([1, 2, 3])]);
    future.writeInt16BE(9, 0);
    assert.deepEqual(decodeSubscription(future).topics, ['x']);
  });

  it('round-trips an assignment and treats an empty one as nothing', () => {
    const buf = encodeAssignment(new Map([['b', [1]], ['a', [2, 0]]]));
    assert.equal(buf.readInt16BE(0), 0);
    assert.deepEqual([...decodeAssignment(buf)], [['a', [0, 2]], ['b', [1]]]);
    assert.equal(decodeAssignment(Buffer.alloc(0)).size, 0);
  });
});

describe('range assignor', () => {
  it('gives contiguous ranges per topic, extras to the first members', () => {
    const result = rangeAssignor.assign([member('m2', ['t']), member('m1', ['t']), member('m3', ['t'])], new Map([['t', 7]]));
    assert.deepEqual(plain(result), { m1: { t: [0, 1, 2] }, m2: { t: [3, 4] }, m3: { t: [5, 6] } });
  });

  it('assigns each topic among its own subscribers only, and skips unknown topics', () => {
    const result = rangeAssignor.assign([member('a', ['t1', 't2']), member('b', ['t2', 'gone'])], new Map([['t1', 2], ['t2', 3]]));
    assert.deepEqual(plain(result), { a: { t1: [0, 1], t2: [0, 1] }, b: { t2: [2] } });
  });

  it('orders static members (group.instance.id) before dynamic ones', () => {
    const result = rangeAssignor.assign([member('aaa', ['t']), member('zzz', ['t'], 'instance-1')], new Map([['t', 2]]));
    assert.deepEqual(plain(result), { zzz: { t: [0] }, aaa: { t: [1] } });
  });
});

describe('round-robin assignor', () => {
  it('deals partitions of all topics in (topic, partition) order over sorted members', () => {
    const result = roundRobinAssignor.assign([member('c1', ['t0', 't1']), member('c0', ['t0', 't1'])], new Map([['t0', 3], ['t1', 3]]));
    // Java RoundRobinAssignorTest.testTwoConsumersTwoTopicsSixPartitions
    assert.deepEqual(plain(result), { c0: { t0: [0, 2], t1: [1] }, c1: { t0: [1], t1: [0, 2] } });
  });

  it('skips members not subscribed to a topic', () => {
    const result = roundRobinAssignor.assign([member('c0', ['t0']), member('c1', ['t0', 't1']), member('c2', ['t0', 't1', 't2'])], new Map([['t0', 1], ['t1', 2], ['t2', 3]]));
    assert.deepEqual(plain(result), { c0: { t0: [0] }, c1: { t1: [0] }, c2: { t1: [1], t2: [0, 1, 2] } });
  });

  it('matches Java RoundRobinAssignorTest.testMultipleConsumersMixedTopics', () => {
    const result = roundRobinAssignor.assign(
      [member('consumer1', ['topic1']), member('consumer2', ['topic1', 'topic2']), member('consumer3', ['topic1'])],
      new Map([['topic1', 3], ['topic2', 2]]),
    );
    assert.deepEqual(plain(result), {
      consumer1: { topic1: [0] },
      consumer2: { topic1: [1], topic2: [0, 1] },
      consumer3: { topic1: [2] },
    });
  });
});
