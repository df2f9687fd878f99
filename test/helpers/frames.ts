// Raw Kafka request frames for tests that talk to a broker below any client: size prefix, the request header in
// the version the API's flexibility calls for, then the body (written by a generated codec, or arbitrary bytes).
import { Writer } from '../../src/protocol/primitives.js';
import { writeRequestHeader } from '../../src/protocol/generated/messages/RequestHeader.js';
import { API_CODECS } from '../../src/protocol/generated/api.js';

export function requestFrame(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Buffer | ((w: Writer) => void),
  opts: { clientId?: string; headerVersion?: number } = {},
): Buffer {
  const codec = API_CODECS.get(apiKey);
  const flexible = codec !== undefined && codec.firstFlexibleVersion >= 0 && version >= codec.firstFlexibleVersion;
  const w = new Writer();
  const size = w.reserveInt32();
  writeRequestHeader(w, opts.headerVersion ?? (flexible ? 2 : 1), {
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId,
    clientId: opts.clientId ?? 'umbra-test',
  });
  if (Buffer.isBuffer(body)) w.raw(body);
  else body(w);
  Writer.patchInt32(size, w.length - 4);
  return w.toBuffer();
}
