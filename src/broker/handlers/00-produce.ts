// Produce (key 0). Decodes v3-13; advertises 0-13.
//
// Behaviour:
// - Batches are appended as received (storage rewrites only baseOffset and partitionLeaderEpoch); the CRC is
//   checked there. Per-partition failures are error codes in the response.
// - acks=1 answers after the write to the page cache; acks=-1 (all) after an fsync that covers the write (one
//   fsync serves every request appended before it started); acks=0 sends no response at all, and on an error
//   the connection is closed, which is how Kafka tells an acks=0 producer something went wrong.
// - Produce does not create topics (Metadata does).
// - The request's record batches are views of a frame buffer the connection reuses for its next request (see
//   Connection.dispatch): they may be used only in the synchronous part of handle(), before the first await, and
//   nothing that outlives it (the response, a log line, a pending flush) may keep a view of them.
//
// Version notes: Kafka 4.x advertises Produce from v0 but rejects v0-2 on the wire (KAFKA-18659): librdkafka
// before 2.11.1 only compresses when the advertised range includes v0. v13 addresses topics by id.
// v12's transaction-v2 semantics apply only with the `transaction.version` feature, which we do not advertise.
import * as Req from '../../protocol/generated/messages/ProduceRequest.js';
import * as Res from '../../protocol/generated/messages/ProduceResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode, KafkaError, errorCodeOf } from '../../protocol/errors.js';
import type { PartitionLog } from '../../storage/types.js';
import { defineHandler } from '../registry.js';

type PartitionResponse = Input<Res.PartitionProduceResponse>;

export default defineHandler<Req.ProduceRequest, Res.ProduceResponse>(Req, Res, {
  versions: [3, 13],
  advertisedMinVersion: 0,
  async handle(ctx, req, version) {
    const { partitions, logger } = ctx.services;
    const acks = req.acks;
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      return errorForAll(req, version, ErrorCode.INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1, not ${acks}`);
    }
    if (req.transactionalId !== null) {
      return errorForAll(req, version, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactions are not supported yet');
    }

    const toFlush: { log: PartitionLog; resp: PartitionResponse }[] = [];
    let failed = false;
    const responses = req.topicData.map((topic) => {
      const record = version >= 13 ? partitions.topicById(topic.topicId) : partitions.topic(topic.name);
      const partitionResponses = topic.partitionData.map((pd): PartitionResponse => {
        const resp: PartitionResponse = { index: pd.index, errorCode: ErrorCode.NONE, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
        const log = record ? partitions.log(record.name, pd.index) : undefined;
        if (!log) {
          resp.errorCode = version >= 13 && !record ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          failed = true;
          return resp;
        }
        if (!pd.records || pd.records.length === 0) {
          resp.errorCode = ErrorCode.INVALID_RECORD;
          resp.errorMessage = 'produce request without record batches';
          failed = true;
          return resp;
        }
        try {
          // Synchronous, and the log keeps no view of pd.records afterwards (PartitionLog.append).
          const result = partitions.append(log, pd.records, { leaderEpoch: 0, offsets: 'assign' });
          resp.baseOffset = result.baseOffset;
          resp.logAppendTimeMs = result.logAppendTimeMs;
          resp.logStartOffset = result.logStartOffset;
          if (acks === -1 && !result.duplicate) toFlush.push({ log, resp });
        } catch (err) {
          resp.errorCode = errorCodeOf(err);
          resp.errorMessage = err instanceof Error ? err.message : String(err);
          failed = true;
          if (!(err instanceof KafkaError)) logger.error({ err, topic: log.topic, partition: log.partition }, 'append failed');
        }
        return resp;
      });
      return { name: topic.name, topicId: topic.topicId, partitionResponses };
    });

    if (acks === 0) {
      if (failed) ctx.closeConnection('error on an acks=0 produce');
      return null;
    }
    // From here on the request bytes may already hold the connection's next request.
    if (toFlush.length > 0) {
      // Each distinct log is flushed once; a failed fsync means the write may not be on disk, so the producer
      // must not be told it is.
      const byLog = new Map<PartitionLog, PartitionResponse[]>();
      for (const { log, resp } of toFlush) {
        const list = byLog.get(log);
        if (list) list.push(resp);
        else byLog.set(log, [resp]);
      }
      await Promise.all(
        [...byLog].map(async ([log, resps]) => {
          try {
            await log.flush();
          } catch (err) {
            logger.error({ err, topic: log.topic, partition: log.partition }, 'fsync failed');
            for (const r of resps) {
              r.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
              r.errorMessage = 'the write could not be made durable';
              r.baseOffset = -1;
            }
          }
        }),
      );
    }
    return { responses, throttleTimeMs: 0 };
  },
});

function errorForAll(req: Req.ProduceRequest, version: number, errorCode: number, message: string): Input<Res.ProduceResponse> {
  void version;
  return {
    responses: req.topicData.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode, errorMessage: message, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 })),
    })),
    throttleTimeMs: 0,
  };
}
