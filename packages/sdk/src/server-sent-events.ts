/** One block of a `text/event-stream` (the lines up to a blank one). */
export interface ServerSentEvent {
  /** The `id:` given in this block, if any: the id to resume after, even in a block without data. */
  id: string | undefined;
  /** The `event:` field; `message` when absent, as in browsers. */
  event: string;
  /** The `data:` lines, joined by `\n`; undefined for a block that only moves the id (no event). */
  data: string | undefined;
}

/**
 * Parses a `text/event-stream` body into its blocks, following the rules
 * browsers apply: lines end in LF, CRLF or CR; a blank line ends a block;
 * `:` starts a comment (heartbeats); a block with neither data nor id is
 * dropped. Decoding is streaming, so a character split between two chunks
 * stays whole.
 */
export async function* parseServerSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let message = emptyMessage();
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = lineEnd(buffer)) !== -1) {
      const line = buffer.slice(0, end);
      // A CR at the very end may be the first half of a CRLF still on its way.
      if (buffer[end] === '\r' && end + 1 === buffer.length) break;
      buffer = buffer.slice(buffer[end] === '\r' && buffer[end + 1] === '\n' ? end + 2 : end + 1);
      if (line === '') {
        if (message.data !== undefined || message.id !== undefined) {
          yield { id: message.id, event: message.event || 'message', data: message.data };
        }
        message = emptyMessage();
      } else {
        applyField(message, line);
      }
    }
  }
}

interface PendingMessage {
  id: string | undefined;
  event: string;
  data: string | undefined;
}

function emptyMessage(): PendingMessage {
  return { id: undefined, event: '', data: undefined };
}

function lineEnd(buffer: string): number {
  const lf = buffer.indexOf('\n');
  const cr = buffer.indexOf('\r');
  if (lf === -1) return cr;
  if (cr === -1) return lf;
  return Math.min(lf, cr);
}

function applyField(message: PendingMessage, line: string): void {
  if (line.startsWith(':')) return;
  const colon = line.indexOf(':');
  const name = colon === -1 ? line : line.slice(0, colon);
  let value = colon === -1 ? '' : line.slice(colon + 1);
  if (value.startsWith(' ')) value = value.slice(1);
  if (name === 'data') message.data = message.data === undefined ? value : `${message.data}\n${value}`;
  else if (name === 'event') message.event = value;
  else if (name === 'id' && !value.includes('\0')) message.id = value;
}
