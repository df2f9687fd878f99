// `umbra user create|list|delete`: SCRAM users, over the Kafka API (AlterUserScramCredentials,
// DescribeUserScramCredentials) so it works against Umbra and Kafka alike, or with --data-dir directly on a
// stopped broker's data directory, which is how the first (super)user of a secured cluster is made.
//
// Passwords never come from a flag: the new user's password is read from stdin (--password-stdin; on a terminal
// it is prompted for without echo), the password of the --user the CLI logs in as from UMBRA_PASSWORD. Neither
// is ever printed. Over the Kafka API the password itself is not sent either: the CLI salts and iterates it
// (PBKDF2) and sends the SaltedPassword, as Kafka's Admin client does.
import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { KafkaClient } from '../client/client.js';
import type { Authenticator } from '../client/connection.js';
import { ErrorCode, throwIfError } from '../client/errors.js';
import { CredentialError, withDataDirCredentials, type UserCredentials } from '../security/credentials.js';
import { DEFAULT_ITERATIONS, MAX_ITERATIONS, MIN_ITERATIONS, SALT_BYTES, saltedPassword, scramMechanism, scramMechanismByType } from '../security/scram.js';
import { saslAuthenticator } from '../security/sasl-client.js';
import { SASL_MECHANISMS, type SaslMechanismName, type ScramMechanismName } from '../security/types.js';
import { CliError, DEFAULT_BROKERS, action, parseIntOption, printResult, table, type Format } from './common.js';

const SCRAM_NAMES: readonly ScramMechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];
export const PASSWORD_ENV = 'UMBRA_PASSWORD';

interface UserCommandOptions {
  brokers: string;
  format: Format;
  /** authenticate as this user (password from UMBRA_PASSWORD) */
  user?: string;
  saslMechanism: SaslMechanismName;
  dataDir?: string;
  nodeId?: number;
}

/** Adds the options every `user` subcommand shares. */
function withUserOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-b, --brokers <list>', 'bootstrap brokers, host:port[,host:port…]').env('UMBRA_BROKERS').default(DEFAULT_BROKERS))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
    .addOption(new Option('--user <name>', `log in to the broker as this SCRAM/PLAIN user (password from ${PASSWORD_ENV})`))
    .addOption(new Option('--sasl-mechanism <mechanism>', 'SASL mechanism for --user').choices([...SASL_MECHANISMS]).default('SCRAM-SHA-512'))
    .addOption(new Option('--data-dir <dir>', "work directly on a STOPPED broker's data directory instead of through --brokers"))
    .addOption(new Option('--node-id <id>', 'node id for a fresh --data-dir (default: the one recorded there, else 0)').argParser(parseIntOption('--node-id', 0)));
}

/** The `umbra user` command tree. */
export function userCommand(): Command {
  const user = new Command('user').description('create, list and delete SCRAM users');

  withUserOptions(
    user
      .command('create')
      .description('create a SCRAM user, or set a new password for an existing one (password read from stdin)')
      .argument('<name>', 'user name')
      .option('--password-stdin', 'read the password from stdin (on a terminal: prompted for, not echoed)')
      .addOption(new Option('-m, --mechanism <mechanism>', 'only this mechanism (default: both)').choices([...SCRAM_NAMES]))
      .option('-i, --iterations <n>', `PBKDF2 iterations (${MIN_ITERATIONS}-${MAX_ITERATIONS})`, parseIntOption('--iterations', MIN_ITERATIONS, MAX_ITERATIONS)),
  ).action(
    action(async (name: string, o: UserCommandOptions & { passwordStdin?: boolean; mechanism?: ScramMechanismName; iterations?: number }, cmd: Command) => {
      if (!o.passwordStdin) throw new CliError('give the password on stdin with --password-stdin (passwords are never taken from flags)', 2);
      if (name === '') throw new CliError('the user name must not be empty', 2);
      checkTarget(o, cmd);
      const password = await readPasswordFromStdin(`Password for ${name}: `);
      const mechanisms = o.mechanism ? [o.mechanism] : [...SCRAM_NAMES];
      const iterations = o.iterations ?? DEFAULT_ITERATIONS;
      if (o.dataDir) {
        await onDataDir(o, (c) => c.setPasswords(name, password, { mechanisms, iterations }));
      } else {
        await withUserClient(o, async (client) => {
          // one alteration per user per request (Kafka answers per user, not per mechanism)
          for (const m of mechanisms) {
            const mech = scramMechanism(m)!;
            const salt = randomBytes(SALT_BYTES);
            const salted = await saltedPassword(mech, password, salt, iterations);
            const res = await client.request(51, { deletions: [], upsertions: [{ name, mechanism: mech.type, iterations, salt, saltedPassword: salted }] });
            const r = res.results.find((x) => x.user === name) ?? res.results[0];
            if (!r) throw new CliError('the broker returned no result');
            throwIfError(r.errorCode, `user '${name}' (${m})`, r.errorMessage);
          }
        });
      }
      printResult(o.format, { user: name, mechanisms, iterations }, () => `Set ${mechanisms.join(' and ')} credentials for user '${name}' (${iterations} iterations)`);
    }),
  );

  withUserOptions(
    user
      .command('list')
      .alias('ls')
      .description('list SCRAM users with their mechanisms and iteration counts (never salts or keys)')
      .argument('[names...]', 'only these users'),
  ).action(
    action(async (names: string[], o: UserCommandOptions, cmd: Command) => {
      checkTarget(o, cmd);
      let users: UserCredentials[];
      if (o.dataDir) {
        users = await onDataDir(o, async (c) => {
          const all = c.list();
          if (names.length === 0) return all;
          for (const n of names) if (!all.some((u) => u.user === n)) throw new CliError(`RESOURCE_NOT_FOUND: user '${n}' has no SCRAM credentials`);
          return all.filter((u) => names.includes(u.user));
        });
      } else {
        users = await withUserClient(o, async (client) => {
          const res = await client.request(50, { users: names.length === 0 ? null : names.map((n) => ({ name: n })) });
          throwIfError(res.errorCode, 'DescribeUserScramCredentials', res.errorMessage);
          return res.results.map((r) => {
            throwIfError(r.errorCode, `user '${r.user}'`, r.errorMessage);
            return {
              user: r.user,
              credentials: r.credentialInfos.map((c) => ({ mechanism: scramMechanismByType(c.mechanism)?.name ?? (`UNKNOWN(${c.mechanism})` as ScramMechanismName), iterations: c.iterations })),
            };
          });
        });
      }
      users.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
      printResult(o.format, users, () =>
        users.length === 0
          ? 'No users'
          : table(
              ['USER', 'MECHANISM', 'ITERATIONS'],
              users.flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, c.iterations])),
            ),
      );
    }),
  );

  withUserOptions(
    user
      .command('delete')
      .alias('rm')
      .description("delete a user's SCRAM credentials (all mechanisms, or one)")
      .argument('<name>', 'user name')
      .addOption(new Option('-m, --mechanism <mechanism>', 'only this mechanism (default: all)').choices([...SCRAM_NAMES])),
  ).action(
    action(async (name: string, o: UserCommandOptions & { mechanism?: ScramMechanismName }, cmd: Command) => {
      checkTarget(o, cmd);
      let deleted: ScramMechanismName[];
      if (o.dataDir) {
        deleted = await onDataDir(o, (c) => c.delete(name, o.mechanism));
      } else {
        deleted = await withUserClient(o, async (client) => {
          let mechanisms: ScramMechanismName[];
          if (o.mechanism) {
            mechanisms = [o.mechanism];
          } else {
            const d = await client.request(50, { users: [{ name }] });
            throwIfError(d.errorCode, 'DescribeUserScramCredentials', d.errorMessage);
            const r = d.results[0];
            if (!r) throw new CliError('the broker returned no result');
            throwIfError(r.errorCode, `user '${name}'`, r.errorMessage);
            mechanisms = r.credentialInfos.map((c) => scramMechanismByType(c.mechanism)?.name).filter((m): m is ScramMechanismName => m !== undefined);
          }
          for (const m of mechanisms) {
            const res = await client.request(51, { deletions: [{ name, mechanism: scramMechanism(m)!.type }], upsertions: [] });
            const r = res.results.find((x) => x.user === name) ?? res.results[0];
            if (!r) throw new CliError('the broker returned no result');
            throwIfError(r.errorCode, `user '${name}' (${m})`, r.errorMessage);
          }
          return mechanisms;
        });
      }
      if (deleted.length === 0) throw new CliError(`RESOURCE_NOT_FOUND: user '${name}' has no ${o.mechanism ?? 'SCRAM'} credentials`);
      printResult(o.format, { user: name, deleted }, () => `Deleted ${deleted.join(' and ')} credentials of user '${name}'`);
    }),
  );

  return user;
}

/** Adds `umbra user …` to the program (src/cli/program.ts calls this). */
export function registerUserCommands(program: Command): Command {
  return program.addCommand(userCommand());
}

function checkTarget(o: UserCommandOptions, cmd: Command): void {
  if (o.dataDir && cmd.getOptionValueSource('brokers') === 'cli') throw new CliError('give either --brokers or --data-dir, not both', 2);
  if (o.dataDir && o.user) throw new CliError('--user is for a running broker; --data-dir needs no login', 2);
}

async function onDataDir<T>(o: UserCommandOptions, fn: Parameters<typeof withDataDirCredentials<T>>[1]): Promise<T> {
  try {
    return await withDataDirCredentials(o.dataDir!, fn, o.nodeId !== undefined ? { nodeId: o.nodeId } : {});
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof CredentialError) throw new CliError(err.message);
    const msg = (err as Error).message;
    if (/in use by process/.test(msg)) {
      throw new CliError(`${msg}\n  --data-dir works on a stopped broker only; for a running one use --brokers (and --user)`);
    }
    throw new CliError(`data directory ${o.dataDir}: ${msg}`);
  }
}

async function withUserClient<T>(o: UserCommandOptions, fn: (client: KafkaClient) => Promise<T>): Promise<T> {
  let authenticate: Authenticator | undefined;
  if (o.user !== undefined) {
    const password = process.env[PASSWORD_ENV];
    if (!password) throw new CliError(`--user ${o.user} needs the password in the environment variable ${PASSWORD_ENV}`, 2);
    authenticate = saslAuthenticator({ mechanism: o.saslMechanism, username: o.user, password });
  }
  let client: KafkaClient;
  try {
    client = new KafkaClient({ brokers: o.brokers, clientId: 'umbra-cli', connectTimeoutMs: 5000, retries: 3, ...(authenticate ? { authenticate } : {}) });
  } catch (err) {
    throw new CliError(`--brokers: ${(err as Error).message}`, 2);
  }
  try {
    return await fn(client);
  } catch (err) {
    // a broker that closes unauthenticated connections after ApiVersions looks like a network error: say why
    if (o.user === undefined && (err as { code?: number }).code === ErrorCode.NETWORK_EXCEPTION) {
      throw new CliError(`${(err as Error).message}\n  (if the broker requires SASL, log in with --user NAME and ${PASSWORD_ENV})`);
    }
    throw err;
  } finally {
    await client.close();
  }
}

/**
 * The password from stdin: all of it, minus one trailing newline. On a terminal, prompts on stderr and reads one
 * line without echo.
 */
export async function readPasswordFromStdin(prompt: string, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  const text = stdin.isTTY ? await readHiddenLine(prompt, stdin) : await readAll(stdin);
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new CliError('no password on stdin', 2);
  if (/[\r\n]/.test(password)) throw new CliError('the password on stdin must be a single line', 2);
  return password;
}

async function readAll(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

function readHiddenLine(prompt: string, stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    let line = '';
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    const done = (err: Error | null): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (s: string): void => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done(null);
        if (ch === '\u0003') return done(new CliError('interrupted', 130));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on('data', onData);
  });
}
