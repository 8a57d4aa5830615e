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
  annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
};
const index = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [
    { ...desc(MediaType.OciManifest, "m1"), platform: { os: "linux", architecture: "amd64" } },
    {
      ...desc(MediaType.OciManifest, "m2"),
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    },
    {
      ...desc(MediaType.OciManifest, "att"),
      platform: { os: "unknown", architecture: "unknown" },
      annotations: { "vnd.docker.reference.type": "attestation-manifest" },
    },
  ],
};
const dockerImage = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: desc(MediaType.DockerConfig, "config"),
  layers: [desc(MediaType.DockerLayerGzip, "l1")],
};
const dockerList = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifestList,
  manifests: [{ ...desc(MediaType.DockerManifest, "m1"), platform: { os: "linux", architecture: "amd64" } }],
};

function strip<T extends { mediaType?: string }>(doc: T): Omit<T, "mediaType"> {
  const { mediaType: _ignored, ...rest } = doc;
  return rest;
}

describe("parseManifest", () => {
  it("parses an OCI image manifest and keeps the exact bytes", () => {
    const bytes = json(image);
    const parsed = parseManifest(bytes, MediaType.OciManifest);
    expect(parsed.kind).toBe("image");
    expect(parsed.mediaType).toBe(MediaType.OciManifest);
    expect(parsed.digest).toBe(digestOf(bytes));
    expect(parsed.bytes).toBe(bytes);
    expect(parsed.manifest.annotations).toEqual(image.annotations);
    expect(manifestChildren(parsed).map((c) => c.digest)).toEqual([d("config"), d("l1"), d("l2")]);
  });

  it("hashes the bytes as sent, whitespace included", () => {
    const pretty = Buffer.from(JSON.stringify(image, null, 3));
    expect(parseManifest(pretty).digest).toBe(digestOf(pretty));
    expect(parseManifest(pretty).digest).not.toBe(parseManifest(json(image)).digest);
  });

  it("reads a manifest that is a view into a larger buffer", () => {
    const bytes = json(image);
    const backing = Buffer.concat([Buffer.from("garbage{"), bytes, Buffer.from("}trailing")]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 8, bytes.length);
    const parsed = parseManifest(view);
    expect(parsed.kind).toBe("image");
    expect(parsed.digest).toBe(digestOf(bytes));
  });

  it("parses an OCI index with platforms", () => {
    const parsed = parseManifest(json(index), `${MediaType.OciIndex}; charset=utf-8`);
    expect(parsed.kind).toBe("index");
    expect(parsed.mediaType).toBe(MediaType.OciIndex);
    expect(manifestChildren(parsed).map((c) => c.platform?.architecture)).toEqual([
      "amd64",
      "arm64",
      "unknown",
    ]);
  });

  it("parses Docker v2 manifests and manifest lists", () => {
    const docker = parseManifest(json(dockerImage), MediaType.DockerManifest);
    expect([docker.kind, docker.mediaType]).toEqual(["image", MediaType.DockerManifest]);
    const list = parseManifest(json(dockerList));
    expect([list.kind, list.mediaType]).toEqual(["index", MediaType.DockerManifestList]);
  });

  it.each([
    ["an image manifest", strip(dockerImage), MediaType.DockerManifest, "image"],
    ["a manifest list", strip(dockerList), MediaType.DockerManifestList, "index"],
    ["an OCI index", strip(index), MediaType.OciIndex, "index"],
  ])("takes the media type of %s without one from Content-Type (umoci)", (_what, doc, contentType, kind) => {
    const parsed = parseManifest(json(doc), `${contentType}; charset=utf-8`);
    expect([parsed.kind, parsed.mediaType]).toEqual([kind, contentType]);
  });

  it("infers the media type from the shape when nothing says it", () => {
    expect(parseManifest(json(strip(image))).mediaType).toBe(MediaType.OciManifest);
    expect(parseManifest(json(strip(index))).mediaType).toBe(MediaType.OciIndex);
    expect(parseManifest(json(strip(index)), "application/json").mediaType).toBe(MediaType.OciIndex);
  });

  it("ignores a generic Content-Type that is not a manifest type", () => {
    expect(parseManifest(json(image), "application/octet-stream").mediaType).toBe(MediaType.OciManifest);
  });

  it("reads artifactType and subject", () => {
    const artifact = {
      ...image,
      artifactType: "application/vnd.example.sbom+json",
      config: desc(MediaType.OciEmpty, "{}"),
      subject: desc(MediaType.OciManifest, "s"),
    };
    const parsed = parseManifest(json(artifact));
    expect(artifactTypeOf(parsed)).toBe("application/vnd.example.sbom+json");
    expect(parsed.manifest.subject?.digest).toBe(d("s"));
    expect(artifactTypeOf(parseManifest(json(image)))).toBe(MediaType.OciConfig);
    expect(artifactTypeOf(parseManifest(json(index)))).toBeUndefined();
    const indexArtifact = { ...index, artifactType: "application/vnd.example", subject: artifact.subject };
    expect(artifactTypeOf(parseManifest(json(indexArtifact)))).toBe("application/vnd.example");
  });

  it("accepts an artifact manifest with an unknown media type when it has a config", () => {
    const custom = { ...image, mediaType: "application/vnd.example.manifest+json" };
    const parsed = parseManifest(json(custom));
    expect([parsed.kind, parsed.mediaType]).toEqual(["image", "application/vnd.example.manifest+json"]);
  });

  it("accepts descriptors with sha512 digests, urls, data and annotations", () => {
    const layer = {
      mediaType: MediaType.DockerForeignLayerGzip,
      digest: digestOf("l", "sha512"),
      size: 1,
      urls: ["https://example.com/l"],
      data: "bA==",
      annotations: { a: "b" },
    };
    const parsed = parseManifest(json({ ...image, layers: [layer] }));
    expect(parsed.kind === "image" && parsed.manifest.layers[0]).toEqual(layer);
  });

  it.each([
    ["not JSON", Buffer.from("<html>"), undefined, ManifestInvalidError, /not valid JSON/],
    ["empty", Buffer.alloc(0), undefined, ManifestInvalidError, /not valid JSON/],
    [
      "a UTF-8 BOM",
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(image)]),
      undefined,
      ManifestInvalidError,
      /JSON/,
    ],
    ["a JSON array", json([1]), undefined, ManifestInvalidError, /not a JSON object/],
    ["JSON null", Buffer.from("null"), undefined, ManifestInvalidError, /not a JSON object/],
    ["a JSON string", json("manifest"), undefined, ManifestInvalidError, /not a JSON object/],
    [
      "a digest with uppercase hex",
      json({ ...image, config: { ...image.config, digest: `sha256:${"A".repeat(64)}` } }),
      undefined,
      ManifestInvalidError,
      /config\.digest/,
    ],
    [
      "a negative size",
      json({ ...image, layers: [{ ...image.config, size: -1 }] }),
      undefined,
      ManifestInvalidError,
      /layers\.0\.size/,
    ],
    [
      "a fractional size",
      json({ ...image, layers: [{ ...image.config, size: 1.5 }] }),
      undefined,
      ManifestInvalidError,
      /layers\.0\.size/,
    ],
    [
      "no config",
      json({ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] }),
      undefined,
      ManifestInvalidError,
      /config/,
    ],
    [
      "schemaVersion 3",
      json({ ...image, schemaVersion: 3 }),
      undefined,
      ManifestInvalidError,
      /schemaVersion/,
    ],
    [
      "a string schemaVersion",
      json({ ...image, schemaVersion: "2" }),
      undefined,
      ManifestInvalidError,
      /schemaVersion/,
    ],
    [
      "non-string annotations",
      json({ ...image, annotations: { a: 1 } }),
      undefined,
      ManifestInvalidError,
      /annotations/,
    ],
    [
      "a platform without architecture",
      json({ ...index, manifests: [{ ...desc(MediaType.OciManifest, "m"), platform: { os: "linux" } }] }),
      undefined,
      ManifestInvalidError,
      /manifests\.0\.platform\.architecture/,
    ],
    [
      "schema version 1",
      json({ schemaVersion: 1, name: "x", tag: "t", fsLayers: [] }),
      undefined,
      UnsupportedError,
      /schema 1/,
    ],
    [
      "a media type other than its Content-Type",
      json(image),
      MediaType.DockerManifest,
      ManifestInvalidError,
      /does not match Content-Type/,
    ],
    [
      "an index declared as an image by Content-Type",
      json(index),
      MediaType.OciManifest,
      ManifestInvalidError,
      /does not match Content-Type/,
    ],
    [
      "an index without manifests",
      json({ schemaVersion: 2, mediaType: MediaType.OciIndex }),
      undefined,
      ManifestInvalidError,
      /manifests/,
    ],
    [
      "an unknown media type without config",
      json({ schemaVersion: 2, mediaType: "application/vnd.example+json", blobs: [] }),
      undefined,
      UnsupportedError,
      /unsupported manifest media type/,
    ],
  ])("rejects %s", (_what, bytes, contentType, type, message) => {
    expect(() => parseManifest(bytes, contentType)).toThrow(type);
    expect(() => parseManifest(bytes, contentType)).toThrow(message);
  });

  it("refuses manifests over 4 MiB and accepts one of exactly 4 MiB", () => {
    expect(MAX_MANIFEST_BYTES).toBe(4 * 1024 * 1024);
    expect(() => parseManifest(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 32))).toThrow(SizeLimitError);
    const body = json(image);
    const padded = Buffer.concat([body, Buffer.alloc(MAX_MANIFEST_BYTES - body.length, 32)]);
    expect(padded.length).toBe(MAX_MANIFEST_BYTES);
    expect(parseManifest(padded).kind).toBe("image");
  });

  it("throws only RegkitErrors on arbitrary input", () => {
    const descriptorish = fc.record(
      { mediaType: fc.string(), digest: fc.string(), size: fc.oneof(fc.integer(), fc.double()) },
      { requiredKeys: [] },
    );
    const manifestish = fc
      .record(
        {
          schemaVersion: fc.oneof(fc.constant(2), fc.constant(1), fc.jsonValue()),
          mediaType: fc.oneof(fc.constantFrom(...Object.values(MediaType)), fc.string()),
          config: fc.oneof(descriptorish, fc.jsonValue()),
          layers: fc.oneof(fc.array(descriptorish), fc.jsonValue()),
          manifests: fc.oneof(fc.array(descriptorish), fc.jsonValue()),
          annotations: fc.jsonValue(),
          subject: descriptorish,
        },
        { requiredKeys: [] },
      )
      .map((doc) => JSON.stringify(doc));
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.json(), manifestish),
        fc.option(fc.constantFrom(MediaType.OciIndex, MediaType.DockerManifest, "text/html", ""), {
          nil: undefined,
        }),
        (text, contentType) => {
          try {
            const parsed = parseManifest(Buffer.from(text), contentType);
            expect(["image", "index"]).toContain(parsed.kind);
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
      json({
        architecture: "arm64",
        os: "linux",
        extra: 1,
        config: { Env: ["A=b"] },
        rootfs: { type: "layers", diff_ids: [d("x")] },
        history: [{ created_by: "RUN x" }],
      }),
    );
    expect(config.architecture).toBe("arm64");
    expect(config.rootfs?.diff_ids).toEqual([d("x")]);
    expect((config as Record<string, unknown>).extra).toBe(1);
    expect(parseImageConfig(json({ config: null })).config).toBeNull();
  });

  it.each([
    ["not JSON", Buffer.from("nope"), /not valid JSON/],
    ["a wrong type", json({ architecture: 64 }), /architecture/],
    ["a rootfs without diff_ids", json({ rootfs: { type: "layers" } }), /rootfs/],
    ["an array", json([]), /invalid image config/],
  ])("rejects %s", (_what, bytes, message) => {
    expect(() => parseImageConfig(bytes)).toThrow(ManifestInvalidError);
    expect(() => parseImageConfig(bytes)).toThrow(message);
  });
});
