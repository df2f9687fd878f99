// Produce (key 0). Decodes v3-13; advertises 0-13.
//
// Behaviour:
// - Batches are appended as received (storage rewrites only baseOffset and partitionLeaderEpoch); the CRC is
//   checked there. Per-partition failures are error codes in the response, with the refused records' indexes in
//   recordErrors (v8+) when some records were at fault (storage/produce-policy.ts). One batch per partition, as
//   Kafka requires of magic 2.
// - acks=1 answers after the write to the page cache (unless the append reached the topic's flush.messages: then
//   after the fsync it started, as Kafka flushes before answering); acks=-1 (all) after an fsync that covers the
//   write (one fsync serves every request appended before it started); acks=0 sends no response at all, and on an error
//   the connection is closed, which is how Kafka tells an acks=0 producer something went wrong.
// - Produce does not create topics (Metadata does).
// - Authorization (Kafka's handleProduceRequest): WRITE on each topic, checked once per distinct topic and only
//   when an authorizer is configured; per partition, an unknown topic id (v13) comes first, then
//   TOPIC_AUTHORIZATION_FAILED, then UNKNOWN_TOPIC_OR_PARTITION (so a topic one may not write to is never
//   revealed to exist). Idempotent batches need nothing more (KIP-679: IDEMPOTENT_WRITE is InitProducerId's check).
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
import { ErrorCode, KafkaError, RecordValidationError, errorCodeOf } from '../../protocol/errors.js';
import { frameSizeAt } from '../../protocol/record-batch.js';
import type { PartitionLog } from '../../storage/types.js';
import { defineHandler } from '../registry.js';
import { authorizationEnabled, authorizeTopics } from '../../security/authorizer-helpers.js';

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

    // null = every topic (authorization off: no checks at all on this path)
    const writable = authorizationEnabled(ctx) ? authorizeTopics(ctx, 'WRITE', topicNames(req, version, partitions)) : null;

    const toFlush: { log: PartitionLog; resp: PartitionResponse }[] = [];
    let failed = false;
    const responses = req.topicData.map((topic) => {
      const record = version >= 13 ? partitions.topicById(topic.topicId) : partitions.topic(topic.name);
      const name = version >= 13 ? record?.name : topic.name;
      const partitionResponses = topic.partitionData.map((pd): PartitionResponse => {
        const resp: PartitionResponse = { index: pd.index, errorCode: ErrorCode.NONE, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
        if (version >= 13 && !record) {
          resp.errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
          failed = true;
          return resp;
        }
        if (writable !== null && !writable.has(name!)) {
          resp.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          failed = true;
          return resp;
        }
        const log = record ? partitions.log(record.name, pd.index) : undefined;
        if (!log) {
          resp.errorCode = record ? partitions.missingLogError(record.name, pd.index) : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          failed = true;
          return resp;
        }
        const readOnly = ctx.services.shadow?.readOnlyReason(log.topic);
        if (readOnly !== undefined) {
          ctx.services.shadow!.noteRefusedWrite(log.topic, 'Produce', `${ctx.connection.clientId ?? ''}@${ctx.connection.remoteAddress}`);
          resp.errorCode = ErrorCode.POLICY_VIOLATION;
          resp.errorMessage = readOnly;
          failed = true;
          return resp;
        }
        if (!pd.records || pd.records.length === 0) {
          resp.errorCode = ErrorCode.INVALID_RECORD;
          resp.errorMessage = 'produce request without record batches';
          failed = true;
          return resp;
        }
        const first = frameSizeAt(pd.records, 0);
        if (first > 0 && first < pd.records.length) {
          // Kafka's LogValidator: with magic 2 (every Produce from v3) a partition gets exactly one batch.
          resp.errorCode = ErrorCode.INVALID_RECORD;
          resp.errorMessage = 'more than one record batch for the partition: a produce request carries one batch per partition';
          failed = true;
          return resp;
        }
        try {
          // Synchronous, and the log keeps no view of pd.records afterwards (PartitionLog.append).
          const result = partitions.append(log, pd.records, { leaderEpoch: 0, offsets: 'assign' });
          resp.baseOffset = result.baseOffset;
          resp.logAppendTimeMs = result.logAppendTimeMs;
          resp.logStartOffset = result.logStartOffset;
          if ((acks === -1 || result.flushDue) && !result.duplicate) toFlush.push({ log, resp });
        } catch (err) {
          resp.errorCode = errorCodeOf(err);
          resp.errorMessage = err instanceof Error ? err.message : String(err);
          if (err instanceof RecordValidationError) {
            resp.recordErrors = err.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message }));
          }
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

/** The names of the topics a request writes to (v13 addresses them by id: unknown ids are left out). */
function topicNames(req: Req.ProduceRequest, version: number, partitions: { topicById(id: string): { name: string } | undefined }): string[] {
  if (version < 13) return req.topicData.map((t) => t.name);
  const names: string[] = [];
  for (const t of req.topicData) {
    const name = partitions.topicById(t.topicId)?.name;
    if (name !== undefined) names.push(name);
  }
  return names;
}

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
