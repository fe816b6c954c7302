// A small decoder of Server-Sent Events (the WHATWG `text/event-stream` format) as chat-completion
// servers send it: `data:` lines, blank lines between events, `:` comments as keep-alives.

export interface ServerSentEvent {
  /** The `event:` field; `message` when absent. llama.cpp's non-standard `error: {…}` line becomes `error`. */
  event: string;
  data: string;
}

/**
 * Reads events from a byte stream. Lines may arrive split across chunks (and UTF-8 characters across
 * bytes); `\n`, `\r\n` and `\r` all end a line. An event still pending when the stream ends is delivered.
 */
export async function* readServerSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  // A lone `\r` at the end of a chunk may be the first half of `\r\n`.
  let skipLeadingLf = false;

  const take = (): ServerSentEvent | undefined => {
    const out = data.length > 0 ? { event: event || 'message', data: data.join('\n') } : undefined;
    event = '';
    data = [];
    return out;
  };

  const line = (text: string): ServerSentEvent | undefined => {
    if (text === '') return take();
    if (text.startsWith(':')) return undefined;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'error') {
      // Older llama.cpp servers report a failed stream as `error: {json}`.
      event = 'error';
      data.push(value);
    }
    return undefined;
  };

  const drain = function* (final: boolean): Generator<ServerSentEvent> {
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const ch = buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      if (skipLeadingLf && i === start && ch === '\n') {
        skipLeadingLf = false;
        start = i + 1;
        continue;
      }
      skipLeadingLf = false;
      const out = line(buffer.slice(start, i));
      if (out) yield out;
      if (ch === '\r') {
        if (i + 1 < buffer.length) {
          if (buffer[i + 1] === '\n') i++;
        } else {
          skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    buffer = buffer.slice(start);
    if (final) {
      if (buffer !== '') {
        const out = line(buffer);
        if (out) yield out;
        buffer = '';
      }
      const out = take();
      if (out) yield out;
    }
  };

  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    yield* drain(false);
  }
  buffer += decoder.decode();
  yield* drain(true);
}
