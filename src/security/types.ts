// The seams between the security code and the broker: what handlers reach through `ctx.services.security`, and
// what each connection carries in `ctx.connection.sasl`. The broker owns BrokerServices and ConnectionInfo; it
// adds these two fields (see the wiring notes in src/security/index.ts):
//
//   BrokerServices.security: SecurityServices        always present (users can be managed on a plaintext broker)
//   ConnectionInfo.sasl:     SaslSession | null       null on listeners without SASL (principal User:ANONYMOUS)
//
// Until both fields exist, src/security/context.ts reads them through these types, so the handlers compile either way.
import type { CredentialStore } from './credentials.js';
import type { SaslSession } from './sasl-session.js';

/** The SCRAM mechanisms, with Kafka's names. */
export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** Every SASL mechanism Umbra implements. GSSAPI and OAUTHBEARER are not implemented (see the gaps in index.ts). */
export type SaslMechanismName = 'PLAIN' | ScramMechanismName;

export const SASL_MECHANISMS: readonly SaslMechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'];

export function isSaslMechanism(name: string): name is SaslMechanismName {
  return (SASL_MECHANISMS as readonly string[]).includes(name);
}

/** What `ctx.services.security` offers handlers. Built by createSecurityServices() in src/security/index.ts. */
export interface SecurityServices {
  /** SCRAM credentials in the metadata store */
  credentials: CredentialStore;
  /** mechanisms offered in SaslHandshake, in the order the broker lists them */
  enabledMechanisms: readonly SaslMechanismName[];
  /** a SASL state machine for a new connection on a SASL listener; it sets the connection's principal on success */
  newSession(connection: SaslConnection): SaslSession;
}

/** The part of ConnectionInfo the SASL session reads and writes. */
export interface SaslConnection {
  id: number;
  remoteAddress: string;
  remotePort: number;
  /** `User:NAME` once authenticated */
  principal: string;
  authenticated: boolean;
}

/** The field the broker adds to ConnectionInfo. */
export interface SaslConnectionField {
  sasl: SaslSession | null;
}

/** The field the broker adds to BrokerServices. */
export interface SecurityServicesField {
  security: SecurityServices;
}

/** The logger calls the security code makes (a pino Logger satisfies it). Secrets are never passed to it. */
export interface SecurityLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}
