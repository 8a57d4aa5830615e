/**
 * A copy whose source resets connections mid-body, into a healthy CNCF
 * distribution registry: source reads resume with Range, the destination
 * upload goes on and never sees the fault, and the side named is the source.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, inject, it } from "vitest";
import { copy } from "../src/copy/copy.js";
import { digestOf } from "../src/core/digest.js";
import { exitCodeFor, NetworkError, ServerError } from "../src/core/errors.js";
import { Registry } from "../src/registry/registry.js";
import { type FaultProxy, startFaultProxy } from "../src/sim/faultProxy.js";
import type { FaultRule } from "../src/sim/faults.js";
import { type GeneratedIndex, generateIndex } from "../src/sim/images.js";
import { RemoteStore } from "../src/store/remoteStore.js";
import { isRequestBodyFault } from "../src/transport/index.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const FAST = { serverErrorDelayMs: 5, unavailableDelayMs: 5, networkDelayMs: 5 };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Half of the blob downloads are cut after 150 kB, as in the report. */
const RESET_HALF: FaultRule[] = [
  { kind: "reset", bytes: 150_000, route: "/blobs/sha256", method: "GET", probability: 0.5 },
];

async function seededSource(
  rules: FaultRule[],
  seed: number,
): Promise<{
  proxy: FaultProxy;
  content: GeneratedIndex;
  repository: string;
}> {
  const content = await generateIndex({
    seed: `reset-source-${seed}`,
    platforms: ["linux/amd64", "linux/arm64", "linux/s390x"],
    layers: 2,
    layerSize: 700_000,
  });
  const repository = `bars/multi-${randomBytes(3).toString("hex")}`;
  const direct = new Registry({ credentials: false });
  const repo = direct.repository(inject("distribution").host, repository);
  for (const image of content.images) {
    for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
    await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  }
  await repo.manifests.put("v1", content.index.bytes, content.index.mediaType);
  await direct.close();
  const proxy = await startFaultProxy({ upstream: inject("distribution").url, faults: { rules, seed } });
  cleanups.push(() => proxy.close());
  return { proxy, content, repository };
}

function regkit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** A client with fast retries and the default circuit breaker, recording its state changes. */
function watchedClient() {
  const circuit: string[] = [];
  const registry = new Registry({
    credentials: false,
    retry: FAST,
    circuitBreaker: { onStateChange: (origin, state) => circuit.push(`${origin} ${state}`) },
  });
  cleanups.push(() => registry.close());
  return { registry, circuit };
}

describe("a source that resets connections mid-body", () => {
  it("copies every platform with the index digest unchanged, the breaker never opening on the destination", async () => {
    const { proxy, content, repository } = await seededSource(RESET_HALF, 5);
    const { registry, circuit } = watchedClient();
    const destinationName = `bars/resetcopy-${randomBytes(3).toString("hex")}`;
    const result = await copy(
      new RemoteStore(registry.repository(proxy.host, repository)),
      "v1",
      new RemoteStore(registry.repository(inject("distribution").host, destinationName)),
      "v1",
      { allPlatforms: true },
    );
    expect(result.descriptor.digest).toBe(content.index.digest);
    expect(proxy.faults.applied.get("reset") ?? 0).toBeGreaterThan(0);
    // Resumed where the cut happened, not restarted.
    expect(proxy.faults.log.some((line) => / 206 bytes=[1-9]\d*-$/.test(line))).toBe(true);
    expect(circuit).toEqual([]);
    const check = new Registry({ credentials: false });
    cleanups.push(() => check.close());
    const landed = check.repository(inject("distribution").host, destinationName);
    expect((await landed.manifests.fetch("v1")).descriptor.digest).toBe(content.index.digest);
    for (const blob of content.images.flatMap((image) => [image.config, ...image.layers]))
      expect(await landed.blobs.exists(blob.digest)).toBe(true);
  });

  it("regkit copy --all-platforms through the resetting source exits 0 with the right index digest", async () => {
    const { proxy, content, repository } = await seededSource(RESET_HALF, 6);
    const dest = `${inject("distribution").host}/bars/resetcopy-${randomBytes(3).toString("hex")}`;
    const run = await regkit(["copy", "--all-platforms", `${proxy.host}/${repository}:v1`, `${dest}:v1`]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(proxy.faults.applied.get("reset") ?? 0).toBeGreaterThan(0);
    expect((await regkit(["digest", `${dest}:v1`])).stdout.trim()).toBe(content.index.digest);
  });

  it("a source that keeps failing is named as the source, exits 7, and leaves no tag", async () => {
    const { proxy, repository } = await seededSource(
      [{ kind: "reset", bytes: 0, route: "/blobs/sha256", method: "GET" }],
      7,
    );
    const dest = `${inject("distribution").host}/bars/resetfail-${randomBytes(3).toString("hex")}`;
    const run = await regkit(["copy", "--all-platforms", `${proxy.host}/${repository}:v1`, `${dest}:v1`]);
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/^regkit: copy failed at the source \(blob sha256:[0-9a-f]{64}\): /);
    expect(run.stderr).not.toMatch(/circuit open/);
    expect((await regkit(["digest", `${dest}:v1`])).code).toBe(3);
  });
});

/** A repository on distribution behind a fault proxy, through a client with fast retries. */
async function behindProxy(rules: FaultRule[]) {
  const proxy = await startFaultProxy({ upstream: inject("distribution").url, faults: { rules } });
  cleanups.push(() => proxy.close());
  const registry = new Registry({ credentials: false, retry: FAST });
  cleanups.push(() => registry.close());
  return { proxy, repo: registry.repository(proxy.host, `bars/lost-${randomBytes(3).toString("hex")}`) };
}

describe("the destination when the source fails", () => {
  it("requests failed by their own body never open the destination's circuit", async () => {
    const { registry, circuit } = watchedClient();
    const repo = registry.repository(
      inject("distribution").host,
      `bars/body-${randomBytes(3).toString("hex")}`,
    );
    const bytes = randomBytes(300_000);
    const broken = () =>
      Readable.from(
        (async function* () {
          yield bytes.subarray(0, 100_000);
          throw new NetworkError("GET http://source.invalid: ECONNRESET", { retryable: false });
        })(),
      );
    for (let i = 0; i < 7; i++) {
      const error = await repo.uploads
        .upload(broken, { digest: digestOf(bytes), size: bytes.length })
        .catch((e: unknown) => e);
      expect(isRequestBodyFault(error)).toBe(true);
      expect((error as Error).message).toContain("ECONNRESET");
    }
    expect(circuit).toEqual([]);
    await repo.uploads.upload(bytes, { digest: digestOf(bytes), size: bytes.length });
    expect(await repo.blobs.exists(digestOf(bytes))).toBe(true);
  });

  it("an upload session the registry no longer knows is replaced by a new one", async () => {
    const { proxy, repo } = await behindProxy([
      { kind: "status", status: 500, route: "/blobs/uploads/", method: "PUT", times: 1 },
      {
        kind: "status",
        status: 404,
        code: "BLOB_UPLOAD_UNKNOWN",
        route: "/blobs/uploads/",
        method: "GET",
        times: 1,
      },
    ]);
    const bytes = randomBytes(200_000);
    const result = await repo.uploads.upload((offset) => Readable.from([bytes.subarray(offset)]), {
      digest: digestOf(bytes),
      size: bytes.length,
    });
    expect(result.descriptor.digest).toBe(digestOf(bytes));
    const sessions = proxy.faults.log.filter((line) => /^POST \/v2\/.+\/blobs\/uploads\/ 202$/.test(line));
    expect(sessions).toHaveLength(2);
    expect(await repo.blobs.exists(digestOf(bytes))).toBe(true);
  });

  it("a session that keeps getting lost ends in a server error (exit 7), not not-found", async () => {
    const { repo } = await behindProxy([
      { kind: "status", status: 500, route: "/blobs/uploads/", method: "PUT" },
      {
        kind: "status",
        status: 404,
        code: "BLOB_UPLOAD_UNKNOWN",
        route: "/blobs/uploads/",
        method: "GET",
      },
    ]);
    const bytes = randomBytes(10_000);
    const error = await repo.uploads
      .upload(bytes, { digest: digestOf(bytes), size: bytes.length })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as Error).message).toMatch(/dropped the upload session \(3 in all\)/);
    expect(exitCodeFor(error)).toBe(7);
  });
});
