/**
 * The server around the registry app, in process: its request log, its
 * graceful stop, the URL it gives for every-interface binds and the sweep of
 * idle upload sessions (test/serve.test.ts checks the same through the CLI).
 */
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../core/logger.js";
import { startRegistryServer } from "./server.js";
import { MemoryStorage } from "./storage.js";

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger("info", sink), lines };
}

/** A PATCH that sends `first` now and the rest when `finish` is called. */
function slowPatch(url: string, first: Buffer) {
  const request = httpRequest(url, { method: "PATCH", headers: { "transfer-encoding": "chunked" } });
  const response = new Promise<number>((resolve, reject) => {
    request.once("response", (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode!));
    });
    request.once("error", reject);
  });
  request.write(first);
  return { response, finish: (rest: Buffer) => request.end(rest) };
}

async function waitFor(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

class BrokenTags extends MemoryStorage {
  override async tags(): Promise<string[]> {
    throw new Error("disk on fire");
  }
}

describe("startRegistryServer", () => {
  it("logs each request with its status, bytes and whole ms; failures at warn with the reason", async () => {
    const { logger, lines } = memoryLogger();
    const server = await startRegistryServer({ logger, storage: new BrokenTags() });
    try {
      const blob = Buffer.from("in-process log");
      const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
      const put = await fetch(`${server.url}/v2/a/b/blobs/uploads/?digest=${digest}`, {
        method: "POST",
        body: blob,
      });
      expect(put.status).toBe(201);
      expect((await fetch(`${server.url}/v2/a/b/tags/list`)).status).toBe(500);
      await waitFor(() => lines.length >= 2);
      expect(lines[0]).toMatchObject({
        level: 30,
        msg: "request",
        method: "POST",
        path: "/v2/a/b/blobs/uploads/",
        status: 201,
        received: blob.length,
      });
      expect(lines[1]).toMatchObject({
        level: 40,
        msg: "request failed",
        path: "/v2/a/b/tags/list",
        status: 500,
        error: "disk on fire",
      });
      expect(Number.isInteger(lines[1]!.ms)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("shutdown lets a request in flight finish, or cuts it when the grace runs out", async () => {
    for (const grace of [60_000, 50]) {
      const server = await startRegistryServer();
      const start = await fetch(`${server.url}/v2/a/b/blobs/uploads/`, { method: "POST" });
      const location = `${server.url}${start.headers.get("location")}`;
      const patch = slowPatch(location, Buffer.alloc(1000, 1));
      await waitFor(async () => (await fetch(location)).headers.get("range") === "0-999");
      await waitFor(() => server.inFlight === 1);
      const stopped = server.shutdown(grace);
      if (grace > 1000) {
        patch.finish(Buffer.alloc(1000, 2));
        expect(await patch.response).toBe(202);
        expect(await stopped).toEqual({ drained: true, cut: 0 });
      } else {
        expect(await stopped).toEqual({ drained: false, cut: 1 });
        await expect(patch.response).rejects.toThrow();
      }
    }
  });

  it("gives a loopback URL when it listens on every interface", async () => {
    const server = await startRegistryServer({ host: "0.0.0.0" });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect((await fetch(`${server.url}/v2/`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("expires idle upload sessions in memory; appending keeps one alive", async () => {
    const storage = new MemoryStorage();
    const idle = await storage.createUpload("a/b", 1000);
    const busy = await storage.createUpload("a/b", 1000);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await storage.appendUpload(busy.id, Buffer.from("x"));
    expect(await storage.expireUploads()).toEqual([idle.id]);
    expect(await storage.getUpload(idle.id)).toBeUndefined();
    expect((await storage.getUpload(busy.id))?.size).toBe(1);
  });
});
