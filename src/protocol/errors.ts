// Errors that carry a Kafka error code. Handlers turn them into the error code of the partition, topic or
// group they concern (the "second tier": inside the response); only ProtocolError closes a connection.
import { ERROR_INFO, ErrorCode, type ErrorCodeName } from './generated/error-codes.js';

export { ErrorCode, type ErrorCodeName };

export class KafkaError extends Error {
  override name = 'KafkaError';
  readonly code: number;
  constructor(code: number, message?: string) {
    super(message ?? errorName(code));
    this.code = code;
  }
}

/** One refused record of a produced batch: its index in the batch, and why (ProduceResponse recordErrors, KIP-467). */
export interface RecordError {
  batchIndex: number;
  message: string;
}

/**
 * A produced batch refused because of some of its records (Kafka's RecordValidationException): the whole batch is
 * refused, and the response names the records at fault so a client can say which ones they were.
 */
export class RecordValidationError extends KafkaError {
  override name = 'RecordValidationError';
  constructor(
    code: number,
    message: string,
    readonly recordErrors: RecordError[],
  ) {
    super(code, message);
  }
}

export function errorName(code: number): string {
  return ERROR_INFO.get(code)?.[0] ?? `UNKNOWN_ERROR_${code}`;
}

export function isRetriable(code: number): boolean {
  return ERROR_INFO.get(code)?.[1] ?? false;
}

/** The Kafka error code of anything thrown: KafkaError keeps its code, anything else is UNKNOWN_SERVER_ERROR. */
export function errorCodeOf(err: unknown): number {
  return err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
}
