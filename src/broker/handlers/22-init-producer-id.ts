// InitProducerId (key 22), v0-5 (v6 is unstable in Kafka 4.1 and not advertised).
//
// Behaviour: idempotent producers (no transactional id) get a fresh producer id with epoch 0. A producer that
// presents its current id and epoch (v3+, KIP-360) gets the same id with the epoch bumped, so it can reset its
// sequences without losing its identity. Transactional ids are refused until transactions are implemented.
// Authorization (Kafka's handleInitProducerIdRequest): a transactional id needs WRITE on it
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE
// on at least one topic (any ACL that would allow WRITE on some topic), else CLUSTER_AUTHORIZATION_FAILED.
import * as Req from '../../protocol/generated/messages/InitProducerIdRequest.js';
import * as Res from '../../protocol/generated/messages/InitProducerIdResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import { authorizeByResourceType, authorizeCluster, authorizeTransactionalId } from '../../security/authorizer-helpers.js';

const MAX_EPOCH = 32767;

export default defineHandler<Req.InitProducerIdRequest, Res.InitProducerIdResponse>(Req, Res, {
  async handle(ctx, req) {
    if (req.transactionalId !== null) {
      // The same code either way until transactions exist; the check still runs so a denial is logged as one.
      authorizeTransactionalId(ctx, 'WRITE', req.transactionalId);
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    if (!authorizeCluster(ctx, 'IDEMPOTENT_WRITE', { logIfDenied: false }) && !authorizeByResourceType(ctx, 'WRITE', 'TOPIC')) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    if (req.producerId >= 0 && req.producerEpoch >= 0 && req.producerEpoch < MAX_EPOCH - 1) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: req.producerId, producerEpoch: req.producerEpoch + 1 };
    }
    const producerId = await ctx.services.producerIds.allocate();
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
  },
});
