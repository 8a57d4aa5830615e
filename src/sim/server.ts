import { createServer, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { createRegistryApp, type RegistryAppOptions } from "./app.js";
import type { TokenServer } from "./auth/tokenServer.js";
import type { FaultInjector } from "./faults.js";
import type { HostileMode } from "./hostile.js";
import type { RegistryStorage } from "./storage.js";

/** Options of {@link startRegistryServer}: address, port, storage, auth, faults, provider fakes. */
export interface RegistryServerOptions extends RegistryAppOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Serve HTTPS with this certificate and key (PEM) instead of plain HTTP. */
  tls?: { cert: string; key: string };
}

/** A running embedded registry. */
export interface RegistryServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, as it appears in image references. */
  host: string;
  port: number;
  storage: RegistryStorage;
  /** The token server, when one is served at `/token`. */
  tokenServer: TokenServer | undefined;
  /** The fault injector, when faults are configured. */
  faults: FaultInjector | undefined;
  /** Hostile mode, when configured: its `seen` log shows which requests carried credentials. */
  hostile: HostileMode | undefined;
  /** Stops the server and closes its connections. */
  close(): Promise<void>;
}

/** Starts the embedded registry on a real socket, for the CLI, tests and clients like skopeo. */
export async function startRegistryServer(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  const { app, sim, tokenServer, faults, hostile } = createRegistryApp(options);
  const listener = getRequestListener(app.fetch);
  const server: Server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);
  const address = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = address.includes(":") ? `[${address}]` : address;
  return {
    url: `${options.tls ? "https" : "http"}://${hostPart}:${port}`,
    host: `${hostPart}:${port}`,
    port,
    storage: sim.storage,
    tokenServer,
    faults,
    hostile,
    close: () =>
      new Promise<void>((resolve) => {
        // Keep-alive sockets would otherwise hold close() open until they time out.
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
