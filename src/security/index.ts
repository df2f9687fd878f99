// Authentication: SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 and the SCRAM users they check against.
//
//   scram.ts         RFC 5802/7677 primitives, the server exchange, a client (for Umbra's client and tests)
//   plain.ts         SASL/PLAIN, checked against the SCRAM credentials (Umbra keeps no passwords)
//   credentials.ts   users/<name>/<mechanism> in the metadata store; Describe/Alter semantics; bootstrap user
//   sasl-session.ts  the per-connection state machine (SaslHandshake v0 raw tokens and v1 + SaslAuthenticate)
//   sasl-client.ts   an Authenticator for src/client (SaslHandshake v1 + SaslAuthenticate)
//   context.ts       handler access to ctx.services.security and ctx.connection.sasl
//
// Not implemented (deliberately): GSSAPI, OAUTHBEARER, delegation tokens (SCRAM `tokenauth`), re-authentication
// (KIP-368; the session lifetime is reported as 0), SCRAM-…-PLUS channel binding, SASLprep of passwords (Kafka
// does not apply it either).
import { randomBytes } from 'node:crypto';
import type { MetadataStore } from '../cluster/types.js';
import { CredentialStore } from './credentials.js';
import { SaslSession } from './sasl-session.js';
import { SASL_MECHANISMS, type SaslConnection, type SaslMechanismName, type SecurityLogger, type SecurityServices } from './types.js';

export { CredentialStore, bootstrapUserFromEnv, bootstrapUserInDataDir, parseBootstrapUser, BOOTSTRAP_USER_ENV } from './credentials.js';
export { SaslSession, SASL_MAX_RECEIVE_BYTES } from './sasl-session.js';
export { saslAuthenticator } from './sasl-client.js';
export type { SecurityServices, SaslMechanismName, ScramMechanismName } from './types.js';
export { SASL_MECHANISMS } from './types.js';

export interface SecurityServicesOptions {
  store: MetadataStore;
  logger: SecurityLogger;
  /** default: SCRAM-SHA-256, SCRAM-SHA-512, PLAIN */
  enabledMechanisms?: readonly SaslMechanismName[];
  /** default 100 ms, as Kafka's connection.failed.authentication.delay.ms */
  failedAuthenticationDelayMs?: number;
  /** SCRAM server nonces (tests) */
  scramNonce?: () => string;
}

export function createSecurityServices(opts: SecurityServicesOptions): SecurityServices {
  const credentials = new CredentialStore(opts.store);
  const enabledMechanisms = [...(opts.enabledMechanisms ?? SASL_MECHANISMS)];
  // one key per broker process for unknown users' fake salts: stable while it runs, so repeated probes of a
  // name see the same salt, as they would for a real user
  const mockSecret = randomBytes(32);
  return {
    credentials,
    enabledMechanisms,
    newSession: (connection: SaslConnection) =>
      new SaslSession({
        connection,
        credentials,
        enabledMechanisms,
        logger: opts.logger,
        mockSecret,
        ...(opts.failedAuthenticationDelayMs !== undefined ? { failedAuthenticationDelayMs: opts.failedAuthenticationDelayMs } : {}),
        ...(opts.scramNonce ? { scramNonce: opts.scramNonce } : {}),
      }),
  };
}
