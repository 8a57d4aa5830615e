/**
 * A registry that lies, truncates, overflows or redirects elsewhere: each
 * case must end in its typed error, never a hang, a crash or silent success.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import {
  AuthenticationError,
  DigestMismatchError,
  ManifestInvalidError,
  NetworkError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  SizeLimitError,
  SizeMismatchError,
} from "../core/errors.js";
import { MediaType } from "../core/mediaTypes.js";
import { EndpointPolicy } from "../transport/scheme.js";
import { RegistryContext } from "./context.js";
import { Registry } from "./registry.js";

type Route = (req: IncomingMessage, res: ServerResponse) => void;
let routes: Record<string, Route> = {};
let server: Server;
let host: string;
let registry: Registry;

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = routes[`${req.method} ${req.url}`];
    if (route) route(req, res);
    else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  registry = new Registry({ timeoutMs: 5000, idleTimeoutMs: 2000 });
});

afterAll(async () => {
  await registry.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  for await (const _ of stream) {
    // consume
  }
}

const repo = () => registry.repository(host, "evil/app");
const good = Buffer.from("the real content");
const digest = digestOf(good);

describe("a hostile registry", () => {
  it("serving other bytes for a blob fails the stream with DigestMismatchError", async () => {
    routes = {
      [`GET /v2/evil/app/blobs/${digest}`]: (_req, res) => res.end(Buffer.from("the fake content")),
    };
    const fetched = await repo().blobs.fetch(digest);
    await expect(drain(fetched.stream)).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it("sending more bytes than the descriptor says fails with SizeMismatchError", async () => {
    routes = {
      [`GET /v2/evil/app/blobs/${digest}`]: (_req, res) => {
        res.write(good);
        res.end(Buffer.alloc(1000));
      },
    };
    const fetched = await repo().blobs.fetch(digest, { size: good.length });
    await expect(drain(fetched.stream)).rejects.toBeInstanceOf(SizeMismatchError);
  });

  it("closing the connection mid-body fails the stream with NetworkError", async () => {
    routes = {
      [`GET /v2/evil/app/blobs/${digest}`]: (_req, res) => {
        res.writeHead(200, { "content-length": "1000000" });
        res.write(Buffer.alloc(1000));
        setTimeout(() => res.socket?.destroy(), 20);
      },
    };
    const fetched = await repo().blobs.fetch(digest);
    await expect(drain(fetched.stream)).rejects.toBeInstanceOf(NetworkError);
  });

  it("a manifest over 4 MiB is refused", async () => {
    routes = {
      "GET /v2/evil/app/manifests/big": (_req, res) => {
        res.writeHead(200, { "content-type": MediaType.OciManifest });
        res.end(Buffer.alloc(4 * 1024 * 1024 + 1, 32));
      },
    };
    await expect(repo().manifests.fetch("big")).rejects.toBeInstanceOf(SizeLimitError);
  });

  it("a manifest that is not JSON is ManifestInvalidError", async () => {
    routes = {
      "GET /v2/evil/app/manifests/junk": (_req, res) => {
        res.writeHead(200, { "content-type": MediaType.OciManifest });
        res.end("<html>oops</html>");
      },
    };
    await expect(repo().manifests.get("junk")).rejects.toBeInstanceOf(ManifestInvalidError);
  });

  it("a Docker-Content-Digest that disagrees with the bytes is DigestMismatchError", async () => {
    const body = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }),
    );
    routes = {
      "GET /v2/evil/app/manifests/v1": (_req, res) => {
        res.writeHead(200, {
          "content-type": MediaType.OciIndex,
          "docker-content-digest": digestOf("other"),
        });
        res.end(body);
      },
      [`GET /v2/evil/app/manifests/${digestOf("wanted")}`]: (_req, res) => {
        res.writeHead(200, { "content-type": MediaType.OciIndex });
        res.end(body);
      },
    };
    await expect(repo().manifests.fetch("v1")).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(repo().manifests.fetch(digestOf("wanted"))).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it("a pagination Link to another origin is refused", async () => {
    routes = {
      "GET /v2/evil/app/tags/list": (_req, res) => {
        res.writeHead(200, {
          "content-type": "application/json",
          link: '<http://169.254.169.254/x>; rel="next"',
        });
        res.end(JSON.stringify({ name: "evil/app", tags: ["a"] }));
      },
    };
    await expect(repo().tags().all()).rejects.toBeInstanceOf(ProtocolError);
  });

  it("a tag list that is not the expected JSON is a ProtocolError", async () => {
    routes = {
      "GET /v2/evil/app/tags/list": (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ name: "evil/app", tags: [1, 2] }));
      },
    };
    await expect(repo().tags().all()).rejects.toBeInstanceOf(ProtocolError);
  });

  it("an upload Location on another origin is followed (object storage does that), one going to plain HTTP is not", async () => {
    routes = {
      "POST /v2/evil/app/blobs/uploads/": (_req, res) => {
        res.writeHead(202, { location: "https://uploads.example/upload/1?sig=a%2Fb" });
        res.end();
      },
    };
    const started = await repo().uploads.start();
    expect(started.mounted).toBe(false);
    expect(started.mounted ? undefined : started.session.location.href).toBe(
      "https://uploads.example/upload/1?sig=a%2Fb",
    );
    // From an HTTPS registry, a plain-HTTP Location elsewhere would send the blob in the clear.
    const ctx = new RegistryContext({
      registry: "registry.example",
      endpoint: "registry.example",
      policy: new EndpointPolicy(),
      send: () => Promise.reject(new Error("no requests here")),
    });
    const base = new URL("https://registry.example/v2/");
    expect(() => ctx.uploadUrl("http://uploads.example/1", base)).toThrow(/over plain HTTP/);
    expect(() => ctx.uploadUrl("http://uploads.example/1", new URL("http://127.0.0.1:5000/v2/"))).toThrow(
      /over plain HTTP/,
    );
    expect(ctx.uploadUrl("https://uploads.example/1", base).host).toBe("uploads.example");
    expect(ctx.uploadUrl("http://127.0.0.1:9/1", base).host).toBe("127.0.0.1:9");
  });

  it("a Location or Link with path characters is refused before it is requested", async () => {
    for (const location of [
      "/v2/evil/app/blobs/uploads/..%2F..%2Fx",
      "/v2/evil/app/blobs/uploads/../../x",
      "/v2/evil/app/blobs/uploads/%2e%2e/x",
      "/v2/evil/app/blobs/uploads/a\\b",
    ]) {
      routes = {
        "POST /v2/evil/app/blobs/uploads/": (_req, res) => {
          res.writeHead(202, { location });
          res.end();
        },
      };
      await expect(repo().uploads.start()).rejects.toBeInstanceOf(ProtocolError);
    }
    routes = {
      "GET /v2/evil/app/tags/list": (_req, res) => {
        res.writeHead(200, {
          "content-type": "application/json",
          link: '</v2/..%2Fother/tags/list>; rel="next"',
        });
        res.end(JSON.stringify({ name: "evil/app", tags: ["a"] }));
      },
    };
    await expect(repo().tags().all()).rejects.toBeInstanceOf(ProtocolError);
  });

  it("maps OCI error bodies and statuses to typed errors", async () => {
    routes = {
      "GET /v2/evil/app/manifests/auth": (_req, res) => {
        res.writeHead(401, { "www-authenticate": 'Basic realm="x"' });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      },
      "GET /v2/evil/app/manifests/slow": (_req, res) => {
        res.writeHead(429, { "retry-after": "7" });
        res.end(JSON.stringify({ errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] }));
      },
    };
    const missing = await repo()
      .manifests.get("missing")
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).code).toBe("MANIFEST_UNKNOWN");
    expect((missing as Error).message).toContain("manifest unknown");
    await expect(repo().manifests.get("auth")).rejects.toBeInstanceOf(AuthenticationError);
    const limited = await repo()
      .manifests.get("slow")
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).retryAfterMs).toBe(7000);
  });
});
