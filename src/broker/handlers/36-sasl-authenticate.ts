// SaslAuthenticate (key 36), v0-2. Behaviour:
// - Carries one SASL token each way after a SaslHandshake v1 (PLAIN: one round; SCRAM: two).
// - Bad credentials → SASL_AUTHENTICATION_FAILED (58) with a message that does not say whether the user exists;
//   out of order → ILLEGAL_SASL_STATE (34). Either way the connection closes once the answer is written, as in Kafka.
// - After success, or on a listener without SASL → ILLEGAL_SASL_STATE, connection kept (KafkaApis).
// - v1+ reports the session lifetime: 0, no re-authentication (KIP-368 not offered).
// - Answered before authentication.
import * as Req from '../../protocol/generated/messages/SaslAuthenticateRequest.js';
import * as Res from '../../protocol/generated/messages/SaslAuthenticateResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { saslOf } from '../../security/context.js';
import { defineHandler } from '../registry.js';

const EMPTY = Buffer.alloc(0);

export default defineHandler<Req.SaslAuthenticateRequest, Res.SaslAuthenticateResponse>(Req, Res, {
  beforeAuth: true,
  async handle(ctx, req) {
    const session = saslOf(ctx);
    if (!session) {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SASL authentication is not enabled on this listener', authBytes: EMPTY, sessionLifetimeMs: 0 };
    }
    const res = await session.authenticate(req.authBytes);
    if (res.ok) return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: res.token, sessionLifetimeMs: res.sessionLifetimeMs };
    if (res.close) ctx.onResponseDone(() => ctx.closeConnection(`SaslAuthenticate failed (${res.errorCode})`));
    return { errorCode: res.errorCode, errorMessage: res.errorMessage, authBytes: EMPTY, sessionLifetimeMs: 0 };
  },
});
