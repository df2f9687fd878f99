// The handler registry. Each API lives in one file under handlers/ that declares its key, the versions it
// serves and its handle function; ApiVersions is derived from this registry, so the broker can never advertise
// an API or a version it does not implement.
import type { Reader, Writer, Input } from '../protocol/primitives.js';
import { API_CODECS, type ApiCodec } from '../protocol/generated/api.js';
import type { RequestContext } from './context.js';

export interface ApiHandler<Req = unknown, Res = unknown> {
  apiKey: number;
  name: string;
  /** lowest version decoded and answered */
  minVersion: number;
  maxVersion: number;
  /** advertised minimum when it differs from minVersion (Kafka advertises Produce from 0, see handlers/00-produce.ts) */
  advertisedMinVersion?: number;
  readRequest(r: Reader, version: number): Req;
  writeResponse(w: Writer, version: number, res: Input<Res>): void;
  /** null = send no response (Produce with acks=0) */
  handle(ctx: RequestContext, req: Req, version: number): Promise<Input<Res> | null> | Input<Res> | null;
  /** requests allowed before SASL authentication completes */
  beforeAuth?: boolean;
}

interface CodecModule<Req, Res> {
  read(r: Reader, v: number): Req;
  write(w: Writer, v: number, m: Input<Res>): void;
}

/**
 * Declares a handler from the generated request/response modules. `versions` defaults to the spec's range up to
 * its last stable version.
 */
export function defineHandler<Req, Res>(
  request: CodecModule<Req, never> & { apiKey: number; minVersion: number; maxStableVersion: number },
  response: { write(w: Writer, v: number, m: Input<Res>): void },
  spec: {
    versions?: [number, number];
    advertisedMinVersion?: number;
    beforeAuth?: boolean;
    handle: (ctx: RequestContext, req: Req, version: number) => Promise<Input<Res> | null> | Input<Res> | null;
  },
): ApiHandler<Req, Res> {
  const codec: ApiCodec | undefined = API_CODECS.get(request.apiKey);
  if (!codec) throw new Error(`no codec for api key ${request.apiKey}`);
  const [minVersion, maxVersion] = spec.versions ?? [request.minVersion, request.maxStableVersion];
  return {
    apiKey: request.apiKey,
    name: codec.name,
    minVersion,
    maxVersion,
    advertisedMinVersion: spec.advertisedMinVersion,
    readRequest: request.read,
    writeResponse: response.write,
    handle: spec.handle,
    beforeAuth: spec.beforeAuth,
  };
}

export class HandlerRegistry {
  private readonly byKey = new Map<number, ApiHandler>();

  register(h: ApiHandler<any, any>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (this.byKey.has(h.apiKey)) throw new Error(`two handlers for api key ${h.apiKey}`);
    this.byKey.set(h.apiKey, h as ApiHandler);
  }

  get(apiKey: number): ApiHandler | undefined {
    return this.byKey.get(apiKey);
  }

  /** the ApiVersions table: every registered key with its advertised range, by key */
  advertised(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.byKey.values()]
      .sort((a, b) => a.apiKey - b.apiKey)
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion }));
  }
}
