// The one logger factory. JSON lines (pino) on stderr, so stdout stays free for CLI output. Secrets never reach a log
// line: known secret fields are redacted by pino itself, and redactSecrets() scrubs whole config objects before they
// are logged.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Key names whose values are secrets wherever they appear (SASL, SCRAM, TLS, shadow-link credentials). */
const SECRET_KEY = /pass(word)?$|secret|token|credential|private[._-]?key|sasl\.jaas\.config|authorization|cookie/i;

const SECRET_FIELDS = ['password', 'secret', 'token', 'authorization', 'cookie', 'saltedPassword', 'serverKey', 'storedKey'];

/**
 * pino redact paths: each secret field at the top level and up to four levels down (pino wildcards match one
 * level each), plus request headers.
 */
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`, `*.*.*.*.${f}`]).concat([
  'req.headers.authorization',
  'req.headers.cookie',
  '*["sasl.jaas.config"]',
  '*["ssl.key.password"]',
  '*["ssl.keystore.password"]',
  '*["ssl.truststore.password"]',
]);

export const REDACTED = '[REDACTED]';

export interface LoggerOptions {
  level?: LogLevel;
  /** the component, e.g. "umbra" or "shadow" (pino's `name` field) */
  name?: string;
  /** where lines go; defaults to stderr (fd 2), written synchronously so a crash does not lose the last lines */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name ?? 'umbra',
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      base: { pid: process.pid },
    },
    opts.destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

/** A copy of `value` with every secret-looking key's value replaced; for logging configs and API payloads. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => redactSecrets(v)) as T;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined && typeof v !== 'object' ? REDACTED : redactSecrets(v);
  }
  return out as T;
}
