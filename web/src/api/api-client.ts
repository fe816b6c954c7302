// fetch for /api/*: JSON in and out, the server's `{ error: { code, message, problems } }` turned into
// ApiRequestError, and every 401 reported once to whoever signs the user out.
import type { ApiError } from './types.js';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever an API call answers 401 (the session expired or never existed). */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Tells every listener the session is gone (also used when a WebSocket is refused). */
export function reportUnauthorized(): void {
  for (const listener of unauthorizedListeners) listener();
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Login answers 401 for a wrong password: that must not count as a lost session. */
  ignoreUnauthorized?: boolean;
}

export async function apiRequest<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const method = opts.method ?? 'GET';
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  // Koe refuses mutations that are not JSON (its CSRF rule), even bodiless ones like logout and delete.
  if (method !== 'GET') headers['content-type'] = 'application/json';
  if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
  if (opts.signal) init.signal = opts.signal;
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiRequestError(0, 'network_error', (err as Error).message);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !opts.ignoreUnauthorized) reportUnauthorized();
    const error = isApiError(parsed) ? parsed.error : undefined;
    throw new ApiRequestError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? (response.statusText || `HTTP ${response.status}`),
      error?.problems ?? [],
    );
  }
  return parsed as T;
}

function isApiError(value: unknown): value is ApiError {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

/** `?a=1&b=2` from the defined, non-empty values (or '' when there are none). */
export function queryString(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
