// ApiVersions (key 18), v0-4. Behaviour:
// - The table comes from the handler registry, so only implemented APIs and versions are advertised.
// - An unknown (too new) version is answered by the connection layer in v0 format with UNSUPPORTED_VERSION and
//   our range for key 18 (KIP-511), never by closing the connection.
// - v3+ carries the client software name/version; Kafka rejects malformed ones with INVALID_REQUEST, which makes
//   librdkafka retry with v0.
// - Answered before SASL authentication.
import * as Req from '../../protocol/generated/messages/ApiVersionsRequest.js';
import * as Res from '../../protocol/generated/messages/ApiVersionsResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';

const SOFTWARE_TOKEN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export default defineHandler<Req.ApiVersionsRequest, Res.ApiVersionsResponse>(Req, Res, {
  beforeAuth: true,
  handle(ctx, req, version) {
    const apiKeys = ctx.services.registry.advertised();
    if (version >= 3 && (!SOFTWARE_TOKEN.test(req.clientSoftwareName) || !SOFTWARE_TOKEN.test(req.clientSoftwareVersion))) {
      return { errorCode: ErrorCode.INVALID_REQUEST, apiKeys };
    }
    return { errorCode: ErrorCode.NONE, apiKeys, throttleTimeMs: 0, finalizedFeaturesEpoch: -1 };
  },
});
