import type { Socket } from 'node:net';
import type { Server as HttpsServer } from 'node:https';

/** Every TLS connection starts with a handshake record, whose first byte is this. */
const TLS_HANDSHAKE = 0x16;
/** A client that connects and says nothing for this long is let go. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

/**
 * Puts a look at the first byte of each connection in front of the HTTPS
 * server's own handler: a TLS handshake goes on to it; anything else is a
 * client speaking plain HTTP to the HTTPS port, which gets a 400 naming the
 * fix instead of a connection closed mid-handshake.
 */
export function answerPlainHttp(server: HttpsServer): void {
  const secureHandlers = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    // Until the TLS handler owns it, a client that resets or goes silent must not take the server down or linger.
    const drop = (): void => void socket.destroy();
    socket.on('error', drop);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS);
    socket.once('timeout', drop);
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null;
      if (first === null) return;
      socket.unshift(first);
      socket.off('error', drop);
      socket.off('timeout', drop);
      socket.setTimeout(0);
      if (first[0] === TLS_HANDSHAKE) {
        for (const handler of secureHandlers) handler.call(server, socket);
      } else {
        refuse(socket);
      }
    });
  });
}

function refuse(socket: Socket): void {
  const body = JSON.stringify({
    error: {
      code: 'TLS_REQUIRED',
      message: 'this server speaks HTTPS only: use an https:// URL (and its CA, e.g. --ca or curl --cacert)',
    },
  });
  socket.on('error', () => {}); // the client may be gone already
  socket.resume(); // its request is not read, only drained
  socket.end(
    'HTTP/1.1 400 Bad Request\r\n' +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}
