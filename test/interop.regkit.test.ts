/**
 * regkit and skopeo must agree byte for byte: what skopeo pushes regkit reads
 * with equal digests, what regkit pushes skopeo returns unchanged, and skopeo
 * can push to and pull from regkit's embedded registry.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { digestOf } from "../src/core/digest.js";
import { Registry } from "../src/registry/registry.js";
import type { Repository } from "../src/registry/repository.js";
import { type GeneratedIndex, generateIndex, writeOciLayout } from "../src/sim/images.js";
import { startRegistryServer } from "../src/sim/server.js";
import { skopeoCopy, skopeoInspectRaw } from "./support/skopeo.js";
import { readAll } from "./support/streams.js";

async function pushIndex(repo: Repository, content: GeneratedIndex, tag: string): Promise<void> {
  for (const image of content.images) {
    for (const blob of [image.config, ...image.layers]) {
      await repo.uploads.upload(blob.bytes, { digest: blob.digest, size: blob.size });
    }
    await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  }
  await repo.manifests.put(tag, content.index.bytes, content.index.mediaType);
}

/** Every manifest and blob of the generated content, read through regkit, must have its digest. */
async function expectContent(repo: Repository, content: GeneratedIndex, tag: string): Promise<void> {
  const index = await repo.manifests.fetch(tag);
  expect(index.descriptor.digest).toBe(content.index.digest);
  expect(index.bytes.equals(content.index.bytes)).toBe(true);
  for (const image of content.images) {
    const manifest = await repo.manifests.fetch(image.manifest.digest);
    expect(manifest.bytes.equals(image.manifest.bytes)).toBe(true);
    for (const blob of [image.config, ...image.layers]) {
      const fetched = await repo.blobs.fetch(blob.digest, { size: blob.size });
      expect(digestOf(await readAll(fetched.stream))).toBe(blob.digest);
    }
  }
}

describe("interop with skopeo", () => {
  let registry: Registry;
  let embedded: Awaited<ReturnType<typeof startRegistryServer>>;
  let content: GeneratedIndex;
  let layoutDir: string;
  let distribution: string;

  beforeAll(async () => {
    registry = new Registry();
    embedded = await startRegistryServer({ port: 0 });
    distribution = inject("distribution").host;
    content = await generateIndex({ seed: "interop-regkit", platforms: ["linux/amd64", "linux/arm64/v8"] });
    layoutDir = await mkdtemp(join(tmpdir(), "regkit-interop-"));
    await writeOciLayout(join(layoutDir, "src"), content, "v1");
  });
  afterAll(async () => {
    await registry.close();
    await embedded.close();
    await rm(layoutDir, { recursive: true, force: true });
  });

  it("regkit reads what skopeo pushed to distribution, with equal digests", async () => {
    await skopeoCopy(`oci:${join(layoutDir, "src")}:v1`, `docker://${distribution}/interop/from-skopeo:v1`, [
      "--all",
    ]);
    await expectContent(registry.repository(distribution, "interop/from-skopeo"), content, "v1");
  });

  it("skopeo inspect --raw returns what regkit pushed, byte for byte", async () => {
    await pushIndex(registry.repository(distribution, "interop/from-regkit"), content, "v1");
    const raw = await skopeoInspectRaw(`docker://${distribution}/interop/from-regkit:v1`);
    expect(raw.equals(content.index.bytes)).toBe(true);
  });

  it("skopeo pushes to the embedded registry and regkit reads it back", async () => {
    await skopeoCopy(
      `oci:${join(layoutDir, "src")}:v1`,
      `docker://${embedded.host}/interop/into-embedded:v1`,
      ["--all"],
    );
    await expectContent(registry.repository(embedded.host, "interop/into-embedded"), content, "v1");
  });

  it("skopeo pulls from the embedded registry into an OCI layout with equal digests", async () => {
    await pushIndex(registry.repository(embedded.host, "interop/out-of-embedded"), content, "v1");
    const out = join(layoutDir, "pulled");
    await skopeoCopy(`docker://${embedded.host}/interop/out-of-embedded:v1`, `oci:${out}:v1`, ["--all"]);
    const index = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as {
      manifests: Array<{ digest: string }>;
    };
    expect(index.manifests.map((m) => m.digest)).toEqual([content.index.digest]);
    const indexBytes = await readFile(join(out, "blobs", "sha256", content.index.digest.slice(7)));
    expect(indexBytes.equals(content.index.bytes)).toBe(true);
  });
});
