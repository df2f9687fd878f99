// The small files beside the segments of a partition directory. Each is replaced atomically (temp file + rename).
import { join } from 'node:path';
import { readFileOrNull, writeFileAtomic } from './fs.js';
import type { StorageFs } from './types.js';

export const PARTITION_METADATA_FILE = 'partition.metadata';
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
/** everything below this offset was fsynced; recovery after a crash scans only from the segment holding it */
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
/**
 * compaction's clean mark: closed segments below it were compacted and nothing was appended there since, so they
 * count as clean in min.cleanable.dirty.ratio (Kafka keeps the same in cleaner-offset-checkpoint). Not fsynced:
 * losing it costs one compaction of segments that were clean already, never correctness.
 */
export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
/** written last by a clean close, removed on open: its absence means the log may have a torn tail */
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown';
export const PRODUCER_SNAPSHOT_SUFFIX = '.snapshot';

/** `partition.metadata` as Kafka writes it: "version: 0\ntopic_id: <id>\n". */
export function readTopicId(fs: StorageFs, dir: string): string | null {
  const buf = readFileOrNull(fs, join(dir, PARTITION_METADATA_FILE));
  if (buf === null) return null;
  const m = /^version: 0\ntopic_id: (\S+)\n?$/.exec(buf.toString('utf8'));
  return m ? m[1]! : null;
}

export function writeTopicId(fs: StorageFs, dir: string, topicId: string): void {
  writeFileAtomic(fs, join(dir, PARTITION_METADATA_FILE), topicIdText(topicId), true);
}

export function topicIdText(topicId: string): string {
  return `version: 0\ntopic_id: ${topicId}\n`;
}

/** A single-offset checkpoint: "0\n<offset>\n". */
export function readOffsetCheckpoint(fs: StorageFs, dir: string, file: string): number | null {
  const buf = readFileOrNull(fs, join(dir, file));
  if (buf === null) return null;
  const m = /^0\n(\d+)\n$/.exec(buf.toString('utf8'));
  return m ? Number(m[1]) : null;
}

export function writeOffsetCheckpoint(fs: StorageFs, dir: string, file: string, offset: number, durable: boolean): void {
  writeFileAtomic(fs, join(dir, file), offsetCheckpointText(offset), durable);
}

export function offsetCheckpointText(offset: number): string {
  return `0\n${offset}\n`;
}
