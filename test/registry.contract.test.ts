/**
 * The same client suite against the real CNCF distribution registry and
 * regkit's embedded registry. Where the two legitimately differ (distribution
 * 2.8 ignores `n` on tags/list and has no referrers API) the test says so.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { basic, staticCredentials } from "../src/auth/index.js";
import { type Digest, digestOf } from "../src/core/digest.js";
import { isRegkitError, NotFoundError } from "../src/core/errors.js";
import { MediaType } from "../src/core/mediaTypes.js";
import { parsePlatform } from "../src/core/platform.js";
import { Registry, type RegistryOptions } from "../src/registry/registry.js";
import type { Repository } from "../src/registry/repository.js";
import { FileStorage } from "../src/sim/fileStorage.js";
import { type GeneratedImage, generateImage, generateIndex } from "../src/sim/images.js";
import { startRegistryServer } from "../src/sim/server.js";
import { type AuthTarget, PASSWORD, startAuthTargets, USER } from "./support/authTargets.js";
import { readAll } from "./support/streams.js";

async function pushImage(repo: Repository, image: GeneratedImage, tag?: string) {
  for (const blob of [image.config, ...image.layers]) {
    await repo.uploads.upload(blob.bytes, {
      digest: blob.digest,
      size: blob.size,
      mediaType: blob.mediaType,
    });
  }
  await repo.pushManifest(tag ?? image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
}

interface Target {
  name: string;
  /** The real CNCF registry (whatever its auth mode): where its known deviations apply. */
  real: boolean;
  host: string;
  options: RegistryOptions;
  stop?: () => Promise<void>;
}

// The authenticated registries are started once for the whole file, on first use.
let authTargets: Promise<AuthTarget[]> | undefined;
const authTarget = async (name: string): Promise<Target> => {
  authTargets ??= startAuthTargets();
  const target = (await authTargets).find((t) => t.name === name)!;
  return {
    name,
    real: name.startsWith("distribution"),
    host: target.host,
    options: {
      credentials: staticCredentials({ [target.host]: basic(USER, PASSWORD) }),
      ...(target.ca ? { ca: target.ca } : {}),
    },
  };
};
afterAll(async () => {
  for (const target of authTargets ? await authTargets : []) await target.stop();
});

const targets: Record<string, () => Promise<Target>> = {
  distribution: async () => ({
    name: "distribution",
    real: true,
    host: inject("distribution").host,
    options: {},
  }),
  embedded: async () => {
    const server = await startRegistryServer({ port: 0 });
    return { name: "embedded", real: false, host: server.host, options: {}, stop: () => server.close() };
  },
  "embedded (filesystem storage)": async () => {
    const dir = await mkdtemp(join(tmpdir(), "regkit-fs-"));
    const server = await startRegistryServer({ port: 0, storage: new FileStorage(dir) });
    return {
      name: "embedded (filesystem storage)",
      real: false,
      host: server.host,
      options: {},
      stop: async () => {
        await server.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  "distribution htpasswd+TLS": () => authTarget("distribution htpasswd+TLS"),
  "distribution token": () => authTarget("distribution token"),
  "embedded basic": () => authTarget("embedded basic"),
  "embedded token": () => authTarget("embedded token"),
};

describe.each(Object.keys(targets))("registry client against %s", (label) => {
  let target: Target;
  let registry: Registry;
  const run = randomBytes(4).toString("hex");
  const repoName = (suffix: string) => `contract/${run}/${suffix}`;

  beforeAll(async () => {
    target = await targets[label]!();
    registry = new Registry(target.options);
  });
  afterAll(async () => {
    await registry.close();
    await target.stop?.();
  });

  it("pings the API", async () => {
    const ping = await registry.ping(target.host);
    expect(ping.status).toBe(200);
    expect(ping.apiVersion).toBe("registry/2.0");
  });

  it("uploads monolithically, then heads, fetches verified and fetches a range", async () => {
    const repo = registry.repository(target.host, repoName("blobs"));
    const bytes = randomBytes(200_000);
    const digest = digestOf(bytes);
    const result = await repo.uploads.upload(bytes, { digest, size: bytes.length });
    expect(result.descriptor).toMatchObject({ digest, size: bytes.length });
    expect(await repo.blobs.exists(digest)).toBe(true);
    expect((await repo.blobs.head(digest)).size).toBe(bytes.length);
    const fetched = await repo.blobs.fetch(digest, { size: bytes.length });
    expect((await readAll(fetched.stream)).equals(bytes)).toBe(true);
    const part = await repo.blobs.fetch(digest, { range: { start: 1000, end: 1999 } });
    expect(part.length).toBe(1000);
    expect((await readAll(part.stream)).equals(bytes.subarray(1000, 2000))).toBe(true);
  });

  it("uploads in chunks from a stream whose digest is computed on the way", async () => {
    const repo = registry.repository(target.host, repoName("chunked"));
    const bytes = randomBytes(300_000);
    const stream = Readable.from([bytes.subarray(0, 70_000), bytes.subarray(70_000)]);
    const result = await repo.uploads.upload(stream, {}, { chunkSize: 64 * 1024 });
    expect(result.descriptor.digest).toBe(digestOf(bytes));
    expect(result.descriptor.size).toBe(bytes.length);
    const fetched = await repo.blobs.fetch(result.descriptor.digest);
    expect((await readAll(fetched.stream)).equals(bytes)).toBe(true);
  });

  it("resumes an upload from the offset the registry reports", async () => {
    const repo = registry.repository(target.host, repoName("resume"));
    const bytes = randomBytes(150_000);
    const started = await repo.uploads.start();
    if (started.mounted) throw new Error("unexpected mount");
    await started.session.append(bytes.subarray(0, 100_000));
    // A new session object, as after a restart, knows only the Location.
    const resumed = await repo.uploads.resume(started.session.location);
    expect(await resumed.status()).toBe(100_000);
    await resumed.append(bytes.subarray(resumed.offset));
    await resumed.complete(digestOf(bytes));
    expect(await repo.blobs.exists(digestOf(bytes))).toBe(true);
  });

  it("cancels an upload", async () => {
    const repo = registry.repository(target.host, repoName("cancel"));
    const started = await repo.uploads.start();
    if (started.mounted) throw new Error("unexpected mount");
    await started.session.append(randomBytes(1000));
    await started.session.cancel();
    await expect(started.session.status()).rejects.toBeInstanceOf(NotFoundError);
  });

  it("mounts a blob across repositories instead of uploading it", async () => {
    const source = registry.repository(target.host, repoName("mount-src"));
    const dest = registry.repository(target.host, repoName("mount-dst"));
    const bytes = randomBytes(50_000);
    const digest = digestOf(bytes);
    await source.uploads.upload(bytes, { digest, size: bytes.length });
    const result = await dest.uploads.upload(
      bytes,
      { digest, size: bytes.length },
      { mountFrom: [source.name] },
    );
    expect(result.via).toBe("mount");
    expect(await dest.blobs.exists(digest)).toBe(true);
  });

  it("falls back to uploading when the mount source lacks the blob", async () => {
    const dest = registry.repository(target.host, repoName("mount-miss"));
    const bytes = randomBytes(10_000);
    const digest = digestOf(bytes);
    const result = await dest.uploads.upload(
      bytes,
      { digest, size: bytes.length },
      { mountFrom: [repoName("nothing")] },
    );
    expect(result.via).toBe("upload");
    expect(await dest.blobs.exists(digest)).toBe(true);
  });

  it("pushes an image and reads it back by tag and digest with the exact bytes", async () => {
    const repo = registry.repository(target.host, repoName("image"));
    const image = await generateImage({ seed: `img-${run}`, layers: 3 });
    await pushImage(repo, image, "v1");
    const byTag = await repo.manifests.fetch("v1");
    expect(byTag.descriptor.digest).toBe(image.manifest.digest);
    expect(byTag.bytes.equals(image.manifest.bytes)).toBe(true);
    expect(byTag.descriptor.mediaType).toBe(MediaType.OciManifest);
    const head = await repo.manifests.head("v1");
    expect(head).toEqual({
      mediaType: MediaType.OciManifest,
      digest: image.manifest.digest,
      size: image.manifest.size,
    });
    const parsed = await repo.manifests.get(image.manifest.digest);
    expect(parsed.kind).toBe("image");
  });

  it("pushes a multi-platform index and resolves a platform", async () => {
    const repo = registry.repository(target.host, repoName("multi"));
    const content = await generateIndex({
      seed: `idx-${run}`,
      platforms: ["linux/amd64", "linux/arm64/v8"],
    });
    for (const image of content.images) await pushImage(repo, image);
    await repo.pushManifest("v2", content.index.bytes, content.index.mediaType);
    const resolved = await repo.resolve("v2", { platform: parsePlatform("linux/arm64") });
    expect(resolved.descriptor.digest).toBe(content.images[1]!.manifest.digest);
    const err = await repo
      .resolve("v2", { platform: parsePlatform("windows/amd64") })
      .catch((e: unknown) => e);
    expect(isRegkitError(err) && err.code).toBe("PLATFORM_NOT_FOUND");
    expect((err as Error).message).toContain("linux/amd64");
  });

  it("lists tags across pages and the catalog", async () => {
    const repo = registry.repository(target.host, repoName("tags"));
    const image = await generateImage({ seed: `tags-${run}`, layers: 1 });
    await pushImage(repo, image, "t0");
    const tags = ["t1", "t2", "t3", "t4", "t5"];
    for (const tag of tags) await repo.manifests.put(tag, image.manifest.bytes, image.manifest.mediaType);
    const all = await repo.tags({ pageSize: 2 }).all();
    // distribution 2.8 returns tags in storage order, not lexically sorted.
    expect(target.real ? [...all].sort() : all).toEqual(["t0", ...tags]);
    const pages: string[][] = [];
    for await (const page of repo.tags({ pageSize: 2 }).byPage()) pages.push(page);
    // distribution 2.8 ignores `n` on tags/list (see the registry facts notes).
    expect(pages.length).toBe(target.real ? 1 : 3);
    const catalog = await registry.catalog(target.host, { pageSize: 3 }).all();
    expect(catalog).toContain(repo.name);
  });

  it("deletes a manifest and a blob", async () => {
    const repo = registry.repository(target.host, repoName("delete"));
    const image = await generateImage({ seed: `del-${run}`, layers: 1 });
    await pushImage(repo, image, "gone");
    await repo.manifests.delete(image.manifest.digest);
    await expect(repo.manifests.get(image.manifest.digest)).rejects.toBeInstanceOf(NotFoundError);
    const layer = image.layers[0]!.digest as Digest;
    await repo.blobs.delete(layer);
    expect(await repo.blobs.exists(layer)).toBe(false);
  });

  it("finds referrers through the API or the tag-schema fallback", async () => {
    const repo = registry.repository(target.host, repoName("referrers"));
    const image = await generateImage({ seed: `ref-${run}`, layers: 1 });
    await pushImage(repo, image, "app");
    const empty = Buffer.from("{}");
    await repo.uploads.upload(empty, { digest: digestOf(empty), size: 2 });
    const artifact = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: "application/vnd.example.sbom.v1",
        config: { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 },
        layers: [{ mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 }],
        subject: {
          mediaType: image.manifest.mediaType,
          digest: image.manifest.digest,
          size: image.manifest.size,
        },
        annotations: { "org.example.kind": "sbom" },
      }),
    );
    await repo.pushManifest(digestOf(artifact), artifact, MediaType.OciManifest);
    const found = await repo.referrers.list(image.manifest.digest);
    expect(found.source).toBe(target.real ? "tag-schema" : "api");
    expect(found.referrers.map((d) => d.digest)).toEqual([digestOf(artifact)]);
    expect(found.referrers[0]?.artifactType).toBe("application/vnd.example.sbom.v1");
    const filtered = await repo.referrers.list(image.manifest.digest, {
      artifactType: "application/other",
    });
    expect(filtered.referrers).toEqual([]);
  });

  it("reports unknown manifests and repositories as not found", async () => {
    const repo = registry.repository(target.host, repoName("missing"));
    await expect(repo.manifests.get("nope")).rejects.toBeInstanceOf(NotFoundError);
    await expect(repo.blobs.head(digestOf("nothing"))).rejects.toBeInstanceOf(NotFoundError);
  });
});
