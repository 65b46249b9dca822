import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server that a test turns off and on: while
 * down, it drops every open connection and resets each new one at once, as
 * a network partition or a stopped server would look to the client, while
 * the server itself keeps running for everyone else.
 */
export interface SwitchProxy {
  url: string;
  /** Connections reset because the proxy was down. */
  readonly refused: number;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startSwitchProxy(target: string): Promise<SwitchProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let isUp = true;
  let refused = 0;
  const server = createServer((client) => {
    client.on('error', () => {});
    if (!isUp) {
      refused++;
      return void client.resetAndDestroy();
    }
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    for (const socket of [client, upstream]) {
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get refused() {
      return refused;
    },
    down() {
      isUp = false;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    up() {
      isUp = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
