/**
 * `npm run demo`: a tour of regkit's main job, offline, against its embedded
 * registry. Push a generated two-platform image, copy it to another
 * repository (blobs mounted, not re-sent), list tags, resolve platforms,
 * read a layer back verified, then replay the whole session from its
 * cassette with no registry running.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Digester } from "../core/digest.js";
import { formatPlatform, parsePlatform, platformFromDescriptor } from "../core/platform.js";
import { Registry } from "../registry/registry.js";
import type { Repository } from "../registry/repository.js";
import { type GeneratedImage, generateIndex } from "../sim/images.js";
import { startRegistryServer } from "../sim/server.js";

const started = performance.now();
const log = (line: string) => process.stdout.write(`${line}\n`);

async function pushImage(repo: Repository, image: GeneratedImage): Promise<number> {
  let bytes = 0;
  for (const blob of [image.config, ...image.layers]) {
    await repo.uploads.upload(blob.bytes, blob);
    bytes += blob.size;
  }
  await repo.pushManifest(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  return bytes;
}

/** Copies tag `tag` from one repository to another of the same registry, children first, mounting blobs. */
async function copyWithinRegistry(
  from: Repository,
  to: Repository,
  tag: string,
): Promise<{ mounted: number }> {
  const index = await from.manifests.get(tag);
  const children = index.kind === "index" ? index.manifest.manifests.map((d) => d.digest) : [];
  let mounted = 0;
  for (const digest of children) {
    const manifest = await from.manifests.get(digest);
    if (manifest.kind !== "image") continue;
    for (const blob of [manifest.manifest.config, ...manifest.manifest.layers]) {
      // Same registry: ask it to mount; only if it cannot, stream the blob across.
      const started = await to.uploads.start({ mount: { digest: blob.digest, from: from.name } });
      if (started.mounted) {
        mounted++;
        continue;
      }
      const fetched = await from.blobs.fetch(blob.digest, { size: blob.size });
      await started.session.complete(blob.digest, fetched.stream, blob.size);
    }
    await to.manifests.put(manifest.digest, manifest.bytes, manifest.mediaType);
  }
  await to.manifests.put(tag, index.bytes, index.mediaType);
  return { mounted };
}

/** The session the demo runs, live or replayed; returns what it saw, for comparison. */
async function session(registry: Registry, host: string, pushFirst: boolean): Promise<string[]> {
  const seen: string[] = [];
  const repo = registry.repository(host, "demo/hello");
  const content = await generateIndex({
    seed: "regkit-demo",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layers: 2,
  });
  if (pushFirst) {
    let pushed = 0;
    for (const image of content.images) pushed += await pushImage(repo, image);
    await repo.pushManifest("v1", content.index.bytes, content.index.mediaType);
    log(`pushed ${host}/demo/hello:v1 — ${content.images.length} platforms, ${pushed} blob bytes`);
  }
  const copy = registry.repository(host, "demo/copy");
  const { mounted } = await copyWithinRegistry(repo, copy, "v1");
  seen.push(`copied to demo/copy (${mounted} blobs mounted, none re-sent)`);

  const tags = await copy.tags().all();
  seen.push(`tags of demo/copy: ${tags.join(", ")}`);
  const index = await copy.manifests.get("v1");
  if (index.digest !== content.index.digest) throw new Error("the copy changed the index digest");
  seen.push(`index ${index.digest} (${index.mediaType})`);
  if (index.kind === "index") {
    for (const child of index.manifest.manifests) {
      const platform = platformFromDescriptor(child);
      seen.push(`  ${platform ? formatPlatform(platform) : "?"} → ${child.digest}`);
    }
  }
  const resolved = await copy.resolve("v1", { platform: parsePlatform("linux/arm64") });
  seen.push(`linux/arm64 resolves to ${resolved.descriptor.digest}`);
  if (resolved.manifest.kind !== "image") throw new Error("expected an image manifest");
  const layer = resolved.manifest.manifest.layers[0]!;
  const digester = new Digester();
  for await (const chunk of (await copy.blobs.fetch(layer.digest, { size: layer.size })).stream)
    digester.update(chunk as Buffer);
  seen.push(`read layer ${layer.digest.slice(0, 19)}… (${digester.size} bytes), digest verified`);
  return seen;
}

const work = await mkdtemp(join(tmpdir(), "regkit-demo-"));
const cassette = join(work, "session.har");
try {
  const server = await startRegistryServer({ port: 0 });
  log(`embedded registry listening at ${server.url}`);
  const live = new Registry({ credentials: false, record: cassette });
  const seen = await session(live, server.host, true);
  for (const line of seen) log(line);
  await live.close();
  await server.close();

  const har = JSON.parse(await readFile(cassette, "utf8")) as { log: { entries: unknown[] } };
  const beside = await readdir(join(`${cassette}.blobs`, "sha256")).catch(() => []);
  log(
    `recorded ${har.log.entries.length} HTTP exchanges to a HAR 1.2 cassette (${beside.length} large bodies beside it)`,
  );

  // The registry is gone: the same session now runs from the cassette alone.
  const offline = new Registry({ credentials: false, replay: cassette });
  const replayed = await session(offline, server.host, false);
  await offline.close();
  if (replayed.join("\n") !== seen.join("\n"))
    throw new Error("the replayed session differs from the live one");
  log("replayed the session offline from the cassette: identical results");
  log(`done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
} finally {
  await rm(work, { recursive: true, force: true });
}
