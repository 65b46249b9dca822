/** Response headers as services state them; the edge writes them as they are. */
export type ReplyHeaders = Record<string, string | number>;

/** A body sent as it is produced: a blob read from a replica, an event stream. */
export interface StreamBody {
  /** Throwing mid-way cuts the connection, so a short body never looks complete. */
  chunks: AsyncIterable<Buffer | string>;
  /** The client left before the answer started: nothing was delivered (a taken download is given back). */
  abandoned?: () => Promise<void>;
  /** The answer went out (whole or cut by the client); `bytes` were written. */
  sent?: (bytes: number) => void;
  /**
   * The client did not get every byte: the connection closed (or the body
   * failed) before the answer was written, or was reset after it was
   * flushed (the client left with bytes unread).
   */
  cut?: () => void;
}

/**
 * What a route answers, without touching a socket: the edge alone turns it
 * into HTTP. `json` bodies are checked against the route's declared schema.
 */
export interface Reply {
  status: number;
  headers?: ReplyHeaders;
  json?: unknown;
  bytes?: Buffer;
  stream?: StreamBody;
}

export function noContent(): { status: 204 } {
  return { status: 204 };
}
