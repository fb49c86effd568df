import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The request extension Hive Gateway writes its signature to (`hmacSignature: { secret }` in its configuration;
 * @graphql-mesh/hmac-upstream-signature's default extension name).
 */
export const GATEWAY_SIGNATURE_EXTENSION = 'hmac-signature';

/** Whether a request was signed by the gateway: `signed` (and the signature holds), `unsigned`, or `forged`. */
export type GatewaySignature = 'signed' | 'unsigned' | 'forged';

/** The parameters a signature covers. */
export interface SignedParams {
  readonly query?: unknown;
  readonly variables?: unknown;
  readonly extensions?: unknown;
}

/**
 * JSON with every object's keys in sorted order, as json-stable-stringify writes it (the serializer the gateway
 * signs with): no spaces, `toJSON` honoured, undefined members left out and undefined array items written null.
 */
export function stableStringify(value: unknown): string | undefined {
  const json = (value as { toJSON?: () => unknown } | null)?.toJSON;
  const node = typeof json === 'function' ? json.call(value) : value;
  if (node === undefined) return undefined;
  if (typeof node !== 'object' || node === null) return JSON.stringify(node);
  if (Array.isArray(node)) return `[${node.map((item) => stableStringify(item) ?? 'null').join(',')}]`;
  const members: string[] = [];
  for (const key of Object.keys(node).sort()) {
    const member = stableStringify((node as Record<string, unknown>)[key]);
    if (member) members.push(`${JSON.stringify(key)}:${member}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * What the gateway signs of a request, as @graphql-mesh/hmac-upstream-signature's `defaultParamsSerializer`
 * reads it on the subgraph side: the query text and the variables, these left out when there are none.
 */
export function signedPayload(params: SignedParams): string {
  const variables =
    params.variables !== null &&
    typeof params.variables === 'object' &&
    Object.keys(params.variables).length > 0
      ? params.variables
      : undefined;
  return stableStringify({ query: params.query, variables }) ?? '';
}

/** The signature the gateway would write for these parameters: base64 of their HMAC-SHA256 under `secret`. */
export function signParams(params: SignedParams, secret: string): string {
  return createHmac('sha256', secret).update(signedPayload(params)).digest('base64');
}

/**
 * Checks the gateway's signature of a request, as Hive Gateway's own subgraph-side check
 * (`useHmacSignatureValidation`) does: HMAC-SHA256 under the shared secret of the query and variables, base64
 * in `extensions["hmac-signature"]`, compared in constant time. That plugin refuses every unsigned request; here
 * an unsigned one is only not trusted (the allowlist then applies to it), so the check is ours, not the plugin.
 */
export function createGatewaySignatureCheck(secret: string): (params: SignedParams) => GatewaySignature {
  return (params) => {
    const signature = (params.extensions as Record<string, unknown> | null | undefined)?.[
      GATEWAY_SIGNATURE_EXTENSION
    ];
    if (signature === undefined || signature === null) return 'unsigned';
    if (typeof signature !== 'string' || typeof params.query !== 'string') return 'forged';
    const expected = createHmac('sha256', secret).update(signedPayload(params)).digest();
    const given = Buffer.from(signature, 'base64');
    // timingSafeEqual needs equal lengths; a length tells nothing about the secret.
    return given.length === expected.length && timingSafeEqual(given, expected) ? 'signed' : 'forged';
  };
}
