// The group coordinator's public request/result shapes. They follow the wire messages' field names (camelCase of
// the Kafka 4.1 JSON specs) so handlers pass them through, but carry no version-specific encoding concerns: the
// handlers turn versions into these (e.g. JoinGroup v0's missing rebalance timeout) and back.
import type { Logger } from 'pino';
import type { PartitionLog } from '../storage/types.js';

export interface GroupCoordinatorConfig {
  nodeId: number;
  /** group.min.session.timeout.ms (Kafka: 6000) */
  groupMinSessionTimeoutMs: number;
  /** group.max.session.timeout.ms (Kafka: 1800000) */
  groupMaxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms (Kafka: 3000) */
  groupInitialRebalanceDelayMs: number;
  /** offsets.retention.minutes in ms (Kafka: 7 days) */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms (Kafka: 600000) */
  offsetsRetentionCheckIntervalMs?: number;
  /** group.max.size (Kafka: Integer.MAX_VALUE) */
  groupMaxSize?: number;
  /** offset.metadata.max.bytes (Kafka: 4096) */
  offsetMetadataMaxSize?: number;
  /** group.classic.new.member.join.timeout.ms, internal in Kafka (300000) */
  groupNewMemberJoinTimeoutMs?: number;
}

export interface GroupCoordinatorStorage {
  /** partitions of __consumer_offsets (offsets.topic.num.partitions) */
  numPartitions: number;
  offsetsLog(partition: number): PartitionLog;
  /** called after each append, so the broker can wake fetches waiting on __consumer_offsets */
  onAppend?(log: PartitionLog): void;
}

export interface GroupCoordinatorOptions {
  storage: GroupCoordinatorStorage;
  config: GroupCoordinatorConfig;
  logger: Logger;
  /** wall clock, injectable for tests */
  now?: () => number;
}

export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupParams {
  groupId: string;
  /** '' for a first join */
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: readonly GroupProtocol[];
  sessionTimeoutMs: number;
  /** JoinGroup v0 has none: pass the session timeout, as Kafka does */
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  /** JoinGroup v4+ without a group instance id: a first join gets MEMBER_ID_REQUIRED (KIP-394) */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a rejoining static leader may skip the assignment (KIP-814) */
  supportSkippingAssignment: boolean;
  reason?: string | null;
}

export interface JoinGroupResponseMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  /** filled for the leader only */
  members: JoinGroupResponseMember[];
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** SyncGroup v5+; null = not checked */
  protocolType: string | null;
  protocolName: string | null;
  assignments: readonly { memberId: string; assignment: Buffer }[];
}

export interface SyncGroupResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface HeartbeatParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeavingMember {
  /** '' with a group instance id removes a static member administratively */
  memberId: string;
  groupInstanceId: string | null;
  reason?: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface DescribedGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}

export interface DescribedGroup {
  /** GROUP_ID_NOT_FOUND for an unknown group (DescribeGroups v6); older versions map it to NONE + Dead */
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  protocolType: string;
  /** the protocol name, only when Stable */
  protocolData: string;
  members: DescribedGroupMember[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: GroupStateName;
  groupType: 'classic';
}

export interface OffsetCommitParams {
  groupId: string;
  /** -1 (with memberId '') = a simple/standalone commit, accepted only while the group is Empty */
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2-4; -1 = broker retention */
  retentionTimeMs: number;
  topics: readonly {
    name: string;
    partitions: readonly {
      partitionIndex: number;
      committedOffset: number;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
    }[];
  }[];
}

export interface OffsetCommitTopicResult {
  name: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}

export interface OffsetFetchParams {
  groupId: string;
  /** null = every committed offset of the group */
  topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null;
  requireStable: boolean;
}

export interface FetchedPartitionOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  /** group-level error; partitions are then empty */
  errorCode: number;
  topics: { name: string; partitions: FetchedPartitionOffset[] }[];
}

export interface OffsetDeleteParams {
  groupId: string;
  topics: readonly { name: string; partitions: readonly number[] }[];
}

export interface OffsetDeleteResult {
  errorCode: number;
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
}

export type { Logger };
