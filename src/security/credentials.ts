// SCRAM users in the metadata store. One key per user and mechanism:
//
//   users/<name>/<mechanism>  →  { salt, storedKey, serverKey, iterations }   (bytes as base64)
//
// Never a password, and never the SaltedPassword: a leaked store lets nobody log in (they would still need a
// password whose PBKDF2 gives the StoredKey), though it does allow an offline guessing attack, as in Kafka.
// A user exists while it has at least one credential. Names may contain '/': the mechanism is the last segment.
//
// Describe/Alter follow Kafka's ScramImage.describe and ScramControlManager.alterCredentials:
// - describe: no names (null or empty) = every user; a name asked twice → DUPLICATE_RESOURCE; an unknown one →
//   RESOURCE_NOT_FOUND. Results come sorted by name (Kafka's come in hash order).
// - alter: a user may appear once per request (deletion or upsertion; a second one makes that user
//   DUPLICATE_RESOURCE); an empty name → UNACCEPTABLE_CREDENTIAL; an unknown mechanism → UNSUPPORTED_SASL_MECHANISM;
//   iterations outside 4096..16384 → UNACCEPTABLE_CREDENTIAL; deleting a credential that does not exist →
//   RESOURCE_NOT_FOUND. The accepted changes are written in one atomic batch. Upsertions carry salt and
//   SaltedPassword; only the derived StoredKey and ServerKey are kept.
//
// Bootstrap: UMBRA_BOOTSTRAP_USER=name:password (the password may contain ':') creates that user with both SCRAM
// mechanisms when it has no credential yet, so a secured broker can be set up from zero; the same works on a
// stopped broker's data directory (bootstrapUserInDataDir, used by `umbra user create --data-dir`).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../protocol/errors.js';
import type { MetadataStore } from '../cluster/types.js';
import { METADATA_DIR_NAME, openEmbeddedStore } from '../cluster/embedded-store.js';
import {
  DEFAULT_ITERATIONS,
  MAX_ITERATIONS,
  MIN_ITERATIONS,
  SCRAM_MECHANISMS,
  SCRAM_SHA_256,
  SCRAM_SHA_512,
  constantTimeEqual,
  credentialFromSaltedPassword,
  generateCredential,
  hash,
  clientKey,
  saltedPassword,
  scramMechanism,
  scramMechanismByType,
  type ScramCredential,
  type ScramMechanism,
} from './scram.js';
import type { ScramMechanismName, SecurityLogger } from './types.js';

export const USERS_PREFIX = 'users/';

/** The stored form of a credential (base64 bytes). */
export interface StoredScramCredential {
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

export interface CredentialInfo {
  mechanism: ScramMechanismName;
  iterations: number;
}

export interface UserCredentials {
  user: string;
  credentials: CredentialInfo[];
}

/** DescribeUserScramCredentials result (the generated response's shape, mechanism as its type byte). */
export interface DescribeResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
  credentialInfos: { mechanism: number; iterations: number }[];
}

/** AlterUserScramCredentials result. */
export interface AlterResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

export interface CredentialDeletion {
  name: string;
  /** ScramMechanism type byte: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512 */
  mechanism: number;
}

export interface CredentialUpsertion extends CredentialDeletion {
  iterations: number;
  salt: Buffer;
  saltedPassword: Buffer;
}

export function credentialKey(user: string, mechanism: ScramMechanismName): string {
  return `${USERS_PREFIX}${user}/${mechanism}`;
}

function toStored(c: ScramCredential): StoredScramCredential {
  return { salt: c.salt.toString('base64'), storedKey: c.storedKey.toString('base64'), serverKey: c.serverKey.toString('base64'), iterations: c.iterations };
}

function fromStored(s: StoredScramCredential): ScramCredential {
  return { salt: Buffer.from(s.salt, 'base64'), storedKey: Buffer.from(s.storedKey, 'base64'), serverKey: Buffer.from(s.serverKey, 'base64'), iterations: s.iterations };
}

/** Kafka's iteration bounds; null when acceptable, else the UNACCEPTABLE_CREDENTIAL message. */
export function iterationsProblem(iterations: number): string | null {
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS) return 'Too few iterations';
  if (iterations > MAX_ITERATIONS) return 'Too many iterations';
  return null;
}

/** Thrown by the password-based helpers with a Kafka error code (the CLI and bootstrap show its message). */
export class CredentialError extends Error {
  override name = 'CredentialError';
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export class CredentialStore {
  private readonly store: MetadataStore;

  constructor(store: MetadataStore) {
    this.store = store;
  }

  /** The credential of a user for a mechanism. */
  get(user: string, mechanism: ScramMechanismName): ScramCredential | undefined {
    const s = this.store.get<StoredScramCredential>(credentialKey(user, mechanism));
    return s ? fromStored(s) : undefined;
  }

  /** The mechanisms a user has credentials for, in type order; empty for an unknown user. */
  credentialsOf(user: string): CredentialInfo[] {
    const out: CredentialInfo[] = [];
    for (const m of SCRAM_MECHANISMS) {
      const s = this.store.get<StoredScramCredential>(credentialKey(user, m.name));
      if (s) out.push({ mechanism: m.name, iterations: s.iterations });
    }
    return out;
  }

  exists(user: string): boolean {
    return this.credentialsOf(user).length > 0;
  }

  /** Every user with its credentials, sorted by name. */
  list(): UserCredentials[] {
    const byUser = new Map<string, CredentialInfo[]>();
    for (const [key, value] of this.store.list<StoredScramCredential>(USERS_PREFIX)) {
      const slash = key.lastIndexOf('/');
      const user = key.slice(USERS_PREFIX.length, slash);
      const mech = scramMechanism(key.slice(slash + 1));
      if (!mech || slash < USERS_PREFIX.length) continue;
      let list = byUser.get(user);
      if (!list) byUser.set(user, (list = []));
      list.push({ mechanism: mech.name, iterations: value.iterations });
    }
    return [...byUser.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([user, credentials]) => ({ user, credentials: credentials.sort((x, y) => typeOf(x.mechanism) - typeOf(y.mechanism)) }));
  }

  /** DescribeUserScramCredentials semantics (see the file comment). */
  describe(users: readonly string[] | null): DescribeResult[] {
    const info = (list: CredentialInfo[]): DescribeResult['credentialInfos'] => list.map((c) => ({ mechanism: typeOf(c.mechanism), iterations: c.iterations }));
    if (!users || users.length === 0) {
      return this.list().map((u) => ({ user: u.user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: info(u.credentials) }));
    }
    const seen = new Map<string, number>();
    for (const u of users) seen.set(u, (seen.get(u) ?? 0) + 1);
    return [...seen.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([user, count]) => {
        if (count > 1) {
          return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] };
        }
        const creds = this.credentialsOf(user);
        if (creds.length === 0) {
          return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] };
        }
        return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: info(creds) };
      });
  }

  /** AlterUserScramCredentials semantics (see the file comment). Resolves once the accepted changes are durable. */
  async alter(deletions: readonly CredentialDeletion[], upsertions: readonly CredentialUpsertion[]): Promise<AlterResult[]> {
    const errors = new Map<string, { code: number; message: string }>();
    const toDelete = new Map<string, CredentialDeletion>();
    const toUpsert = new Map<string, CredentialUpsertion>();
    const duplicate = { code: ErrorCode.DUPLICATE_RESOURCE, message: 'A user credential cannot be altered twice in the same request' };

    for (const d of deletions) {
      if (errors.has(d.name)) continue;
      if (toDelete.delete(d.name)) {
        errors.set(d.name, duplicate);
        continue;
      }
      const problem = validateNameAndMechanism(d.name, d.mechanism);
      if (problem) errors.set(d.name, problem);
      else if (!this.store.get(credentialKey(d.name, scramMechanismByType(d.mechanism)!.name))) {
        errors.set(d.name, { code: ErrorCode.RESOURCE_NOT_FOUND, message: 'Attempt to delete a user credential that does not exist' });
      } else toDelete.set(d.name, d);
    }
    for (const u of upsertions) {
      if (errors.has(u.name)) continue;
      if (toDelete.delete(u.name) || toUpsert.delete(u.name)) {
        errors.set(u.name, duplicate);
        continue;
      }
      const problem = validateNameAndMechanism(u.name, u.mechanism) ?? validateUpsertion(u);
      if (problem) errors.set(u.name, problem);
      else toUpsert.set(u.name, u);
    }

    const ops: ({ op: 'put'; key: string; value: unknown } | { op: 'delete'; key: string })[] = [];
    for (const d of toDelete.values()) ops.push({ op: 'delete', key: credentialKey(d.name, scramMechanismByType(d.mechanism)!.name) });
    for (const u of toUpsert.values()) {
      const mech = scramMechanismByType(u.mechanism)!;
      const cred = credentialFromSaltedPassword(mech, u.salt, u.saltedPassword, u.iterations);
      ops.push({ op: 'put', key: credentialKey(u.name, mech.name), value: toStored(cred) });
    }
    if (ops.length > 0) await this.store.batch(ops);

    const ok = (user: string): AlterResult => ({ user, errorCode: ErrorCode.NONE, errorMessage: null });
    return [
      ...[...toDelete.keys()].map(ok),
      ...[...toUpsert.keys()].map(ok),
      ...[...errors.entries()].map(([user, e]) => ({ user, errorCode: e.code, errorMessage: e.message })),
    ];
  }

  /** Creates or replaces a user's credential for one mechanism from a password (random salt). */
  async setPassword(user: string, password: string | Buffer, opts: { mechanism?: ScramMechanismName; iterations?: number } = {}): Promise<void> {
    await this.setPasswords(user, password, { mechanisms: [opts.mechanism ?? 'SCRAM-SHA-512'], iterations: opts.iterations });
  }

  /** Creates or replaces a user's credentials for several mechanisms at once (one atomic write). */
  async setPasswords(
    user: string,
    password: string | Buffer,
    opts: { mechanisms?: readonly ScramMechanismName[]; iterations?: number | undefined } = {},
  ): Promise<void> {
    if (user === '') throw new CredentialError(ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
    if (password.length === 0) throw new CredentialError(ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Password must not be empty');
    const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
    const problem = iterationsProblem(iterations);
    if (problem) throw new CredentialError(ErrorCode.UNACCEPTABLE_CREDENTIAL, problem);
    const ops: { op: 'put'; key: string; value: unknown }[] = [];
    for (const name of opts.mechanisms ?? ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const mech = scramMechanism(name)!;
      ops.push({ op: 'put', key: credentialKey(user, mech.name), value: toStored(await generateCredential(mech, password, iterations)) });
    }
    await this.store.batch(ops);
  }

  /** Deletes a user's credential for one mechanism, or all of them; returns the mechanisms deleted. */
  async delete(user: string, mechanism?: ScramMechanismName): Promise<ScramMechanismName[]> {
    const names = mechanism ? [mechanism] : this.credentialsOf(user).map((c) => c.mechanism);
    const present = names.filter((m) => this.store.get(credentialKey(user, m)) !== undefined);
    if (present.length > 0) await this.store.batch(present.map((m) => ({ op: 'delete' as const, key: credentialKey(user, m) })));
    return present;
  }

  /**
   * Checks a clear-text password (SASL/PLAIN, HTTP basic on the admin API) against the user's SCRAM credential,
   * SHA-512 preferred: PBKDF2 with the stored salt and count, then StoredKey compared in constant time. An
   * unknown user costs the same PBKDF2, so the answer time does not tell whether the user exists.
   */
  async verifyPassword(user: string, password: string | Buffer): Promise<boolean> {
    let mech: ScramMechanism = SCRAM_SHA_512;
    let cred = this.get(user, SCRAM_SHA_512.name);
    if (!cred) {
      cred = this.get(user, SCRAM_SHA_256.name);
      mech = SCRAM_SHA_256;
    }
    if (!cred) {
      await saltedPassword(SCRAM_SHA_512, password, DUMMY_SALT, DEFAULT_ITERATIONS);
      return false;
    }
    const salted = await saltedPassword(mech, password, cred.salt, cred.iterations);
    return constantTimeEqual(hash(mech, clientKey(mech, salted)), cred.storedKey);
  }
}

const DUMMY_SALT = Buffer.alloc(32, 0x5a);

function typeOf(name: ScramMechanismName): number {
  return scramMechanism(name)!.type;
}

function validateNameAndMechanism(name: string, mechanism: number): { code: number; message: string } | null {
  if (name === '') return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Username must not be empty' };
  if (!scramMechanismByType(mechanism)) return { code: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: 'Unknown SCRAM mechanism' };
  return null;
}

function validateUpsertion(u: CredentialUpsertion): { code: number; message: string } | null {
  const problem = iterationsProblem(u.iterations);
  if (problem) return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: problem };
  // Kafka would fail later with an unknown server error on an empty HMAC key; say what is wrong instead.
  if (u.salt.length === 0) return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Salt must not be empty' };
  if (u.saltedPassword.length === 0) return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Salted password must not be empty' };
  return null;
}

// ---- bootstrap --------------------------------------------------------------------------------------------

export const BOOTSTRAP_USER_ENV = 'UMBRA_BOOTSTRAP_USER';

/**
 * Parses `name:password`: the name ends at the first ':', the password is the rest (it may contain ':').
 * Error messages never repeat the value.
 */
export function parseBootstrapUser(value: string): { name: string; password: string } {
  const colon = value.indexOf(':');
  if (colon < 0) throw new Error(`${BOOTSTRAP_USER_ENV} must be NAME:PASSWORD (no ':' found)`);
  const name = value.slice(0, colon);
  const password = value.slice(colon + 1);
  if (name.trim() === '' || name !== name.trim()) throw new Error(`${BOOTSTRAP_USER_ENV} must be NAME:PASSWORD with a non-empty name without surrounding spaces`);
  if (password === '') throw new Error(`${BOOTSTRAP_USER_ENV} must be NAME:PASSWORD with a non-empty password`);
  return { name, password };
}

export type BootstrapOutcome = 'created' | 'exists';

/** Creates the user with SCRAM-SHA-256 and SCRAM-SHA-512 unless it already has a credential (never overwrites). */
export async function bootstrapUser(
  credentials: CredentialStore,
  name: string,
  password: string,
  opts: { iterations?: number; logger?: SecurityLogger } = {},
): Promise<BootstrapOutcome> {
  if (credentials.exists(name)) {
    opts.logger?.info({ user: name }, 'bootstrap user already exists; its credentials are left unchanged');
    return 'exists';
  }
  await credentials.setPasswords(name, password, { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'], iterations: opts.iterations });
  opts.logger?.info({ user: name, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'] }, 'bootstrap user created');
  return 'created';
}

/**
 * The broker calls this at startup: applies UMBRA_BOOTSTRAP_USER when set. Returns null when the variable is
 * unset; throws (without the value) when it is malformed, so a typo does not start an unreachable broker silently.
 */
export async function bootstrapUserFromEnv(
  credentials: CredentialStore,
  env: NodeJS.ProcessEnv = process.env,
  logger?: SecurityLogger,
): Promise<{ name: string; outcome: BootstrapOutcome } | null> {
  const value = env[BOOTSTRAP_USER_ENV];
  if (value === undefined || value === '') return null;
  const { name, password } = parseBootstrapUser(value);
  return { name, outcome: await bootstrapUser(credentials, name, password, logger ? { logger } : {}) };
}

/** The node id recorded in a data directory, or undefined for a directory no broker has used yet. */
export function dataDirNodeId(dataDir: string): number | undefined {
  const meta = join(dataDir, METADATA_DIR_NAME, 'meta.properties');
  if (!existsSync(meta)) return undefined;
  const m = /^node\.id=(\d+)\s*$/m.exec(readFileSync(meta, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/**
 * Runs fn on the credentials of a stopped broker's data directory (opening its embedded metadata store, which
 * refuses while a broker holds it). A fresh directory is initialised as node `nodeId` (default 0).
 */
export async function withDataDirCredentials<T>(dataDir: string, fn: (credentials: CredentialStore) => Promise<T>, opts: { nodeId?: number } = {}): Promise<T> {
  const store = await openEmbeddedStore(dataDir, { nodeId: dataDirNodeId(dataDir) ?? opts.nodeId ?? 0 });
  try {
    return await fn(new CredentialStore(store));
  } finally {
    await store.close();
  }
}

/** bootstrapUser on a stopped broker's data directory. */
export function bootstrapUserInDataDir(dataDir: string, name: string, password: string, opts: { nodeId?: number; iterations?: number } = {}): Promise<BootstrapOutcome> {
  return withDataDirCredentials(dataDir, (c) => bootstrapUser(c, name, password, opts.iterations !== undefined ? { iterations: opts.iterations } : {}), opts);
}
