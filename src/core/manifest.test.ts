import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { digestOf } from "./digest.js";
import { isRegkitError, ManifestInvalidError, SizeLimitError, UnsupportedError } from "./errors.js";
import {
  artifactTypeOf,
  MAX_MANIFEST_BYTES,
  manifestChildren,
  parseImageConfig,
  parseManifest,
} from "./manifest.js";
import { MediaType } from "./mediaTypes.js";

const d = (s: string) => digestOf(s);
const desc = (mediaType: string, s: string) => ({ mediaType, digest: d(s), size: s.length });
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

const image = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: desc(MediaType.OciConfig, "config"),
  layers: [desc(MediaType.OciLayerGzip, "l1"), desc(MediaType.OciLayerGzip, "l2")],
};
const index = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [{ ...desc(MediaType.OciManifest, "m1"), platform: { os: "linux", architecture: "amd64" } }],
};

describe("parseManifest", () => {
  it("parses an OCI image manifest and keeps the exact bytes", () => {
    const bytes = json(image);
    const parsed = parseManifest(bytes);
    expect(parsed.kind).toBe("image");
    expect(parsed.mediaType).toBe(MediaType.OciManifest);
    expect(parsed.digest).toBe(digestOf(bytes));
    expect(parsed.bytes).toBe(bytes);
    expect(manifestChildren(parsed).map((c) => c.digest)).toEqual([d("config"), d("l1"), d("l2")]);
  });

  it("parses indexes, Docker v2 manifests and manifest lists", () => {
    expect(parseManifest(json(index)).kind).toBe("index");
    const docker = { ...image, mediaType: MediaType.DockerManifest };
    expect(parseManifest(json(docker)).mediaType).toBe(MediaType.DockerManifest);
    const list = { ...index, mediaType: MediaType.DockerManifestList };
    expect(parseManifest(json(list)).kind).toBe("index");
  });

  it("takes the media type from Content-Type when the document has none (umoci)", () => {
    const { mediaType: _m, ...bare } = image;
    expect(parseManifest(json(bare), `${MediaType.DockerManifest}; charset=utf-8`).mediaType).toBe(
      MediaType.DockerManifest,
    );
    const { mediaType: _n, ...bareIndex } = index;
    expect(parseManifest(json(bareIndex)).mediaType).toBe(MediaType.OciIndex);
  });

  it("reads artifactType and subject", () => {
    const artifact = {
      ...image,
      artifactType: "application/vnd.example+json",
      subject: desc(MediaType.OciManifest, "s"),
    };
    const parsed = parseManifest(json(artifact));
    expect(artifactTypeOf(parsed)).toBe("application/vnd.example+json");
    expect(parsed.manifest.subject?.digest).toBe(d("s"));
    expect(artifactTypeOf(parseManifest(json(image)))).toBe(MediaType.OciConfig);
    expect(artifactTypeOf(parseManifest(json(index)))).toBeUndefined();
  });

  it.each([
    ["not JSON", Buffer.from("<html>"), undefined, ManifestInvalidError],
    ["a JSON array", json([1]), undefined, ManifestInvalidError],
    [
      "a digest with uppercase hex",
      json({ ...image, config: { ...image.config, digest: `sha256:${"A".repeat(64)}` } }),
      undefined,
      ManifestInvalidError,
    ],
    [
      "a negative size",
      json({ ...image, layers: [{ ...image.config, size: -1 }] }),
      undefined,
      ManifestInvalidError,
    ],
    ["schema version 1", json({ schemaVersion: 1, name: "x" }), undefined, UnsupportedError],
    ["a media type other than its Content-Type", json(image), MediaType.DockerManifest, ManifestInvalidError],
    [
      "an index without manifests",
      json({ schemaVersion: 2, mediaType: MediaType.OciIndex }),
      undefined,
      ManifestInvalidError,
    ],
  ])("rejects %s", (_what, bytes, contentType, type) => {
    expect(() => parseManifest(bytes, contentType)).toThrow(type);
  });

  it("refuses manifests over 4 MiB", () => {
    expect(() => parseManifest(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 32))).toThrow(SizeLimitError);
  });

  it("never throws anything but RegkitErrors", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ schemaVersion: 2, layers: v })),
        ),
        (text) => {
          try {
            parseManifest(Buffer.from(text));
          } catch (error) {
            expect(isRegkitError(error)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("parseImageConfig", () => {
  it("keeps unknown fields and validates known ones", () => {
    const config = parseImageConfig(
      json({ architecture: "arm64", os: "linux", extra: 1, rootfs: { type: "layers", diff_ids: [] } }),
    );
    expect(config.architecture).toBe("arm64");
    expect((config as Record<string, unknown>).extra).toBe(1);
    expect(() => parseImageConfig(Buffer.from("nope"))).toThrow(ManifestInvalidError);
  });
});
