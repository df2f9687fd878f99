// How handlers reach the security services and the connection's SASL session. The broker adds
// `BrokerServices.security` and `ConnectionInfo.sasl` (src/security/types.ts); these accessors read them through
// the types declared here, so the handlers compile before and after that wiring lands.
import type { RequestContext } from '../broker/context.js';
import type { SaslSession } from './sasl-session.js';
import type { SecurityServices } from './types.js';

/** The security services, or undefined on a broker that has not wired them. */
export function securityOf(ctx: RequestContext): SecurityServices | undefined {
  return (ctx.services as { security?: SecurityServices }).security;
}

/** The security services; a broker without them cannot serve the SCRAM admin APIs (a bug: close loudly). */
export function requireSecurity(ctx: RequestContext): SecurityServices {
  const s = securityOf(ctx);
  if (!s) throw new Error('security services are not wired into BrokerServices (services.security)');
  return s;
}

/** The connection's SASL session; null (or absent) on a listener without SASL. */
export function saslOf(ctx: RequestContext): SaslSession | null {
  return (ctx.connection as { sasl?: SaslSession | null }).sasl ?? null;
}
