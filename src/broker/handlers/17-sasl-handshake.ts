// SaslHandshake (key 17), v0-1. Behaviour:
// - Picks the connection's SASL mechanism. Enabled → NONE and the enabled list; otherwise
//   UNSUPPORTED_SASL_MECHANISM (33) with the enabled list, and the connection closes after the answer (Kafka).
// - v0: the next frames are raw length-prefixed SASL tokens without a Kafka header (kafka-python 2.0); the
//   connection layer routes them to the session (SaslSession.expectsRawToken). v1: tokens come in SaslAuthenticate.
// - A second handshake during authentication → ILLEGAL_SASL_STATE (34) and close. After authentication, or on a
//   listener without SASL, → ILLEGAL_SASL_STATE and the connection stays open (Kafka's KafkaApis answers so).
// - Answered before authentication.
import * as Req from '../../protocol/generated/messages/SaslHandshakeRequest.js';
import * as Res from '../../protocol/generated/messages/SaslHandshakeResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { saslOf, securityOf } from '../../security/context.js';
import { defineHandler } from '../registry.js';

export default defineHandler<Req.SaslHandshakeRequest, Res.SaslHandshakeResponse>(Req, Res, {
  beforeAuth: true,
  handle(ctx, req, version) {
    const session = saslOf(ctx);
    if (!session) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [...(securityOf(ctx)?.enabledMechanisms ?? [])] };
    const res = session.handshake(req.mechanism, version);
    if (res.close) ctx.onResponseDone(() => ctx.closeConnection(`SaslHandshake failed (${res.errorCode})`));
    return { errorCode: res.errorCode, mechanisms: res.mechanisms };
  },
});
