// Classifies what a chat-completions server answers when it fails into Koe's one dialogue error type.
import { DialogueError } from '../dialogue.js';

/**
 * The error message a server put in its body. Shapes seen: OpenAI, Ollama and newer llama.cpp
 * `{"error": {"message", "type", "code"}}`; vLLM's older `{"object": "error", "message"}`; Ollama's native
 * `{"error": "text"}`; FastAPI-style `{"detail": "..."}`; or plain text.
 */
export function serverErrorMessage(body: string): { message: string; code?: string; type?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { message: body.trim().slice(0, 500) };
  }
  const root = isRecord(parsed) ? parsed : {};
  const inner = isRecord(root.error) ? root.error : root;
  const message =
    (typeof inner.message === 'string' && inner.message) ||
    (typeof root.error === 'string' && root.error) ||
    (typeof root.detail === 'string' && root.detail) ||
    (typeof root.message === 'string' && root.message) ||
    body.trim().slice(0, 500);
  const out: { message: string; code?: string; type?: string } = { message };
  if (typeof inner.code === 'string') out.code = inner.code;
  if (typeof inner.type === 'string') out.type = inner.type;
  return out;
}

/** An HTTP failure status with the body the server sent. */
export function httpError(status: number, body: string, retryAfter: string | null): DialogueError {
  const { message: serverMessage, code } = serverErrorMessage(body);
  const kind = classifyStatus(status, code);
  const wait = kind.code === 'rate_limited' && retryAfter ? ` (retry after ${retryAfter} s)` : '';
  return new DialogueError(`chat completions: HTTP ${status}: ${serverMessage || 'no message'}${wait}`, kind.code, kind.retryable);
}

/** An `{"error": …}` object sent inside the stream after the response had started. */
export function streamError(data: unknown): DialogueError {
  const root = isRecord(data) ? data : {};
  const inner = isRecord(root.error) ? root.error : root;
  const text = (typeof inner.message === 'string' && inner.message) || (typeof root.error === 'string' && root.error) || JSON.stringify(data);
  // llama.cpp puts the HTTP status it would have used in `code`.
  const status = typeof inner.code === 'number' ? inner.code : undefined;
  const kind =
    status !== undefined && status >= 400 && status < 600
      ? classifyStatus(status, undefined)
      : inner.type === 'invalid_request_error'
        ? ({ code: 'bad_request', retryable: false } as const)
        : ({ code: 'internal', retryable: true } as const);
  return new DialogueError(`chat completions: stream failed: ${text}`, kind.code, kind.retryable);
}

function classifyStatus(status: number, errorCode: string | undefined): { code: DialogueError['code']; retryable: boolean } {
  if (status === 401 || status === 403) return { code: 'unavailable', retryable: false };
  if (status === 429) {
    // OpenAI answers an exhausted quota with 429 too; waiting does not help.
    return errorCode === 'insufficient_quota' ? { code: 'unavailable', retryable: false } : { code: 'rate_limited', retryable: true };
  }
  // A missing model (Ollama answers 404 "model … not found") or a wrong base URL: configuration, not the request.
  if (status === 404) return { code: 'unavailable', retryable: false };
  if (status === 408) return { code: 'timeout', retryable: true };
  if (status >= 400 && status < 500) return { code: 'bad_request', retryable: false };
  if (status === 502 || status === 503 || status === 504) return { code: 'unavailable', retryable: true };
  return { code: 'internal', retryable: true };
}

/** fetch's own failure: the server is unreachable or the connection broke. */
export function networkError(error: unknown, where: string): DialogueError {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = isRecord(cause) && typeof cause.code === 'string' ? cause.code : undefined;
  const reason = code ?? (cause instanceof Error ? cause.message : String(cause));
  return new DialogueError(`chat completions: cannot reach ${where} (${reason})`, 'unavailable', true, { cause: error });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
