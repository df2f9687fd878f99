// What a topic's configuration asks of produced batches beyond framing and CRC (Kafka's LogValidator):
// - message.timestamp.before.max.ms / after.max.ms: a CreateTime record whose timestamp is further from the broker
//   clock than that is refused with INVALID_TIMESTAMP, and with it the whole batch.
// - compression.type naming a codec: batches produced with another codec are stored recompressed.
// Only produce (offsets 'assign') applies these; a shadow stores what its source accepted.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { compressionName } from '../protocol/compression.js';
import { frameSizeAt, minRecordTimestamp, NO_TIMESTAMP, recompressBatch, RecordBatch } from '../protocol/record-batch.js';
import type { LogConfig } from './types.js';

/**
 * Refuses a batch with a record timestamp outside [now − before, now + after]. The upper bound is read from the
 * batch's maxTimestamp (which the log trusts for its time index and retention as well); the lower bound, when
 * set, needs each record's timestamp delta, so only then are the records walked.
 */
export function checkTimestamps(view: RecordBatch, nowMs: number, config: LogConfig): void {
  const { timestampBeforeMaxMs: before, timestampAfterMaxMs: after } = config;
  const max = view.maxTimestamp;
  if (max !== NO_TIMESTAMP && max - nowMs > after) throw outOfRange(max, nowMs, config);
  if (before >= Number.MAX_SAFE_INTEGER) return;
  const min = minRecordTimestamp(view);
  if (min !== NO_TIMESTAMP && nowMs - min > before) throw outOfRange(min, nowMs, config);
}

function outOfRange(timestamp: number, nowMs: number, config: LogConfig): KafkaError {
  const low = config.timestampBeforeMaxMs >= Number.MAX_SAFE_INTEGER ? '-∞' : String(nowMs - config.timestampBeforeMaxMs);
  const high = config.timestampAfterMaxMs >= Number.MAX_SAFE_INTEGER ? '∞' : String(nowMs + config.timestampAfterMaxMs);
  return new KafkaError(
    ErrorCode.INVALID_TIMESTAMP,
    `record timestamp ${timestamp} is out of range: the topic accepts [${low}, ${high}] ` +
      '(message.timestamp.before.max.ms, message.timestamp.after.max.ms)',
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
