// The "consumer" group protocol: how members describe their subscriptions in JoinGroup and how the leader hands
// out partitions in SyncGroup, in the standard ConsumerProtocolSubscription / ConsumerProtocolAssignment encoding
// (an int16 version, then the struct), so an Umbra consumer can share a group with Java, librdkafka, kafkajs or
// franz-go members, as leader or follower.
//
// The assignors reproduce the Java ones of the same protocol name, "range" (RangeAssignor) and "roundrobin"
// (RoundRobinAssignor), so the partition → member map does not depend on which member happens to lead.
import { Reader, Writer } from '../protocol/primitives.js';
import * as SubscriptionCodec from '../protocol/generated/messages/ConsumerProtocolSubscription.js';
import * as AssignmentCodec from '../protocol/generated/messages/ConsumerProtocolAssignment.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** topic → partitions */
export type TopicPartitions = Map<string, number[]>;

export interface Subscription {
  topics: string[];
  userData: Buffer | null;
  /** v1+: partitions the member owned before this rebalance */
  ownedPartitions: { topic: string; partitions: number[] }[];
}

export interface MemberSubscription extends Subscription {
  memberId: string;
  groupInstanceId: string | null;
}

/** Encodes a subscription; v1 (topics, user data, owned partitions) by default, which every client reads. */
export function encodeSubscription(s: Subscription, version = 1): Buffer {
  const w = new Writer(64);
  w.int16(version);
  SubscriptionCodec.write(w, version, {
    topics: s.topics,
    userData: s.userData,
    ownedPartitions: s.ownedPartitions,
    generationId: -1,
    rackId: null,
  });
  return w.toBuffer();
}

/** Decodes any version; a newer version than we know is read with the newest we know (fields are only appended). */
export function decodeSubscription(buf: Buffer): Subscription {
  const r = new Reader(buf);
  const version = r.int16();
  const s = SubscriptionCodec.read(r, Math.min(Math.max(version, 0), SubscriptionCodec.maxVersion));
  return { topics: s.topics, userData: s.userData, ownedPartitions: s.ownedPartitions };
}

/** Encodes an assignment (v0: its layout is the same in every version). */
export function encodeAssignment(assigned: TopicPartitions, userData: Buffer | null = null, version = 0): Buffer {
  const w = new Writer(64);
  w.int16(version);
  AssignmentCodec.write(w, version, {
    assignedPartitions: [...assigned]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) })),
    userData,
  });
  return w.toBuffer();
}

/** Decodes an assignment; an empty buffer (a member that got nothing from some leaders) is no partitions. */
export function decodeAssignment(buf: Buffer): TopicPartitions {
  const out: TopicPartitions = new Map();
  if (buf.length === 0) return out;
  const r = new Reader(buf);
  const version = r.int16();
  const a = AssignmentCodec.read(r, Math.min(Math.max(version, 0), AssignmentCodec.maxVersion));
  for (const tp of a.assignedPartitions) {
    const list = out.get(tp.topic) ?? [];
    list.push(...tp.partitions);
    out.set(tp.topic, list);
  }
  return out;
}

export interface Assignor {
  /** the protocol name in JoinGroup, shared with other clients' assignors of the same behaviour */
  readonly name: string;
  /** memberId → assignment; `partitionsPerTopic` holds every subscribed topic that exists */
  assign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartitions>;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Java's member order: static members (group.instance.id) first by instance id, then dynamic ones by member id. */
function sortMembers(members: readonly MemberSubscription[]): MemberSubscription[] {
  return [...members].sort((a, b) => {
    if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compareStrings(a.groupInstanceId, b.groupInstanceId);
    if (a.groupInstanceId !== null) return -1;
    if (b.groupInstanceId !== null) return 1;
    return compareStrings(a.memberId, b.memberId);
  });
}

function emptyAssignments(members: readonly MemberSubscription[]): Map<string, TopicPartitions> {
  return new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]));
}

function add(assignments: Map<string, TopicPartitions>, memberId: string, topic: string, partition: number): void {
  const a = assignments.get(memberId)!;
  const list = a.get(topic);
  if (list) list.push(partition);
  else a.set(topic, [partition]);
}

/**
 * RangeAssignor: per topic, the members subscribed to it (in order) each take a contiguous range; the first
 * `partitions % members` take one extra.
 */
export const rangeAssignor: Assignor = {
  name: 'range',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignments(members);
    const sorted = sortMembers(members);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compareStrings);
    for (const topic of topics) {
      const n = partitionsPerTopic.get(topic);
      if (n === undefined) continue;
      const subscribers = sorted.filter((m) => m.topics.includes(topic));
      if (subscribers.length === 0) continue;
      const per = Math.floor(n / subscribers.length);
      const extra = n % subscribers.length;
      subscribers.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) add(out, m.memberId, topic, p);
      });
    }
    return out;
  },
};

/**
 * RoundRobinAssignor: every topic-partition in (topic, partition) order goes to the next member, in circular
 * member order, that subscribes to its topic.
 */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignments(members);
    const sorted = sortMembers(members);
    if (sorted.length === 0) return out;
    const topics = [...new Set(members.flatMap((m) => m.topics))].filter((t) => partitionsPerTopic.has(t)).sort(compareStrings);
    let next = 0;
    for (const topic of topics) {
      const n = partitionsPerTopic.get(topic)!;
      for (let p = 0; p < n; p++) {
        for (let tries = 0; tries < sorted.length; tries++) {
          const m = sorted[next % sorted.length]!;
          next++;
          if (m.topics.includes(topic)) {
            add(out, m.memberId, topic, p);
            break;
          }
        }
      }
    }
    return out;
  },
};

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([
  [rangeAssignor.name, rangeAssignor],
  [roundRobinAssignor.name, roundRobinAssignor],
]);
