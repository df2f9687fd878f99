// SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks them (ScramSaslServer, ScramFormatter,
// ScramMessages in org.apache.kafka.common.security.scram.internals):
//
//   client-first   n,[a=authzid],n=user,r=cnonce[,ext=value…]      gs2 header "n" or "y"; "p=" (channel binding)
//                                                                   and a reserved "m=" extension are refused
//   server-first   r=cnonce+snonce,s=base64(salt),i=iterations
//   client-final   c=base64(gs2 header),r=cnonce+snonce[,ext…],p=base64(ClientProof)
//   server-final   v=base64(ServerSignature)
//
//   SaltedPassword = Hi(password, salt, i) = PBKDF2-HMAC-H(password, salt, i, len(H))
//   ClientKey = HMAC(SaltedPassword, "Client Key")    StoredKey = H(ClientKey)
//   ServerKey = HMAC(SaltedPassword, "Server Key")
//   AuthMessage = client-first-bare "," server-first "," client-final-without-proof
//   ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage)     ServerSignature = HMAC(ServerKey, AuthMessage)
//
// The server keeps only salt, StoredKey, ServerKey and the iteration count: enough to check a proof and to prove
// itself, never enough to log in as the user.
//
// Deliberate differences from Kafka, each on the safe side:
// - An unknown user gets a server-first message with a stable fake salt (RFC 5802 §9's advice) and fails at the
//   client-final step, exactly like a wrong password: the exchange does not reveal whether the user exists
//   (Kafka fails unknown users at the first step).
// - The channel-binding attribute `c=` must repeat the gs2 header, as RFC 5802 §5.1 requires (Kafka does not check).
// - The client-final nonce must be the combined nonce, or (librdkafka < 2.6.1's bug) the client nonce followed by
//   it; Kafka 3.8.1+ accepts any string ending with the combined nonce.
// - The AuthMessage uses the bytes the client sent, not a re-serialisation of the parsed message.
// Like Kafka, passwords are not SASLprep-normalised: they are used as their UTF-8 bytes.
// Extensions are ignored, except `tokenauth=true` (a delegation token login), which is refused: no delegation tokens.
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramMechanismName } from './types.js';

export interface ScramMechanism {
  name: ScramMechanismName;
  /** the ScramMechanism type byte of Describe/AlterUserScramCredentials (Kafka's clients.admin.ScramMechanism) */
  type: 1 | 2;
  hash: 'sha256' | 'sha512';
  /** bytes of H() output: the length of SaltedPassword, StoredKey, ServerKey and proofs */
  keyLength: number;
}

export const SCRAM_SHA_256: ScramMechanism = { name: 'SCRAM-SHA-256', type: 1, hash: 'sha256', keyLength: 32 };
export const SCRAM_SHA_512: ScramMechanism = { name: 'SCRAM-SHA-512', type: 2, hash: 'sha512', keyLength: 64 };
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = [SCRAM_SHA_256, SCRAM_SHA_512];

/** Kafka's ScramMechanism.minIterations (4096 for both) and ScramControlManager.MAX_ITERATIONS. */
export const MIN_ITERATIONS = 4096;
export const MAX_ITERATIONS = 16384;
export const DEFAULT_ITERATIONS = 4096;
/** bytes of random salt for new credentials */
export const SALT_BYTES = 32;

export function scramMechanism(name: string): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.name === name);
}

export function scramMechanismByType(type: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.type === type);
}

/** What the server stores for one user and mechanism. */
export interface ScramCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

// ---- primitives -------------------------------------------------------------------------------------------

export function hmac(mech: ScramMechanism, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(mech.hash, key).update(data).digest();
}

export function hash(mech: ScramMechanism, data: Buffer): Buffer {
  return createHash(mech.hash).update(data).digest();
}

export function xor(a: Buffer, b: Buffer): Buffer {
  if (a.length !== b.length) throw new Error('xor of buffers of different lengths');
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

function passwordBytes(password: string | Buffer): Buffer {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
}

/** Hi() of RFC 5802, which is PBKDF2 with HMAC-H and one block; runs on the libuv thread pool. */
export function saltedPassword(mech: ScramMechanism, password: string | Buffer, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pbkdf2(passwordBytes(password), salt, iterations, mech.keyLength, mech.hash, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export function saltedPasswordSync(mech: ScramMechanism, password: string | Buffer, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(passwordBytes(password), salt, iterations, mech.keyLength, mech.hash);
}

export function clientKey(mech: ScramMechanism, salted: Buffer): Buffer {
  return hmac(mech, salted, 'Client Key');
}

export function serverKey(mech: ScramMechanism, salted: Buffer): Buffer {
  return hmac(mech, salted, 'Server Key');
}

/** The stored credential for a SaltedPassword (what AlterUserScramCredentials upsertions carry). */
export function credentialFromSaltedPassword(mech: ScramMechanism, salt: Buffer, salted: Buffer, iterations: number): ScramCredential {
  return {
    salt: Buffer.from(salt),
    storedKey: hash(mech, clientKey(mech, salted)),
    serverKey: serverKey(mech, salted),
    iterations,
  };
}

/** A new credential for a password, with a random salt. */
export async function generateCredential(
  mech: ScramMechanism,
  password: string | Buffer,
  iterations = DEFAULT_ITERATIONS,
  salt: Buffer = randomBytes(SALT_BYTES),
): Promise<ScramCredential> {
  return credentialFromSaltedPassword(mech, salt, await saltedPassword(mech, password, salt, iterations), iterations);
}

/** Constant-time equality that is false (not an exception) for different lengths. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A nonce: printable ASCII without ',' (base64 of 24 random bytes). */
export function randomNonce(): string {
  return randomBytes(24).toString('base64');
}

/** RFC 5802 §5.1: ',' and '=' in user names travel as "=2C" and "=3D". */
export function escapeSaslName(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** The inverse of escapeSaslName; an '=' not starting "=2C" or "=3D" makes the name invalid (null). */
export function unescapeSaslName(saslName: string): string | null {
  if (/=(?!2C|3D)/.test(saslName)) return null;
  return saslName.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 5802 `printable`: %x21-2B / %x2D-7E, i.e. visible ASCII except ',' */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const EXTENSION = /^[A-Za-z]+=/;

function decodeBase64Strict(s: string): Buffer | null {
  return BASE64.test(s) ? Buffer.from(s, 'base64') : null;
}

/** Decodes UTF-8, or null when the bytes are not valid UTF-8 (a lossy decode would change the AuthMessage). */
function utf8(token: Buffer): string | null {
  const s = token.toString('utf8');
  return Buffer.from(s, 'utf8').equals(token) ? s : null;
}

// ---- server -----------------------------------------------------------------------------------------------

/**
 * An authentication failure. `reason` is for the broker log only (it names what was wrong, never a secret);
 * `clientMessage`, when set, is the message Kafka itself sends for this case, else the session sends its generic one.
 */
export class ScramAuthError extends Error {
  override name = 'ScramAuthError';
  readonly reason: string;
  readonly clientMessage: string | undefined;
  /** a protocol-order problem rather than bad credentials (ILLEGAL_SASL_STATE) */
  readonly illegalState: boolean;
  constructor(reason: string, opts: { clientMessage?: string; illegalState?: boolean } = {}) {
    super(reason);
    this.reason = reason;
    this.clientMessage = opts.clientMessage;
    this.illegalState = opts.illegalState ?? false;
  }
}

export const AUTHZID_MISMATCH_MESSAGE = 'Authentication failed: Client requested an authorization id that is different from username';

export interface ClientFirstMessage {
  gs2Header: string;
  authzid: string;
  username: string;
  nonce: string;
  /** the message after the gs2 header, as sent: the first part of the AuthMessage */
  bare: string;
  extensions: Map<string, string>;
}

export function parseClientFirst(token: Buffer): ClientFirstMessage {
  const msg = utf8(token);
  if (msg === null) throw new ScramAuthError('client-first message is not UTF-8');
  const flag = msg[0];
  if (flag === 'p') throw new ScramAuthError('client asked for channel binding, which is not offered');
  if ((flag !== 'n' && flag !== 'y') || msg[1] !== ',') throw new ScramAuthError('client-first message has no gs2 header');
  const end = msg.indexOf(',', 2);
  if (end < 0) throw new ScramAuthError('client-first message has an incomplete gs2 header');
  const authzPart = msg.slice(2, end);
  let authzid = '';
  if (authzPart !== '') {
    const a = authzPart.startsWith('a=') ? unescapeSaslName(authzPart.slice(2)) : null;
    if (a === null || a === '') throw new ScramAuthError('client-first message has a malformed authzid');
    authzid = a;
  }
  const gs2Header = msg.slice(0, end + 1);
  const bare = msg.slice(end + 1);
  const attrs = bare.split(',');
  if (attrs[0]?.startsWith('m=')) throw new ScramAuthError('client-first message carries a mandatory extension (m=)');
  if (!attrs[0]?.startsWith('n=')) throw new ScramAuthError('client-first message has no user name');
  const username = unescapeSaslName(attrs[0].slice(2));
  if (username === null || username === '') throw new ScramAuthError('client-first message has a malformed user name');
  if (!attrs[1]?.startsWith('r=') || !PRINTABLE.test(attrs[1].slice(2))) {
    throw new ScramAuthError('client-first message has no valid nonce');
  }
  const extensions = new Map<string, string>();
  for (const ext of attrs.slice(2)) {
    if (!EXTENSION.test(ext)) throw new ScramAuthError('client-first message has a malformed extension');
    const eq = ext.indexOf('=');
    extensions.set(ext.slice(0, eq), ext.slice(eq + 1));
  }
  return { gs2Header, authzid, username, nonce: attrs[1].slice(2), bare, extensions };
}

export interface ClientFinalMessage {
  channelBinding: Buffer;
  nonce: string;
  proof: Buffer;
  withoutProof: string;
}

export function parseClientFinal(token: Buffer): ClientFinalMessage {
  const msg = utf8(token);
  if (msg === null) throw new ScramAuthError('client-final message is not UTF-8');
  const p = msg.lastIndexOf(',p=');
  if (p < 0) throw new ScramAuthError('client-final message has no proof');
  const withoutProof = msg.slice(0, p);
  const proof = decodeBase64Strict(msg.slice(p + 3));
  if (proof === null) throw new ScramAuthError('client-final message has a malformed proof');
  const attrs = withoutProof.split(',');
  const channelBinding = attrs[0]?.startsWith('c=') ? decodeBase64Strict(attrs[0].slice(2)) : null;
  if (channelBinding === null) throw new ScramAuthError('client-final message has no valid channel binding');
  if (!attrs[1]?.startsWith('r=')) throw new ScramAuthError('client-final message has no nonce');
  for (const ext of attrs.slice(2)) {
    if (!EXTENSION.test(ext)) throw new ScramAuthError('client-final message has a malformed extension');
  }
  return { channelBinding, nonce: attrs[1].slice(2), proof, withoutProof };
}

export interface ScramServerOptions {
  mechanism: ScramMechanism;
  /** the stored credential of a user, undefined when there is none */
  lookup(username: string): ScramCredential | undefined;
  /** server nonce source; injectable so tests can replay RFC 7677's exchange */
  nonce?: () => string;
  /** key for the stable fake salts given to unknown users (random per process by default) */
  mockSecret?: Buffer;
}

const PROCESS_MOCK_SECRET = randomBytes(32);

export type ScramServerState = 'client-first' | 'client-final' | 'complete' | 'failed';

/** The server side of one SCRAM exchange: two client messages in, two server messages out. */
export class ScramServerExchange {
  readonly mechanism: ScramMechanism;
  private readonly opts: ScramServerOptions;
  private stateValue: ScramServerState = 'client-first';
  private usernameValue: string | null = null;
  private first: ClientFirstMessage | null = null;
  private serverFirst = '';
  /** null for an unknown user: the exchange continues on a fake salt and must fail */
  private credential: ScramCredential | null = null;

  constructor(opts: ScramServerOptions) {
    this.opts = opts;
    this.mechanism = opts.mechanism;
  }

  get state(): ScramServerState {
    return this.stateValue;
  }

  /** the user name the client gave (known once the client-first message parsed) */
  get username(): string | null {
    return this.usernameValue;
  }

  get isComplete(): boolean {
    return this.stateValue === 'complete';
  }

  /** Evaluates one client message and returns the server's answer; throws ScramAuthError (then the state is failed). */
  step(token: Buffer): Buffer {
    try {
      switch (this.stateValue) {
        case 'client-first':
          return this.onClientFirst(token);
        case 'client-final':
          return this.onClientFinal(token);
        default:
          throw new ScramAuthError(`unexpected SCRAM message in state ${this.stateValue}`, { illegalState: true });
      }
    } catch (err) {
      this.fail();
      throw err;
    }
  }

  private fail(): void {
    this.stateValue = 'failed';
    this.credential = null;
    this.first = null;
  }

  private onClientFirst(token: Buffer): Buffer {
    const first = parseClientFirst(token);
    this.usernameValue = first.username;
    if (first.authzid !== '' && first.authzid !== first.username) {
      throw new ScramAuthError('authorization id differs from the user name', { clientMessage: AUTHZID_MISMATCH_MESSAGE });
    }
    if (first.extensions.get('tokenauth')?.toLowerCase() === 'true') {
      throw new ScramAuthError('delegation token authentication (tokenauth) is not supported');
    }
    const stored = this.opts.lookup(first.username);
    let salt: Buffer;
    let iterations: number;
    if (stored && stored.iterations >= MIN_ITERATIONS) {
      this.credential = stored;
      salt = stored.salt;
      iterations = stored.iterations;
    } else {
      // Unknown user (or a credential below Kafka's minimum, which Kafka also refuses): answer like for a real
      // user with a salt that is stable for this name, and fail at the proof.
      this.credential = null;
      salt = hmac(this.mechanism, this.opts.mockSecret ?? PROCESS_MOCK_SECRET, `${this.mechanism.name}\0${first.username}`).subarray(0, SALT_BYTES);
      iterations = DEFAULT_ITERATIONS;
    }
    const serverNonce = (this.opts.nonce ?? randomNonce)();
    if (!PRINTABLE.test(serverNonce)) throw new Error('server nonce must be printable ASCII without commas');
    this.first = first;
    this.serverFirst = `r=${first.nonce}${serverNonce},s=${salt.toString('base64')},i=${iterations}`;
    this.stateValue = 'client-final';
    return Buffer.from(this.serverFirst, 'utf8');
  }

  private onClientFinal(token: Buffer): Buffer {
    const first = this.first!;
    const final = parseClientFinal(token);
    if (!final.channelBinding.equals(Buffer.from(first.gs2Header, 'utf8'))) {
      throw new ScramAuthError('channel binding does not repeat the gs2 header');
    }
    const expectedNonce = this.serverFirst.slice(2, this.serverFirst.indexOf(','));
    // librdkafka before 2.6.1 (so kcat and confluent-kafka-python on Debian's 2.0.2) sends its client nonce
    // once more in front of the combined nonce (librdkafka #4895). Kafka 3.8.1+ accepts any prefix (endsWith,
    // the CVE-2024-56128 fix); we accept exactly that one extra copy.
    if (final.nonce !== expectedNonce && final.nonce !== first.nonce + expectedNonce) throw new ScramAuthError('nonce mismatch');
    const credential = this.credential;
    if (!credential) throw new ScramAuthError('unknown user');
    if (final.proof.length !== this.mechanism.keyLength) throw new ScramAuthError('invalid proof');
    const authMessage = Buffer.from(`${first.bare},${this.serverFirst},${final.withoutProof}`, 'utf8');
    const clientSignature = hmac(this.mechanism, credential.storedKey, authMessage);
    const computedStoredKey = hash(this.mechanism, xor(final.proof, clientSignature));
    if (!constantTimeEqual(computedStoredKey, credential.storedKey)) throw new ScramAuthError('invalid proof');
    const serverSignature = hmac(this.mechanism, credential.serverKey, authMessage);
    this.stateValue = 'complete';
    this.credential = null;
    this.first = null;
    return Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8');
  }
}

// ---- client -----------------------------------------------------------------------------------------------

/**
 * The client side, for Umbra's own client (src/security/sasl-client.ts) and the tests. Verifies the server's
 * signature, so a server that does not know the credential cannot pass as the broker.
 */
export class ScramClient {
  readonly mechanism: ScramMechanism;
  private readonly username: string;
  private readonly password: string | Buffer;
  private readonly clientNonce: string;
  private readonly authzid: string;
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | null = null;

  constructor(mech: ScramMechanism, username: string, password: string | Buffer, opts: { nonce?: string; authzid?: string } = {}) {
    this.mechanism = mech;
    this.username = username;
    this.password = password;
    this.clientNonce = opts.nonce ?? randomNonce();
    this.authzid = opts.authzid ?? '';
  }

  private get gs2Header(): string {
    return this.authzid === '' ? 'n,,' : `n,a=${escapeSaslName(this.authzid)},`;
  }

  firstMessage(): Buffer {
    this.clientFirstBare = `n=${escapeSaslName(this.username)},r=${this.clientNonce}`;
    return Buffer.from(this.gs2Header + this.clientFirstBare, 'utf8');
  }

  async finalMessage(serverFirstToken: Buffer): Promise<Buffer> {
    const serverFirst = serverFirstToken.toString('utf8');
    const m = /^r=([^,]+),s=([^,]+),i=(\d+)(?:,.*)?$/.exec(serverFirst);
    if (!m) throw new Error('malformed SCRAM server-first message');
    const [, nonce, saltB64, iterText] = m as unknown as [string, string, string, string];
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw new Error('SCRAM server nonce does not extend the client nonce');
    }
    const iterations = Number(iterText);
    if (iterations < MIN_ITERATIONS) throw new Error(`SCRAM server asks for ${iterations} iterations, below the minimum ${MIN_ITERATIONS}`);
    const salt = decodeBase64Strict(saltB64);
    if (salt === null) throw new Error('malformed SCRAM salt');
    const salted = await saltedPassword(this.mechanism, this.password, salt, iterations);
    const withoutProof = `c=${Buffer.from(this.gs2Header, 'utf8').toString('base64')},r=${nonce}`;
    const authMessage = Buffer.from(`${this.clientFirstBare},${serverFirst},${withoutProof}`, 'utf8');
    const ck = clientKey(this.mechanism, salted);
    const proof = xor(ck, hmac(this.mechanism, hash(this.mechanism, ck), authMessage));
    this.expectedServerSignature = hmac(this.mechanism, serverKey(this.mechanism, salted), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server-final message; throws when the server's signature is wrong or it reports an error. */
  verifyServerFinal(serverFinalToken: Buffer): void {
    const msg = serverFinalToken.toString('utf8');
    if (msg.startsWith('e=')) throw new Error(`SCRAM server error: ${msg.slice(2)}`);
    const sig = msg.startsWith('v=') ? decodeBase64Strict(msg.slice(2).split(',')[0]!) : null;
    if (!sig || !this.expectedServerSignature || !constantTimeEqual(sig, this.expectedServerSignature)) {
      throw new Error('SCRAM server signature is invalid: the broker does not hold this credential');
    }
  }
}
