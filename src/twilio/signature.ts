// X-Twilio-Signature checks (protocol/twilio.md §4). Validation goes through the official package's
// validateRequest, which already tries the port and query-encoding variants Twilio's back end produces
// and compares in constant time; this module only supplies the right URL and parameters.
import twilio from 'twilio';

export type SignedParams = Record<string, string | string[]>;

export interface WebhookSignatureInput {
  authToken: string;
  /** The `X-Twilio-Signature` header value. */
  signature: string | undefined;
  /** The full URL Twilio requested, query string included (see publicRequestUrl). */
  url: string;
  /** Every parsed form field, repeated keys as arrays. */
  params: SignedParams;
}

export function validateWebhookSignature(input: WebhookSignatureInput): boolean {
  const { authToken, signature, url, params } = input;
  if (!authToken || !signature) return false;
  try {
    return twilio.validateRequest(authToken, signature, url, params);
  } catch {
    // validateRequest parses the URL with `new URL`, which throws on garbage: that is simply "not valid".
    return false;
  }
}

export interface StreamUpgradeSignatureInput {
  authToken: string;
  /** The `x-twilio-signature` header of the WebSocket upgrade request. */
  signature: string | undefined;
  /** The `wss://` URL Twilio connected to (the `<Stream url>`), built from configuration, not from the request. */
  wssUrl: string;
}

/**
 * Twilio signs the upgrade over the wss URL with no parameters; its docs say to retry with a trailing
 * slash when that fails (§4.3). The reverse (configured with a slash, signed without) is tried too.
 */
export function validateStreamUpgradeSignature(input: StreamUpgradeSignatureInput): boolean {
  const { authToken, signature, wssUrl } = input;
  const candidates = wssUrl.endsWith('/') ? [wssUrl, wssUrl.replace(/\/+$/, '')] : [wssUrl, `${wssUrl}/`];
  return candidates.some((url) => url.length > 0 && validateWebhookSignature({ authToken, signature, url, params: {} }));
}

/** The signature Twilio would send: for tests and fakes. */
export function computeSignature(authToken: string, url: string, params: SignedParams): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

export type RequestHeaders = Record<string, string | string[] | undefined>;

export interface PublicRequestUrlInput {
  /** `PUBLIC_URL`, e.g. `https://koe.example.com` or `https://example.com/koe` (a path prefix is kept). */
  publicBaseUrl?: string;
  /** Path and query exactly as received, e.g. `/twilio/voice?agent=sales`. */
  path: string;
  /** Node-style request headers (lower-case names). */
  headers: RequestHeaders;
  /** The protocol the server itself saw: `http` or `https` (a trailing `:` is accepted). */
  fallbackProtocol: string;
  /** The Host the server itself saw. */
  fallbackHost: string;
  /**
   * Honour `X-Forwarded-Proto`/`X-Forwarded-Host` when no publicBaseUrl is configured (default true).
   * Turn off when Koe is reachable without a proxy that overwrites these headers.
   */
  trustForwardedHeaders?: boolean;
}

/**
 * Rebuilds the URL Twilio signed (§4.4). With `PUBLIC_URL` configured it wins: proxies rewrite scheme,
 * host and port, but Twilio signed what it was given. When the request path already starts with the
 * base URL's path prefix (a proxy that does not strip it), the prefix is not added twice.
 */
export function publicRequestUrl(input: PublicRequestUrlInput): string {
  const path = input.path.startsWith('/') ? input.path : `/${input.path}`;
  if (input.publicBaseUrl !== undefined && input.publicBaseUrl !== '') {
    let base: URL;
    try {
      base = new URL(input.publicBaseUrl);
    } catch {
      throw new Error(`public base URL is not an absolute URL: ${JSON.stringify(input.publicBaseUrl)}`);
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new Error(`public base URL must be http(s), got ${input.publicBaseUrl}`);
    }
    // Credentials are dropped: Twilio removes them before signing.
    const prefix = base.pathname.replace(/\/+$/, '');
    const fullPath = prefix !== '' && (path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`)) ? path : prefix + path;
    return `${base.protocol}//${base.host}${fullPath}`;
  }

  const trust = input.trustForwardedHeaders ?? true;
  let protocol = input.fallbackProtocol.replace(/:$/, '').toLowerCase();
  let host = input.fallbackHost;
  if (trust) {
    const forwardedProto = firstHeaderValue(input.headers['x-forwarded-proto'])?.toLowerCase();
    if (forwardedProto === 'http' || forwardedProto === 'https') protocol = forwardedProto;
    const forwardedHost = firstHeaderValue(input.headers['x-forwarded-host']);
    if (forwardedHost !== undefined && isHostHeader(forwardedHost)) host = forwardedHost;
  }
  if (protocol !== 'http' && protocol !== 'https') throw new Error(`unsupported request protocol ${JSON.stringify(protocol)}`);
  if (!isHostHeader(host)) throw new Error(`invalid request host ${JSON.stringify(host)}`);
  return `${protocol}://${host}${path}`;
}

/** Maps the public http(s) URL to the ws(s) URL of the same endpoint: what Twilio signs on the upgrade. */
export function toWebSocketUrl(httpUrl: string): string {
  const match = /^([a-z][a-z0-9+.-]*):\/\//i.exec(httpUrl);
  const scheme = match?.[1]?.toLowerCase();
  const rest = httpUrl.slice(match?.[0].length ?? 0);
  switch (scheme) {
    case 'https':
    case 'wss':
      return `wss://${rest}`;
    case 'http':
    case 'ws':
      return `ws://${rest}`;
    default:
      throw new Error(`expected an http(s) URL, got ${JSON.stringify(httpUrl)}`);
  }
}

// Proxies append to these headers ("client, proxy1"): the first value is what the client asked for.
function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const first = raw.split(',')[0]?.trim();
  return first === undefined || first === '' ? undefined : first;
}

// host, host:port, or [v6]:port; nothing that could smuggle a path or credentials into the URL.
function isHostHeader(host: string): boolean {
  return /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host);
}
