import type { IncomingMessage, Server, ServerResponse } from "node:http";

/** How a graceful stop ended: every request finished, or `cut` were force-closed. */
export interface DrainResult {
  drained: boolean;
  /** Requests still in flight when the connections were closed. */
  cut: number;
}

/**
 * The requests a server has in flight, and stopping it gracefully: no new
 * connections, idle kept-alive ones closed, responses of requests already
 * running carry `Connection: close` so their sockets end with them.
 */
export class Drain {
  readonly #server: Server;
  readonly #open = new Set<ServerResponse>();
  #draining = false;
  #idle: (() => void) | undefined;

  constructor(server: Server) {
    this.#server = server;
  }

  get inFlight(): number {
    return this.#open.size;
  }

  /** Counts one request until its response closes; call from the server's request listener. */
  track(_req: IncomingMessage, res: ServerResponse): void {
    if (this.#draining) res.setHeader("connection", "close");
    this.#open.add(res);
    res.once("close", () => {
      this.#open.delete(res);
      if (!this.#draining) return;
      this.#server.closeIdleConnections();
      if (this.#open.size === 0) this.#idle?.();
    });
  }

  /**
   * Stops accepting, lets the requests in flight finish for `graceMs` (or
   * until `force` settles, e.g. on a second signal), then closes every
   * connection that is left.
   */
  async stop(graceMs: number, force?: Promise<unknown>): Promise<DrainResult> {
    this.#draining = true;
    for (const res of this.#open) if (!res.headersSent) res.setHeader("connection", "close");
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const idle =
      this.#open.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#idle = resolve));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      idle,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
      ...(force ? [force] : []),
    ]);
    clearTimeout(timer);
    const cut = this.#open.size;
    this.#server.closeAllConnections();
    await closed;
    return { drained: cut === 0, cut };
  }
}
