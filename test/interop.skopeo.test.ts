/**
 * The generated fixtures are real images: skopeo pushes a two-platform OCI
 * layout to the CNCF distribution registry and every manifest and blob comes
 * back with the digest we computed. Checked with plain undici requests, so a
 * bug in regkit's own client cannot hide a bug in the fixtures.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { digestOf } from "../src/core/digest.js";
import { MediaType } from "../src/core/mediaTypes.js";
import { type GeneratedIndex, generateIndex, writeOciLayout } from "../src/sim/images.js";
import { skopeoCopy, skopeoInspectRaw } from "./support/skopeo.js";

const REPOSITORY = "interop/app";

interface Fetched {
  status: number;
  contentType: string | undefined;
  digestHeader: string | undefined;
  contentLength: string | undefined;
  bytes: Buffer;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function fetchFrom(url: string, method: "GET" | "HEAD", accept?: string): Promise<Fetched> {
  const response = await request(url, { method, headers: accept ? { accept } : {} });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  return {
    status: response.statusCode,
    contentType: header(response.headers["content-type"]),
    digestHeader: header(response.headers["docker-content-digest"]),
    contentLength: header(response.headers["content-length"]),
    bytes,
  };
}

describe("skopeo copies a generated index into distribution unchanged", () => {
  let base: string;
  let host: string;
  let content: GeneratedIndex;
  let dir: string;

  beforeAll(async () => {
    ({ host, url: base } = inject("distribution"));
    content = await generateIndex({ seed: "interop-skopeo", platforms: ["linux/amd64", "linux/arm64/v8"] });
    dir = await mkdtemp(join(tmpdir(), "regkit-interop-skopeo-"));
    await writeOciLayout(join(dir, "layout"), content, "v1");
    await skopeoCopy(`oci:${join(dir, "layout")}:v1`, `docker://${host}/${REPOSITORY}:v1`, ["--all"]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the tag with exactly the generated index", async () => {
    const served = await fetchFrom(`${base}/v2/${REPOSITORY}/manifests/v1`, "GET", MediaType.OciIndex);
    expect(served.status).toBe(200);
    expect(served.contentType).toBe(MediaType.OciIndex);
    expect(served.digestHeader).toBe(content.index.digest);
    expect(digestOf(served.bytes)).toBe(content.index.digest);
    expect(served.bytes.equals(content.index.bytes)).toBe(true);
  });

  it("serves each platform's manifest by digest", async () => {
    expect(content.images.map((image) => image.platform)).toEqual([
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ]);
    for (const image of content.images) {
      const { digest } = image.manifest;
      const served = await fetchFrom(
        `${base}/v2/${REPOSITORY}/manifests/${digest}`,
        "GET",
        MediaType.OciManifest,
      );
      expect(served.status).toBe(200);
      expect(served.contentType).toBe(MediaType.OciManifest);
      expect(served.digestHeader).toBe(digest);
      expect(digestOf(served.bytes)).toBe(digest);
      expect(served.bytes.equals(image.manifest.bytes)).toBe(true);
    }
  });

  it("holds every config and layer blob with its digest and size", async () => {
    const blobs = content.images.flatMap((image) => [image.config, ...image.layers]);
    expect(blobs).toHaveLength(6);
    for (const blob of blobs) {
      const url = `${base}/v2/${REPOSITORY}/blobs/${blob.digest}`;
      const head = await fetchFrom(url, "HEAD");
      expect(head.status).toBe(200);
      expect(head.digestHeader).toBe(blob.digest);
      expect(head.contentLength).toBe(String(blob.size));
      const served = await fetchFrom(url, "GET");
      expect(served.status).toBe(200);
      expect(served.bytes.byteLength).toBe(blob.size);
      expect(digestOf(served.bytes)).toBe(blob.digest);
    }
  });

  it("lists the tag", async () => {
    const served = await fetchFrom(`${base}/v2/${REPOSITORY}/tags/list`, "GET");
    expect(served.status).toBe(200);
    expect(JSON.parse(served.bytes.toString("utf8"))).toEqual({ name: REPOSITORY, tags: ["v1"] });
  });

  it("reads back byte for byte through skopeo inspect --raw", async () => {
    const raw = await skopeoInspectRaw(`docker://${host}/${REPOSITORY}:v1`);
    expect(raw.equals(content.index.bytes)).toBe(true);
    const child = content.images[1]!.manifest;
    const rawChild = await skopeoInspectRaw(`docker://${host}/${REPOSITORY}@${child.digest}`);
    expect(rawChild.equals(child.bytes)).toBe(true);
  });
});
