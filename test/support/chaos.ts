/**
 * Chaos runs: many concurrent image copies through fault-injecting proxies in
 * front of the real CNCF distribution registry, on the source side, the
 * destination side and both. Seeded, so a run can be repeated. Every copy must
 * either complete with every digest verified or fail with a typed error and no
 * tag; a re-run without faults completes the rest and sends only what is
 * missing. Used by `npm run chaos` (full) and test/chaos.test.ts (bounded).
 */
import { type CopyProgress, copy } from "../../src/copy/copy.js";
import { isRegkitError } from "../../src/core/errors.js";
import { Registry } from "../../src/registry/registry.js";
import { type FaultProxy, startFaultProxy } from "../../src/sim/faultProxy.js";
import type { FaultRule } from "../../src/sim/faults.js";
import {
  type GeneratedImage,
  type GeneratedIndex,
  generateImage,
  generateIndex,
} from "../../src/sim/images.js";
import { RemoteStore } from "../../src/store/remoteStore.js";

export interface ChaosOptions {
  /** `host:port` of a distribution registry (plain HTTP, anonymous). */
  registry: { host: string; url: string };
  seed: number;
  images: number;
  /** Largest layer in bytes; sizes vary from a few kB up to it. */
  maxLayerSize: number;
  /** Blob transfers at once per copy. */
  concurrency?: number;
  /** Scale of fault probabilities (1 = the default mix). */
  intensity?: number;
}

export interface ChaosReport {
  seed: number;
  attempted: number;
  completed: number;
  failedCleanly: number;
  /** Failures that were not a RegkitError, or that left a tag behind: must be 0. */
  failedUncleanly: number;
  /** Blobs at the destination whose bytes do not match their digest: must be 0. */
  corruptedBlobs: number;
  /** Bytes sent to a destination beyond one pass over each blob (resumes, new sessions). */
  bytesResent: number;
  /** Bytes the copies had to move in all (each blob once). */
  bytesNeeded: number;
  faultsApplied: Record<string, number>;
  failures: Record<string, number>;
  rerun: {
    attempted: number;
    completed: number;
    /** Blobs a re-run sent although the destination already had them: must be 0. */
    finishedBlobsResent: number;
  };
  seconds: number;
}

type Side = "source" | "destination" | "both";

/** Faults of a registry serving blobs: cuts, short bodies, stalls, 5xx, 429, latency. */
function sourceRules(k: number): FaultRule[] {
  return [
    { kind: "reset", bytes: 40_000, route: "/blobs/sha256", method: "GET", probability: 0.15 * k },
    { kind: "truncate", bytes: 25_000, route: "/blobs/sha256", method: "GET", probability: 0.08 * k },
    { kind: "latency", delayMs: 1500, route: "/blobs/sha256", probability: 0.02 * k },
    { kind: "status", status: 503, probability: 0.05 * k },
    { kind: "status", status: 500, probability: 0.03 * k },
    { kind: "status", status: 429, retryAfter: 1, probability: 0.01 * k },
    { kind: "latency", delayMs: 40, probability: 0.1 * k },
  ];
}

/** Faults of a registry receiving uploads: 5xx on sessions and PUTs, 429, stalls, latency. */
function destinationRules(k: number): FaultRule[] {
  return [
    { kind: "status", status: 503, route: "/blobs/uploads/", probability: 0.05 * k },
    { kind: "status", status: 500, route: "/blobs/uploads/", method: "PUT", probability: 0.05 * k },
    { kind: "status", status: 503, method: "HEAD", probability: 0.04 * k },
    { kind: "status", status: 429, retryAfter: 1, probability: 0.01 * k },
    { kind: "latency", delayMs: 1500, probability: 0.01 * k },
    { kind: "latency", delayMs: 40, probability: 0.1 * k },
  ];
}

type Content = { name: string; root: GeneratedImage | GeneratedIndex; side: Side };

function blobsOf(content: GeneratedImage | GeneratedIndex): GeneratedImage["layers"] {
  const images = "images" in content ? content.images : [content];
  return [...new Map(images.flatMap((i) => [i.config, ...i.layers]).map((b) => [b.digest, b])).values()];
}

function rootOf(content: GeneratedImage | GeneratedIndex) {
  return "images" in content ? content.index : content.manifest;
}

/** Mixed sizes, every fourth one a multi-platform index; deterministic for a seed. */
async function makeContent(options: ChaosOptions): Promise<Content[]> {
  const sides: Side[] = ["source", "destination", "both"];
  const contents: Content[] = [];
  for (let i = 0; i < options.images; i++) {
    const layerSize = Math.max(2_000, Math.round(options.maxLayerSize / 2 ** (i % 6)));
    const seed = `chaos-${options.seed}-${i}`;
    const root =
      i % 4 === 0
        ? await generateIndex({ seed, platforms: ["linux/amd64", "linux/arm64"], layers: 2, layerSize })
        : await generateImage({ seed, layers: 1 + (i % 3), layerSize });
    contents.push({ name: `img${i}`, root, side: sides[i % 3]! });
  }
  return contents;
}

async function seed(registry: Registry, host: string, repo: string, content: Content): Promise<void> {
  const r = registry.repository(host, repo);
  const images = "images" in content.root ? content.root.images : [content.root];
  for (const image of images) {
    for (const blob of [image.config, ...image.layers]) await r.uploads.upload(blob.bytes, blob);
    await r.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  }
  const root = rootOf(content.root);
  await r.manifests.put("v1", root.bytes, root.mediaType);
}

/** Reads a blob from the destination directly and checks its digest. */
async function intact(repo: ReturnType<Registry["repository"]>, blob: { digest: string; size: number }) {
  try {
    const { stream } = await repo.blobs.fetch(blob.digest as never, { size: blob.size });
    for await (const _ of stream) {
      // drained: the verifying stream fails before its end on wrong bytes
    }
    return true;
  } catch (error) {
    if (isRegkitError(error) && error.category === "integrity") return false;
    throw error;
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const k = options.intensity ?? 1;
  const run = `chaos${options.seed}-${Date.now().toString(36)}`;
  const contents = await makeContent(options);
  const direct = new Registry({ credentials: false });
  await Promise.all(contents.map((c) => seed(direct, options.registry.host, `${run}/src/${c.name}`, c)));

  const proxies: FaultProxy[] = [];
  const proxy = async (rules: FaultRule[], seedOffset: number) => {
    const p = await startFaultProxy({
      upstream: options.registry.url,
      faults: { rules, seed: options.seed * 7919 + seedOffset },
    });
    proxies.push(p);
    return p;
  };
  const faultySource = await proxy(sourceRules(k), 1);
  const faultyDestination = await proxy(destinationRules(k), 2);
  // A fault-free hop on each side keeps source and destination different hosts (no mounting).
  const cleanSource = await proxy([], 3);
  const cleanDestination = await proxy([], 4);

  // One client per copy, as one `regkit copy` process each: their breakers are their own.
  const clients: Registry[] = [];
  const newClient = () => {
    const client = new Registry({
      credentials: false,
      retry: { serverErrorDelayMs: 50, unavailableDelayMs: 50, networkDelayMs: 50 },
    });
    clients.push(client);
    return client;
  };
  const sent = new Map<string, number>();
  const onProgress = (event: CopyProgress) => {
    if (event.type === "bytes") sent.set(event.digest, (sent.get(event.digest) ?? 0) + event.bytes);
  };
  const failures: Record<string, number> = {};
  const outcomes = await Promise.all(
    contents.map(async (c) => {
      const src = c.side === "destination" ? cleanSource : faultySource;
      const dst = c.side === "source" ? cleanDestination : faultyDestination;
      const client = newClient();
      try {
        await copy(
          new RemoteStore(client.repository(src.host, `${run}/src/${c.name}`)),
          "v1",
          new RemoteStore(client.repository(dst.host, `${run}/dst/${c.name}`)),
          "v1",
          { concurrency: options.concurrency ?? 2, onProgress },
        );
        return { c, error: undefined as unknown };
      } catch (error) {
        const key = isRegkitError(error)
          ? `${(error as { origin?: string }).origin} ${error.code}`
          : "untyped";
        failures[key] = (failures[key] ?? 0) + 1;
        return { c, error };
      }
    }),
  );

  let completed = 0;
  let failedCleanly = 0;
  let failedUncleanly = 0;
  let corruptedBlobs = 0;
  let bytesResent = 0;
  let bytesNeeded = 0;
  const sizes = new Map<string, number>();
  for (const c of contents) for (const b of blobsOf(c.root)) sizes.set(b.digest, b.size);
  for (const [digest, bytes] of sent) bytesResent += Math.max(0, bytes - (sizes.get(digest) ?? bytes));
  for (const size of sizes.values()) bytesNeeded += size;

  const failed: Content[] = [];
  for (const { c, error } of outcomes) {
    const repo = direct.repository(options.registry.host, `${run}/dst/${c.name}`);
    const tagged = await repo.manifests.exists("v1");
    if (error === undefined) {
      const landed = await repo.manifests.fetch("v1");
      let ok = landed.descriptor.digest === rootOf(c.root).digest;
      for (const blob of blobsOf(c.root)) {
        if (!(await intact(repo, blob))) {
          corruptedBlobs++;
          ok = false;
        }
      }
      if (ok) completed++;
      else failedUncleanly++;
    } else if (isRegkitError(error) && !tagged) {
      failedCleanly++;
      // Bytes that did land must be right too.
      for (const blob of blobsOf(c.root))
        if ((await repo.blobs.exists(blob.digest as never)) && !(await intact(repo, blob))) corruptedBlobs++;
      failed.push(c);
    } else {
      failedUncleanly++;
    }
  }

  // The re-run: no faults; only blobs the destination lacks may move.
  let rerunCompleted = 0;
  let finishedBlobsResent = 0;
  const client = newClient();
  for (const c of failed) {
    const target = direct.repository(options.registry.host, `${run}/dst/${c.name}`);
    const finished = new Set<string>();
    for (const blob of blobsOf(c.root))
      if (await target.blobs.exists(blob.digest as never)) finished.add(blob.digest);
    const moved = new Set<string>();
    try {
      await copy(
        new RemoteStore(client.repository(cleanSource.host, `${run}/src/${c.name}`)),
        "v1",
        new RemoteStore(client.repository(cleanDestination.host, `${run}/dst/${c.name}`)),
        "v1",
        {
          concurrency: options.concurrency ?? 2,
          onProgress: (e) => {
            if (e.type === "blob" && e.state === "started") moved.add(e.digest);
          },
        },
      );
      if ((await target.manifests.fetch("v1")).descriptor.digest === rootOf(c.root).digest) rerunCompleted++;
    } catch {
      // counted as not completed
    }
    for (const digest of moved) if (finished.has(digest)) finishedBlobsResent++;
  }

  const faultsApplied: Record<string, number> = {};
  for (const p of [faultySource, faultyDestination])
    for (const [kind, count] of p.faults.applied) faultsApplied[kind] = (faultsApplied[kind] ?? 0) + count;
  for (const c of clients) await c.close();
  await direct.close();
  for (const p of proxies) await p.close();
  return {
    seed: options.seed,
    attempted: contents.length,
    completed,
    failedCleanly,
    failedUncleanly,
    corruptedBlobs,
    bytesResent,
    bytesNeeded,
    faultsApplied,
    failures,
    rerun: { attempted: failed.length, completed: rerunCompleted, finishedBlobsResent },
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}
