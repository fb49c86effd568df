import { PARENT_PARTNER_SID } from './data.ts';

/** A parent-partner token with `calls.read`: reads the parent's records, 403 on descendants' records. */
export const DEMO_TOKEN = 'carrierx-demo-token';
/** A valid token without any calls scope: every CDR request answers 403. */
export const NO_SCOPE_TOKEN = 'carrierx-no-scope-token';
/** A parent-partner token with `calls.read` and `calls.read_descendant`: reads every record. */
export const DESCENDANT_TOKEN = 'carrierx-descendant-token';

/** Who a token belongs to and what it may do. */
export interface Principal {
  token: string;
  partnerSid: string;
  canReadCalls: boolean;
  canReadDescendants: boolean;
}

const PRINCIPALS = new Map<string, Principal>(
  [
    { token: DEMO_TOKEN, scopes: ['calls.read'] },
    { token: NO_SCOPE_TOKEN, scopes: ['sms.read'] },
    { token: DESCENDANT_TOKEN, scopes: ['calls.read', 'calls.read_descendant'] },
  ].map(({ token, scopes }) => [
    token,
    {
      token,
      partnerSid: PARENT_PARTNER_SID,
      canReadCalls: scopes.includes('calls.read') || scopes.includes('calls.manage'),
      canReadDescendants: scopes.includes('calls.read_descendant'),
    },
  ]),
);

/**
 * Extracts the token from an Authorization header: `Bearer <token>`, or `Basic` with any user and the token
 * as the password, as CarrierX accepts both. Returns undefined when there is none.
 */
export function tokenFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const credentials = header.slice(space + 1).trim();
  if (scheme === 'bearer') return credentials || undefined;
  if (scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1) || undefined;
  }
  return undefined;
}

/** The principal a token stands for, or undefined for an unknown token. */
export function principalFor(token: string | undefined): Principal | undefined {
  return token === undefined ? undefined : PRINCIPALS.get(token);
}
