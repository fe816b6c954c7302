/** A same-origin WebSocket URL for a path: ws: on http pages, wss: on https pages. */
export function sameOriginWebSocketUrl(path: string): string {
  const url = new URL(path, window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
