// SASL for Umbra's own client (src/client): an Authenticator that runs SaslHandshake v1 and then SaslAuthenticate
// with PLAIN or SCRAM, and checks the SCRAM server signature, so a broker that does not hold the credential cannot
// pass for the real one. Used by the CLI's --user (password from UMBRA_PASSWORD) and, later, by shadow links.
import type { Authenticator, BrokerConnection } from '../client/connection.js';
import { ErrorCode, kafkaError, throwIfError } from '../client/errors.js';
import { ScramClient, scramMechanism } from './scram.js';
import type { SaslMechanismName } from './types.js';

export interface SaslClientOptions {
  mechanism: SaslMechanismName;
  username: string;
  password: string;
}

const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

export function saslAuthenticator(opts: SaslClientOptions): Authenticator {
  return async (conn: BrokerConnection) => {
    const range = conn.brokerRange(SASL_HANDSHAKE);
    if (!range || range.maxVersion < 1 || !conn.brokerRange(SASL_AUTHENTICATE)) {
      throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `broker ${conn.address} does not offer SaslHandshake v1 and SaslAuthenticate`);
    }
    const hs = await conn.request(SASL_HANDSHAKE, { mechanism: opts.mechanism }, { version: 1 });
    throwIfError(hs.errorCode, `SASL handshake with ${conn.address} (${opts.mechanism}; the broker offers ${hs.mechanisms.join(', ') || 'none'})`);
    const send = async (token: Buffer): Promise<Buffer> => {
      const res = await conn.request(SASL_AUTHENTICATE, { authBytes: token });
      throwIfError(res.errorCode, `SASL authentication with ${conn.address} as '${opts.username}'`, res.errorMessage);
      return res.authBytes;
    };
    if (opts.mechanism === 'PLAIN') {
      await send(Buffer.concat([Buffer.from([0]), Buffer.from(opts.username, 'utf8'), Buffer.from([0]), Buffer.from(opts.password, 'utf8')]));
      return;
    }
    const client = new ScramClient(scramMechanism(opts.mechanism)!, opts.username, opts.password);
    const serverFirst = await send(client.firstMessage());
    const serverFinal = await send(await client.finalMessage(serverFirst));
    try {
      client.verifyServerFinal(serverFinal);
    } catch (err) {
      throw kafkaError(ErrorCode.SASL_AUTHENTICATION_FAILED, `broker ${conn.address}`, (err as Error).message);
    }
  };
}
