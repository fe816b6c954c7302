// The Cookie and Set-Cookie headers, as much of RFC 6265 as one session cookie needs.

/** Name → value of every cookie in a Cookie header; the first of duplicate names wins (RFC 6265 §5.4 order). */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

export interface SessionCookieOptions {
  /** 0 deletes the cookie. */
  maxAgeSec: number;
  secure: boolean;
}

/**
 * HttpOnly: scripts (and so an XSS) cannot read it. SameSite=Strict: no other site can make the browser
 * send it, which with JSON-only mutations is the CSRF defence. Path=/ so the dashboard and /api share it.
 */
export function sessionCookie(name: string, value: string, opts: SessionCookieOptions): string {
  const attributes = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSec))}`];
  if (opts.secure) attributes.push('Secure');
  return attributes.join('; ');
}
