/**
 * A blob answer as services return it: the status, its headers and the
 * bytes as they are read. The HTTP edge writes it; the service never sees
 * the socket.
 */
export interface BlobAnswer<Status extends 200 | 206 = 200 | 206> {
  status: Status;
  headers: Record<string, string | number>;
  stream: {
    chunks: AsyncIterable<Buffer>;
    /** The client left before the answer started: nothing was delivered. */
    abandoned: () => Promise<void>;
    /** The answer went out (whole, or cut by the client) with this many bytes. */
    sent?: (bytes: number) => void;
    /** The client did not get every byte (see `StreamBody.cut`). */
    cut?: () => void;
  };
}

/** Headers alone, for `HEAD`. */
export interface HeadAnswer {
  status: 200;
  headers: Record<string, string | number>;
}
