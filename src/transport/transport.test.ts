import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import {
  AbortedError,
  ConfigurationError,
  NetworkError,
  ProtocolError,
  SizeLimitError,
  TimeoutError,
} from "../core/errors.js";
import { createHttpClient } from "./httpClient.js";
import { createTransport } from "./index.js";
import { Pipeline } from "./pipeline.js";
import { readBytes } from "./response.js";
import { EndpointPolicy, isLoopbackHost } from "./scheme.js";
import type { Handler, HttpRequest, HttpResponse, Middleware } from "./types.js";

type Route = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(route: Route): Promise<{ server: Server; origin: string; sockets: () => number }> {
  let sockets = 0;
  const server = createServer(route);
  server.on("connection", () => sockets++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets: () => sockets,
  };
}

const servers: Server[] = [];
async function start(route: Route) {
  const s = await serve(route);
  servers.push(s.server);
  return s;
}
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

const transport = createTransport({ timeoutMs: 500, idleTimeoutMs: 300 });
afterAll(() => transport.close());

const get = (url: string, extra: Partial<HttpRequest> = {}): Promise<HttpResponse> =>
  transport.send({ method: "GET", url: new URL(url), headers: {}, ...extra });

async function drain(res: HttpResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe("http client", () => {
  it("reuses keep-alive connections", async () => {
    const { origin, sockets } = await start((_req, res) => res.end("ok"));
    for (let i = 0; i < 20; i++) expect((await drain(await get(`${origin}/x`))).toString()).toBe("ok");
    // One socket serves them all (two when undici dispatches before it has seen the previous end).
    expect(sockets()).toBeLessThanOrEqual(2);
  });

  it("streams a large request body without buffering and it arrives intact", async () => {
    let received = "";
    let encoding: string | undefined;
    const { origin } = await start((req, res) => {
      encoding = req.headers["transfer-encoding"];
      const hash = createHash("sha256");
      req.on("data", (c: Buffer) => hash.update(c));
      req.on("end", () => {
        received = hash.digest("hex");
        res.end();
      });
    });
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const expected = createHash("sha256");
    for (let i = 0; i < total / chunk.length; i++) expected.update(chunk);
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < total / chunk.length; i++) yield chunk;
      })(),
    );
    const res = await transport.send({
      method: "PUT",
      url: new URL(`${origin}/up`),
      headers: {},
      body,
      timeoutMs: 30_000,
    });
    await drain(res);
    expect(received).toBe(expected.digest("hex"));
    // Sent as it was produced (chunked), not collected first to compute a length.
    expect(encoding).toBe("chunked");
  });

  it("times out waiting for headers", async () => {
    const { origin } = await start(() => undefined);
    await expect(get(`${origin}/slow`)).rejects.toBeInstanceOf(TimeoutError);
  });

  it("fails the body stream when the server goes idle mid-body", async () => {
    const { origin } = await start((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
    });
    const res = await get(`${origin}/idle`);
    const error = await drain(res).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it("does not time out a body that keeps flowing longer than the idle timeout", async () => {
    const { origin } = await start((_req, res) => {
      let n = 0;
      const timer = setInterval(() => {
        res.write("x");
        if (++n === 8) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
    });
    expect((await drain(await get(`${origin}/steady`))).toString()).toBe("xxxxxxxx");
  });

  it("maps aborts and refused connections", async () => {
    const { origin } = await start(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      get(`${origin}/abort`, { signal: controller.signal, timeoutMs: 5000 }),
    ).rejects.toBeInstanceOf(AbortedError);
    const refused = await get("http://127.0.0.1:1/").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NetworkError);
    expect((refused as Error).message).toBe("GET http://127.0.0.1:1: ECONNREFUSED");
  });

  it("sets a user agent", async () => {
    let agent = "";
    const { origin } = await start((req, res) => {
      agent = req.headers["user-agent"] ?? "";
      res.end();
    });
    await drain(await get(origin));
    expect(agent).toMatch(/^regkit\/\d+\.\d+\.\d+/);
  });

  it("limits in-memory reads", async () => {
    const { origin } = await start((_req, res) => res.end(Buffer.alloc(2000)));
    await expect(readBytes(await get(origin), 1000)).rejects.toBeInstanceOf(SizeLimitError);
    const { origin: chunked } = await start((_req, res) => {
      res.write(Buffer.alloc(600));
      res.end(Buffer.alloc(600));
    });
    await expect(readBytes(await get(chunked), 1000)).rejects.toBeInstanceOf(SizeLimitError);
  });
});

describe("redirects", () => {
  it("keeps Authorization on the same origin and drops it across origins", async () => {
    const seen: Record<string, string | undefined> = {};
    const cdn = await start((req, res) => {
      seen.cdn = req.headers.authorization;
      res.end("from cdn");
    });
    const { origin } = await start((req, res) => {
      if (req.url === "/same") {
        res.writeHead(307, { location: "/target" }).end();
      } else if (req.url === "/target") {
        seen.same = req.headers.authorization;
        res.end("same");
      } else {
        res.writeHead(302, { location: `${cdn.origin}/blob` }).end();
      }
    });
    const auth = { authorization: "Bearer secret" };
    expect((await drain(await get(`${origin}/same`, { headers: auth }))).toString()).toBe("same");
    const res = await get(`${origin}/cross`, { headers: auth });
    expect((await drain(res)).toString()).toBe("from cdn");
    expect(res.url.origin).toBe(cdn.origin);
    expect(seen).toEqual({ same: "Bearer secret", cdn: undefined });
  });

  it("re-sends replayable bodies on 307 and refuses one-shot streams", async () => {
    const bodies: string[] = [];
    const { origin } = await start((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        if (req.url === "/start") res.writeHead(307, { location: "/final" }).end();
        else {
          bodies.push(body);
          res.end();
        }
      });
    });
    await drain(
      await transport.send({ method: "PUT", url: new URL(`${origin}/start`), headers: {}, body: "payload" }),
    );
    await drain(
      await transport.send({
        method: "PUT",
        url: new URL(`${origin}/start`),
        headers: {},
        body: () => Readable.from(["fresh"]),
      }),
    );
    expect(bodies).toEqual(["payload", "fresh"]);
    const oneShot = transport.send({
      method: "PUT",
      url: new URL(`${origin}/start`),
      headers: {},
      body: Readable.from(["x"]),
    });
    await expect(oneShot).rejects.toThrow(/cannot replay a streamed body/);
  });

  it("stops redirect loops and can be turned off", async () => {
    const { origin } = await start((_req, res) => res.writeHead(302, { location: "/again" }).end());
    await expect(get(`${origin}/loop`)).rejects.toBeInstanceOf(ProtocolError);
    expect((await get(`${origin}/loop`, { followRedirects: false })).status).toBe(302);
  });
});

describe("pipeline", () => {
  const logging = (name: string, log: string[]): Middleware => ({
    name,
    wrap: (next) => async (req) => {
      log.push(`${name}>`);
      const res = await next(req);
      log.push(`<${name}`);
      return res;
    },
  });
  const terminal =
    (log: string[]): Handler =>
    async (req) => {
      log.push("terminal");
      return { status: 200, headers: {}, body: Readable.from([]), url: req.url, request: req };
    };
  const request: HttpRequest = { method: "GET", url: new URL("http://x/"), headers: {} };

  it("runs middleware outermost first and can be rearranged by name", async () => {
    const log: string[] = [];
    const pipeline = new Pipeline(terminal(log), [logging("A", log), logging("B", log)]);
    await pipeline.send(request);
    expect(log).toEqual(["A>", "B>", "terminal", "<B", "<A"]);
    pipeline.insertBefore("B", logging("auth", log)).insertAfter("B", logging("retry", log)).remove("A");
    expect(pipeline.names()).toEqual(["auth", "B", "retry"]);
    log.length = 0;
    await pipeline.clone().use(logging("record", log)).send(request);
    expect(log).toEqual(["auth>", "B>", "retry>", "record>", "terminal", "<record", "<retry", "<B", "<auth"]);
    expect(() => pipeline.insertAfter("missing", logging("x", log))).toThrow(ConfigurationError);
  });
});

describe("endpoint policy", () => {
  it.each([
    ["localhost", true],
    ["localhost:5000", true],
    ["127.0.0.1", true],
    ["127.10.0.3:80", true],
    ["[::1]:5000", true],
    ["::1", true],
    ["10.0.0.1", false],
    ["registry.example.com", false],
    ["128.0.0.1", false],
  ])("%s loopback: %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it("uses HTTPS unless loopback or named insecure", () => {
    const policy = new EndpointPolicy({ insecureHosts: ["reg.internal:5000", "plain.example"] });
    expect(policy.baseUrl("ghcr.io").href).toBe("https://ghcr.io/");
    expect(policy.baseUrl("127.0.0.1:5000").href).toBe("http://127.0.0.1:5000/");
    expect(policy.baseUrl("reg.internal:5000").href).toBe("http://reg.internal:5000/");
    expect(policy.baseUrl("reg.internal:6000").href).toBe("https://reg.internal:6000/");
    expect(policy.baseUrl("plain.example:8080").href).toBe("http://plain.example:8080/");
    expect(() => policy.baseUrl("evil.com/path?")).toThrow(/invalid registry host/);
  });

  it("a client closes cleanly", async () => {
    const client = createHttpClient();
    await client.close();
  });
});
