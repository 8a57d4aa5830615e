import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { ProtocolError } from "../core/errors.js";
import { createTransport } from "./index.js";
import { Pipeline } from "./pipeline.js";
import { redirectMiddleware } from "./redirect.js";
import { EndpointPolicy } from "./scheme.js";
import type { Handler, HttpRequest, HttpResponse } from "./types.js";

type Route = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
async function start(route: Route): Promise<{ origin: string; sockets: () => number }> {
  let sockets = 0;
  const server = createServer(route);
  server.on("connection", () => sockets++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets: () => sockets };
}
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const transport = createTransport({ timeoutMs: 5000 });
afterAll(() => transport.close());

const send = (url: string, extra: Partial<HttpRequest> = {}): Promise<HttpResponse> =>
  transport.send({ method: "GET", url: new URL(url), headers: {}, ...extra });

async function text(res: HttpResponse): Promise<string> {
  let out = "";
  for await (const chunk of res.body) out += String(chunk);
  return out;
}

function readRequest(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => resolve(body));
  });
}

/** A scripted terminal handler: answers by URL and logs what it was asked. */
function scripted(answers: Record<string, { status: number; location?: string }>) {
  const log: HttpRequest[] = [];
  const bodies: Readable[] = [];
  const handler: Handler = async (req) => {
    log.push(req);
    const answer = answers[req.url.href] ?? { status: 200 };
    const body = Readable.from([Buffer.from("body")]);
    bodies.push(body);
    return {
      status: answer.status,
      headers: answer.location ? { location: answer.location } : {},
      body,
      url: req.url,
      request: req,
    };
  };
  return { handler, log, bodies };
}

describe("redirects on the wire", () => {
  it("keeps credentials on the same origin and drops them across origins", async () => {
    const seen: Record<string, Array<string | undefined>> = { same: [], cdn: [] };
    const cdn = await start((req, res) => {
      seen.cdn!.push(req.headers.authorization, req.headers.cookie);
      res.end("from cdn");
    });
    const { origin } = await start((req, res) => {
      if (req.url === "/same") res.writeHead(307, { location: "/target" }).end();
      else if (req.url === "/target") {
        seen.same!.push(req.headers.authorization, req.headers.cookie);
        res.end("same");
      } else res.writeHead(302, { location: `${cdn.origin}/blob?sig=1` }).end("moved");
    });
    const headers = { authorization: "Bearer secret", cookie: "session=1" };
    const same = await send(`${origin}/same`, { headers });
    expect(await text(same)).toBe("same");
    expect(same.url.href).toBe(`${origin}/target`);
    const cross = await send(`${origin}/v2/a/blobs/sha256:x`, { headers });
    expect(await text(cross)).toBe("from cdn");
    expect(cross.url.href).toBe(`${cdn.origin}/blob?sig=1`);
    expect(seen).toEqual({ same: ["Bearer secret", "session=1"], cdn: [undefined, undefined] });
    expect(headers).toEqual({ authorization: "Bearer secret", cookie: "session=1" });
  });

  it("re-sends a replayable body on 307 and 308", async () => {
    const bodies: string[] = [];
    const { origin } = await start(async (req, res) => {
      const body = await readRequest(req);
      if (req.url === "/start") res.writeHead(307, { location: "/middle" }).end();
      else if (req.url === "/middle") res.writeHead(308, { location: "/final" }).end();
      else {
        bodies.push(`${req.method} ${body}`);
        res.end();
      }
    });
    await text(await send(`${origin}/start`, { method: "PUT", body: "payload" }));
    await text(
      await send(`${origin}/start`, { method: "PATCH", body: new Uint8Array([98, 121, 116, 101, 115]) }),
    );
    let opened = 0;
    const factory = () => Readable.from([Buffer.from(`fresh ${++opened}`)]);
    await text(await send(`${origin}/start`, { method: "POST", body: factory }));
    expect(bodies).toEqual(["PUT payload", "PATCH bytes", "POST fresh 3"]);
  });

  it("refuses to re-send a one-shot stream across a 307", async () => {
    const { origin } = await start(async (req, res) => {
      await readRequest(req);
      res.writeHead(307, { location: "/final" }).end();
    });
    const stream = Readable.from([Buffer.from("once")]);
    const error = await send(`${origin}/start`, { method: "PUT", body: stream }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toBe(`PUT ${origin}: cannot replay a streamed body across a redirect`);
  });

  it("turns a 303 into a GET without body", async () => {
    const seen: string[] = [];
    const { origin } = await start(async (req, res) => {
      const body = await readRequest(req);
      if (req.url === "/upload") return void res.writeHead(303, { location: "/status" }).end();
      seen.push(
        `${req.method} ${req.headers["content-type"] ?? "-"} ${req.headers["content-length"] ?? "-"} ${body}`,
      );
      res.end("done");
    });
    const res = await send(`${origin}/upload`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: "data",
    });
    expect(await text(res)).toBe("done");
    expect(seen).toEqual(["GET - - "]);
  });

  it("refuses a redirect loop with a ProtocolError", async () => {
    const { origin, sockets } = await start((_req, res) =>
      res.writeHead(302, { location: "/again" }).end("loop"),
    );
    const error = await send(`${origin}/loop`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toBe(`GET ${origin}: more than 10 redirects`);
    // Eleven responses on one or two connections: intermediate bodies were freed, not left hanging.
    expect(sockets()).toBeLessThanOrEqual(2);
  });

  it("returns the 3xx when the caller turns redirects off", async () => {
    const { origin } = await start((_req, res) => res.writeHead(302, { location: "/elsewhere" }).end());
    const res = await send(`${origin}/x`, { followRedirects: false });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/elsewhere");
    await text(res);
  });
});

describe("redirect policy", () => {
  const run = (handler: Handler, policy?: EndpointPolicy, maxRedirects?: number) =>
    new Pipeline(handler, [
      redirectMiddleware({ ...(policy ? { policy } : {}), ...(maxRedirects ? { maxRedirects } : {}) }),
    ]);
  const get = (url: string, extra: Partial<HttpRequest> = {}): HttpRequest => ({
    method: "GET",
    url: new URL(url),
    headers: { authorization: "Bearer t" },
    ...extra,
  });

  it("refuses https → http to a host that is not allowed plain HTTP", async () => {
    const { handler, log } = scripted({
      "https://registry.example/v2/": { status: 302, location: "http://cdn.example/blob" },
    });
    const error = await run(handler)
      .send(get("https://registry.example/v2/"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toBe(
      "GET https://registry.example: refusing redirect from HTTPS to plain HTTP http://cdn.example",
    );
    expect(log).toHaveLength(1);
  });

  it.each([
    ["http://127.0.0.1:9000/blob", undefined],
    ["http://localhost/blob", undefined],
    ["http://cdn.example/blob", ["cdn.example"]],
    ["http://cdn.example:8080/blob", ["cdn.example:8080"]],
    ["http://cdn.example/blob", ["cdn.example:80"]],
  ])("follows https → %s when allowed (%s)", async (target, insecureHosts) => {
    const { handler, log } = scripted({ "https://registry.example/v2/": { status: 307, location: target } });
    const policy = insecureHosts ? new EndpointPolicy({ insecureHosts }) : undefined;
    const res = await run(handler, policy).send(get("https://registry.example/v2/"));
    expect(res.status).toBe(200);
    expect(res.url.href).toBe(target);
    expect(log[1]?.headers.authorization).toBeUndefined();
  });

  it("resolves relative locations and keeps credentials on the same origin", async () => {
    const { handler, log } = scripted({
      "https://registry.example/v2/a/blobs/x": { status: 307, location: "../../b/blobs/y?x=1" },
    });
    const res = await run(handler).send(get("https://registry.example/v2/a/blobs/x"));
    expect(res.url.href).toBe("https://registry.example/v2/b/blobs/y?x=1");
    expect(log[1]?.headers.authorization).toBe("Bearer t");
  });

  it("drops credentials on a change of scheme or port, which is a change of origin", async () => {
    const { handler, log } = scripted({
      "http://127.0.0.1:5000/v2/": { status: 302, location: "http://127.0.0.1:5001/v2/" },
    });
    await run(handler).send(get("http://127.0.0.1:5000/v2/"));
    expect(log[1]?.headers.authorization).toBeUndefined();
  });

  it("turns a POST into a GET on 301 and 302 but keeps PUT", async () => {
    for (const status of [301, 302]) {
      const { handler, log } = scripted({ "https://r.example/up": { status, location: "/next" } });
      await run(handler).send(
        get("https://r.example/up", { method: "POST", body: "x", headers: { "content-type": "a/b" } }),
      );
      expect(log[1]?.method).toBe("GET");
      expect(log[1]?.body).toBeUndefined();
      expect(log[1]?.headers).toEqual({});
      const put = scripted({ "https://r.example/up": { status, location: "/next" } });
      await run(put.handler).send(get("https://r.example/up", { method: "PUT", body: "x" }));
      expect(put.log[1]?.method).toBe("PUT");
      expect(put.log[1]?.body).toBe("x");
    }
  });

  it("keeps HEAD a HEAD on 303", async () => {
    const { handler, log } = scripted({ "https://r.example/x": { status: 303, location: "/y" } });
    await run(handler).send(get("https://r.example/x", { method: "HEAD" }));
    expect(log[1]?.method).toBe("HEAD");
  });

  it("discards every intermediate body", async () => {
    const { handler, bodies } = scripted({
      "https://r.example/1": { status: 302, location: "/2" },
      "https://r.example/2": { status: 302, location: "/3" },
    });
    await run(handler).send(get("https://r.example/1"));
    expect(bodies).toHaveLength(3);
    for (const body of bodies.slice(0, 2)) expect(body.readableEnded || body.destroyed).toBe(true);
    expect(bodies[2]?.readableEnded).toBe(false);
  });

  it("honours maxRedirects exactly", async () => {
    const chain = {
      "https://r.example/1": { status: 302, location: "/2" },
      "https://r.example/2": { status: 302, location: "/3" },
    };
    expect((await run(scripted(chain).handler, undefined, 2).send(get("https://r.example/1"))).status).toBe(
      200,
    );
    await expect(run(scripted(chain).handler, undefined, 1).send(get("https://r.example/1"))).rejects.toThrow(
      "GET https://r.example: more than 1 redirects",
    );
  });

  it("refuses redirects to other schemes and unparsable locations", async () => {
    const ftp = scripted({ "https://r.example/x": { status: 302, location: "ftp://r.example/x" } });
    await expect(run(ftp.handler).send(get("https://r.example/x"))).rejects.toThrow(
      "GET https://r.example: redirect to unsupported scheme ftp:",
    );
    const bad = scripted({ "https://r.example/x": { status: 302, location: "http://[bad" } });
    await expect(run(bad.handler).send(get("https://r.example/x"))).rejects.toBeInstanceOf(ProtocolError);
    await expect(run(bad.handler).send(get("https://r.example/x"))).rejects.toThrow(
      "GET https://r.example: invalid redirect Location",
    );
  });

  it("follows plain HTTP to plain HTTP: only leaving HTTPS is a downgrade", async () => {
    const { handler, log } = scripted({
      "http://mirror.example/x": { status: 302, location: "http://cdn.example/x" },
    });
    const res = await run(handler).send(get("http://mirror.example/x"));
    expect(res.status).toBe(200);
    expect(log.map((r) => r.url.href)).toEqual(["http://mirror.example/x", "http://cdn.example/x"]);
  });

  it("is the pipeline's redirect link", () => {
    expect(redirectMiddleware().name).toBe("redirect");
  });

  it("returns a redirect without Location as it is", async () => {
    const { handler } = scripted({ "https://r.example/x": { status: 302 } });
    expect((await run(handler).send(get("https://r.example/x"))).status).toBe(302);
  });
});
