// The records of `__consumer_offsets`, in Kafka's own formats (kafka-protocol/internal/group-coordinator/), so a Kafka
// tool reading the topic (kafka-console-consumer with the offsets formatter, MirrorMaker's checkpointing) sees what
// it would see on Kafka:
//
//   key   = int16 key version + key struct; the key version selects the record type
//           (0/1 OffsetCommitKey, 2 GroupMetadataKey; 3+ are KIP-848/share-group records, which Umbra never writes)
//   value = int16 value version + value struct; a null value is a tombstone
//
// Versions written are Kafka 4.1's (GroupCoordinatorRecordHelpers): OffsetCommitKey v1; OffsetCommitValue v3, or v1
// when the commit carried an explicit retention (OffsetCommit v2-4 RetentionTimeMs), the only version with an
// expireTimestamp; GroupMetadataValue v3. The flexible v4 values are read but not written, as in Kafka.
import { Reader, Writer } from '../protocol/primitives.js';
import { buildRecordBatch, decodeRecords, type RecordBatch } from '../protocol/record-batch.js';
import * as OffsetCommitKey from '../protocol/generated/internal/group-coordinator/OffsetCommitKey.js';
import * as OffsetCommitValue from '../protocol/generated/internal/group-coordinator/OffsetCommitValue.js';
import * as GroupMetadataKey from '../protocol/generated/internal/group-coordinator/GroupMetadataKey.js';
import * as GroupMetadataValue from '../protocol/generated/internal/group-coordinator/GroupMetadataValue.js';

export type { GroupMetadataValue as GroupMetadataValueData } from '../protocol/generated/internal/group-coordinator/GroupMetadataValue.js';
export type { MemberMetadata as GroupMetadataMember } from '../protocol/generated/internal/group-coordinator/GroupMetadataValue.js';

const OFFSET_COMMIT_KEY_VERSION = 1;
const GROUP_METADATA_KEY_VERSION = 2;
const OFFSET_COMMIT_VALUE_VERSION = 3;
const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRE = 1;
const GROUP_METADATA_VALUE_VERSION = 3;

/** A committed offset as the coordinator keeps it (Kafka's OffsetAndMetadata). */
export interface OffsetAndMetadata {
  committedOffset: number;
  /** -1 = none */
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** -1 = none; only commits with an explicit retention (OffsetCommit v2-4) have one */
  expireTimestampMs: number;
}

export interface CoordinatorRecord {
  key: Buffer;
  /** null = tombstone */
  value: Buffer | null;
}

/**
 * The `__consumer_offsets` partition of a group: `Utils.abs(groupId.hashCode()) % numPartitions`, with Java's
 * String.hashCode over UTF-16 code units and Kafka's Utils.abs (Integer.MIN_VALUE maps to 0, not to itself).
 */
export function partitionFor(groupId: string, numPartitions: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % numPartitions;
}

function versioned(version: number, write: (w: Writer) => void): Buffer {
  const w = new Writer(128);
  w.int16(version);
  write(w);
  return w.toBuffer();
}

export function offsetCommitRecord(group: string, topic: string, partition: number, om: OffsetAndMetadata): CoordinatorRecord {
  const valueVersion = om.expireTimestampMs >= 0 ? OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRE : OFFSET_COMMIT_VALUE_VERSION;
  return {
    key: versioned(OFFSET_COMMIT_KEY_VERSION, (w) => OffsetCommitKey.write(w, OFFSET_COMMIT_KEY_VERSION, { group, topic, partition })),
    value: versioned(valueVersion, (w) =>
      OffsetCommitValue.write(w, valueVersion, {
        offset: om.committedOffset,
        leaderEpoch: om.leaderEpoch,
        metadata: om.metadata,
        commitTimestamp: om.commitTimestampMs,
        expireTimestamp: om.expireTimestampMs,
      }),
    ),
  };
}

export function offsetCommitTombstone(group: string, topic: string, partition: number): CoordinatorRecord {
  return {
    key: versioned(OFFSET_COMMIT_KEY_VERSION, (w) => OffsetCommitKey.write(w, OFFSET_COMMIT_KEY_VERSION, { group, topic, partition })),
    value: null,
  };
}

export function groupMetadataRecord(group: string, value: GroupMetadataValue.GroupMetadataValue): CoordinatorRecord {
  return {
    key: versioned(GROUP_METADATA_KEY_VERSION, (w) => GroupMetadataKey.write(w, GROUP_METADATA_KEY_VERSION, { group })),
    value: versioned(GROUP_METADATA_VALUE_VERSION, (w) => GroupMetadataValue.write(w, GROUP_METADATA_VALUE_VERSION, value)),
  };
}

export function groupMetadataTombstone(group: string): CoordinatorRecord {
  return {
    key: versioned(GROUP_METADATA_KEY_VERSION, (w) => GroupMetadataKey.write(w, GROUP_METADATA_KEY_VERSION, { group })),
    value: null,
  };
}

/** One uncompressed RecordBatch v2 holding the records of one coordinator operation (written atomically, as Kafka does). */
export function buildCoordinatorBatch(records: readonly CoordinatorRecord[], nowMs: number): Buffer {
  return buildRecordBatch({
    records: records.map((r) => ({ key: r.key, value: r.value, timestamp: nowMs })),
    baseTimestamp: nowMs,
  });
}

/** A record read back from the log. */
export type ReplayedRecord =
  | { type: 'offset'; group: string; topic: string; partition: number; value: OffsetAndMetadata | null }
  | { type: 'group'; group: string; value: GroupMetadataValue.GroupMetadataValue | null }
  | { type: 'other'; keyVersion: number };

/** Decodes one record of `__consumer_offsets`. Throws on bytes that do not parse (the caller logs and skips). */
export function decodeCoordinatorRecord(key: Buffer, value: Buffer | null): ReplayedRecord {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const k = OffsetCommitKey.read(kr, keyVersion);
    if (value === null) return { type: 'offset', group: k.group, topic: k.topic, partition: k.partition, value: null };
    const vr = new Reader(value);
    const valueVersion = vr.int16();
    if (valueVersion < OffsetCommitValue.minVersion || valueVersion > OffsetCommitValue.maxVersion) {
      throw new Error(`unknown OffsetCommitValue version ${valueVersion}`);
    }
    const v = OffsetCommitValue.read(vr, valueVersion);
    return {
      type: 'offset',
      group: k.group,
      topic: k.topic,
      partition: k.partition,
      value: {
        committedOffset: v.offset,
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestampMs: v.commitTimestamp,
        expireTimestampMs: v.expireTimestamp,
      },
    };
  }
  if (keyVersion === 2) {
    const k = GroupMetadataKey.read(kr, keyVersion);
    if (value === null) return { type: 'group', group: k.group, value: null };
    const vr = new Reader(value);
    const valueVersion = vr.int16();
    if (valueVersion < GroupMetadataValue.minVersion || valueVersion > GroupMetadataValue.maxVersion) {
      throw new Error(`unknown GroupMetadataValue version ${valueVersion}`);
    }
    return { type: 'group', group: k.group, value: GroupMetadataValue.read(vr, valueVersion) };
  }
  return { type: 'other', keyVersion };
}

/** The records of one stored batch, in offset order; control batches (transaction markers) carry none for us. */
export function* coordinatorRecordsOf(batch: RecordBatch): Generator<{ offset: number; key: Buffer | null; value: Buffer | null }> {
  if (batch.isControl) return;
  for (const r of decodeRecords(batch)) yield { offset: r.offset, key: r.key, value: r.value };
}
