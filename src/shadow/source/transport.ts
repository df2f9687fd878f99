// How the source client reaches a source broker: the socket (plain TCP or TLS) and SASL, built from the link's
// client options. Both are seams of BrokerConnection (socketFactory, authenticate), shared by the admin client
// and by the fetch connections.
//
// Secrets. The SASL password and an inline TLS key are revealed at the moment a connection authenticates and
// nowhere else; error messages name the user, the mechanism and the broker, never a secret.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Authenticator, SocketFactory } from '../../client/connection.js';
import { ErrorCode, KafkaError, networkError } from '../../client/errors.js';
import { saslAuthenticator } from '../../security/sasl-client.js';
import type { SourceAuthentication, SourceTls } from '../types.js';

/** Error codes that mean "the source refused our credentials", not "the source is down". */
export const AUTHENTICATION_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.SASL_AUTHENTICATION_FAILED,
  ErrorCode.ILLEGAL_SASL_STATE,
  ErrorCode.UNSUPPORTED_SASL_MECHANISM,
]);

/** A TLS handshake failed (certificate not trusted, wrong host name, client certificate refused...). */
export class TlsHandshakeError extends KafkaError {
  override name = 'TlsHandshakeError';
}

function readPem(path: string | undefined, what: string): string | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TlsHandshakeError(ErrorCode.NETWORK_EXCEPTION, `cannot read the TLS ${what} '${path}': ${(err as Error).message}`);
  }
}

/**
 * TLS sockets per the link's tls settings: files are read on every connect (a rotated certificate is picked up),
 * inline PEMs are used as given; the server certificate is always verified (against `ca` when given, else the
 * system roots) including its host name. SNI carries the host name unless it is an IP address or
 * `do_not_set_sni_hostname` is set.
 */
export function tlsSocketFactory(tls: SourceTls): SocketFactory {
  return (host, port, timeoutMs) =>
    new Promise((resolve, reject) => {
      let options: ConnectionOptions;
      try {
        const ca = readPem(tls.caPath, 'CA file') ?? tls.caPem;
        const cert = readPem(tls.certPath, 'certificate file') ?? tls.certPem;
        const key = readPem(tls.keyPath, 'key file') ?? tls.keyPem?.reveal();
        options = {
          host,
          port,
          ...(ca !== undefined ? { ca } : {}),
          ...(cert !== undefined ? { cert } : {}),
          ...(key !== undefined ? { key } : {}),
          ...(!tls.doNotSetSniHostname && isIP(host) === 0 ? { servername: host } : {}),
        };
      } catch (err) {
        reject(err);
        return;
      }
      let socket: ReturnType<typeof tlsConnect>;
      try {
        socket = tlsConnect(options);
      } catch (err) {
        // bad PEM text throws synchronously
        reject(new TlsHandshakeError(ErrorCode.NETWORK_EXCEPTION, `TLS connection to ${host}:${port} failed: ${(err as Error).message}`));
        return;
      }
      const timer = setTimeout(() => {
        socket.destroy();
        reject(networkError(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err: Error & { code?: string }) => {
        clearTimeout(timer);
        socket.destroy();
        // a refused or unreachable port is a network failure; anything after the TCP connect is TLS refusing us
        if (err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' || err.code === 'ETIMEDOUT') {
          reject(networkError(`connect to ${host}:${port} failed: ${err.message}`));
        } else {
          reject(new TlsHandshakeError(ErrorCode.NETWORK_EXCEPTION, `TLS connection to ${host}:${port} failed: ${err.message}`));
        }
      });
    });
}

/** SASL per the link's authentication settings; the password is revealed only while a connection authenticates. */
export function sourceAuthenticator(auth: SourceAuthentication): Authenticator {
  return async (conn) => {
    const password = auth.password;
    if (password === undefined) {
      throw new KafkaError(
        ErrorCode.SASL_AUTHENTICATION_FAILED,
        `SASL_AUTHENTICATION_FAILED: no password is stored for user '${auth.username}' (authentication_configuration)`,
      );
    }
    await saslAuthenticator({ mechanism: auth.mechanism, username: auth.username, password: password.reveal() })(conn);
  };
}
