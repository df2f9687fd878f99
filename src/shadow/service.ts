// What the admin API and the CLI see of shadow linking: the ShadowLinkService interface, the documents it returns
// (link views and the status document of SPEC §2.4), and its errors. The link manager (manager.ts) implements it;
// src/admin/routes/shadow-links.ts serves it over HTTP; src/cli/shadow.ts calls those routes.
//
// Every document here is plain JSON and carries no secret: configs are rendered with passwords as `[REDACTED]`.
import type { LinkConfigDocument } from './config.js';

/** Link states (SPEC §2.2). */
export type LinkState = 'ACTIVE' | 'PAUSED';
/** Task states (SPEC §2.2). */
export type TaskState = 'ACTIVE' | 'PAUSED' | 'LINK_UNAVAILABLE' | 'NOT_RUNNING' | 'FAULTED';
/** Shadow topic states (SPEC §2.2). */
export type TopicState = 'ACTIVE' | 'PAUSED' | 'FAULTED' | 'FAILING_OVER' | 'FAILED_OVER' | 'PROMOTING' | 'PROMOTED';

export const LINK_STATES: readonly LinkState[] = ['ACTIVE', 'PAUSED'];
export const TASK_STATES: readonly TaskState[] = ['ACTIVE', 'PAUSED', 'LINK_UNAVAILABLE', 'NOT_RUNNING', 'FAULTED'];
export const TOPIC_STATES: readonly TopicState[] = ['ACTIVE', 'PAUSED', 'FAULTED', 'FAILING_OVER', 'FAILED_OVER', 'PROMOTING', 'PROMOTED'];

/** Topic states in which the topic is still shadowed (read-only, and blocking a plain delete of its link). */
export const SHADOWED_TOPIC_STATES: ReadonlySet<TopicState> = new Set(['ACTIVE', 'PAUSED', 'FAULTED', 'FAILING_OVER', 'PROMOTING']);

/** One line of `umbra shadow list` / GET /v1/shadow-links. */
export interface LinkSummary {
  name: string;
  state: LinkState;
  /** the source's bootstrap servers, as configured */
  bootstrapServers: string[];
  /** the source's cluster id once known ('' before the first contact) */
  sourceClusterId: string;
  /** shadow topics of the link by state, e.g. { ACTIVE: 3, FAILED_OVER: 1 } */
  topics: Partial<Record<TopicState, number>>;
  /** sum of every partition's lag (messages) */
  totalLag: number;
  /** the worst partition RPO (seconds) */
  maxRpoSeconds: number;
}

/** GET /v1/shadow-links/{name}, `umbra shadow describe`: the config (passwords redacted) and when it changed. */
export interface LinkView {
  name: string;
  state: LinkState;
  /** RFC 3339 */
  createdAt: string;
  updatedAt: string;
  config: LinkConfigDocument;
}

export interface TaskStatus {
  /** source_topic_sync | replication | consumer_offset_sync | security_sync | schema_registry_sync */
  name: string;
  state: TaskState;
  /** why the task is in that state ('' when ACTIVE and healthy) */
  reason: string;
}

export interface PartitionStatus {
  partition: number;
  sourceLogStartOffset: number;
  sourceLastStableOffset: number;
  sourceHighWatermark: number;
  /** the shadow partition's high watermark */
  highWatermark: number;
  /** sourceHighWatermark − highWatermark, never negative (messages) */
  lag: number;
  /** time since the partition was last fully caught up, in seconds (0 while caught up) */
  rpoSeconds: number;
  /** the replicator's state for this partition */
  state: string;
  /** the last error seen, '' when none */
  lastError: string;
  /** offset ranges the shadow will never have because the source deleted them first: [from, to) */
  gaps: { from: number; to: number }[];
}

export interface TopicStatus {
  name: string;
  state: TopicState;
  reason: string;
  /** the source topic id this shadow topic follows */
  sourceTopicId: string;
  partitions: PartitionStatus[];
}

/** `umbra shadow status --format json` and GET /v1/shadow-links/{name}/status: the same document. */
export interface LinkStatus {
  name: string;
  state: LinkState;
  tasks: TaskStatus[];
  topics: TopicStatus[];
}

/** Answer of failover / promote / pause / resume: the topics acted on and their state afterwards. */
export interface LinkActionResult {
  name: string;
  state: LinkState;
  topics: { name: string; state: TopicState; reason: string }[];
}

export interface CreateLinkOptions {
  /** false: do not contact the source before storing the link (`--no-validate`) */
  validateSource?: boolean;
}

/** An offset range [from, to). */
export interface OffsetRange {
  from: number;
  to: number;
}

/** `umbra shadow verify`: one partition compared batch by batch over the range both sides hold. */
export interface VerifyPartitionReport {
  partition: number;
  /** source log start / HWM and shadow log start / HWM when compared */
  source: OffsetRange;
  shadow: OffsetRange;
  /**
   * the range both sides hold, which was compared: [max(log starts), min(source LSO, shadow HWM)) when the partition
   * was reached, its start raised if retention moved either log start during the walk (from >= to: nothing in common)
   */
  compared: OffsetRange;
  /** batches and bytes compared (source side) */
  batches: number;
  bytes: number;
  /** first offset where the two sides differ (base offset, last offset delta, length or CRC), -1 when none */
  firstDifferenceOffset: number;
  /** what differs there, '' when nothing */
  difference: string;
  /** batches that differ (the first is described in `difference`) */
  differences: number;
  /** ranges inside `compared` that one side holds and the other does not */
  missingOnShadow: OffsetRange[];
  missingOnSource: OffsetRange[];
  /**
   * Compacted topics only: ranges where both sides hold batches but compacted them differently (each side compacts
   * on its own). Reported, not counted as differences.
   */
  compactedDifferently: OffsetRange[];
  /** no difference and nothing missing */
  ok: boolean;
}

export interface VerifyTopicReport {
  name: string;
  compacted: boolean;
  ok: boolean;
  /** set when the topic could not be compared (source unreachable, topic gone) */
  error: string;
  partitions: VerifyPartitionReport[];
}

export interface VerifyReport {
  link: string;
  /** true only when every compared topic is ok */
  ok: boolean;
  startedAt: string;
  elapsedMs: number;
  topics: VerifyTopicReport[];
  summary: { topics: number; partitions: number; batches: number; bytes: number; differences: number; missingRanges: number };
}

export interface ShadowLinkService {
  list(): LinkSummary[];
  /** throws ShadowLinkError NOT_FOUND */
  describe(name: string): LinkView;
  /** `doc` is the parsed YAML/JSON file (Redpanda field names); validation errors name the field */
  create(doc: unknown, opts?: CreateLinkOptions): Promise<LinkView>;
  /** the name in `doc` must match (or be absent); `[REDACTED]` passwords keep the stored ones */
  update(name: string, doc: unknown, opts?: CreateLinkOptions): Promise<LinkView>;
  /** refused (CONFLICT, naming the topics) while topics are still shadowed, unless force */
  delete(name: string, opts?: { force?: boolean }): Promise<void>;
  status(name: string): LinkStatus;
  /** throws NOT_FOUND for a topic the link does not shadow */
  topic(name: string, topic: string): TopicStatus;
  /** one topic, or every topic of the link when `topic` is undefined (re-runnable) */
  failover(name: string, topic?: string): Promise<LinkActionResult>;
  /** graceful: waits for lag 0 against the source HWM at call time, final offset sync, then fails over */
  promote(name: string, topic?: string, opts?: { timeoutMs?: number }): Promise<LinkActionResult>;
  /**
   * Compares source and shadow over the offset range both hold, batch by batch (header fields and CRC32C recomputed
   * over the stored bytes on both sides), without decoding records. Every topic of the link that is still shadowed,
   * or one topic (any state).
   */
  verify(name: string, topic?: string): Promise<VerifyReport>;
  pause(name: string, topic?: string): Promise<LinkActionResult>;
  resume(name: string, topic?: string): Promise<LinkActionResult>;
}

/** Error codes of the service, with the HTTP status the admin API answers them with. */
export const ShadowErrorCodes = {
  /** no such link, or the link does not shadow that topic */
  NOT_FOUND: 404,
  /** a link of that name exists */
  ALREADY_EXISTS: 409,
  /** the config is invalid; the message names the field */
  INVALID_CONFIG: 400,
  /** the request is valid but the link's state refuses it (delete with active topics, overlapping links, ...) */
  CONFLICT: 409,
  /** the source could not be reached or answered an error (create without --no-validate, promote) */
  SOURCE_UNAVAILABLE: 502,
  /** promote did not catch up in time */
  TIMEOUT: 504,
} as const;
export type ShadowErrorCode = keyof typeof ShadowErrorCodes;

export class ShadowLinkError extends Error {
  override name = 'ShadowLinkError';
  readonly statusCode: number;
  constructor(
    readonly code: ShadowErrorCode,
    message: string,
    /** for INVALID_CONFIG: the full path of the first bad field */
    readonly field?: string,
  ) {
    super(message);
    this.statusCode = ShadowErrorCodes[code];
  }
}
