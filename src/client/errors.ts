// Errors the client raises. Everything a caller sees is a KafkaError carrying a Kafka error code, so one check
// (`err.code`, `isRetriable(err.code)`) covers broker answers and transport failures alike: a closed or failed
// connection is NETWORK_EXCEPTION (retriable), a request that got no answer in time is REQUEST_TIMED_OUT.
import { ErrorCode, KafkaError, errorName } from '../protocol/errors.js';

export { KafkaError, ErrorCode, errorName };
export { isRetriable } from '../protocol/errors.js';

/**
 * A KafkaError whose message starts with the error's name, then what it concerns and the broker's own message:
 * "TOPIC_ALREADY_EXISTS: topic 'orders': Topic 'orders' already exists."
 */
export function kafkaError(code: number, context?: string, serverMessage?: string | null): KafkaError {
  let msg = errorName(code);
  if (context) msg += `: ${context}`;
  if (serverMessage && serverMessage !== msg) msg += `: ${serverMessage}`;
  return new KafkaError(code, msg);
}

/** Throws kafkaError(code, …) unless code is NONE. */
export function throwIfError(code: number, context?: string, serverMessage?: string | null): void {
  if (code !== ErrorCode.NONE) throw kafkaError(code, context, serverMessage);
}

export function networkError(message: string): KafkaError {
  return new KafkaError(ErrorCode.NETWORK_EXCEPTION, `NETWORK_EXCEPTION: ${message}`);
}
