// What every `umbra` command shares: the --brokers/--format options, the client, output in text/json/yaml, and
// the error convention (a message on stderr, exit code 1 for a failure, 2 for a usage error).
import { Command, InvalidArgumentError, Option } from 'commander';
import YAML from 'yaml';
import { KafkaClient } from '../client/client.js';
import type { Authenticator } from '../client/connection.js';
import { saslAuthenticator } from '../security/sasl-client.js';
import { SASL_MECHANISMS, type SaslMechanism } from '../config.js';
import { KafkaError } from '../client/errors.js';

export const DEFAULT_BROKERS = '127.0.0.1:9092';

export type Format = 'text' | 'json' | 'yaml';

export interface ClientCommandOptions {
  brokers: string;
  format: Format;
}

/** A failure the user can act on: printed without a stack trace. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Adds --brokers and --format (with the formats the command supports) to a command. */
export function withClientOptions(cmd: Command, formats: readonly Format[] = ['text', 'json', 'yaml']): Command {
  return cmd
    .addOption(
      new Option('-b, --brokers <list>', 'bootstrap brokers, host:port[,host:port…]').env('UMBRA_BROKERS').default(DEFAULT_BROKERS),
    )
    .addOption(new Option('-f, --format <format>', 'output format').choices([...formats]).default('text'))
    .addOption(new Option('--user <name>', `log in to a SASL listener as this user (password from ${PASSWORD_ENV})`))
    .addOption(new Option('--sasl-mechanism <mechanism>', 'SASL mechanism for --user').choices([...SASL_MECHANISMS]).default('SCRAM-SHA-512'));
}

/** What a command needs to reach a broker: where, and (for a SASL listener) as whom. */
export interface ConnectOptions {
  brokers: string;
  /** log in as this user; the password comes from UMBRA_PASSWORD, never from a flag */
  user?: string;
  saslMechanism?: SaslMechanism;
}

export const PASSWORD_ENV = 'UMBRA_PASSWORD';

export function makeClient(target: string | ConnectOptions): KafkaClient {
  const o = typeof target === 'string' ? { brokers: target } : target;
  let authenticate: Authenticator | undefined;
  if (o.user !== undefined) {
    const password = process.env[PASSWORD_ENV];
    if (password === undefined || password === '') throw new CliError(`--user ${o.user}: set the password in ${PASSWORD_ENV}`, 2);
    authenticate = saslAuthenticator({ mechanism: o.saslMechanism ?? 'SCRAM-SHA-512', username: o.user, password });
  }
  try {
    return new KafkaClient({ brokers: o.brokers, clientId: 'umbra-cli', connectTimeoutMs: 5000, retries: 3, ...(authenticate ? { authenticate } : {}) });
  } catch (err) {
    throw new CliError(`--brokers: ${(err as Error).message}`, 2);
  }
}

/** Runs fn with a client and always closes it. */
export async function withClient<T>(target: string | ConnectOptions, fn: (client: KafkaClient) => Promise<T>): Promise<T> {
  const client = makeClient(target);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Writes to stdout; a closed pipe (`umbra consume | head`) ends the process quietly. */
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Prints a result in the chosen format; `text` renders the human form. */
export function printResult(format: Format, data: unknown, text: () => string): void {
  if (format === 'json') out(JSON.stringify(data, null, 2));
  else if (format === 'yaml') out(YAML.stringify(data));
  else out(text());
}

/** A plain text table: columns padded to their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | boolean | null)[])[]): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** Parses "k=v" (a value may contain '='). */
export function parseKeyValue(s: string, what = 'config'): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw new CliError(`${what} '${s}' is not key=value`, 2);
  return [s.slice(0, i), s.slice(i + 1)];
}

/** commander collector for repeatable options */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function parseIntOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`${name} must be an integer.`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}.`);
    return n;
  };
}

/** The message to show for an error: Kafka errors carry their name; unexpected ones their stack in debug. */
export function describeError(err: unknown): string {
  if (err instanceof CliError || err instanceof KafkaError) return err.message;
  if (err instanceof Error) return process.env.UMBRA_DEBUG ? (err.stack ?? err.message) : err.message;
  return String(err);
}

/** Wraps an action: errors become "umbra: <message>" on stderr and a non-zero exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.stderr.write(`umbra: ${describeError(err)}\n`);
      process.exitCode = err instanceof CliError ? err.exitCode : 1;
    }
  };
}
