// The group coordinator for the classic protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) and committed offsets,
// with Kafka 4.1's semantics (GroupMetadataManager, OffsetMetadataManager and ClassicGroup of Kafka's
// group-coordinator module): the same states, timeouts, error codes and `__consumer_offsets` records.
//
// One node coordinates every group; a group's records go to partition `partitionFor(groupId)` of
// `__consumer_offsets`, each operation's records as one batch. Membership lives in memory and is persisted as
// GroupMetadata records at the points Kafka persists it (a new group, a stored assignment, a join phase that
// ended empty, a static member replaced while Stable, deletion). Offsets are answered only once durable.
//
// Lifecycle: construct, `await load()` (replays every partition; requests meanwhile get
// COORDINATOR_LOAD_IN_PROGRESS), serve, `close()` (timers stop, parked requests get NOT_COORDINATOR).
// Before load() and after close() requests get COORDINATOR_NOT_AVAILABLE.
//
// Timers (all unref'd, keyed per group/member so a reschedule replaces the previous one):
//   heartbeat  per member: session timeout; for a member in its first join phase, the new-member join timeout
//   join       per group: initial rebalance delay (new groups), then the rebalance timeout of the join phase
//   sync       per group: the rebalance timeout for members to send SyncGroup after the join phase
//   expiry     one interval: offsets.retention.check.interval.ms
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode, KafkaError, errorCodeOf, errorName } from '../protocol/errors.js';
import { EMPTY } from '../protocol/primitives.js';
import { recordBatches } from '../protocol/record-batch.js';
import type { PartitionLog } from '../storage/types.js';
import { ClassicGroup, ClassicGroupMember } from './classic-group.js';
import { OffsetStore } from './offsets.js';
import {
  buildCoordinatorBatch,
  coordinatorRecordsOf,
  decodeCoordinatorRecord,
  groupMetadataRecord,
  groupMetadataTombstone,
  offsetCommitRecord,
  offsetCommitTombstone,
  partitionFor,
  type CoordinatorRecord,
  type GroupMetadataValueData,
  type OffsetAndMetadata,
} from './records.js';
import { KeyedTimer } from './timer.js';
import type {
  DescribedGroup,
  FetchedPartitionOffset,
  GroupCoordinatorConfig,
  GroupCoordinatorOptions,
  GroupCoordinatorStorage,
  GroupStateName,
  HeartbeatParams,
  JoinGroupParams,
  JoinGroupResult,
  LeaveGroupResult,
  LeavingMember,
  ListedGroup,
  OffsetCommitParams,
  OffsetCommitTopicResult,
  OffsetDeleteParams,
  OffsetDeleteResult,
  OffsetFetchParams,
  OffsetFetchResult,
  SyncGroupParams,
  SyncGroupResult,
} from './types.js';

export type * from './types.js';
export { partitionFor } from './records.js';

type ResolvedConfig = Required<GroupCoordinatorConfig>;
/** inactive: constructed, load() not called; loading: replaying __consumer_offsets; active: serving; closed */
export type CoordinatorStatus = 'inactive' | 'loading' | 'active' | 'closed';

const DEFAULTS = {
  offsetsRetentionCheckIntervalMs: 600_000,
  groupMaxSize: 2147483647,
  offsetMetadataMaxSize: 4096,
  groupNewMemberJoinTimeoutMs: 300_000,
};

/** how much of a partition a load reads at a time */
const LOAD_READ_BYTES = 1 << 20;

const heartbeatKey = (groupId: string, memberId: string): string => `heartbeat\u0000${groupId}\u0000${memberId}`;
const joinKey = (groupId: string): string => `join\u0000${groupId}`;
const syncKey = (groupId: string): string => `sync\u0000${groupId}`;

function joinError(memberId: string, errorCode: number): JoinGroupResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}

function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** Kafka's appendGroupMetadataErrorToResponseError: what a client should see when a coordinator write fails. */
function appendErrorToResponseError(err: unknown): number {
  const code = errorCodeOf(err);
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

export class GroupCoordinator {
  private readonly storage: GroupCoordinatorStorage;
  private readonly config: ResolvedConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly offsets = new OffsetStore();
  private readonly timer: KeyedTimer;
  private expiryTimer: NodeJS.Timeout | null = null;
  private status: CoordinatorStatus = 'inactive';
  private writeSeq = 0;

  constructor(opts: GroupCoordinatorOptions) {
    this.storage = opts.storage;
    const c = opts.config;
    this.config = {
      ...c,
      offsetsRetentionCheckIntervalMs: c.offsetsRetentionCheckIntervalMs ?? DEFAULTS.offsetsRetentionCheckIntervalMs,
      groupMaxSize: c.groupMaxSize ?? DEFAULTS.groupMaxSize,
      offsetMetadataMaxSize: c.offsetMetadataMaxSize ?? DEFAULTS.offsetMetadataMaxSize,
      groupNewMemberJoinTimeoutMs: c.groupNewMemberJoinTimeoutMs ?? DEFAULTS.groupNewMemberJoinTimeoutMs,
    };
    this.logger = opts.logger.child({ component: 'groups' });
    this.now = opts.now ?? Date.now;
    this.timer = new KeyedTimer((err, key) => this.logger.error({ err, timer: key.replaceAll('\u0000', ' ') }, 'group coordinator timer failed'));
    if (!(this.storage.numPartitions >= 1)) throw new Error(`__consumer_offsets needs at least one partition, got ${this.storage.numPartitions}`);
  }

  /** The `__consumer_offsets` partition holding a group's records. */
  partitionFor(groupId: string): number {
    return partitionFor(groupId, this.storage.numPartitions);
  }

  /** true once load() has finished and until close() */
  get isActive(): boolean {
    return this.status === 'active';
  }

  get state(): CoordinatorStatus {
    return this.status;
  }

  // ---- lifecycle ---------------------------------------------------------------------------------------------

  /**
   * Replays every partition of `__consumer_offsets` (latest value per key; tombstones delete) to rebuild groups and
   * offsets, then starts serving. Groups come back as Kafka loads them: with members and generation (Stable) if the
   * last GroupMetadata record had members, else Empty. Loaded members keep their member ids and must heartbeat
   * within their session timeout, or they are removed and the group rebalances.
   */
  async load(): Promise<void> {
    if (this.status !== 'inactive') throw new Error(`group coordinator cannot load in state ${this.status}`);
    this.status = 'loading';
    const started = this.now();
    let records = 0;
    let unknownTypes = 0;
    try {
      for (let p = 0; p < this.storage.numPartitions; p++) {
        const counts = this.replayPartition(this.storage.offsetsLog(p));
        records += counts.records;
        unknownTypes += counts.unknownTypes;
        // let the event loop serve other requests (answered COORDINATOR_LOAD_IN_PROGRESS) between partitions
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.status !== 'loading') return; // closed meanwhile
      }
    } catch (err) {
      this.status = 'inactive';
      throw err;
    }
    // Offsets whose group record was deleted still form a simple group, as Kafka's replay of OffsetCommit does.
    for (const groupId of this.offsets.groups()) {
      if (!this.groups.has(groupId)) this.groups.set(groupId, new ClassicGroup({ groupId, state: 'Empty', nowMs: this.now() }));
    }
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) this.scheduleHeartbeat(group, member);
      if (group.size > this.config.groupMaxSize) {
        this.prepareRebalance(group, `freshly-loaded group is over capacity (${group.size} > ${this.config.groupMaxSize})`);
      }
    }
    if (unknownTypes > 0) this.logger.warn({ records: unknownTypes }, 'skipped __consumer_offsets records of types Umbra does not use (KIP-848/share groups)');
    this.status = 'active';
    this.expiryTimer = setInterval(() => this.runSafely('offset expiry', () => this.expireOffsets()), this.config.offsetsRetentionCheckIntervalMs);
    this.expiryTimer.unref();
    this.logger.info({ groups: this.groups.size, records, ms: this.now() - started }, 'loaded __consumer_offsets');
  }

  /** Stops every timer; parked JoinGroup/SyncGroup requests are answered NOT_COORDINATOR (Kafka's onUnloaded). */
  close(): void {
    if (this.status === 'closed') return;
    this.status = 'closed';
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
    this.timer.cancelAll();
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) {
        group.completeJoin(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        group.completeSync(member, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  private availabilityError(): number {
    switch (this.status) {
      case 'active':
        return ErrorCode.NONE;
      case 'loading':
        return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      default:
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  // ---- JoinGroup ---------------------------------------------------------------------------------------------

  /** Resolves when the member's join phase completes (or at once with an error or MEMBER_ID_REQUIRED). */
  joinGroup(req: JoinGroupParams): Promise<JoinGroupResult> {
    const unavailable = this.availabilityError();
    if (unavailable !== ErrorCode.NONE) return Promise.resolve(joinError(req.memberId, unavailable));
    if (req.groupId === '') return Promise.resolve(joinError(req.memberId, ErrorCode.INVALID_GROUP_ID));
    if (req.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || req.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
      return Promise.resolve(joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = req.memberId === '';
    let group = this.groups.get(req.groupId);
    const isNewGroup = group === undefined;
    if (!group) {
      // A group is created only by a member without an id; a member id for an unknown group is stale.
      if (!isUnknownMember) return Promise.resolve(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ClassicGroup({ groupId: req.groupId, state: 'Empty', nowMs: this.now() });
      this.groups.set(req.groupId, group);
    }
    const g = group;
    return new Promise<JoinGroupResult>((resolve) => {
      if (!this.acceptJoiningMember(g, req.memberId)) {
        g.remove(req.memberId);
        this.timer.cancel(heartbeatKey(g.groupId, req.memberId));
        resolve(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
      } else if (isUnknownMember) {
        this.joinNewMember(g, req, resolve);
      } else {
        this.joinExistingMember(g, req, resolve);
      }
      // Kafka commits a new group with an empty GroupMetadata record, so it exists (and is listed) after a restart.
      if (isNewGroup) this.writeInBackground(g.groupId, [groupMetadataRecord(g.groupId, emptyGroupValue(g))], 'new group');
    });
  }

  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        // The number awaiting join, not the size: the size may exceed a lowered maximum, and this kicks out the
        // last members to rejoin.
        return (group.member(memberId)?.isAwaitingJoin ?? false) || group.numMembersAwaitingJoin < this.config.groupMaxSize;
      case 'CompletingRebalance':
      case 'Stable':
        return group.has(memberId) || group.size < this.config.groupMaxSize;
    }
  }

  private joinNewMember(group: ClassicGroup, req: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    if (group.is('Dead')) {
      // the group was just deleted or unloaded: let the member find the coordinator again
      resolve(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    } else if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      resolve(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    } else {
      // Kafka: "<group.instance.id or client.id>-<uuid>"
      const newMemberId = `${req.groupInstanceId ?? req.clientId}-${randomUUID()}`;
      if (req.groupInstanceId !== null) {
        const existingMemberId = group.staticMembers.get(req.groupInstanceId);
        if (existingMemberId !== undefined) {
          this.logger.info({ group: group.groupId, instance: req.groupInstanceId, oldMember: existingMemberId, state: group.state }, 'static member rejoins with an unknown member id; replacing its previous member id');
          this.updateStaticMemberThenRebalanceOrCompleteJoin(group, req, existingMemberId, newMemberId, resolve);
        } else {
          this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, resolve);
        }
      } else if (req.requireKnownMemberId) {
        // KIP-394: hand out the id and wait for the member to join with it, which proves it got the answer.
        group.pendingJoinMembers.add(newMemberId);
        this.timer.schedule(heartbeatKey(group.groupId, newMemberId), req.sessionTimeoutMs, () => this.expireHeartbeat(group, newMemberId));
        resolve(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
      } else {
        this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, resolve);
      }
    }
  }

  private joinExistingMember(group: ClassicGroup, req: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    const memberId = req.memberId;
    if (group.is('Dead')) {
      resolve(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return;
    }
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      resolve(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      return;
    }
    if (group.isPendingMember(memberId)) {
      // Pending members are dynamic by construction; Kafka treats an instance id here as an internal error.
      if (req.groupInstanceId !== null) {
        resolve(joinError(memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
        return;
      }
      this.addMemberThenRebalanceOrCompleteJoin(group, req, memberId, resolve);
      return;
    }
    try {
      group.validateMember(memberId, req.groupInstanceId);
    } catch (err) {
      resolve(joinError(memberId, errorCodeOf(err)));
      return;
    }
    const member = group.member(memberId)!;
    const reason = req.reason ?? 'not provided';
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, `member ${memberId} joins during PreparingRebalance; client reason: ${reason}`, resolve);
        return;
      case 'CompletingRebalance':
        if (member.matches(req.protocols)) {
          // Same metadata (it probably missed the JoinGroup response): answer with the current generation.
          resolve(this.currentGenerationJoinResult(group, memberId, group.isLeader(memberId)));
        } else {
          this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, `member ${memberId} changed its metadata during CompletingRebalance; client reason: ${reason}`, resolve);
        }
        return;
      case 'Stable':
        if (group.isLeader(memberId)) {
          // The leader rejoining forces a rebalance: it may have seen a change that affects the assignment but not
          // its metadata (new partitions of a subscribed topic).
          this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, `leader ${memberId} rejoins during Stable; client reason: ${reason}`, resolve);
        } else if (!member.matches(req.protocols)) {
          this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, `member ${memberId} changed its metadata during Stable; client reason: ${reason}`, resolve);
        } else {
          // A follower with unchanged metadata just gets the current generation, then syncs.
          resolve(this.currentGenerationJoinResult(group, memberId, false));
        }
        return;
      default:
        // Empty with a member is not a state Kafka expects: make the member start over.
        this.logger.warn({ group: group.groupId, member: memberId, state: group.state }, 'rejoining member in unexpected group state');
        resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private currentGenerationJoinResult(group: ClassicGroup, memberId: string, withMembers: boolean): JoinGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberThenRebalanceOrCompleteJoin(group: ClassicGroup, req: JoinGroupParams, memberId: string, resolve: (r: JoinGroupResult) => void): void {
    const member = new ClassicGroupMember({
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
    });
    member.isNew = true;
    // A member joining during the initial delay extends it (up to the rebalance timeout).
    if (group.is('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true;
    group.add(member, resolve);
    // The session timeout cannot apply yet: the member has no id to heartbeat with while its JoinGroup is parked.
    // A JoinGroup of a member that went away would otherwise hold the rebalance forever, so new members get the
    // new-member join timeout; a live member simply joins again.
    this.scheduleHeartbeat(group, member, this.config.groupNewMemberJoinTimeoutMs);
    this.maybePrepareRebalanceOrCompleteJoin(group, `adding new member ${memberId} with group instance id ${req.groupInstanceId}; client reason: ${req.reason ?? 'not provided'}`);
  }

  private updateMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    member: ClassicGroupMember,
    req: JoinGroupParams,
    reason: string,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    this.parkJoin(group, member, req, resolve);
    this.maybePrepareRebalanceOrCompleteJoin(group, reason);
  }

  /** Updates the member from its JoinGroup and parks the request; a JoinGroup it replaces is told to rejoin. */
  private parkJoin(group: ClassicGroup, member: ClassicGroupMember, req: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    // Kafka drops a replaced future silently; answering it keeps that request from hanging on its connection.
    group.completeJoin(member, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, resolve);
  }

  private updateStaticMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    req: JoinGroupParams,
    oldMemberId: string,
    newMemberId: string,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    const instanceId = req.groupInstanceId!;
    const currentLeader = group.leaderId;
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    // The old id's heartbeat would expire without effect; the new id gets its own.
    this.timer.cancel(heartbeatKey(group.groupId, oldMemberId));
    this.scheduleHeartbeat(group, member);
    const old = { protocols: member.protocols, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs };
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, resolve);
    const reason = `static member ${newMemberId} with instance id ${instanceId} rejoined; client reason: ${req.reason ?? 'not provided'}`;

    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalanceOrCompleteJoin(group, `${reason}; the selected protocol changes`);
          return;
        }
        // The selected protocol stays: no rebalance. Persist the new member id and answer from the current
        // generation. The leader (JoinGroup < v9) is told the *old* leader id, so it does not mistake itself for
        // the leader and compute an assignment that a Stable group would never distribute.
        const assignment = new Map([...group.members.values()].map((m) => [m.memberId, m.assignment]));
        this.persist(group.groupId, [groupMetadataRecord(group.groupId, groupValue(group, assignment))]).then(
          () => {
            if (req.supportSkippingAssignment) {
              const isLeader = group.isLeader(newMemberId);
              group.completeJoin(member, {
                ...this.currentGenerationJoinResult(group, newMemberId, isLeader),
                skipAssignment: isLeader,
              });
            } else {
              group.completeJoin(member, { ...this.currentGenerationJoinResult(group, newMemberId, false), leader: currentLeader ?? '' });
            }
          },
          (err: unknown) => {
            const errorCode = appendErrorToResponseError(err);
            this.logger.warn({ group: group.groupId, member: newMemberId, instance: instanceId, err }, 'failed to persist replaced static member; reverting to the old member id');
            if (member.awaitingJoin !== resolve) return; // a rebalance took the request over meanwhile
            group.updateMember(member, old.protocols, old.rebalanceTimeoutMs, old.sessionTimeoutMs, null);
            const reverted = group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
            this.timer.cancel(heartbeatKey(group.groupId, newMemberId));
            this.scheduleHeartbeat(group, reverted);
            resolve({ ...joinError('', errorCode), generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName, leader: currentLeader ?? '' });
          },
        ).catch((err: unknown) => this.logger.error({ err, group: group.groupId }, 'completing a static member replacement failed'));
        return;
      }
      case 'CompletingRebalance':
        // The leader may already be assigning with the old member id; only a new rebalance makes the assignment
        // reach the new id.
        this.prepareRebalance(group, reason);
        return;
      case 'PreparingRebalance':
        this.maybeCompleteJoinPhase(group);
        return;
      default:
        this.logger.error({ group: group.groupId, state: group.state, instance: instanceId }, 'known static member rejoined a group in an impossible state');
        group.completeJoin(member, joinError(newMemberId, ErrorCode.UNKNOWN_SERVER_ERROR));
    }
  }

  // ---- the join phase ----------------------------------------------------------------------------------------

  private maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
    else this.maybeCompleteJoinPhase(group);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    // Members waiting for an assignment of the generation that is being abandoned must rejoin.
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentWithError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const isInitialRebalance = group.is('Empty');
    if (isInitialRebalance) {
      // A new group waits group.initial.rebalance.delay.ms for more members, extended while members keep
      // arriving, up to the rebalance timeout.
      const delayMs = this.config.groupInitialRebalanceDelayMs;
      const remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
      this.timer.schedule(joinKey(group.groupId), delayMs, () => this.tryCompleteInitialRebalanceElseSchedule(group, delayMs, remainingMs));
    }
    group.transitionTo('PreparingRebalance', this.now());
    this.logger.info({ group: group.groupId, generation: group.generationId, reason }, 'preparing to rebalance group');
    if (!isInitialRebalance) this.maybeCompleteJoinElseSchedule(group);
  }

  /** Completes the join phase when every member has rejoined, except during the initial delay. */
  private maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined() && group.previousState !== 'Empty') this.completeJoin(group);
  }

  private maybeCompleteJoinElseSchedule(group: ClassicGroup): void {
    if (group.hasAllMembersJoined()) this.completeJoin(group);
    else this.timer.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs(), () => this.completeJoin(group));
  }

  private tryCompleteInitialRebalanceElseSchedule(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const newDelayMs = Math.min(this.config.groupInitialRebalanceDelayMs, remainingMs);
      const newRemainingMs = Math.max(remainingMs - delayMs, 0);
      this.timer.schedule(joinKey(group.groupId), newDelayMs, () => this.tryCompleteInitialRebalanceElseSchedule(group, newDelayMs, newRemainingMs));
    } else {
      this.completeJoin(group);
    }
  }

  /**
   * Ends the join phase: dynamic members that did not rejoin are removed, a leader is chosen among those who did,
   * the generation is bumped and every parked JoinGroup is answered (the leader with the member list).
   */
  private completeJoin(group: ClassicGroup): void {
    this.timer.cancel(joinKey(group.groupId));
    const notRejoined = [...group.members.values()].filter((m) => !m.isAwaitingJoin && !m.isStatic);
    for (const m of notRejoined) {
      group.remove(m.memberId);
      this.timer.cancel(heartbeatKey(group.groupId, m.memberId));
    }
    if (notRejoined.length > 0) {
      this.logger.info({ group: group.groupId, members: notRejoined.map((m) => m.memberId) }, 'removed dynamic members that did not rejoin');
    }
    if (group.is('Dead')) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Nobody rejoined: wait another rebalance timeout, until session timeouts remove the silent members.
      this.logger.error({ group: group.groupId }, 'could not complete rebalance because no member rejoined');
      this.timer.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs(), () => this.completeJoin(group));
      return;
    }
    group.initNextGeneration(this.now());
    if (group.is('Empty')) {
      this.logger.info({ group: group.groupId, generation: group.generationId }, 'group is now empty');
      this.writeInBackground(group.groupId, [groupMetadataRecord(group.groupId, groupValue(group, new Map()))], 'empty group');
      return;
    }
    this.logger.info({ group: group.groupId, generation: group.generationId, members: group.size, protocol: group.protocolName }, 'stabilized group');
    for (const member of group.members.values()) {
      group.completeJoin(member, this.currentGenerationJoinResult(group, member.memberId, group.isLeader(member.memberId)));
      this.scheduleHeartbeat(group, member);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  /** Members that got their JoinGroup response must send SyncGroup within the rebalance timeout. */
  private schedulePendingSync(group: ClassicGroup): void {
    const generationId = group.generationId;
    this.timer.schedule(syncKey(group.groupId), group.rebalanceTimeoutMs(), () => this.expirePendingSync(group, generationId));
  }

  private expirePendingSync(group: ClassicGroup, generationId: number): void {
    if (generationId !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.pendingSyncMembers.size === 0) return;
    const late = [...group.pendingSyncMembers];
    for (const memberId of late) {
      group.remove(memberId);
      this.timer.cancel(heartbeatKey(group.groupId, memberId));
    }
    this.prepareRebalance(group, `removing ${late.join(', ')} on pending sync request expiration`);
  }

  private removeSyncExpiration(group: ClassicGroup): void {
    group.pendingSyncMembers.clear();
    this.timer.cancel(syncKey(group.groupId));
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (!group.is('CompletingRebalance') && !group.is('Stable')) this.timer.cancel(syncKey(group.groupId));
    else if (group.pendingSyncMembers.size === 0) this.timer.cancel(syncKey(group.groupId));
  }

  // ---- heartbeats and member removal -------------------------------------------------------------------------

  private scheduleHeartbeat(group: ClassicGroup, member: ClassicGroupMember, timeoutMs: number = member.sessionTimeoutMs): void {
    const memberId = member.memberId;
    this.timer.schedule(heartbeatKey(group.groupId, memberId), timeoutMs, () => this.expireHeartbeat(group, memberId));
  }

  private expireHeartbeat(group: ClassicGroup, memberId: string): void {
    if (group.is('Dead')) return;
    if (group.isPendingMember(memberId)) {
      this.logger.info({ group: group.groupId, member: memberId }, 'pending member removed after session timeout');
      group.remove(memberId);
      if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) this.completeJoin(group);
      return;
    }
    const member = group.member(memberId);
    if (!member || member.hasSatisfiedHeartbeat()) return;
    this.logger.info({ group: group.groupId, member: memberId }, 'member failed to heartbeat; removing it from the group');
    this.removeMemberAndUpdateGroup(group, member, `removing member ${memberId} on heartbeat expiration`);
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: ClassicGroupMember, reason: string): void {
    // A new member may expire while its JoinGroup is parked: answer it, so a live client simply joins again.
    group.completeJoin(member, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
    if (group.is('Stable') || group.is('CompletingRebalance')) this.maybePrepareRebalanceOrCompleteJoin(group, reason);
    else if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  /** LeaveGroup: the member goes now (not at its session timeout); parked requests of it are answered. */
  private removeCurrentMember(group: ClassicGroup, memberId: string, reason: string): void {
    const member = group.member(memberId);
    if (!member) return;
    this.timer.cancel(heartbeatKey(group.groupId, memberId));
    this.logger.info({ group: group.groupId, member: memberId, reason }, 'member left the group');
    group.completeJoin(member, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    group.completeSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(memberId);
  }

  // ---- SyncGroup ---------------------------------------------------------------------------------------------

  /** Followers wait for the leader's assignment; the leader's is stored before anyone gets it. */
  syncGroup(req: SyncGroupParams): Promise<SyncGroupResult> {
    const unavailable = this.availabilityError();
    if (unavailable !== ErrorCode.NONE) {
      // a loading coordinator knows nothing of the generation: make the member rejoin
      return Promise.resolve(syncError(unavailable === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ? ErrorCode.REBALANCE_IN_PROGRESS : unavailable));
    }
    if (req.groupId === '') return Promise.resolve(syncError(ErrorCode.INVALID_GROUP_ID));
    const group = this.groups.get(req.groupId);
    if (!group) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    const invalid = this.validateSyncGroup(group, req);
    if (invalid !== ErrorCode.NONE) return Promise.resolve(syncError(invalid));

    switch (group.state) {
      case 'Empty':
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable': {
        this.removePendingSyncMember(group, req.memberId);
        const member = group.member(req.memberId)!;
        return Promise.resolve({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
      }
      case 'CompletingRebalance':
        return new Promise<SyncGroupResult>((resolve) => {
          const member = group.member(req.memberId)!;
          group.completeSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS)); // a repeated SyncGroup replaces the parked one
          member.awaitingSync = resolve;
          this.removePendingSyncMember(group, req.memberId);
          if (group.isLeader(req.memberId)) this.storeLeaderAssignment(group, req);
        });
      default:
        return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private validateSyncGroup(group: ClassicGroup, req: SyncGroupParams): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    try {
      group.validateMember(req.memberId, req.groupInstanceId);
    } catch (err) {
      return errorCodeOf(err);
    }
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    // SyncGroup v5 (KIP-559): the member names the protocol type and name it joined with
    if (req.protocolType !== null && group.protocolType !== null && req.protocolType !== group.protocolType) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (req.protocolName !== null && group.protocolName !== null && req.protocolName !== group.protocolName) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    return ErrorCode.NONE;
  }

  private storeLeaderAssignment(group: ClassicGroup, req: SyncGroupParams): void {
    this.logger.info({ group: group.groupId, leader: req.memberId, generation: group.generationId, members: group.size }, 'assignment received from leader');
    const assignment = new Map<string, Buffer>();
    for (const a of req.assignments) assignment.set(a.memberId, a.assignment);
    const missing: string[] = [];
    for (const id of group.members.keys()) {
      if (!assignment.has(id)) {
        assignment.set(id, EMPTY);
        missing.push(id);
      }
    }
    if (missing.length > 0) this.logger.warn({ group: group.groupId, members: missing }, 'leader sent no assignment for some members; they get an empty one');
    const generationId = req.generationId;
    // Another member may join while the record is being written: apply only to the same CompletingRebalance generation.
    const stillCurrent = (): boolean => group.is('CompletingRebalance') && group.generationId === generationId;
    this.persist(group.groupId, [groupMetadataRecord(group.groupId, groupValue(group, assignment))]).then(
      () => {
        if (!stillCurrent()) return;
        this.setAndPropagateAssignment(group, assignment);
        group.transitionTo('Stable', this.now());
      },
      (err: unknown) => {
        if (!stillCurrent()) return;
        const errorCode = appendErrorToResponseError(err);
        this.logger.warn({ group: group.groupId, err }, 'failed to store the group assignment');
        this.resetAndPropagateAssignmentWithError(group, errorCode);
        this.maybePrepareRebalanceOrCompleteJoin(group, `error ${errorName(errorCode)} when storing the group assignment`);
      },
    ).catch((err: unknown) => this.logger.error({ err, group: group.groupId }, 'completing the sync phase failed'));
  }

  private setAndPropagateAssignment(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): void {
    for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY;
    this.propagateAssignment(group, ErrorCode.NONE);
  }

  private resetAndPropagateAssignmentWithError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const member of group.members.values()) {
      const answered = group.completeSync(member, {
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: member.assignment,
      });
      // A session that expired while the member waited for the assignment was ignored: expect heartbeats again.
      if (answered) this.scheduleHeartbeat(group, member);
    }
  }

  // ---- Heartbeat, LeaveGroup ---------------------------------------------------------------------------------

  /** Returns the error code of the Heartbeat response. */
  heartbeat(req: HeartbeatParams): number {
    const unavailable = this.availabilityError();
    // a loading coordinator answers NONE: the member keeps its session until the group is back
    if (unavailable === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ErrorCode.NONE;
    if (unavailable !== ErrorCode.NONE) return unavailable;
    if (req.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(req.groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    try {
      group.validateMember(req.memberId, req.groupInstanceId);
    } catch (err) {
      return errorCodeOf(err);
    }
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.member(req.memberId)!;
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        this.scheduleHeartbeat(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        // CompletingRebalance too: members may heartbeat between their JoinGroup response and SyncGroup
        this.scheduleHeartbeat(group, member);
        return ErrorCode.NONE;
    }
  }

  /**
   * LeaveGroup for one or more members (v3+ batches; v0-2 send one). A member id of '' with a group instance id
   * removes that static member administratively.
   */
  leaveGroup(groupId: string, members: readonly LeavingMember[]): LeaveGroupResult {
    const unavailable = this.availabilityError();
    if (unavailable !== ErrorCode.NONE) return { errorCode: unavailable, members: [] };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: [] };
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };

    const results: LeaveGroupResult['members'] = [];
    let anyLeft = false;
    for (const m of members) {
      const reason = `LeaveGroup; client reason: ${m.reason ?? 'not provided'}`;
      let errorCode: number = ErrorCode.NONE;
      if (m.memberId === '') {
        const staticMemberId = m.groupInstanceId !== null ? group.staticMembers.get(m.groupInstanceId) : undefined;
        if (staticMemberId !== undefined) this.removeCurrentMember(group, staticMemberId, reason);
        else errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
      } else if (group.isPendingMember(m.memberId)) {
        group.remove(m.memberId);
        this.timer.cancel(heartbeatKey(groupId, m.memberId));
      } else {
        try {
          group.validateMember(m.memberId, m.groupInstanceId);
          this.removeCurrentMember(group, m.memberId, reason);
        } catch (err) {
          errorCode = errorCodeOf(err);
        }
      }
      if (errorCode === ErrorCode.NONE) anyLeft = true;
      results.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
    }
    if (anyLeft) {
      if (group.is('Stable') || group.is('CompletingRebalance')) this.maybePrepareRebalanceOrCompleteJoin(group, 'explicit LeaveGroup');
      else if (group.is('PreparingRebalance')) this.maybeCompleteJoinPhase(group);
    }
    return { errorCode: ErrorCode.NONE, members: results };
  }

  // ---- DescribeGroups, ListGroups, DeleteGroups --------------------------------------------------------------

  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    const unavailable = this.availabilityError();
    return groupIds.map((groupId): DescribedGroup => {
      const base = { errorMessage: null, groupId, protocolType: '', protocolData: '', members: [] };
      if (unavailable !== ErrorCode.NONE) return { ...base, errorCode: unavailable, groupState: '' };
      const group = this.groups.get(groupId);
      if (!group || group.is('Dead')) return { ...base, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.`, groupState: 'Dead' };
      // Metadata and assignments are shown only when Stable, as in Kafka.
      const stable = group.is('Stable');
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupId,
        groupState: group.state,
        protocolType: group.protocolType ?? '',
        protocolData: stable ? (group.protocolName ?? '') : '',
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: stable ? m.metadata(group.protocolName) : EMPTY,
          memberAssignment: stable ? m.assignment : EMPTY,
        })),
      };
    });
  }

  /** ListGroups; filters match case-insensitively (v4 states, v5 types: every group here is "classic"). */
  listGroups(filter: { statesFilter?: readonly string[]; typesFilter?: readonly string[] } = {}): { errorCode: number; groups: ListedGroup[] } {
    const unavailable = this.availabilityError();
    if (unavailable !== ErrorCode.NONE) return { errorCode: unavailable, groups: [] };
    const states = new Set((filter.statesFilter ?? []).map((s) => s.toLowerCase()));
    const types = new Set((filter.typesFilter ?? []).map((s) => s.toLowerCase()));
    const groups: ListedGroup[] = [];
    for (const group of this.groups.values()) {
      if (group.is('Dead')) continue;
      if (states.size > 0 && !states.has(group.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has('classic')) continue;
      groups.push({ groupId: group.groupId, protocolType: group.protocolType ?? '', groupState: group.state, groupType: 'classic' });
    }
    return { errorCode: ErrorCode.NONE, groups };
  }

  /** DeleteGroups: only Empty groups; their offsets go with them (tombstones for every offset, then the group). */
  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return Promise.all(groupIds.map(async (groupId) => ({ groupId, errorCode: await this.deleteGroup(groupId) })));
  }

  private async deleteGroup(groupId: string): Promise<number> {
    const unavailable = this.availabilityError();
    if (unavailable !== ErrorCode.NONE) return unavailable;
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    const records = this.offsetTombstonesOfGroup(groupId);
    records.push(groupMetadataTombstone(groupId));
    let flushed: Promise<void>;
    try {
      flushed = this.write(groupId, records);
    } catch (err) {
      return appendErrorToResponseError(err);
    }
    this.removeGroup(group);
    this.logger.info({ group: groupId }, 'deleted group');
    try {
      await flushed;
      return ErrorCode.NONE;
    } catch (err) {
      return appendErrorToResponseError(err);
    }
  }

  private offsetTombstonesOfGroup(groupId: string): CoordinatorRecord[] {
    const seen = new Set<string>();
    const records: CoordinatorRecord[] = [];
    const add = (topic: string, partition: number): void => {
      const k = `${topic}\u0000${partition}`;
      if (seen.has(k)) return;
      seen.add(k);
      records.push(offsetCommitTombstone(groupId, topic, partition));
    };
    for (const [topic, partition] of this.offsets.entries(groupId)) add(topic, partition);
    // commits still in flight precede these tombstones in the log, so they are deleted too
    for (const [topic, partition] of this.offsets.pendingPartitions(groupId)) add(topic, partition);
    return records;
  }

  /** The group is gone: Dead, out of the map, its offsets and timers dropped. */
  private removeGroup(group: ClassicGroup): void {
    group.transitionTo('Dead', this.now());
    this.groups.delete(group.groupId);
    this.offsets.deleteGroup(group.groupId);
    this.timer.cancel(joinKey(group.groupId));
    this.timer.cancel(syncKey(group.groupId));
    for (const id of [...group.members.keys(), ...group.pendingJoinMembers]) this.timer.cancel(heartbeatKey(group.groupId, id));
  }

  // ---- offsets -----------------------------------------------------------------------------------------------

  /**
   * OffsetCommit v2-9. Members commit with their generation; generation -1 with an empty member id is a simple
   * (standalone or admin) commit, accepted only while the group is Empty, and creates the group if needed.
   * Resolves once the records are durable.
   */
  async commitOffsets(req: OffsetCommitParams, apiVersion: number): Promise<OffsetCommitTopicResult[]> {
    const failAll = (errorCode: number): OffsetCommitTopicResult[] =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) }));
    const unavailable = this.availabilityError();
    if (unavailable !== ErrorCode.NONE) return failAll(unavailable);
    if (req.groupId === '') return failAll(ErrorCode.INVALID_GROUP_ID);

    let group = this.groups.get(req.groupId);
    if (!group) {
      if (req.generationIdOrMemberEpoch >= 0) {
        // v9+ says so; older versions got ILLEGAL_GENERATION, which their clients handle
        return failAll(apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      }
      this.logger.info({ group: req.groupId }, 'creating a simple consumer group via manual offset commit');
      group = new ClassicGroup({ groupId: req.groupId, state: 'Empty', nowMs: this.now() });
      this.groups.set(req.groupId, group);
    }
    try {
      validateOffsetCommit(group, req.memberId, req.groupInstanceId, req.generationIdOrMemberEpoch);
    } catch (err) {
      return failAll(errorCodeOf(err));
    }
    // A commit by a member keeps its session alive while the group is Stable or rebalancing.
    const committer = group.member(req.memberId);
    if (committer && (group.is('Stable') || group.is('PreparingRebalance'))) this.scheduleHeartbeat(group, committer);

    const nowMs = this.now();
    const records: CoordinatorRecord[] = [];
    const writes: [string, number, OffsetAndMetadata][] = [];
    const results = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const metadata = p.committedMetadata ?? '';
        if (metadata.length > this.config.offsetMetadataMaxSize) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE };
        const om: OffsetAndMetadata = {
          committedOffset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata,
          commitTimestampMs: nowMs,
          expireTimestampMs: req.retentionTimeMs === -1 ? -1 : nowMs + req.retentionTimeMs,
        };
        records.push(offsetCommitRecord(req.groupId, t.name, p.partitionIndex, om));
        writes.push([t.name, p.partitionIndex, om]);
        return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number };
      }),
    }));
    if (records.length === 0) return results;

    const seq = ++this.writeSeq;
    let flushed: Promise<void>;
    try {
      flushed = this.write(req.groupId, records);
    } catch (err) {
      return failAll(appendErrorToResponseError(err));
    }
    for (const [topic, partition] of writes) this.offsets.markPending(req.groupId, topic, partition, seq);
    try {
      await flushed;
    } catch (err) {
      for (const [topic, partition] of writes) this.offsets.completePending(req.groupId, topic, partition, seq, null);
      this.logger.warn({ group: req.groupId, err }, 'offset commit was not persisted');
      return failAll(appendErrorToResponseError(err));
    }
    for (const [topic, partition, om] of writes) this.offsets.completePending(req.groupId, topic, partition, seq, om);
    return results;
  }

  /**
   * OffsetFetch for one group (v8+ requests several: call once per group). `topics` null = every committed offset.
   * Partitions without an offset get -1. With requireStable, a partition whose commit is not durable yet gets
   * UNSTABLE_OFFSET_COMMIT (retriable) instead of the older offset.
   */
  fetchOffsets(req: OffsetFetchParams): OffsetFetchResult {
    const unavailable = this.availabilityError();
    if (unavailable !== ErrorCode.NONE) return { errorCode: unavailable, topics: [] };
    const groupId = req.groupId;
    const group = this.groups.get(groupId);
    if (group?.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };

    const partitionResult = (topic: string, partitionIndex: number): FetchedPartitionOffset => {
      if (req.requireStable && this.offsets.isPending(groupId, topic, partitionIndex)) {
        return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT };
      }
      const om = this.offsets.get(groupId, topic, partitionIndex);
      if (!om) return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE };
      return { partitionIndex, committedOffset: om.committedOffset, committedLeaderEpoch: om.leaderEpoch, metadata: om.metadata, errorCode: ErrorCode.NONE };
    };

    if (req.topics === null) {
      const byTopic = new Map<string, FetchedPartitionOffset[]>();
      for (const [topic, partition] of this.offsets.entries(groupId)) {
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        list.push(partitionResult(topic, partition));
      }
      return { errorCode: ErrorCode.NONE, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => partitionResult(t.name, p)) })),
    };
  }

  /**
   * OffsetDelete: removes committed offsets of an Empty group, or of a "consumer" group for topics its members do
   * not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise). Subscriptions come from the members'
   * ConsumerProtocolSubscription metadata, parsed when the generation starts, as Kafka does.
   */
  async deleteOffsets(req: OffsetDeleteParams): Promise<OffsetDeleteResult> {
    const unavailable = this.availabilityError();
    if (unavailable !== ErrorCode.NONE) return { errorCode: unavailable, topics: [] };
    if (req.groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] };
    const group = this.groups.get(req.groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    if (!group.is('Empty') && !group.usesConsumerProtocol()) return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };

    const records: CoordinatorRecord[] = [];
    const deleted: [string, number][] = [];
    const topics = req.topics.map((t) => {
      const subscribed = group.isSubscribedToTopic(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((partitionIndex) => {
          if (subscribed) return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC as number };
          if (this.offsets.get(req.groupId, t.name, partitionIndex) || this.offsets.isPending(req.groupId, t.name, partitionIndex)) {
            records.push(offsetCommitTombstone(req.groupId, t.name, partitionIndex));
            deleted.push([t.name, partitionIndex]);
          }
          return { partitionIndex, errorCode: ErrorCode.NONE as number };
        }),
      };
    });
    if (records.length === 0) return { errorCode: ErrorCode.NONE, topics };
    let flushed: Promise<void>;
    try {
      flushed = this.write(req.groupId, records);
    } catch (err) {
      return { errorCode: appendErrorToResponseError(err), topics: [] };
    }
    for (const [topic, partition] of deleted) this.offsets.delete(req.groupId, topic, partition);
    try {
      await flushed;
    } catch (err) {
      return { errorCode: appendErrorToResponseError(err), topics: [] };
    }
    return { errorCode: ErrorCode.NONE, topics };
  }

  /**
   * One pass of offset expiry (offsets.retention.minutes), run every offsets.retention.check.interval.ms: offsets of
   * Empty groups expire a retention period after the group became Empty, offsets of simple groups and of topics a
   * Stable consumer group no longer subscribes to a retention period after their commit. An Empty group left with
   * no offsets is deleted. Returns how many offsets expired.
   */
  expireOffsets(): number {
    if (this.status !== 'active') return 0;
    const nowMs = this.now();
    let expiredTotal = 0;
    for (const group of [...this.groups.values()]) {
      const base = offsetExpirationBase(group);
      if (base === null) continue;
      const groupId = group.groupId;
      const records: CoordinatorRecord[] = [];
      const expired: [string, number][] = [];
      let allExpired = !this.offsets.hasPending(groupId);
      for (const [topic, partition, om] of this.offsets.entries(groupId)) {
        const isExpired =
          !group.isSubscribedToTopic(topic) &&
          !this.offsets.isPending(groupId, topic, partition) &&
          (om.expireTimestampMs >= 0 ? nowMs >= om.expireTimestampMs : nowMs - base(om) >= this.config.offsetsRetentionMs);
        if (isExpired) {
          records.push(offsetCommitTombstone(groupId, topic, partition));
          expired.push([topic, partition]);
        } else {
          allExpired = false;
        }
      }
      const deleteGroup = allExpired && group.is('Empty');
      if (deleteGroup) records.push(groupMetadataTombstone(groupId));
      if (records.length === 0) continue;
      if (!this.writeInBackground(groupId, records, 'expired offsets')) continue;
      for (const [topic, partition] of expired) this.offsets.delete(groupId, topic, partition);
      expiredTotal += expired.length;
      if (deleteGroup) this.removeGroup(group);
      this.logger.info({ group: groupId, offsets: expired.length, groupDeleted: deleteGroup }, 'expired offsets');
    }
    return expiredTotal;
  }

  // ---- persistence -------------------------------------------------------------------------------------------

  /**
   * Appends one operation's records as a batch to the group's partition. Throws (synchronously) when the append
   * fails; the returned promise resolves when the batch is durable.
   */
  private write(groupId: string, records: readonly CoordinatorRecord[]): Promise<void> {
    const log = this.storage.offsetsLog(this.partitionFor(groupId));
    log.append(buildCoordinatorBatch(records, this.now()), { leaderEpoch: 0 });
    this.storage.onAppend?.(log);
    return log.flush();
  }

  /** write() as a promise that also rejects when the append itself fails. */
  private persist(groupId: string, records: readonly CoordinatorRecord[]): Promise<void> {
    try {
      return this.write(groupId, records);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A write nobody waits for (its state change stands either way); failures are logged. False if the append failed. */
  private writeInBackground(groupId: string, records: readonly CoordinatorRecord[], what: string): boolean {
    try {
      this.write(groupId, records).catch((err: unknown) => this.logger.warn({ group: groupId, err }, `failed to persist ${what}`));
      return true;
    } catch (err) {
      this.logger.warn({ group: groupId, err }, `failed to persist ${what}`);
      return false;
    }
  }

  private replayPartition(log: PartitionLog): { records: number; unknownTypes: number } {
    let records = 0;
    let unknownTypes = 0;
    let offset = log.logStartOffset;
    const end = log.highWatermark;
    while (offset < end) {
      const res = log.read(offset, { maxBytes: LOAD_READ_BYTES, minOneBatch: true, isolation: 'read_uncommitted' });
      const before = offset;
      for (const buf of res.batches) {
        for (const batch of recordBatches(buf)) {
          if (batch.nextOffset <= offset) continue;
          offset = batch.nextOffset;
          for (const r of coordinatorRecordsOf(batch)) {
            if (r.key === null) continue;
            records++;
            if (!this.replayRecord(log, r.offset, r.key, r.value)) unknownTypes++;
          }
        }
      }
      if (offset === before) break; // nothing readable beyond this point
    }
    return { records, unknownTypes };
  }

  /** Applies one record to the in-memory state. False for record types Umbra does not use. */
  private replayRecord(log: PartitionLog, offset: number, key: Buffer, value: Buffer | null): boolean {
    let decoded;
    try {
      decoded = decodeCoordinatorRecord(key, value);
    } catch (err) {
      this.logger.warn({ partition: log.partition, offset, err }, 'skipping an unreadable __consumer_offsets record');
      return true;
    }
    switch (decoded.type) {
      case 'offset':
        if (decoded.value === null) {
          this.offsets.delete(decoded.group, decoded.topic, decoded.partition);
        } else {
          // Offsets without group membership form a "simple" group (empty, no protocol type).
          if (!this.groups.has(decoded.group)) this.groups.set(decoded.group, new ClassicGroup({ groupId: decoded.group, state: 'Empty', nowMs: this.now() }));
          this.offsets.put(decoded.group, decoded.topic, decoded.partition, decoded.value);
        }
        return true;
      case 'group':
        if (decoded.value === null) this.groups.delete(decoded.group);
        else this.groups.set(decoded.group, groupFromRecord(decoded.group, decoded.value));
        return true;
      default:
        return false;
    }
  }

  private runSafely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ err }, `${what} failed`);
    }
  }
}

/** Kafka's ClassicGroup.validateOffsetCommit. Throws KafkaError. */
function validateOffsetCommit(group: ClassicGroup, memberId: string, groupInstanceId: string | null, generationId: number): void {
  if (group.is('Dead')) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  // generation -1: an admin client or a consumer without group management; fine while nobody is a member
  if (generationId < 0 && group.is('Empty')) return;
  if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
    group.validateMember(memberId, groupInstanceId);
    if (generationId !== group.generationId) throw new KafkaError(ErrorCode.ILLEGAL_GENERATION);
  } else if (!group.is('Empty')) {
    // no member id and no generation: only an Empty group's offsets may be overwritten this way
    throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID);
  }
  // A member with the current generation that has not synced yet: let it finish the rebalance first.
  if (group.is('CompletingRebalance')) throw new KafkaError(ErrorCode.REBALANCE_IN_PROGRESS);
}

/**
 * Kafka's ClassicGroup.offsetExpirationCondition: the timestamp an offset's retention counts from, or null when the
 * group's offsets do not expire now.
 */
function offsetExpirationBase(group: ClassicGroup): ((om: OffsetAndMetadata) => number) | null {
  if (group.protocolType === null) return (om) => om.commitTimestampMs; // simple group
  if (group.is('Empty')) return (om) => group.currentStateTimestamp ?? om.commitTimestampMs;
  if (group.usesConsumerProtocol() && group.subscribedTopics !== null && group.is('Stable')) return (om) => om.commitTimestampMs;
  return null;
}

/** GroupMetadataValue of a group, with the given assignment per member. */
function groupValue(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): GroupMetadataValueData {
  return {
    protocolType: group.protocolType ?? '',
    generation: group.generationId,
    protocol: group.protocolName,
    leader: group.leaderId,
    currentStateTimestamp: group.currentStateTimestamp ?? -1,
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
      subscription: m.metadata(group.protocolName),
      assignment: assignment.get(m.memberId) ?? EMPTY,
    })),
  };
}

/** Kafka's newEmptyGroupMetadataRecord value. */
function emptyGroupValue(group: ClassicGroup): GroupMetadataValueData {
  return { protocolType: '', generation: 0, protocol: null, leader: null, currentStateTimestamp: group.currentStateTimestamp ?? -1, members: [] };
}

/** A group as Kafka loads it from its GroupMetadata record: Stable with its members, or Empty. */
function groupFromRecord(groupId: string, v: GroupMetadataValueData): ClassicGroup {
  const state: GroupStateName = v.members.length > 0 ? 'Stable' : 'Empty';
  const group = new ClassicGroup({
    groupId,
    state,
    nowMs: v.currentStateTimestamp === -1 ? null : v.currentStateTimestamp,
    generationId: v.generation,
    protocolType: v.protocolType === '' ? null : v.protocolType,
    protocolName: v.protocol,
    leaderId: v.leader,
  });
  for (const m of v.members) {
    group.add(
      new ClassicGroupMember({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeout === -1 ? m.sessionTimeout : m.rebalanceTimeout,
        sessionTimeoutMs: m.sessionTimeout,
        protocolType: v.protocolType,
        protocols: [{ name: v.protocol ?? '', metadata: m.subscription }],
        assignment: m.assignment,
      }),
      null,
    );
  }
  group.subscribedTopics = group.computeSubscribedTopics();
  return group;
}
