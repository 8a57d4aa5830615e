import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import { parseImageConfig, parseManifest } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import { allBlobs, generateImage, generateIndex } from "./images.js";

describe("generated images", () => {
  it("are deterministic per seed", async () => {
    const a = await generateIndex({ seed: "s", platforms: ["linux/amd64", "linux/arm64/v8"] });
    const b = await generateIndex({ seed: "s", platforms: ["linux/amd64", "linux/arm64/v8"] });
    const c = await generateIndex({ seed: "t", platforms: ["linux/amd64", "linux/arm64/v8"] });
    expect(a.index.digest).toBe(b.index.digest);
    expect(a.index.digest).not.toBe(c.index.digest);
    expect(a.images[0]!.layers[0]!.digest).not.toBe(a.images[1]!.layers[0]!.digest);
  });

  it("have real gzip tar layers whose diff_ids match the config", async () => {
    const image = await generateImage({ seed: "layers", layers: 3, layerSize: 10_000 });
    const config = parseImageConfig(image.config.bytes);
    const diffIds = image.layers.map((l) => digestOf(gunzipSync(l.bytes)));
    expect(config.rootfs?.diff_ids).toEqual(diffIds);
    expect(gunzipSync(image.layers[0]!.bytes).subarray(0, 100).toString()).toContain("layer0/README");
    const manifest = parseManifest(image.manifest.bytes);
    expect(manifest.kind === "image" && manifest.manifest.layers.map((l) => l.digest)).toEqual(
      image.layers.map((l) => l.digest),
    );
  });

  it("use Docker media types on request and index platforms", async () => {
    const content = await generateIndex({ seed: "d", platforms: ["linux/arm/v7"], mediaTypes: "docker" });
    expect(content.index.mediaType).toBe(MediaType.DockerManifestList);
    expect(content.images[0]!.manifest.mediaType).toBe(MediaType.DockerManifest);
    const parsed = parseManifest(content.index.bytes);
    expect(parsed.kind === "index" && parsed.manifest.manifests[0]?.platform).toEqual({
      os: "linux",
      architecture: "arm",
      variant: "v7",
    });
    expect(allBlobs(content)).toHaveLength(1 + 1 + 2 + 1);
  });
});
