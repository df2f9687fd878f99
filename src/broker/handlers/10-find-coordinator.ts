// FindCoordinator (key 10), v0-6.
// Behaviour: one node coordinates everything, so a group key (type 0) or a transactional id (type 1) is answered
// with this node (ctx.services.nodeId at the advertised host/port). A group key gets COORDINATOR_NOT_AVAILABLE
// until the group coordinator has been started (and after it closed), as Kafka answers while __consumer_offsets
// does not exist yet; while it loads, the node is named and group requests get COORDINATOR_LOAD_IN_PROGRESS.
// Other key types (2 = share group, unknown) get INVALID_REQUEST: Umbra has no share-group coordinator.
// v0-3 carry one key (Key/KeyType, KeyType from v1); v4+ batch them (CoordinatorKeys -> Coordinators, KIP-699).
// Authorization (Kafka's getCoordinator), before anything else: a group key needs DESCRIBE on the group
// (GROUP_AUTHORIZATION_FAILED), a transactional id DESCRIBE on it (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); the
// error is per key from v4, the whole answer before.
import * as Req from '../../protocol/generated/messages/FindCoordinatorRequest.js';
import * as Res from '../../protocol/generated/messages/FindCoordinatorResponse.js';
import { ErrorCode, errorName } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import { authorizeGroup, authorizeTransactionalId } from '../../security/authorizer-helpers.js';

const GROUP = 0;
const TRANSACTION = 1;

export default defineHandler<Req.FindCoordinatorRequest, Res.FindCoordinatorResponse>(Req, Res, {
  versions: [0, 6],
  handle(ctx, req, version) {
    const { nodeId, groups } = ctx.services;
    const advertised = ctx.connection.listener.advertised;
    const lookup = (key: string, keyType: number): { errorCode: number; errorMessage: string | null; nodeId: number; host: string; port: number } => {
      let errorCode: number = ErrorCode.NONE;
      if (keyType === GROUP && !authorizeGroup(ctx, 'DESCRIBE', key)) errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      else if (keyType === TRANSACTION && !authorizeTransactionalId(ctx, 'DESCRIBE', key)) errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      else if (keyType !== GROUP && keyType !== TRANSACTION) errorCode = ErrorCode.INVALID_REQUEST;
      else if (keyType === GROUP && (groups.state === 'inactive' || groups.state === 'closed')) errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      if (errorCode !== ErrorCode.NONE) return { errorCode, errorMessage: errorName(errorCode), nodeId: -1, host: '', port: -1 };
      return { errorCode, errorMessage: null, nodeId, host: advertised.host, port: advertised.port };
    };
    if (version >= 4) {
      return { throttleTimeMs: 0, coordinators: req.coordinatorKeys.map((key) => ({ key, ...lookup(key, req.keyType) })) };
    }
    return { throttleTimeMs: 0, ...lookup(req.key, req.keyType) };
  },
});
