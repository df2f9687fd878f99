// Admin API errors: every failure answers `{ code, message }` with an HTTP status that fits. Kafka errors keep their
// Kafka name as the code (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_ALREADY_EXISTS, ...) so the CLI and the wire protocol
// speak of the same thing; the admin API's own codes are the closed list below.
import { ErrorCode, KafkaError, errorName, isRetriable } from '../protocol/errors.js';
import { ShadowLinkError } from '../shadow/service.js';
import { ShadowConfigError, ShadowLinkOverlapError } from '../shadow/types.js';

export const AdminErrorCodes = {
  /** no such route */
  NOT_FOUND: 404,
  /** the request failed validation (path, query or body) */
  INVALID_REQUEST: 400,
  /** the body's media type is not accepted */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** the broker is secured and the request carried no valid credentials */
  UNAUTHENTICATED: 401,
  /** valid credentials of a user who is not a superuser */
  FORBIDDEN: 403,
  /** a bug or an unexpected failure; the log has the details */
  INTERNAL_ERROR: 500,
} as const;
export type AdminErrorCode = keyof typeof AdminErrorCodes;

export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  static of(code: AdminErrorCode, message: string): AdminError {
    return new AdminError(AdminErrorCodes[code], code, message);
  }
}

const KAFKA_STATUS = new Map<number, number>([
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 404],
  [ErrorCode.UNKNOWN_TOPIC_ID, 404],
  [ErrorCode.RESOURCE_NOT_FOUND, 404],
  [ErrorCode.GROUP_ID_NOT_FOUND, 404],
  [ErrorCode.TOPIC_ALREADY_EXISTS, 409],
  [ErrorCode.NON_EMPTY_GROUP, 409],
  [ErrorCode.POLICY_VIOLATION, 409],
  [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 403],
  [ErrorCode.GROUP_AUTHORIZATION_FAILED, 403],
  [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 403],
  [ErrorCode.TOPIC_DELETION_DISABLED, 403],
  [ErrorCode.UNKNOWN_SERVER_ERROR, 500],
  [ErrorCode.KAFKA_STORAGE_ERROR, 500],
]);

/** The HTTP status for a Kafka error code: not found, conflict, forbidden, bad input (INVALID_*), unavailable (retriable). */
export function httpStatusForKafkaError(code: number): number {
  const known = KAFKA_STATUS.get(code);
  if (known) return known;
  if (errorName(code).startsWith('INVALID_')) return 400;
  if (isRetriable(code)) return 503;
  return 400;
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  validation?: unknown;
  message: string;
}

/** What an error answers. `field` only for a rejected shadow link config (INVALID_CONFIG). */
export interface ErrorResponseBody {
  code: string;
  message: string;
  field?: string;
}

/** Maps anything thrown by a route to the status and body sent. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorResponseBody } {
  if (err instanceof AdminError) return { status: err.statusCode, body: { code: err.code, message: err.message } };
  // Shadow link errors carry their own code and status (src/shadow/service.ts). The config and overlap errors are
  // mapped too, in case the link manager lets one through unwrapped: they are the caller's fault, not a 500.
  if (err instanceof ShadowLinkError) {
    const body: ErrorResponseBody = { code: err.code, message: err.message };
    if (err.field !== undefined) body.field = err.field;
    return { status: err.statusCode, body };
  }
  if (err instanceof ShadowConfigError) return { status: 400, body: { code: 'INVALID_CONFIG', message: err.message, field: err.field } };
  if (err instanceof ShadowLinkOverlapError) return { status: 409, body: { code: 'CONFLICT', message: err.message } };
  if (err instanceof KafkaError) return { status: httpStatusForKafkaError(err.code), body: { code: errorName(err.code), message: err.message } };
  const e = err as FastifyLikeError;
  if (e && typeof e === 'object' && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // fastify's own client errors: schema validation, bad JSON, unsupported content type, body too large
    const code = e.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : e.statusCode === 404 ? 'NOT_FOUND' : 'INVALID_REQUEST';
    return { status: e.statusCode, body: { code, message: e.message } };
  }
  return { status: 500, body: { code: 'INTERNAL_ERROR', message: 'internal error; see the broker log' } };
}
