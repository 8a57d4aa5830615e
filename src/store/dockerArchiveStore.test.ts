/**
 * Reading `docker save` archives that are not what they claim: each refusal
 * names the file and what is wrong; a sound archive answers tags, its
 * manifest and blobs by digest. test/dockerArchive.test.ts covers writing and
 * skopeo interop.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import { InvalidInputError, NotFoundError, UnsupportedError } from "../core/errors.js";
import { MediaType } from "../core/mediaTypes.js";
import { DockerArchiveStore } from "./dockerArchiveStore.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-docker-archive-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CONFIG = Buffer.from('{"architecture":"amd64","os":"linux"}');
const LAYER = Buffer.from("layer tar bytes");

async function archive(name: string, files: Record<string, string | Buffer>): Promise<DockerArchiveStore> {
  const file = join(dir, name);
  const tar = pack();
  for (const [entry, content] of Object.entries(files)) tar.entry({ name: entry }, content);
  tar.finalize();
  await pipeline(tar, createWriteStream(file));
  return new DockerArchiveStore(file);
}

const image = (extra: Record<string, unknown> = {}) =>
  JSON.stringify([
    { Config: "config.json", RepoTags: ["app:v1", "registry:5000/app:v2"], Layers: ["layer.tar"], ...extra },
  ]);

async function refusal(work: Promise<unknown>): Promise<Error> {
  return work.then(
    () => {
      throw new Error("expected a refusal");
    },
    (e: unknown) => e as Error,
  );
}

describe("docker archives", () => {
  it("reads tags, the manifest it stands for, and blobs by digest", async () => {
    const store = await archive("good.tar", {
      "manifest.json": image(),
      "config.json": CONFIG,
      "layer.tar": LAYER,
    });
    const tags: string[] = [];
    for await (const tag of store.tags()) tags.push(tag);
    expect(tags).toEqual(["v1", "v2"]);
    const descriptor = await store.resolve("v2");
    expect(await store.resolve("")).toEqual(descriptor);
    expect(await store.resolve(descriptor.digest)).toEqual(descriptor);
    const manifest = JSON.parse((await store.fetchManifest(descriptor)).toString());
    expect(manifest.config).toEqual({
      mediaType: MediaType.DockerConfig,
      size: CONFIG.length,
      digest: digestOf(CONFIG),
    });
    expect(manifest.layers).toEqual([
      {
        mediaType: "application/vnd.docker.image.rootfs.diff.tar",
        size: LAYER.length,
        digest: digestOf(LAYER),
      },
    ]);
    const chunks: Buffer[] = [];
    for await (const chunk of await store.fetchBlob(manifest.layers[0])) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(LAYER);
    await expect(store.resolve("v3")).rejects.toThrow(
      new NotFoundError(`${store.name}: no image tagged v3 (tags: v1, v2)`),
    );
    const other = { mediaType: MediaType.DockerManifest, digest: digestOf(Buffer.from("x")), size: 1 };
    await expect(store.fetchManifest(other)).rejects.toThrow(`${store.name}: no manifest ${other.digest}`);
    await expect(store.fetchBlob(other)).rejects.toThrow(`${store.name}: no blob ${other.digest}`);
    expect(await store.exists(other)).toBe(false);
  });

  it("an untagged image answers to any tag", async () => {
    const store = await archive("untagged.tar", {
      "manifest.json": image({ RepoTags: null }),
      "config.json": CONFIG,
      "layer.tar": LAYER,
    });
    expect((await store.resolve("anything")).mediaType).toBe(MediaType.DockerManifest);
  });

  it.each([
    [
      "no manifest.json",
      { "config.json": CONFIG },
      InvalidInputError,
      "has no manifest.json: not a docker archive",
    ],
    [
      "an OCI archive",
      { "index.json": "{}", "oci-layout": "{}" },
      InvalidInputError,
      "is an OCI archive, not a docker archive: use oci-archive:",
    ],
    [
      "manifest.json that is not JSON",
      { "manifest.json": "{" },
      InvalidInputError,
      "manifest.json is not valid",
    ],
    ["an empty image list", { "manifest.json": "[]" }, InvalidInputError, "manifest.json is not valid"],
    [
      "two images",
      { "manifest.json": JSON.stringify([JSON.parse(image())[0], JSON.parse(image())[0]]) },
      UnsupportedError,
      "holds 2 images; regkit reads one",
    ],
    [
      "a missing layer file",
      { "manifest.json": image(), "config.json": CONFIG },
      InvalidInputError,
      "manifest.json names a missing file layer.tar",
    ],
  ])("refuses %s", async (_what, files, type, message) => {
    const store = await archive(
      `bad-${Math.random().toString(36).slice(2)}.tar`,
      files as Record<string, string>,
    );
    const error = await refusal(store.resolve(""));
    expect(error).toBeInstanceOf(type);
    expect(error.message).toContain(message);
    expect(error.message).toContain(store.file);
  });

  it("refuses a repository name docker load would refuse, before writing anything", () => {
    const store = new DockerArchiveStore(join(dir, "never-written.tar"));
    expect(() => {
      store.repository = "Upper/Case";
    }).toThrow(/^invalid image name "Upper\/Case" for a docker archive \(docker load would refuse it\): /);
    store.repository = "registry:5000/team/app";
    expect(store.repository).toBe("registry:5000/team/app");
    expect(store.name).toBe(`docker-archive:${join(dir, "never-written.tar")}:registry:5000/team/app`);
    store.repository = undefined;
    expect(store.name).toBe(`docker-archive:${join(dir, "never-written.tar")}`);
  });
});
