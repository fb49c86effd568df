import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Node HTTP servers on free loopback ports, closed together (connections included) at the end of a file. */
export function createListeners() {
  const servers: Server[] = [];
  return {
    /** Serves `handler` on a free loopback port; resolves with the port. */
    async listen(handler: RequestListener): Promise<number> {
      const server = createServer(handler);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    },
    closeAll(): void {
      for (const server of servers.splice(0)) {
        server.closeAllConnections();
        server.close();
      }
    },
  };
}

/** One server for `handler` (an app, a gateway, another subgraph) on a free loopback port, stopped with `stop`. */
export async function listen(
  handler: RequestListener,
): Promise<{ server: Server; origin: string; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, origin, url: `${origin}/graphql` };
}

/** Stops a server of `listen`, its keep-alive connections too. */
export async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
