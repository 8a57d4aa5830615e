import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import { Agent } from "undici";
import { FaultInjector, type FaultOptions } from "./faults.js";

export interface FaultProxy {
  url: string;
  /** `127.0.0.1:PORT`, to use in references instead of the upstream's host. */
  host: string;
  faults: FaultInjector;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

/**
 * Puts the embedded registry's fault injection in front of another registry
 * (the real CNCF one in the tests): requests and bodies stream through,
 * absolute `Location`/`Link` URLs are rewritten to the proxy so clients stay on it.
 */
export async function startFaultProxy(options: {
  upstream: string;
  faults: FaultOptions;
}): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const faults = new FaultInjector(options.faults);
  const agent = new Agent({ connections: 32 });
  const app = new Hono();
  let self = "";
  app.use(faults.middleware());
  app.all("*", async (c) => {
    const target = new URL(c.req.url);
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      if (!HOP_BY_HOP.has(key)) headers[key] = value;
    });
    const length = c.req.header("content-length");
    if (length) headers["content-length"] = length;
    const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.raw.body !== null;
    const response = await agent.request({
      origin: upstream.origin,
      path: `${target.pathname}${target.search}`,
      method: c.req.method as "GET",
      headers,
      body: hasBody ? Readable.fromWeb(c.req.raw.body as never) : null,
    });
    const out = new Headers();
    for (const [key, value] of Object.entries(response.headers)) {
      if (value === undefined || HOP_BY_HOP.has(key)) continue;
      for (const v of Array.isArray(value) ? value : [value])
        out.append(key, v.replaceAll(upstream.origin, self));
    }
    if (response.headers["content-length"] !== undefined)
      out.set("content-length", String(response.headers["content-length"]));
    const body =
      c.req.method === "HEAD" || response.statusCode === 204
        ? null
        : // From the iterator, not Readable.toWeb: a cut body (fault injection) cancels the
          // web stream, and toWeb's adapter then enqueues into a closed controller and throws.
          ReadableStream.from(response.body as AsyncIterable<Uint8Array>);
    return new Response(body, { status: response.statusCode, headers: out });
  });
  const server: Server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  self = `http://127.0.0.1:${port}`;
  return {
    url: self,
    host: `127.0.0.1:${port}`,
    faults,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await agent.close();
    },
  };
}
