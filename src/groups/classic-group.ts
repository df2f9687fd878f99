// A classic (JoinGroup/SyncGroup) group and its members: the state machine and bookkeeping of Kafka's ClassicGroup
// and ClassicGroupMember. Timers, persistence and the request flows live in coordinator.ts; this file only keeps
// the group's data consistent.
//
//   Empty --join--> PreparingRebalance --all joined, or rebalance timeout--> CompletingRebalance --leader's assignment stored--> Stable
//     ^                  |  ^                                                        |                                                |
//     +-- no member left-+  +------ join, leave, session expiry, changed metadata --+------------------------------------------------+
//   any state --> Dead (deleted, or expired with its offsets)
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { EMPTY } from '../protocol/primitives.js';
import { CONSUMER_PROTOCOL_TYPE, subscribedTopicsOf } from './consumer-protocol.js';
import type { GroupProtocol, GroupStateName, JoinGroupResponseMember, JoinGroupResult, SyncGroupResult } from './types.js';

const VALID_PREVIOUS_STATES: Readonly<Record<GroupStateName, readonly GroupStateName[]>> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export class ClassicGroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  protocols: readonly GroupProtocol[];
  assignment: Buffer;
  /** set while a JoinGroup is parked until the join phase completes */
  awaitingJoin: ((res: JoinGroupResult) => void) | null = null;
  /** set while a SyncGroup is parked until the leader's assignment is stored */
  awaitingSync: ((res: SyncGroupResult) => void) | null = null;
  /** joined in the current join phase and has not got its first JoinGroup response yet */
  isNew = false;

  constructor(init: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    protocols: readonly GroupProtocol[];
    assignment?: Buffer;
  }) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.protocols = init.protocols;
    this.assignment = init.assignment ?? EMPTY;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }
  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }
  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /**
   * Whether an expiring heartbeat timer should spare this member. A new member can be expired while its JoinGroup
   * is parked (its join timeout); other members parked in JoinGroup or SyncGroup are waiting on the coordinator, not
   * the other way round.
   */
  hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return false;
    return this.isAwaitingJoin || this.isAwaitingSync;
  }

  metadata(protocolName: string | null): Buffer {
    const p = this.protocols.find((x) => x.name === protocolName);
    if (!p) throw new Error(`member ${this.memberId} does not support protocol ${protocolName}`);
    return p.metadata;
  }

  /** Same protocols, same metadata, same order (a rejoin that changes nothing). */
  matches(protocols: readonly GroupProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata));
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.protocols.find((x) => candidates.has(x.name));
    if (!p) throw new Error(`member ${this.memberId} does not support any of the candidate protocols`);
    return p.name;
  }
}

export class ClassicGroup {
  readonly groupId: string;
  state: GroupStateName;
  previousState: GroupStateName = 'Dead';
  /** when the group entered its state; null for groups loaded from records that had none */
  currentStateTimestamp: number | null;
  protocolType: string | null;
  protocolName: string | null;
  generationId: number;
  leaderId: string | null;
  readonly members = new Map<string, ClassicGroupMember>();
  /** group instance id -> member id */
  readonly staticMembers = new Map<string, string>();
  /** member ids handed out with MEMBER_ID_REQUIRED that have not joined yet */
  readonly pendingJoinMembers = new Set<string>();
  /** members that got their JoinGroup response and have not sent SyncGroup yet */
  readonly pendingSyncMembers = new Set<string>();
  numMembersAwaitingJoin = 0;
  /** protocol name -> number of members supporting it */
  readonly supportedProtocols = new Map<string, number>();
  /** union of the members' subscriptions for "consumer" groups; null = unknown */
  subscribedTopics: Set<string> | null = null;
  /** a member joined during the initial rebalance delay: extend the delay */
  newMemberAdded = false;

  constructor(init: {
    groupId: string;
    state: GroupStateName;
    nowMs: number | null;
    generationId?: number;
    protocolType?: string | null;
    protocolName?: string | null;
    leaderId?: string | null;
  }) {
    this.groupId = init.groupId;
    this.state = init.state;
    this.currentStateTimestamp = init.nowMs;
    this.generationId = init.generationId ?? 0;
    this.protocolType = init.protocolType ?? null;
    this.protocolName = init.protocolName ?? null;
    this.leaderId = init.leaderId ?? null;
  }

  get size(): number {
    return this.members.size;
  }

  is(state: GroupStateName): boolean {
    return this.state === state;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  member(memberId: string): ClassicGroupMember | undefined {
    return this.members.get(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  usesConsumerProtocol(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE;
  }

  transitionTo(state: GroupStateName, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[state].includes(this.state)) {
      throw new Error(`group ${this.groupId}: invalid transition from ${this.state} to ${state}`);
    }
    this.previousState = this.state;
    this.state = state;
    this.currentStateTimestamp = nowMs;
  }

  canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.state);
  }

  /** the largest rebalance timeout of the members: how long a join phase may wait */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  add(member: ClassicGroupMember, onJoin: ((res: JoinGroupResult) => void) | null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`static member ${member.groupInstanceId} is already a member of group ${this.groupId}`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.protocolType !== member.protocolType) throw new Error('the group and the member must have the same protocol type');
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.incrementSupportedProtocols(member);
    member.awaitingJoin = onJoin;
    if (member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    this.pendingJoinMembers.delete(member.memberId);
  }

  remove(memberId: string): void {
    const removed = this.members.get(memberId);
    if (removed) {
      this.members.delete(memberId);
      this.decrementSupportedProtocols(removed);
      if (removed.isAwaitingJoin) this.numMembersAwaitingJoin--;
      if (removed.groupInstanceId !== null) this.staticMembers.delete(removed.groupInstanceId);
    }
    if (this.isLeader(memberId)) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    this.pendingJoinMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  updateMember(
    member: ClassicGroupMember,
    protocols: readonly GroupProtocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    onJoin: ((res: JoinGroupResult) => void) | null,
  ): void {
    this.decrementSupportedProtocols(member);
    member.protocols = protocols;
    this.incrementSupportedProtocols(member);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (onJoin !== null && !member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    else if (onJoin === null && member.isAwaitingJoin) this.numMembersAwaitingJoin--;
    member.awaitingJoin = onJoin;
  }

  /**
   * Static members only: the member known under `groupInstanceId` continues under a new member id. Whoever is parked
   * under the old id is fenced.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicGroupMember {
    const member = this.members.get(oldMemberId);
    if (!member) throw new Error(`cannot replace unknown member ${oldMemberId}`);
    this.completeJoin(member, {
      errorCode: ErrorCode.FENCED_INSTANCE_ID,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId: oldMemberId,
      members: [],
    });
    this.completeSync(member, { errorCode: ErrorCode.FENCED_INSTANCE_ID, protocolType: null, protocolName: null, assignment: EMPTY });
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return member;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingJoinMembers.has(memberId);
  }

  /**
   * Kafka's validateMember: a request naming a group instance id must come from the member id currently mapped to
   * it (FENCED_INSTANCE_ID otherwise, UNKNOWN_MEMBER_ID if the instance is unknown); the member must exist.
   */
  validateMember(memberId: string, groupInstanceId: string | null): void {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID);
      if (existing !== memberId) throw new KafkaError(ErrorCode.FENCED_INSTANCE_ID);
    }
    if (!this.members.has(memberId)) throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID);
  }

  /**
   * If the leader has not rejoined, hand leadership to a member that has. False when the group has no leader or no
   * member rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader && leader.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingJoinMembers.size === 0;
  }

  /** A member may join only with a protocol type equal to the group's and a protocol every member supports. */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocolNames.length > 0;
    return this.protocolType === protocolType && protocolNames.some((n) => (this.supportedProtocols.get(n) ?? 0) === this.members.size);
  }

  /** Every member votes for its preferred protocol among those all members support; the most votes wins. */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = new Set<string>();
    for (const [name, count] of this.supportedProtocols) if (count === this.members.size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const [name, count] of votes) {
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best!;
  }

  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', nowMs);
    }
    this.pendingSyncMembers.clear();
  }

  /** The union of the members' consumer subscriptions; null when unknown (not a "consumer" group, or unparseable). */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const p = m.protocols.find((x) => x.name === this.protocolName);
      const subscribed = p ? subscribedTopicsOf(p.metadata) : null;
      if (subscribed === null) return null;
      for (const t of subscribed) topics.add(t);
    }
    return topics;
  }

  /**
   * Whether the members consume the topic. When unknown, a "consumer" group is assumed subscribed and any other
   * group not (Kafka's ClassicGroup.isSubscribedToTopic).
   */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null ? this.usesConsumerProtocol() : this.subscribedTopics.has(topic);
  }

  /** The members as the leader's JoinGroup response lists them. */
  currentMemberMetadata(): JoinGroupResponseMember[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(this.protocolName),
    }));
  }

  completeJoin(member: ClassicGroupMember, res: JoinGroupResult): boolean {
    const cb = member.awaitingJoin;
    if (!cb) return false;
    member.awaitingJoin = null;
    this.numMembersAwaitingJoin--;
    cb(res);
    return true;
  }

  completeSync(member: ClassicGroupMember, res: SyncGroupResult): boolean {
    const cb = member.awaitingSync;
    if (!cb) return false;
    member.awaitingSync = null;
    cb(res);
    return true;
  }

  private incrementSupportedProtocols(member: ClassicGroupMember): void {
    for (const p of member.protocols) this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + 1);
  }

  private decrementSupportedProtocols(member: ClassicGroupMember): void {
    for (const p of member.protocols) this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) - 1);
  }
}
