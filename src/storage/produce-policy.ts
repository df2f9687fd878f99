// What a topic's configuration asks of produced batches beyond framing and CRC (Kafka's LogValidator):
// - message.timestamp.before.max.ms / after.max.ms: a CreateTime record whose timestamp is further from the broker
//   clock than that is refused with INVALID_TIMESTAMP, and with it the whole batch.
// - a producer does not flag its batch LogAppendTime: refused with INVALID_TIMESTAMP on a LogAppendTime topic;
//   on a CreateTime topic the flag is dropped (PartitionLog.append), as Kafka rewrites the batch's timestamp type.
// - cleanup.policy=compact: every record needs a key (INVALID_RECORD).
// - compression.type naming a codec: batches produced with another codec are stored recompressed.
// Refusals name the records at fault (RecordValidationError: the response's recordErrors, KIP-467), found by
// decoding the batch then, so the accepting path reads no more than it did.
// Only produce (offsets 'assign') applies these; a shadow stores what its source accepted.
import { ErrorCode, KafkaError, RecordValidationError, type RecordError } from '../protocol/errors.js';
import { compressionName } from '../protocol/compression.js';
import { decodeRecords, frameSizeAt, minRecordTimestamp, NO_TIMESTAMP, recompressBatch, RecordBatch } from '../protocol/record-batch.js';
import type { LogConfig } from './types.js';

/**
 * Refuses a batch with a record timestamp outside [now − before, now + after]. The upper bound is read from the
 * batch's maxTimestamp (which the log trusts for its time index and retention as well); the lower bound, when
 * set, needs each record's timestamp delta, so only then are the records walked.
 */
export function checkTimestamps(view: RecordBatch, nowMs: number, config: LogConfig): void {
  const { timestampBeforeMaxMs: before, timestampAfterMaxMs: after } = config;
  const max = view.maxTimestamp;
  let refuse = max !== NO_TIMESTAMP && max - nowMs > after;
  if (!refuse && before < Number.MAX_SAFE_INTEGER) {
    const min = minRecordTimestamp(view);
    refuse = min !== NO_TIMESTAMP && nowMs - min > before;
  }
  if (!refuse) return;
  const low = before >= Number.MAX_SAFE_INTEGER ? -Infinity : nowMs - before;
  const high = after >= Number.MAX_SAFE_INTEGER ? Infinity : nowMs + after;
  const range = `[${Number.isFinite(low) ? low : '-∞'}, ${Number.isFinite(high) ? high : '∞'}]`;
  const errors: RecordError[] = [];
  decodeRecords(view).forEach((r, i) => {
    if (r.timestamp !== NO_TIMESTAMP && (r.timestamp < low || r.timestamp > high)) {
      errors.push({ batchIndex: i, message: `timestamp ${r.timestamp} is out of range ${range}` });
    }
  });
  const first = errors[0]?.message ?? `batch maxTimestamp ${max} is out of range ${range}`;
  throw new RecordValidationError(
    ErrorCode.INVALID_TIMESTAMP,
    `${errors.length || 'a'} record${errors.length === 1 ? '' : 's'} refused: ${first} ` +
      '(the topic accepts record timestamps within message.timestamp.before.max.ms / after.max.ms of the broker clock)',
    errors,
  );
}

/**
 * Refuses a batch the producer flagged LogAppendTime where Kafka does: on a LogAppendTime topic, and on a CreateTime
 * topic when its timestamp is missing (elsewhere the flag is dropped when the batch is stored).
 */
export function checkTimestampType(view: RecordBatch, config: LogConfig): void {
  if (view.timestampType !== 'LogAppendTime') return;
  if (config.messageTimestampType === 'CreateTime' && view.maxTimestamp !== NO_TIMESTAMP) return;
  // one error per record, as Kafka lists them: counted by decoding, not from the header's record count, which a
  // small batch could claim to be billions
  const errors = decodeRecords(view).map((_, i) => ({ batchIndex: i, message: 'a producer may not set the timestamp type LogAppendTime' }));
  throw new RecordValidationError(
    ErrorCode.INVALID_TIMESTAMP,
    'the batch is flagged LogAppendTime: producers send CreateTime batches, and the broker sets log append times',
    errors,
  );
}

/** Refuses a batch with a record without a key (cleanup.policy=compact); decodes the records to see their keys. */
export function checkKeys(view: RecordBatch): void {
  const errors: RecordError[] = [];
  decodeRecords(view).forEach((r, i) => {
    if (r.key === null) errors.push({ batchIndex: i, message: 'a compacted topic cannot accept a record without a key' });
  });
  if (errors.length === 0) return;
  throw new RecordValidationError(
    ErrorCode.INVALID_RECORD,
    `compacted topic cannot accept a record without a key (${errors.length} of ${view.recordCount} records have none)`,
    errors,
  );
}

/**
 * The batches of `records` with every one not already in the topic's codec recompressed (`view` is scratch).
 * A batch that grows past max.message.bytes in the process is refused, as Kafka does after its conversion.
 */
export function recompressBatches(records: Buffer, view: RecordBatch, config: LogConfig): Buffer {
  const codec = config.compression!;
  const parts: Buffer[] = [];
  for (let pos = 0; pos < records.length; ) {
    const size = frameSizeAt(records, pos);
    view.moveTo(records, pos);
    const batch = view.compression === codec ? records.subarray(pos, pos + size) : recompressBatch(view, codec, config.compressionLevel);
    if (batch.length > config.maxMessageBytes) {
      throw new KafkaError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `batch of ${batch.length} bytes after recompression with ${compressionName(codec)} (compression.type) exceeds max.message.bytes ${config.maxMessageBytes}`,
      );
    }
    parts.push(batch);
    pos += size;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
