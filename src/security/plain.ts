// SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer parses it: one message `authzid NUL username NUL password`,
// an empty answer on success.
//
// Kafka checks PLAIN passwords against a JAAS file of clear-text passwords. Umbra keeps no passwords anywhere, so
// PLAIN is checked against the user's SCRAM credential instead: the password is salted and iterated with the
// stored salt and count (PBKDF2), and the resulting StoredKey compared with the stored one in constant time
// (CredentialStore.verifyPassword). One set of users serves all three mechanisms; the cost is one PBKDF2 per
// PLAIN login (a few milliseconds at 4096 iterations, on the libuv pool). Use PLAIN only over TLS: the password
// crosses the wire in the clear.
import { ScramAuthError } from './scram.js';

export interface PlainMessage {
  authzid: string;
  username: string;
  /** kept as bytes, so no string copy of the password lingers */
  password: Buffer;
}

/** Kafka's messages for these cases, sent to the client as they are (none says whether the user exists). */
export const PLAIN_INVALID_CREDENTIALS = 'Authentication failed: Invalid username or password';

export function parsePlain(token: Buffer): PlainMessage {
  const first = token.indexOf(0);
  const second = first < 0 ? -1 : token.indexOf(0, first + 1);
  if (first < 0 || second < 0 || token.indexOf(0, second + 1) >= 0) {
    throw new ScramAuthError('PLAIN message is not authzid NUL user NUL password');
  }
  const authzid = token.subarray(0, first).toString('utf8');
  const username = token.subarray(first + 1, second).toString('utf8');
  const password = token.subarray(second + 1);
  if (username === '') throw new ScramAuthError('PLAIN message without a user name', { clientMessage: 'Authentication failed: username not specified' });
  if (password.length === 0) {
    throw new ScramAuthError('PLAIN message without a password', { clientMessage: 'Authentication failed: password not specified' });
  }
  if (authzid !== '' && authzid !== username) {
    throw new ScramAuthError('authorization id differs from the user name', {
      clientMessage: 'Authentication failed: Client requested an authorization id that is different from username',
    });
  }
  return { authzid, username, password };
}

/** The server side of one PLAIN exchange. */
export class PlainServerExchange {
  private done = false;
  private usernameValue: string | null = null;
  private readonly verify: (username: string, password: Buffer) => Promise<boolean>;

  constructor(verify: (username: string, password: Buffer) => Promise<boolean>) {
    this.verify = verify;
  }

  get username(): string | null {
    return this.usernameValue;
  }

  async step(token: Buffer): Promise<Buffer> {
    if (this.done) throw new ScramAuthError('unexpected PLAIN message after the exchange', { illegalState: true });
    this.done = true;
    const msg = parsePlain(token);
    this.usernameValue = msg.username;
    try {
      if (!(await this.verify(msg.username, msg.password))) {
        throw new ScramAuthError('invalid username or password', { clientMessage: PLAIN_INVALID_CREDENTIALS });
      }
    } finally {
      msg.password.fill(0);
    }
    return Buffer.alloc(0);
  }
}
