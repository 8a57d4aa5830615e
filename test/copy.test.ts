/**
 * The copy engine between stores: registries (real and embedded), OCI
 * layouts (checked with skopeo) and memory.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type CopyProgress, copy } from "../src/copy/copy.js";
import { digestOf } from "../src/core/digest.js";
import { isRegkitError } from "../src/core/errors.js";
import { MediaType } from "../src/core/mediaTypes.js";
import { parsePlatform } from "../src/core/platform.js";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedIndex, generateImage, generateIndex } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { MemoryStore } from "../src/store/memoryStore.js";
import { OciLayoutStore } from "../src/store/ociLayoutStore.js";
import { RemoteStore } from "../src/store/remoteStore.js";
import { skopeoCopy, skopeoInspectRaw } from "./support/skopeo.js";

let embedded: RegistryServer;
let registry: Registry;
let dir: string;
let content: GeneratedIndex;
let distribution: string;

const store = (host: string, name: string) => new RemoteStore(registry.repository(host, name));
const run = randomBytes(3).toString("hex");

beforeAll(async () => {
  embedded = await startRegistryServer();
  registry = new Registry({ credentials: false });
  distribution = inject("distribution").host;
  dir = await mkdtemp(join(tmpdir(), "regkit-copy-"));
  content = await generateIndex({
    seed: `copy-${run}`,
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 300_000,
  });
  const src = registry.repository(distribution, `copy/${run}/src`);
  for (const image of content.images) {
    for (const blob of [image.config, ...image.layers]) await src.uploads.upload(blob.bytes, blob);
    await src.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  }
  await src.manifests.put("v1", content.index.bytes, content.index.mediaType);
});
afterAll(async () => {
  await registry.close();
  await embedded.close();
  await rm(dir, { recursive: true, force: true });
});

const blobCount = () => content.images.reduce((n, i) => n + 1 + i.layers.length, 0);

describe("copy", () => {
  it("registry → another registry: exact digests, then a second copy moves nothing", async () => {
    const src = store(distribution, `copy/${run}/src`);
    const dst = store(embedded.host, `copy/${run}/dst`);
    const first = await copy(src, "v1", dst, "v1");
    expect(first.descriptor.digest).toBe(content.index.digest);
    expect(first.blobs).toEqual({ copied: blobCount(), skipped: 0, mounted: 0 });
    expect(first.manifests).toBe(3);
    const copied = registry.repository(embedded.host, `copy/${run}/dst`);
    expect((await copied.manifests.fetch("v1")).bytes.equals(content.index.bytes)).toBe(true);
    for (const image of content.images)
      expect(await copied.manifests.exists(image.manifest.digest)).toBe(true);
    const again = await copy(src, "v1", dst, "v1");
    expect(again.blobs).toEqual({ copied: 0, skipped: blobCount(), mounted: 0 });
    expect(again.bytes).toBe(0);
  });

  it("within one registry mounts instead of moving bytes", async () => {
    const result = await copy(
      store(distribution, `copy/${run}/src`),
      "v1",
      store(distribution, `copy/${run}/mounted`),
      "v1",
    );
    expect(result.blobs).toEqual({ copied: 0, skipped: 0, mounted: blobCount() });
    expect(result.bytes).toBe(0);
  });

  it("copies one platform out of an index", async () => {
    const result = await copy(
      store(distribution, `copy/${run}/src`),
      "v1",
      store(embedded.host, `copy/${run}/arm`),
      "arm",
      {
        platform: parsePlatform("linux/arm64"),
      },
    );
    expect(result.descriptor.digest).toBe(content.images[1]!.manifest.digest);
    const head = await registry.repository(embedded.host, `copy/${run}/arm`).manifests.head("arm");
    expect(head.digest).toBe(content.images[1]!.manifest.digest);
  });

  it("moves a blob shared by two platforms once", async () => {
    const amd = await generateImage({
      seed: `shared-${run}`,
      platform: { os: "linux", architecture: "amd64" },
    });
    const arm = await generateImage({
      seed: `shared-${run}`,
      platform: { os: "linux", architecture: "arm64" },
    });
    expect(amd.layers[0]!.digest).toBe(arm.layers[0]!.digest);
    const memory = new MemoryStore();
    for (const image of [amd, arm]) {
      for (const blob of [image.config, ...image.layers])
        await memory.pushBlob(blob, async () => (await import("node:stream")).Readable.from([blob.bytes]));
      await memory.pushManifest(image.manifest, image.manifest.bytes);
    }
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [amd, arm].map((i) => ({
          mediaType: i.manifest.mediaType,
          digest: i.manifest.digest,
          size: i.manifest.size,
          platform: i.platform,
        })),
      }),
    );
    await memory.pushManifest(
      { mediaType: MediaType.OciIndex, digest: digestOf(index), size: index.length },
      index,
      "multi",
    );
    const started: string[] = [];
    const onProgress = (e: CopyProgress) => {
      if (e.type === "blob" && e.state === "started") started.push(e.digest);
    };
    const result = await copy(memory, "multi", store(embedded.host, `copy/${run}/shared`), "multi", {
      onProgress,
    });
    // 2 configs + 2 shared layers, each once.
    expect(result.blobs.copied).toBe(4);
    expect(new Set(started).size).toBe(started.length);
  });

  it("pulls to an OCI layout skopeo reads, and pushes a skopeo-made layout with equal digests", async () => {
    const layout = join(dir, "pulled");
    await copy(store(distribution, `copy/${run}/src`), "v1", new OciLayoutStore(layout), "v1");
    expect((await skopeoInspectRaw(`oci:${layout}:v1`)).equals(content.index.bytes)).toBe(true);
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe("v1");

    const skopeoLayout = join(dir, "skopeo-made");
    await skopeoCopy(`docker://${distribution}/copy/${run}/src:v1`, `oci:${skopeoLayout}:made`, ["--all"]);
    const result = await copy(
      new OciLayoutStore(skopeoLayout),
      "made",
      store(embedded.host, `copy/${run}/from-layout`),
      "v1",
    );
    expect(result.descriptor.digest).toBe(content.index.digest);
    expect(
      (await skopeoInspectRaw(`docker://${embedded.host}/copy/${run}/from-layout:v1`)).equals(
        content.index.bytes,
      ),
    ).toBe(true);
  });

  it("copies referrers along when asked", async () => {
    const src = registry.repository(embedded.host, `copy/${run}/signed`);
    const image = await generateImage({ seed: `signed-${run}`, layers: 1 });
    for (const blob of [image.config, ...image.layers]) await src.uploads.upload(blob.bytes, blob);
    await src.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    const empty = Buffer.from("{}");
    await src.uploads.upload(empty, { digest: digestOf(empty), size: 2 });
    const signature = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
        config: { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 },
        layers: [{ mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 }],
        subject: {
          mediaType: image.manifest.mediaType,
          digest: image.manifest.digest,
          size: image.manifest.size,
        },
      }),
    );
    await src.pushManifest(digestOf(signature), signature, MediaType.OciManifest);
    await copy(new RemoteStore(src), "v1", store(distribution, `copy/${run}/signed-copy`), "v1", {
      referrers: true,
    });
    const found = await registry
      .repository(distribution, `copy/${run}/signed-copy`)
      .referrers.list(image.manifest.digest);
    expect(found.referrers.map((r) => r.digest)).toEqual([digestOf(signature)]);
  });

  it("a layout with a missing blob fails at the source and leaves no tag behind", async () => {
    const broken = join(dir, "broken");
    await copy(store(distribution, `copy/${run}/src`), "v1", new OciLayoutStore(broken), "v1");
    const layer = content.images[0]!.layers[0]!;
    await rm(join(broken, "blobs", "sha256", layer.digest.slice(7)));
    const error = await copy(
      new OciLayoutStore(broken),
      "v1",
      store(embedded.host, `copy/${run}/never`),
      "v1",
    ).catch((e: unknown) => e);
    expect(isRegkitError(error) && (error as { origin?: string }).origin).toBe("source");
    expect(await registry.repository(embedded.host, `copy/${run}/never`).manifests.exists("v1")).toBe(false);
    await writeFile(join(broken, "index.json"), "{not json");
    await expect(copy(new OciLayoutStore(broken), "v1", new MemoryStore(), "v1")).rejects.toThrow(
      /not a valid OCI image index/,
    );
  });
});

describe("regkit copy, pull, push", () => {
  const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
  const regkit = async (...args: string[]) => {
    const { execFile } = await import("node:child_process");
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
      ),
    );
  };

  it("copies, pulls to a layout skopeo reads, pushes it back, and reports in JSON", async () => {
    const src = `${distribution}/copy/${run}/src:v1`;
    const copied = await regkit("copy", src, `${embedded.host}/cli/${run}/copy:v1`);
    expect(copied.code).toBe(0);
    expect(copied.stdout).toMatch(new RegExp(`${content.index.digest}: ${blobCount()} blobs copied`));
    const layout = join(dir, "cli-pull");
    expect((await regkit("pull", src, layout)).code).toBe(0);
    expect((await skopeoInspectRaw(`oci:${layout}:v1`)).equals(content.index.bytes)).toBe(true);
    const pushed = await regkit("--json", "push", layout, `${embedded.host}/cli/${run}/pushed:v2`);
    expect(JSON.parse(pushed.stdout)).toMatchObject({
      tag: "v2",
      descriptor: { digest: content.index.digest },
      manifests: 3,
    });
    const again = await regkit("--json", "copy", src, `${embedded.host}/cli/${run}/copy:v1`);
    expect(JSON.parse(again.stdout).bytes).toBe(0);
    const missing = await regkit(
      "copy",
      `oci:${join(dir, "nothing")}:v1`,
      `${embedded.host}/cli/${run}/x:v1`,
    );
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^regkit: copy failed at the source/);
  });
});
