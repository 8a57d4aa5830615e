/**
 * Faults in front of the real CNCF distribution registry (regkit's fault
 * injection as a proxy): the client rides them out against a real server.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterEach, describe, expect, inject, it } from "vitest";
import { digestOf } from "../src/core/digest.js";
import { Registry } from "../src/registry/registry.js";
import { startFaultProxy } from "../src/sim/faultProxy.js";
import type { FaultRule } from "../src/sim/faults.js";
import { generateImage } from "../src/sim/images.js";
import { readAll } from "./support/streams.js";

const FAST = { serverErrorDelayMs: 5, unavailableDelayMs: 5, networkDelayMs: 5 };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function behindProxy(rules: FaultRule[], seed = 11) {
  const proxy = await startFaultProxy({ upstream: inject("distribution").url, faults: { rules, seed } });
  const retries: number[] = [];
  const registry = new Registry({
    credentials: false,
    circuitBreaker: false,
    retry: { ...FAST, onRetry: ({ attempt }) => retries.push(attempt) },
  });
  cleanups.push(async () => {
    await registry.close();
    await proxy.close();
  });
  return {
    proxy,
    registry,
    retries,
    repo: registry.repository(proxy.host, `faulty/${randomBytes(3).toString("hex")}`),
  };
}

describe("distribution behind fault injection", () => {
  it("retries a 503 burst and resumes a download cut mid-body", async () => {
    const { repo, retries, proxy } = await behindProxy([
      { kind: "status", status: 503, route: "/manifests/", method: "GET", times: 2 },
      { kind: "reset", bytes: 200_000, route: "/blobs/sha256", method: "GET", times: 1 },
    ]);
    const image = await generateImage({ seed: "dist-faults", layers: 1, layerSize: 1_000_000 });
    for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
    await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    const manifest = await repo.manifests.get("v1");
    expect(manifest.digest).toBe(image.manifest.digest);
    expect(retries).toEqual([1, 2]);
    const layer = image.layers[0]!;
    const got = await readAll((await repo.blobs.fetch(layer.digest, { size: layer.size })).stream);
    expect(digestOf(got)).toBe(layer.digest);
    expect(proxy.faults.log.some((line) => / 206 bytes=\d+-$/.test(line))).toBe(true);
  });

  it("pushes an image intact through 20 % failing requests, one upload session per blob", async () => {
    const { repo, proxy } = await behindProxy(
      [
        { kind: "status", status: 503, probability: 0.1 },
        { kind: "status", status: 500, probability: 0.05 },
        { kind: "reset", bytes: 8_000, probability: 0.05, method: "GET" },
      ],
      99,
    );
    const image = await generateImage({ seed: "dist-flaky", layers: 5, layerSize: 200_000 });
    await Promise.all(
      [image.config, ...image.layers].map((blob) =>
        repo.uploads.upload(() => Readable.from([blob.bytes]), blob),
      ),
    );
    await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    const direct = new Registry({ credentials: false });
    const check = direct.repository(inject("distribution").host, repo.name);
    expect((await check.manifests.fetch("v1")).bytes.equals(image.manifest.bytes)).toBe(true);
    for (const blob of [image.config, ...image.layers]) {
      expect(
        digestOf(await readAll((await check.blobs.fetch(blob.digest, { size: blob.size })).stream)),
      ).toBe(blob.digest);
    }
    await direct.close();
    const sessions = proxy.faults.log.filter((line) => /^POST \/v2\/.+\/blobs\/uploads\/ 202$/.test(line));
    expect(sessions).toHaveLength(1 + image.layers.length);
    expect(proxy.faults.applied.get("status") ?? 0).toBeGreaterThan(0);
  });
});
