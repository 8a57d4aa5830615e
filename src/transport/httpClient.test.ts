import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { AbortedError, InvalidInputError, NetworkError, TimeoutError } from "../core/errors.js";
import { createHttpClient } from "./httpClient.js";
import type { HttpRequest, HttpResponse } from "./types.js";

type Route = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
async function start(route: Route): Promise<{ origin: string; sockets: () => number; server: Server }> {
  let sockets = 0;
  const server = createServer(route);
  server.on("connection", () => sockets++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, sockets: () => sockets, server };
}
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const client = createHttpClient({ timeoutMs: 2000, idleTimeoutMs: 300 });
afterAll(() => client.close());

const send = (url: string, extra: Partial<HttpRequest> = {}): Promise<HttpResponse> =>
  client.handler({ method: "GET", url: new URL(url), headers: {}, ...extra });

async function drain(res: HttpResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function readRequest(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

const MiB = 1024 * 1024;

describe("connections", () => {
  it("reuses keep-alive connections for sequential requests", async () => {
    const { origin, sockets } = await start((_req, res) => res.end("ok"));
    for (let i = 0; i < 30; i++) expect((await drain(await send(`${origin}/x`))).toString()).toBe("ok");
    expect(sockets()).toBeGreaterThanOrEqual(1);
    expect(sockets()).toBeLessThanOrEqual(2);
  });

  it("opens no more than connectionsPerOrigin sockets for concurrent requests", async () => {
    const limited = createHttpClient({ connectionsPerOrigin: 2 });
    try {
      const { origin, sockets } = await start((_req, res) => setTimeout(() => res.end("ok"), 20));
      const bodies = await Promise.all(
        Array.from({ length: 10 }, async () =>
          drain(await limited.handler({ method: "GET", url: new URL(`${origin}/`), headers: {} })),
        ),
      );
      expect(bodies.map(String)).toEqual(Array(10).fill("ok"));
      expect(sockets()).toBeLessThanOrEqual(2);
    } finally {
      await limited.close();
    }
  });
});

describe("request bodies", () => {
  it("streams a 64 MiB body as it is produced and it arrives intact", async () => {
    const chunk = Buffer.alloc(MiB);
    const total = 64;
    let produced = 0;
    let maxAheadMiB = 0;
    let received = 0;
    let encoding: string | undefined;
    let serverDigest = "";
    const { origin } = await start((req, res) => {
      encoding = req.headers["transfer-encoding"];
      const hash = createHash("sha256");
      req.on("data", (c: Buffer) => {
        received += c.length;
        maxAheadMiB = Math.max(maxAheadMiB, produced - received / MiB);
        hash.update(c);
      });
      req.on("end", () => {
        serverDigest = hash.digest("hex");
        res.end();
      });
    });
    const expected = createHash("sha256");
    const body = new Readable({
      read() {
        if (produced === total) return void this.push(null);
        produced++;
        chunk.fill(produced % 251);
        expected.update(chunk);
        this.push(Buffer.from(chunk));
      },
    });
    const res = await send(`${origin}/upload`, { method: "PUT", body, timeoutMs: 60_000 });
    await drain(res);
    expect(res.status).toBe(200);
    expect(received).toBe(total * MiB);
    expect(serverDigest).toBe(expected.digest("hex"));
    // No Content-Length was computed by reading the stream first, and it never ran far ahead of the wire.
    expect(encoding).toBe("chunked");
    expect(maxAheadMiB).toBeLessThan(total / 2);
  });

  it("sends a stream with the caller's Content-Length as is", async () => {
    let headers: IncomingMessage["headers"] = {};
    let body = "";
    const { origin } = await start(async (req, res) => {
      headers = req.headers;
      body = (await readRequest(req)).toString();
      res.end();
    });
    await drain(
      await send(`${origin}/`, {
        method: "PUT",
        headers: { "content-length": "11" },
        body: Readable.from([Buffer.from("hello "), Buffer.from("world")]),
      }),
    );
    expect(body).toBe("hello world");
    expect(headers["content-length"]).toBe("11");
    expect(headers["transfer-encoding"]).toBeUndefined();
  });

  it("sends bytes and strings with their Content-Length, and opens a factory per send", async () => {
    const seen: Array<{ length: string | undefined; body: string }> = [];
    const { origin } = await start(async (req, res) => {
      seen.push({ length: req.headers["content-length"], body: (await readRequest(req)).toString() });
      res.end();
    });
    await drain(await send(origin, { method: "PUT", body: new Uint8Array([104, 105]) }));
    await drain(await send(origin, { method: "PUT", body: "h\u00e9" }));
    let opened = 0;
    const factory = () => Readable.from([Buffer.from(`attempt ${++opened}`)]);
    await drain(await send(origin, { method: "PUT", body: factory }));
    await drain(await send(origin, { method: "PUT", body: factory }));
    expect(seen).toEqual([
      { length: "2", body: "hi" },
      { length: "3", body: "h\u00e9" },
      { length: undefined, body: "attempt 1" },
      { length: undefined, body: "attempt 2" },
    ]);
  });

  it("rejects a header value that would break the request with a typed error", async () => {
    const { origin } = await start((_req, res) => res.end());
    const error = await send(origin, { headers: { "x-evil": "a\r\nb" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).not.toContain("a\r\nb");
  });
});

describe("responses", () => {
  it("streams the response: the first chunk is readable before the server has finished", async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { origin } = await start(async (_req, res) => {
      res.write("first;");
      await released;
      res.end("second");
    });
    const res = await send(`${origin}/stream`, { idleTimeoutMs: 5000 });
    const reader = res.body[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(String(first.value)).toBe("first;");
    release();
    let rest = "";
    for (let next = await reader.next(); !next.done; next = await reader.next()) rest += String(next.value);
    expect(rest).toBe("second");
  });

  it("delivers a large response intact", async () => {
    const block = Buffer.alloc(MiB, 42);
    const { origin } = await start((_req, res) => {
      let sent = 0;
      const pump = () => {
        while (sent < 32) {
          sent++;
          if (!res.write(block)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    });
    const expected = createHash("sha256");
    for (let i = 0; i < 32; i++) expected.update(block);
    const hash = createHash("sha256");
    let chunks = 0;
    for await (const chunk of (await send(`${origin}/big`)).body) {
      chunks++;
      hash.update(chunk as Buffer);
    }
    expect(hash.digest("hex")).toBe(expected.digest("hex"));
    expect(chunks).toBeGreaterThan(1);
  });

  it("lower-cases header names, keeps repeated headers as arrays and reports the URL", async () => {
    const { origin } = await start((_req, res) => {
      res.setHeader("Docker-Content-Digest", "sha256:abc");
      res.setHeader("X-Multi", ["a", "b"]);
      res.end();
    });
    const url = `${origin}/v2/?n=1`;
    const res = await send(url);
    await drain(res);
    expect(res.headers["docker-content-digest"]).toBe("sha256:abc");
    expect(res.headers["x-multi"]).toEqual(["a", "b"]);
    expect(res.url.href).toBe(url);
    expect(res.request.url.href).toBe(url);
  });
});

describe("user agent", () => {
  const version = (
    JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    }
  ).version;

  it("sends regkit/<version> unless the caller or the options name another", async () => {
    const agents: Array<string | string[] | undefined> = [];
    const { origin } = await start((req, res) => {
      agents.push(req.headersDistinct["user-agent"]);
      res.end();
    });
    await drain(await send(origin));
    await drain(await send(origin, { headers: { "User-Agent": "caller/1" } }));
    const custom = createHttpClient({ userAgent: "tool/2" });
    await drain(await custom.handler({ method: "GET", url: new URL(origin), headers: {} }));
    await custom.close();
    expect(agents).toEqual([[`regkit/${version}`], ["caller/1"], ["tool/2"]]);
  });
});

describe("timeouts and failures", () => {
  it("fails with a TimeoutError when the headers do not arrive in time", async () => {
    const { origin } = await start(() => undefined);
    const error = await send(`${origin}/slow`, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(200);
    expect((error as Error).message).toBe(`GET ${origin}: waiting for the response timed out after 200 ms`);
  });

  it("errors the body stream with a TimeoutError when the server pauses mid-body", async () => {
    const { origin } = await start((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
    });
    const res = await send(`${origin}/idle`);
    const error = await drain(res).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(300);
  });

  it("keeps a body that flows slowly but steadily for longer than the idle timeout", async () => {
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
    expect((await drain(await send(`${origin}/steady`))).toString()).toBe("xxxxxxxx");
  });

  it("errors the body stream with a NetworkError when the connection is cut mid-body", async () => {
    const { origin } = await start((_req, res) => {
      res.writeHead(200, { "content-length": "1000" });
      res.write("partial", () => res.socket?.destroy());
    });
    const error = await drain(await send(`${origin}/cut`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).not.toBeInstanceOf(TimeoutError);
  });

  it("maps an abort before the headers to AbortedError", async () => {
    const { origin } = await start(() => undefined);
    const controller = new AbortController();
    const pending = send(`${origin}/abort`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
  });

  it("maps an abort while reading the body to AbortedError on the stream", async () => {
    const { origin } = await start((_req, res) => res.write("some"));
    const controller = new AbortController();
    const res = await send(`${origin}/abort-body`, { signal: controller.signal, idleTimeoutMs: 5000 });
    const reader = res.body[Symbol.asyncIterator]();
    await reader.next();
    controller.abort();
    await expect(reader.next()).rejects.toBeInstanceOf(AbortedError);
  });

  it("maps a refused connection to a NetworkError naming only the origin", async () => {
    const { origin, server } = await start(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    const error = await send(`${origin}/v2/private/blobs?token=secret`, {
      headers: { authorization: "Bearer secret" },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).retryable).toBe(true);
    expect((error as Error).message).toBe(`GET ${origin}: ECONNREFUSED`);
  });

  it("closes, after which requests fail with a typed error", async () => {
    const { origin } = await start((_req, res) => res.end("ok"));
    const closing = createHttpClient();
    expect(
      (await drain(await closing.handler({ method: "GET", url: new URL(origin), headers: {} }))).toString(),
    ).toBe("ok");
    await closing.close();
    await expect(
      closing.handler({ method: "GET", url: new URL(origin), headers: {} }),
    ).rejects.toBeInstanceOf(NetworkError);
  });
});
