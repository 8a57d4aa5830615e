import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { createTransport, type HttpRequest, type Middleware, readText } from "./index.js";

let server: Server | undefined;
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

const tag = (name: string, log: string[]): Middleware => ({
  name,
  wrap: (next) => async (request) => {
    log.push(`${name} ${request.url.pathname}`);
    return next(request);
  },
});

describe("createTransport", () => {
  it("builds caller middlewares, then redirect, then innermost ones, around the network", async () => {
    const log: string[] = [];
    server = createServer((req, res) => {
      if (req.url === "/old") res.writeHead(301, { location: "/new" }).end();
      else res.end(`served ${req.url}`);
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = createTransport({
      middlewares: [tag("auth", log), tag("retry", log)],
      innermost: [tag("record", log)],
    });
    try {
      expect(transport.pipeline.names()).toEqual(["auth", "retry", "redirect", "record"]);
      const request: HttpRequest = { method: "GET", url: new URL(`${origin}/old`), headers: {} };
      const response = await transport.send(request);
      expect(await readText(response, 1000)).toBe("served /new");
      expect(response.url.pathname).toBe("/new");
      // Outer layers see one call; the layer below redirect sees every hop on the wire.
      expect(log).toEqual(["auth /old", "retry /old", "record /old", "record /new"]);
    } finally {
      await transport.close();
    }
  });

  it("builds its endpoint policy from insecureHosts, or shares the one given", async () => {
    const built = createTransport({ insecureHosts: ["registry.lan:5000"] });
    expect(built.policy.baseUrl("registry.lan:5000").href).toBe("http://registry.lan:5000/");
    expect(built.policy.baseUrl("ghcr.io").href).toBe("https://ghcr.io/");
    const shared = createTransport({ policy: built.policy });
    expect(shared.policy).toBe(built.policy);
    await Promise.all([built.close(), shared.close()]);
  });
});
