/**
 * `npm run demo`: the main job of regkit end to end against its embedded
 * registry, offline. Push a generated two-platform image, list tags, read
 * the index, resolve a platform, read a blob back with verification.
 */
import { Readable } from "node:stream";
import { Digester } from "../core/digest.js";
import { formatPlatform, parsePlatform } from "../core/platform.js";
import { Registry } from "../registry/registry.js";
import type { Repository } from "../registry/repository.js";
import { type GeneratedImage, generateIndex } from "../sim/images.js";
import { startRegistryServer } from "../sim/server.js";

const started = performance.now();
const log = (line: string) => process.stdout.write(`${line}\n`);

async function pushImage(repo: Repository, image: GeneratedImage): Promise<number> {
  let bytes = 0;
  for (const blob of [image.config, ...image.layers]) {
    await repo.uploads.upload(blob.bytes, {
      digest: blob.digest,
      size: blob.size,
      mediaType: blob.mediaType,
    });
    bytes += blob.size;
  }
  await repo.pushManifest(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  return bytes;
}

const server = await startRegistryServer({ port: 0 });
const registry = new Registry();
try {
  log(`embedded registry listening at ${server.url}`);
  const content = await generateIndex({
    seed: "regkit-demo",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layers: 2,
  });
  const repo = registry.repository(server.host, "demo/hello");

  let pushed = 0;
  for (const image of content.images) pushed += await pushImage(repo, image);
  await repo.pushManifest("v1", content.index.bytes, content.index.mediaType);
  await repo.manifests.put("latest", content.index.bytes, content.index.mediaType);
  log(`pushed ${server.host}/demo/hello:v1 (${content.images.length} platforms, ${pushed} blob bytes)`);

  const tags = await repo.tags().all();
  log(`tags: ${tags.join(", ")}`);

  const index = await repo.manifests.get("v1");
  if (index.digest !== content.index.digest) throw new Error("index digest changed on the way");
  log(`index ${index.digest} (${index.mediaType})`);
  if (index.kind === "index") {
    for (const child of index.manifest.manifests) {
      log(
        `  - ${child.platform ? formatPlatform({ os: child.platform.os, architecture: child.platform.architecture, ...(child.platform.variant ? { variant: child.platform.variant } : {}) }) : "?"} ${child.digest}`,
      );
    }
  }

  const wanted = parsePlatform("linux/arm64");
  const resolved = await repo.resolve("v1", { platform: wanted });
  log(`linux/arm64 resolves to ${resolved.descriptor.digest}`);
  if (resolved.manifest.kind !== "image") throw new Error("expected an image manifest");

  const layer = resolved.manifest.manifest.layers[0]!;
  const fetched = await repo.blobs.fetch(layer.digest, { size: layer.size });
  const digester = new Digester();
  for await (const chunk of Readable.from(fetched.stream)) digester.update(chunk as Buffer);
  if (digester.digest() !== layer.digest) throw new Error("layer digest mismatch");
  log(`read layer ${layer.digest} (${digester.size} bytes), digest verified`);

  log(`done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
} finally {
  await registry.close();
  await server.close();
}
