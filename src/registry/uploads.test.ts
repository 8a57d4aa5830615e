/**
 * Chunked uploads against a registry whose connection breaks mid-chunk: the
 * uploader must ask for the offset and continue from there, not restart.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import { NetworkError } from "../core/errors.js";
import { Registry } from "./registry.js";

interface Session {
  data: Buffer[];
  size: number;
}

let server: Server;
let host: string;
let registry: Registry;
const sessions = new Map<string, Session>();
const stored = new Map<string, Buffer>();
let breakPatchNumber = -1;
let patches = 0;
const log: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    log.push(`${req.method} ${url.pathname.replace(/uploads\/.+/, "uploads/ID")}`);
    if (req.method === "POST") {
      const id = String(sessions.size + 1);
      sessions.set(id, { data: [], size: 0 });
      res.writeHead(202, { location: `/v2/a/blobs/uploads/${id}`, range: "0-0" });
      res.end();
      return;
    }
    const id = url.pathname.split("/").at(-1)!;
    const session = sessions.get(id);
    if (!session) {
      res.writeHead(404).end();
      return;
    }
    if (req.method === "GET") {
      res.writeHead(204, { location: url.pathname, range: `0-${Math.max(0, session.size - 1)}` });
      res.end();
      return;
    }
    if (req.method === "PATCH") {
      patches++;
      const start = Number((req.headers["content-range"] ?? "0-0").split("-")[0]);
      if (start !== session.size) {
        res.writeHead(416, { range: `0-${session.size - 1}` }).end();
        return;
      }
      const breakThis = patches === breakPatchNumber;
      let received = 0;
      req.on("data", (chunk: Buffer) => {
        // Keep part of the broken chunk, as a real registry would, then cut the connection.
        if (breakThis && received >= 10_000) return;
        const keep = breakThis ? chunk.subarray(0, 10_000 - received) : chunk;
        received += keep.length;
        session.data.push(keep);
        session.size += keep.length;
        if (breakThis && received >= 10_000) req.socket.destroy();
      });
      req.on("end", () => {
        res.writeHead(202, { location: url.pathname, range: `0-${session.size - 1}` });
        res.end();
      });
      return;
    }
    if (req.method === "PUT") {
      req.resume();
      req.on("end", () => {
        const blob = Buffer.concat(session.data);
        const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
        if (digest !== url.searchParams.get("digest")) {
          res.writeHead(400).end(JSON.stringify({ errors: [{ code: "DIGEST_INVALID" }] }));
          return;
        }
        stored.set(digest, blob);
        res.writeHead(201, { location: `/v2/a/blobs/${digest}`, "docker-content-digest": digest }).end();
      });
      return;
    }
    if (req.method === "DELETE") {
      sessions.delete(id);
      res.writeHead(204).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  registry = new Registry();
});

beforeEach(() => {
  patches = 0;
  breakPatchNumber = -1;
  log.length = 0;
});

afterAll(async () => {
  await registry.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("chunked upload", () => {
  it("sends Content-Range chunks of the configured size and completes with the digest", async () => {
    const bytes = Buffer.alloc(100_000, 7);
    const result = await registry
      .repository(host, "a")
      .uploads.upload(Readable.from([bytes]), {}, { chunkSize: 32_768 });
    expect(result.descriptor.digest).toBe(digestOf(bytes));
    expect(stored.get(digestOf(bytes))?.equals(bytes)).toBe(true);
    expect(log).toEqual([
      "POST /v2/a/blobs/uploads/",
      ...Array(4).fill("PATCH /v2/a/blobs/uploads/ID"),
      "PUT /v2/a/blobs/uploads/ID",
    ]);
  });

  it("resumes from the registry's offset when the connection breaks mid-chunk", async () => {
    const bytes = Buffer.from(Array.from({ length: 90_000 }, (_, i) => i % 251));
    breakPatchNumber = 2;
    const progress: number[] = [];
    const result = await registry
      .repository(host, "a")
      .uploads.upload(
        Readable.from([bytes]),
        { digest: digestOf(bytes) },
        { chunkSize: 40_000, onProgress: (n) => progress.push(n) },
      );
    expect(result.descriptor).toMatchObject({ digest: digestOf(bytes), size: 90_000 });
    expect(stored.get(digestOf(bytes))?.equals(bytes)).toBe(true);
    // The second chunk broke after 10 000 bytes: a status query, then only the rest of it is sent.
    expect(log).toEqual([
      "POST /v2/a/blobs/uploads/",
      "PATCH /v2/a/blobs/uploads/ID",
      "PATCH /v2/a/blobs/uploads/ID",
      "GET /v2/a/blobs/uploads/ID",
      "PATCH /v2/a/blobs/uploads/ID",
      "PATCH /v2/a/blobs/uploads/ID",
      "PUT /v2/a/blobs/uploads/ID",
    ]);
    expect(progress).toEqual([40_000, 80_000, 90_000]);
  });

  it("gives up after maxResumes and cancels the session", async () => {
    breakPatchNumber = 1;
    const error = await registry
      .repository(host, "a")
      .uploads.upload(Readable.from([Buffer.alloc(50_000)]), {}, { chunkSize: 40_000, maxResumes: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(log.at(-1)).toBe("DELETE /v2/a/blobs/uploads/ID");
  });
});
