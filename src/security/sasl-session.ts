// The SASL state of one connection on a SASL listener, driven by the connection layer and handlers 17 and 36.
// Kafka's SaslServerAuthenticator, reduced to what PLAIN and SCRAM need:
//
//   HANDSHAKE ──SaslHandshake(enabled mechanism)──▶ AUTHENTICATE ──last token ok──▶ COMPLETE (principal User:NAME)
//       │                                               │
//       └──unknown mechanism / out of order──▶ FAILED ◀──bad token / bad credentials / out of order
//
// - SaslHandshake v1: the tokens then travel in SaslAuthenticate v0-2 requests (authenticate()).
// - SaslHandshake v0 (kafka-python 2.0, old librdkafka): the next frames are raw `int32 length + token` without a
//   Kafka header, and so are the answers (handleRawToken(); `expectsRawToken` tells the connection to route
//   frames here). A failure then has no way to carry an error code: the connection just closes, as in Kafka.
// - Failures answer SASL_AUTHENTICATION_FAILED (58) and the connection closes after the answer. The message
//   never says whether the user exists: "Authentication failed during authentication due to invalid credentials
//   with SASL mechanism M" (Kafka's wording), or Kafka's own PLAIN/authzid messages, which do not either. Failed
//   answers are delayed (connection.failed.authentication.delay.ms, 100 ms in Kafka) to slow password guessing.
// - Out-of-order requests answer ILLEGAL_SASL_STATE (34); an unknown mechanism UNSUPPORTED_SASL_MECHANISM (33)
//   with the enabled list. Once authenticated, SaslHandshake/SaslAuthenticate answer ILLEGAL_SASL_STATE and the
//   connection stays open (Kafka's KafkaApis does the same; re-authentication, KIP-368, is not offered: the
//   session lifetime is reported as 0).
// - The broker log gets the user name, the remote address and the reason of a failure, never the password,
//   salts, nonces or proofs.
import { ErrorCode } from '../protocol/errors.js';
import { PlainServerExchange } from './plain.js';
import { ScramAuthError, ScramServerExchange, scramMechanism } from './scram.js';
import type { CredentialStore } from './credentials.js';
import type { SaslConnection, SaslMechanismName, SecurityLogger } from './types.js';

export type SaslState = 'HANDSHAKE' | 'AUTHENTICATE' | 'COMPLETE' | 'FAILED';

/** Kafka's default connection.failed.authentication.delay.ms */
export const DEFAULT_FAILED_AUTHENTICATION_DELAY_MS = 100;
/** Kafka's sasl.server.max.receive.size: the largest frame accepted before authentication completes */
export const SASL_MAX_RECEIVE_BYTES = 524_288;

export interface SaslSessionOptions {
  connection: SaslConnection;
  credentials: CredentialStore;
  enabledMechanisms: readonly SaslMechanismName[];
  logger: SecurityLogger;
  failedAuthenticationDelayMs?: number;
  /** SCRAM server nonces; injectable for tests */
  scramNonce?: () => string;
  /** key for unknown users' fake SCRAM salts (see scram.ts) */
  mockSecret?: Buffer;
}

export interface SaslHandshakeResult {
  errorCode: number;
  mechanisms: string[];
  /** close the connection once this answer is written */
  close: boolean;
}

export type SaslStepResult =
  | { ok: true; token: Buffer; complete: boolean; sessionLifetimeMs: number }
  | { ok: false; errorCode: number; errorMessage: string; close: boolean };

interface Exchange {
  readonly username: string | null;
  evaluate(token: Buffer): Promise<{ token: Buffer; complete: boolean }>;
}

export function authenticationFailedMessage(mechanism: string): string {
  return `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;
}

export class SaslSession {
  private readonly opts: SaslSessionOptions;
  private stateValue: SaslState = 'HANDSHAKE';
  private mechanismValue: SaslMechanismName | null = null;
  private handshakeVersionValue = -1;
  private exchange: Exchange | null = null;
  /** a token is being evaluated (PLAIN's PBKDF2 is asynchronous); a second one meanwhile is out of order */
  private busy = false;

  constructor(opts: SaslSessionOptions) {
    this.opts = opts;
  }

  get state(): SaslState {
    return this.stateValue;
  }

  get mechanism(): SaslMechanismName | null {
    return this.mechanismValue;
  }

  /** 0 or 1 once a handshake succeeded, else -1 */
  get handshakeVersion(): number {
    return this.handshakeVersionValue;
  }

  /** The connection must hand its next frame to handleRawToken() instead of parsing a Kafka request header. */
  get expectsRawToken(): boolean {
    return this.stateValue === 'AUTHENTICATE' && this.handshakeVersionValue === 0;
  }

  /** `User:NAME` once authenticated, else null */
  get principal(): string | null {
    return this.stateValue === 'COMPLETE' ? this.opts.connection.principal : null;
  }

  /** SaslHandshake v0-1. */
  handshake(mechanism: string, version: number): SaslHandshakeResult {
    const mechanisms = [...this.opts.enabledMechanisms];
    if (this.stateValue === 'COMPLETE') return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms, close: false };
    if (this.stateValue !== 'HANDSHAKE') {
      this.failState(`SaslHandshake in state ${this.stateValue}`);
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms, close: true };
    }
    const enabled = (this.opts.enabledMechanisms as readonly string[]).includes(mechanism);
    if (!enabled) {
      this.stateValue = 'FAILED';
      this.opts.logger.info(
        { remote: this.remote(), mechanism: mechanism.slice(0, 64), enabled: mechanisms },
        'SASL handshake failed: mechanism not enabled',
      );
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms, close: true };
    }
    this.mechanismValue = mechanism as SaslMechanismName;
    this.handshakeVersionValue = version;
    this.exchange = this.newExchange(this.mechanismValue);
    this.stateValue = 'AUTHENTICATE';
    return { errorCode: ErrorCode.NONE, mechanisms, close: false };
  }

  /** A token from SaslAuthenticate (after a v1 handshake). */
  authenticate(token: Buffer): Promise<SaslStepResult> {
    if (this.stateValue === 'COMPLETE') {
      return Promise.resolve({ ok: false, errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate request received after successful authentication', close: false });
    }
    if (this.stateValue !== 'AUTHENTICATE' || this.handshakeVersionValue !== 1) {
      return Promise.resolve(this.illegal(`Unexpected SaslAuthenticate request in SASL state ${this.stateValue}${this.handshakeVersionValue === 0 ? ' after a v0 handshake' : ''}`));
    }
    return this.evaluate(token);
  }

  /** A raw token frame (after a v0 handshake); the reply goes back as `int32 length + token`. */
  handleRawToken(token: Buffer): Promise<SaslStepResult> {
    if (!this.expectsRawToken) return Promise.resolve(this.illegal(`Unexpected raw SASL token in state ${this.stateValue}`));
    return this.evaluate(token);
  }

  private async evaluate(token: Buffer): Promise<SaslStepResult> {
    if (this.busy) return this.illegal('SASL token received before the previous one was answered');
    const exchange = this.exchange!;
    const mechanism = this.mechanismValue!;
    this.busy = true;
    try {
      const { token: reply, complete } = await exchange.evaluate(token);
      // an out-of-order token failed the session while this one was being evaluated
      if (this.stateValue !== 'AUTHENTICATE') return { ok: false, errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SASL session already failed', close: true };
      if (complete) {
        const user = exchange.username!;
        this.opts.connection.principal = `User:${user}`;
        this.opts.connection.authenticated = true;
        this.stateValue = 'COMPLETE';
        this.exchange = null;
        this.opts.logger.debug({ user, remote: this.remote(), mechanism }, 'SASL authentication succeeded');
      }
      return { ok: true, token: reply, complete, sessionLifetimeMs: 0 };
    } catch (err) {
      this.stateValue = 'FAILED';
      this.exchange = null;
      const auth = err instanceof ScramAuthError ? err : null;
      this.opts.logger.info(
        { user: exchange.username?.slice(0, 256) ?? null, remote: this.remote(), mechanism, reason: auth ? auth.reason : 'internal error' },
        `SASL authentication failed: ${authenticationFailedMessage(mechanism)}`,
      );
      if (!auth) this.opts.logger.warn({ err, remote: this.remote() }, 'SASL mechanism raised an unexpected error');
      await delay(this.opts.failedAuthenticationDelayMs ?? DEFAULT_FAILED_AUTHENTICATION_DELAY_MS);
      if (auth?.illegalState) return { ok: false, errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: auth.reason, close: true };
      return { ok: false, errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: auth?.clientMessage ?? authenticationFailedMessage(mechanism), close: true };
    } finally {
      this.busy = false;
    }
  }

  private illegal(message: string): SaslStepResult {
    this.failState(message);
    return { ok: false, errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: message, close: true };
  }

  private failState(reason: string): void {
    this.stateValue = 'FAILED';
    this.exchange = null;
    this.opts.logger.info({ remote: this.remote(), mechanism: this.mechanismValue, reason }, 'SASL authentication failed: illegal SASL state');
  }

  private remote(): string {
    const c = this.opts.connection;
    return `${c.remoteAddress}:${c.remotePort}`;
  }

  private newExchange(mechanism: SaslMechanismName): Exchange {
    const credentials = this.opts.credentials;
    if (mechanism === 'PLAIN') {
      const plain = new PlainServerExchange((user, password) => credentials.verifyPassword(user, password));
      return {
        get username() {
          return plain.username;
        },
        evaluate: async (token) => ({ token: await plain.step(token), complete: true }),
      };
    }
    const mech = scramMechanism(mechanism)!;
    const scram = new ScramServerExchange({
      mechanism: mech,
      lookup: (user) => credentials.get(user, mech.name),
      ...(this.opts.scramNonce ? { nonce: this.opts.scramNonce } : {}),
      ...(this.opts.mockSecret ? { mockSecret: this.opts.mockSecret } : {}),
    });
    return {
      get username() {
        return scram.username;
      },
      evaluate: async (token) => {
        const reply = scram.step(token);
        return { token: reply, complete: scram.isComplete };
      },
    };
  }
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
