import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server that cuts the first `cuts` connections
 * after `afterBytes` bytes of the server's answer, as a flaky network would.
 * Later connections pass whole.
 */
export interface CuttingProxy {
  url: string;
  /** Connections cut so far. */
  readonly cut: number;
  close(): Promise<void>;
}

export async function startCuttingProxy(
  target: string,
  options: { afterBytes: number; cuts: number },
): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let cut = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    const cutThis = cut < options.cuts;
    if (cutThis) cut++;
    let relayed = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!cutThis) return void client.write(chunk);
      const room = options.afterBytes - relayed;
      relayed += chunk.length;
      if (room > 0) client.write(chunk.subarray(0, room));
      if (relayed >= options.afterBytes) {
        client.destroy();
        upstream.destroy();
      }
    });
    upstream.on('end', () => client.end());
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
    get cut() {
      return cut;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
