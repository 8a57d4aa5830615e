/**
 * The client against a registry that misbehaves on purpose (the embedded
 * registry's fault injection): outcomes and attempt counts.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { digestOf } from "../src/core/digest.js";
import { CircuitOpenError, isRegkitError, RateLimitError, ServerError } from "../src/core/errors.js";
import { Registry, type RegistryOptions } from "../src/registry/registry.js";
import type { FaultRule } from "../src/sim/faults.js";
import { generateImage } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { readAll } from "./support/streams.js";

const FAST = { serverErrorDelayMs: 5, unavailableDelayMs: 5, networkDelayMs: 5 };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(rules: FaultRule[], options: RegistryOptions = {}, seed = 7) {
  const server = await startRegistryServer({ faults: { rules, seed } });
  const retries: number[] = [];
  const delays: number[] = [];
  const registry = new Registry({
    credentials: false,
    retry: {
      ...FAST,
      onRetry: ({ attempt, delayMs }) => {
        retries.push(attempt);
        delays.push(delayMs);
      },
    },
    ...options,
  });
  cleanups.push(async () => {
    await registry.close();
    await server.close();
  });
  return { server, registry, retries, delays, repo: registry.repository(server.host, "faulty/app") };
}

async function seedBlob(server: RegistryServer, bytes: Buffer): Promise<void> {
  const clean = new Registry({ credentials: false });
  await clean
    .repository(server.host, "faulty/app")
    .uploads.upload(bytes, { digest: digestOf(bytes), size: bytes.length });
  await clean.close();
}

describe("retry", () => {
  it("waits for Retry-After on 429 and then succeeds", async () => {
    const { server, repo, retries, delays } = await setup([
      { kind: "status", status: 429, retryAfter: 1, route: "/tags/list", times: 1 },
    ]);
    const image = await generateImage({ seed: "r429", layers: 1 });
    await seedBlob(server, image.config.bytes);
    await seedBlob(server, image.layers[0]!.bytes);
    await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    expect(await repo.tags().all()).toEqual(["v1"]);
    // The wait is Retry-After's second exactly (not the jittered backoff of the FAST settings).
    expect(retries).toEqual([1]);
    expect(delays).toEqual([1000]);
    expect(server.faults!.log.filter((l) => l.includes("/tags/list")).map((l) => l.split(" ")[2])).toEqual([
      "429",
      "200",
    ]);
  });

  it("gives up at once on a 429 whose wait is too long, saying how to raise the limit", async () => {
    const { repo, retries } = await setup([
      { kind: "status", status: 429, retryAfter: 3600, route: "/manifests/" },
    ]);
    const error = await repo.manifests.get("v1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(3_600_000);
    expect((error as Error).message).toMatch(
      /rate limited \(0 of 100 per 6 h left\); retry in 3600 s; authenticate to raise the anonymous limit/,
    );
    expect(retries).toEqual([]);
  });

  it("rides out a burst of 503s and stops after three attempts on a persistent 500", async () => {
    const burst = await setup([{ kind: "status", status: 503, route: "/v2/faulty/app/tags/list", times: 2 }]);
    await expect(burst.repo.tags().all()).rejects.toThrow(/NAME_UNKNOWN/);
    expect(burst.retries).toEqual([1, 2]);
    const broken = await setup([{ kind: "status", status: 500, route: "/manifests/" }], {
      circuitBreaker: false,
    });
    const error = await broken.repo.manifests.get("v1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(broken.retries).toEqual([1, 2]);
    expect(broken.server.faults!.applied.get("status")).toBe(3);
  });

  it("retries a request that timed out", async () => {
    const { server, repo, retries } = await setup(
      [{ kind: "latency", delayMs: 2500, route: "/blobs/sha256", method: "HEAD", times: 1 }],
      {
        timeoutMs: 1000,
      },
    );
    const bytes = randomBytes(1000);
    await seedBlob(server, bytes);
    expect(await repo.blobs.exists(digestOf(bytes))).toBe(true);
    expect(retries).toEqual([1]);
  });

  it("resumes a download cut mid-body with a Range request, and verifies it", async () => {
    const { server, repo } = await setup([
      { kind: "reset", bytes: 100_000, route: "/blobs/sha256", method: "GET", times: 2 },
    ]);
    const bytes = randomBytes(1_000_000);
    await seedBlob(server, bytes);
    const fetched = await repo.blobs.fetch(digestOf(bytes), { size: bytes.length });
    expect((await readAll(fetched.stream)).equals(bytes)).toBe(true);
    expect(server.faults!.applied.get("reset")).toBe(2);
    // Resumed where each cut happened, not downloaded again from the start.
    expect(
      server.faults!.log.filter((l) => l.startsWith("GET ")).map((l) => l.split(" ").slice(2).join(" ")),
    ).toEqual(["200", "206 bytes=100000-", "206 bytes=200000-"]);
  });

  it("a truncated body is an integrity error, not success", async () => {
    const { server, repo } = await setup([
      { kind: "truncate", bytes: 500, route: "/blobs/sha256", method: "GET" },
    ]);
    const bytes = randomBytes(5000);
    await seedBlob(server, bytes);
    const fetched = await repo.blobs.fetch(digestOf(bytes));
    const error = await readAll(fetched.stream).catch((e: unknown) => e);
    expect(isRegkitError(error) && error.category).toBe("integrity");
  });

  it("a body that trickles steadily is not timed out", async () => {
    const { server, repo } = await setup(
      [{ kind: "trickle", bytes: 4096, delayMs: 20, route: "/blobs/sha256", method: "GET" }],
      {
        idleTimeoutMs: 200,
      },
    );
    const bytes = randomBytes(64 * 1024);
    await seedBlob(server, bytes);
    const fetched = await repo.blobs.fetch(digestOf(bytes), { size: bytes.length });
    expect((await readAll(fetched.stream)).equals(bytes)).toBe(true);
  });
});

describe("circuit breaker", () => {
  it("opens after five failures, fails fast saying when it retries, and closes after successes", async () => {
    // The breaker measures its open period with Date.now(): a fake Date replaces the wait.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-03-01T12:00:00Z") });
    const { repo, server } = await setup([{ kind: "status", status: 503, route: "/manifests/", times: 5 }], {
      retry: false,
      circuitBreaker: { halfOpenAfterMs: 300 },
    });
    for (let i = 0; i < 5; i++) await expect(repo.manifests.get("v1")).rejects.toBeInstanceOf(ServerError);
    const open = await repo.manifests.get("v1").catch((e: unknown) => e);
    expect(open).toBeInstanceOf(CircuitOpenError);
    expect((open as Error).message).toMatch(
      /^circuit open for http:\/\/127\.0\.0\.1:\d+: failing fast until 2026-03-01T12:00:00\.300Z/,
    );
    expect(server.faults!.applied.get("status")).toBe(5);
    const requests = server.faults!.log.length;
    vi.setSystemTime(new Date("2026-03-01T12:00:00.299Z"));
    await expect(repo.manifests.get("v1")).rejects.toBeInstanceOf(CircuitOpenError);
    expect(server.faults!.log).toHaveLength(requests);
    vi.setSystemTime(new Date("2026-03-01T12:00:00.300Z"));
    // Half-open: the trial call goes through (and finds no manifest), then the circuit closes.
    await expect(repo.manifests.get("v1")).rejects.toThrow(/NAME_UNKNOWN/);
    await expect(repo.manifests.get("v1")).rejects.toThrow(/NAME_UNKNOWN/);
  });
});

describe("a copy through a registry failing 20 % of requests", () => {
  it("arrives intact, and resumes uploads instead of restarting them", async () => {
    const source = await startRegistryServer();
    const image = await generateImage({ seed: "flaky", layers: 6, layerSize: 256 * 1024 });
    const clean = new Registry({ credentials: false });
    const src = clean.repository(source.host, "src/app");
    for (const blob of [image.config, ...image.layers]) await src.uploads.upload(blob.bytes, blob);
    await src.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);

    const { server, repo } = await setup(
      [
        { kind: "status", status: 503, probability: 0.1 },
        { kind: "status", status: 500, probability: 0.05 },
        { kind: "reset", bytes: 10_000, probability: 0.05 },
      ],
      { circuitBreaker: false },
      2024,
    );
    // Copy: every blob streamed from the source into the faulty destination, then the manifest.
    const manifest = await src.manifests.get("v1");
    if (manifest.kind !== "image") throw new Error("expected an image");
    await Promise.all(
      [manifest.manifest.config, ...manifest.manifest.layers].map(async (d) => {
        const result = await repo.uploads.upload(
          () => Readable.from([image.layers.find((l) => l.digest === d.digest)?.bytes ?? image.config.bytes]),
          { digest: d.digest, size: d.size },
        );
        expect(result.descriptor.digest).toBe(d.digest);
      }),
    );
    await repo.manifests.put("v1", manifest.bytes, manifest.mediaType);

    const verify = new Registry({ credentials: false });
    const dst = verify.repository(server.host, "faulty/app");
    expect((await dst.manifests.fetch("v1")).bytes.equals(image.manifest.bytes)).toBe(true);
    for (const blob of [image.config, ...image.layers]) {
      const got = await readAll((await dst.blobs.fetch(blob.digest, { size: blob.size })).stream);
      expect(digestOf(got)).toBe(blob.digest);
    }
    // One upload session per blob: interrupted uploads continued in their session.
    const sessions = server.faults!.log.filter((line) =>
      /^POST \/v2\/faulty\/app\/blobs\/uploads\/ 202$/.test(line),
    );
    expect(sessions).toHaveLength(1 + image.layers.length);
    expect(
      (server.faults!.applied.get("status") ?? 0) + (server.faults!.applied.get("reset") ?? 0),
    ).toBeGreaterThan(0);
    await verify.close();
    await clean.close();
    await source.close();
  });
});
