import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Logger } from "../core/logger.js";
import { createRegistryApp, type RegistryAppOptions } from "./app.js";
import type { TokenServer } from "./auth/tokenServer.js";
import type { AuthMode } from "./context.js";
import { Drain, type DrainResult } from "./drain.js";
import type { FaultInjector } from "./faults.js";
import type { HostileMode } from "./hostile.js";
import { requestLogger } from "./requestLog.js";
import type { RegistryStorage } from "./storage.js";

/** Options of {@link startRegistryServer}: address, port, storage, auth, faults, provider fakes. */
export interface RegistryServerOptions extends RegistryAppOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Serve HTTPS with this certificate and key (PEM) instead of plain HTTP. */
  tls?: { cert: string; key: string };
  /** Request lines (info; 5xx and failures at warn) and expired-upload sweeps go here. */
  logger?: Logger;
}

/** A running embedded registry. */
export interface RegistryServer {
  /** `http://127.0.0.1:PORT`; a loopback address when listening on every interface. */
  url: string;
  /** `127.0.0.1:PORT`, as it appears in image references. */
  host: string;
  port: number;
  storage: RegistryStorage;
  /** The auth mode in effect (a provider fake may have changed the one asked for). */
  auth: AuthMode;
  /** The token server, when one is served at `/token`. */
  tokenServer: TokenServer | undefined;
  /** The fault injector, when faults are configured. */
  faults: FaultInjector | undefined;
  /** Hostile mode, when configured: its `seen` log shows which requests carried credentials. */
  hostile: HostileMode | undefined;
  /** Requests being served now. */
  readonly inFlight: number;
  /** Stops the server and closes its connections at once. */
  close(): Promise<void>;
  /**
   * Stops accepting connections and lets the requests in flight finish for
   * `graceMs` (or until `force` settles), then closes what is left.
   */
  shutdown(graceMs: number, force?: Promise<unknown>): Promise<DrainResult>;
}

/** Where a client reaches an address the server listens on: every interface is reachable on loopback. */
function reachableHost(address: string): string {
  const reachable =
    address === "0.0.0.0" ? "127.0.0.1" : address === "::" || address === "::0" ? "::1" : address;
  return reachable.includes(":") ? `[${reachable}]` : reachable;
}

/** Starts the embedded registry on a real socket, for the CLI, tests and clients like skopeo. */
export async function startRegistryServer(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  const { app, sim, tokenServer, faults, hostile, auth } = createRegistryApp(options);
  const listener = getRequestListener(app.fetch);
  const log = options.logger ? requestLogger(options.logger) : undefined;
  // Assigned before the first request can arrive (after listen).
  let drain: Drain | undefined;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    drain?.track(req, res);
    log?.(req, res);
    void listener(req, res);
  };
  const server: Server = options.tls ? createTlsServer(options.tls, handle) : createServer(handle);
  drain = new Drain(server);
  const address = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const sweeper = await sweepUploads(sim.storage, sim.uploadTtlMs, options.logger);
  const { port } = server.address() as AddressInfo;
  const hostPart = reachableHost(address);
  const tracked = drain;
  return {
    url: `${options.tls ? "https" : "http"}://${hostPart}:${port}`,
    host: `${hostPart}:${port}`,
    port,
    storage: sim.storage,
    auth,
    tokenServer,
    faults,
    hostile,
    get inFlight() {
      return tracked.inFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweeper);
        // Keep-alive sockets would otherwise hold close() open until they time out.
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    shutdown: (graceMs, force) => {
      clearInterval(sweeper);
      return tracked.stop(graceMs, force);
    },
  };
}

/**
 * Removes upload sessions idle for longer than `ttlMs` now and then every
 * `ttlMs / 2` (between 1 s and 1 min), so abandoned uploads do not pile up
 * in `--storage` (or in memory).
 */
async function sweepUploads(
  storage: RegistryStorage,
  ttlMs: number,
  logger: Logger | undefined,
): Promise<NodeJS.Timeout | undefined> {
  if (!storage.expireUploads) return undefined;
  const sweep = async () => {
    try {
      const removed = (await storage.expireUploads?.(ttlMs)) ?? [];
      if (removed.length > 0)
        logger?.info({ uploads: removed.length, ttlMs }, "removed upload sessions idle longer than the TTL");
    } catch (error) {
      logger?.warn({ error: error instanceof Error ? error.message : String(error) }, "upload sweep failed");
    }
  };
  await sweep();
  const every = Math.min(60_000, Math.max(1000, Math.floor(ttlMs / 2)));
  let running = false;
  return setInterval(() => {
    if (running) return;
    running = true;
    void sweep().finally(() => {
      running = false;
    });
  }, every).unref();
}
