/** docker-archive tarballs, both ways, checked with skopeo. */
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { pack } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copy } from "../src/copy/copy.js";
import { isRegkitError } from "../src/core/errors.js";
import { parsePlatform } from "../src/core/platform.js";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedIndex, generateIndex } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { DockerArchiveStore } from "../src/store/dockerArchiveStore.js";
import { RemoteStore } from "../src/store/remoteStore.js";
import { SKOPEO_BLOB_CACHE } from "./support/skopeo.js";

const run = promisify(execFile);
let server: RegistryServer;
let registry: Registry;
let dir: string;
let content: GeneratedIndex;

async function skopeo(args: string[]): Promise<string> {
  await rm(SKOPEO_BLOB_CACHE, { force: true });
  return (await run("skopeo", args, { timeout: 120_000 })).stdout;
}

beforeAll(async () => {
  server = await startRegistryServer();
  registry = new Registry({ credentials: false });
  dir = await mkdtemp(join(tmpdir(), "regkit-archive-"));
  content = await generateIndex({
    seed: "archive",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 300_000,
  });
  const repo = registry.repository(server.host, "archive/src");
  for (const image of content.images) {
    for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
    await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  }
  await repo.manifests.put("v1", content.index.bytes, content.index.mediaType);
});
afterAll(async () => {
  await registry.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const src = () => new RemoteStore(registry.repository(server.host, "archive/src"));

describe("docker-archive", () => {
  it("writes one platform as an archive skopeo reads and pushes with the same layers", async () => {
    const file = join(dir, "amd64.tar");
    const archive = new DockerArchiveStore(file);
    archive.repository = "example/app";
    await copy(src(), "v1", archive, "v1", { platform: parsePlatform("linux/amd64") });
    const inspected = JSON.parse(await skopeo(["inspect", `docker-archive:${file}`]));
    // skopeo names the layers of an archive by their uncompressed digests: the config's diff_ids.
    const diffIds = JSON.parse(content.images[0]!.config.bytes.toString()).rootfs.diff_ids;
    expect(inspected.Layers).toEqual(diffIds);
    expect(inspected.Architecture).toBe("amd64");
    await skopeo([
      "copy",
      "-q",
      "--dest-tls-verify=false",
      `docker-archive:${file}`,
      `docker://${server.host}/archive/by-skopeo:v1`,
    ]);
    const config = JSON.parse(
      await skopeo([
        "inspect",
        "--config",
        "--tls-verify=false",
        `docker://${server.host}/archive/by-skopeo:v1`,
      ]),
    );
    expect(config.rootfs.diff_ids).toHaveLength(2);
  });

  it("reads an archive skopeo wrote and pushes it with the digests of its files", async () => {
    const file = join(dir, "by-skopeo.tar");
    await skopeo([
      "copy",
      "-q",
      "--src-tls-verify=false",
      `docker://${server.host}/archive/src:v1`,
      `docker-archive:${file}:sk/app:v2`,
    ]);
    const fromSkopeo = JSON.parse(await skopeo(["inspect", `docker-archive:${file}`]));
    const result = await copy(
      new DockerArchiveStore(file),
      "v2",
      new RemoteStore(registry.repository(server.host, "archive/by-regkit")),
      "v2",
    );
    const pushed = await registry
      .repository(server.host, "archive/by-regkit")
      .manifests.get(result.descriptor.digest);
    expect(pushed.kind === "image" && pushed.manifest.layers.map((l) => l.digest)).toEqual(fromSkopeo.Layers);
  });

  it("refuses an index (one image per archive) and leaves no file", async () => {
    const file = join(dir, "multi.tar");
    const error = await copy(src(), "v1", new DockerArchiveStore(file), "v1").catch((e: unknown) => e);
    expect(isRegkitError(error) && error.message).toMatch(
      /holds one image and the source is an index: choose a platform with --platform \(linux\/amd64, linux\/arm64\/v8\)/,
    );
    await expect(stat(file)).rejects.toThrow();
  });

  it("refuses archive entries that escape the archive", async () => {
    const file = join(dir, "evil.tar");
    const tar = pack();
    tar.entry({ name: "../../etc/passwd" }, "x");
    tar.entry({ name: "manifest.json" }, JSON.stringify([{ Config: "../../etc/passwd", Layers: [] }]));
    tar.finalize();
    await pipeline(tar, createWriteStream(file));
    const error = await new DockerArchiveStore(file).resolve("").catch((e: unknown) => e);
    expect(isRegkitError(error) && error.message).toMatch(/escapes the archive/);
  });
});
