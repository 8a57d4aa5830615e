/**
 * Where images are written: layouts, docker and OCI archives, digests in the
 * destination, referrers, temporary files — nothing left wrong or behind.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../src/core/digest.js";
import { MediaType } from "../src/core/mediaTypes.js";
import { parsePlatform } from "../src/core/platform.js";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedIndex, generateIndex } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { skopeoCopy, skopeoInspectRaw } from "./support/skopeo.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
let server: RegistryServer;
let registry: Registry;
let dir: string;
let content: GeneratedIndex;
let src: string;
let sbom: Buffer;

function regkit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    ),
  );
}

/** Every file under `path`, recursively (to find leftovers). */
async function files(path: string): Promise<string[]> {
  return (await readdir(path, { recursive: true })).map(String);
}

async function seed(host: string, repository: string): Promise<void> {
  const repo = registry.repository(host, repository);
  for (const image of content.images) {
    for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
    await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  }
  await repo.manifests.put("v1", content.index.bytes, content.index.mediaType);
}

beforeAll(async () => {
  server = await startRegistryServer();
  registry = new Registry({ credentials: false });
  dir = await mkdtemp(join(tmpdir(), "regkit-locations-"));
  content = await generateIndex({
    seed: "locations",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 300_000,
  });
  src = `${server.host}/loc/src`;
  await seed(server.host, "loc/src");
  // An SBOM that refers to the index, as oras attaches one.
  const repo = registry.repository(server.host, "loc/src");
  const empty = Buffer.from("{}");
  await repo.uploads.upload(empty, { digest: digestOf(empty), size: 2 });
  sbom = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: "application/spdx+json",
      config: { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 },
      layers: [{ mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 }],
      subject: { mediaType: content.index.mediaType, digest: content.index.digest, size: content.index.size },
    }),
  );
  await repo.pushManifest(digestOf(sbom), sbom, MediaType.OciManifest);
});
afterAll(async () => {
  await registry.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("OCI layouts", () => {
  it("pull by digest lists the image untagged in index.json, as skopeo does, and push uses it", async () => {
    const layout = join(dir, "by-digest");
    const pulled = await regkit("pull", `${src}@${content.index.digest}`, layout);
    expect(pulled.code).toBe(0);
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
    expect(index.manifests).toEqual([
      { mediaType: content.index.mediaType, digest: content.index.digest, size: content.index.size },
    ]);
    expect((await skopeoInspectRaw(`oci:${layout}`)).equals(content.index.bytes)).toBe(true);
    const pushed = await regkit("push", layout, `${server.host}/loc/from-untagged:v2`);
    expect(pushed.stderr).toBe("");
    expect(pushed.code).toBe(0);
    const back = await registry.repository(server.host, "loc/from-untagged").manifests.fetch("v2");
    expect(back.descriptor.digest).toBe(content.index.digest);
  });

  it("records referrers in index.json with their artifact type and copies them onward", async () => {
    const layout = join(dir, "with-referrers");
    expect((await regkit("copy", "--referrers", `${src}:v1`, `oci:${layout}:v1`)).code).toBe(0);
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
    expect(index.manifests).toContainEqual({
      mediaType: MediaType.OciManifest,
      digest: digestOf(sbom),
      size: sbom.byteLength,
      artifactType: "application/spdx+json",
    });
    // The layout's only image is still the tagged index: the referrer beside it does not count.
    const onward = await regkit("copy", "--referrers", `oci:${layout}`, `${server.host}/loc/onward:v1`);
    expect(onward.code).toBe(0);
    const listed = await regkit("--json", "referrers", `${server.host}/loc/onward:v1`);
    expect(JSON.parse(listed.stdout).referrers.map((r: { digest: string }) => r.digest)).toEqual([
      digestOf(sbom),
    ]);
  });
});

describe("the README's library example", () => {
  it("is true: resolve() gives a ParsedManifest whose parsed document holds the layers", async () => {
    const readme = await readFile(join(import.meta.dirname, "..", "README.md"), "utf8");
    expect(readme).toContain(
      'const { manifest: image } = await repo.resolve("v1", { platform: parsePlatform("linux/arm64") });',
    );
    expect(readme).toContain('if (image.kind === "image") console.log(image.manifest.layers);');
    const repo = registry.repository(server.host, "loc/src");
    const { manifest: image } = await repo.resolve("v1", { platform: parsePlatform("linux/arm64") });
    expect(image.kind === "image" && image.manifest.layers.map((l) => l.digest)).toEqual(
      content.images[1]!.layers.map((l) => l.digest),
    );
  });
});

describe("a digest in the destination", () => {
  it("creates no tag, and a digest that does not match is refused before anything moves", async () => {
    const wrong = `sha256:${"0".repeat(64)}`;
    const refused = await regkit("copy", `${src}:v1`, `${server.host}/loc/pinned@${wrong}`);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/names sha256:0{64} but the image copied is sha256:[0-9a-f]{64}: nothing/);
    expect(await server.storage.hasRepository("loc/pinned")).toBe(false);
    const pinned = await regkit("copy", `${src}:v1`, `${server.host}/loc/pinned@${content.index.digest}`);
    expect(pinned.code).toBe(0);
    expect((await regkit("ls", `${server.host}/loc/pinned`)).stdout).toBe("");
    const repo = registry.repository(server.host, "loc/pinned");
    expect(await repo.manifests.exists(content.index.digest)).toBe(true);
  });
});

describe("docker-archive destinations", () => {
  it("refuses an index without --platform before moving anything, exit 2, naming the platforms", async () => {
    const out = await mkdtemp(join(dir, "idx-"));
    const result = await regkit("copy", `${src}:v1`, `docker-archive:${join(out, "app.tar")}:example/app:v1`);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `regkit: docker-archive:${join(out, "app.tar")}:example/app holds one image and the source is an index: choose a platform with --platform (linux/amd64, linux/arm64/v8)\n`,
    );
    expect(await files(out)).toEqual([]);
  });

  it("a missing directory is one line, exit 2, and nothing is left", async () => {
    const result = await regkit(
      "copy",
      "--platform",
      "linux/amd64",
      `${src}:v1`,
      `docker-archive:${join(dir, "no-such-dir", "app.tar")}`,
    );
    expect(result.stderr).toMatch(
      /^regkit: [^\n]*cannot write [^\n]*: directory [^\n]*no-such-dir does not exist\n$/,
    );
    expect(result.code).toBe(2);
    expect(await files(dir)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
  });

  it("resumes a source that cuts the connection once mid-blob; a source that keeps failing is exit 7 with nothing left", async () => {
    const flaky = await startRegistryServer({
      faults: { rules: [{ kind: "reset", bytes: 100_000, route: "/blobs/", method: "GET", times: 1 }] },
    });
    const dead = await startRegistryServer({
      faults: { rules: [{ kind: "reset", bytes: 0, route: "/blobs/", method: "GET" }] },
    });
    try {
      await seed(flaky.host, "loc/src");
      await seed(dead.host, "loc/src");
      const out = await mkdtemp(join(dir, "reset-"));
      const file = join(out, "app.tar");
      const resumed = await regkit(
        "copy",
        "--platform",
        "linux/amd64",
        `${flaky.host}/loc/src:v1`,
        `docker-archive:${file}`,
      );
      expect(resumed.stderr).toBe("");
      expect(resumed.code).toBe(0);
      const raw = JSON.parse((await skopeoInspectRaw(`docker-archive:${file}`)).toString());
      expect(raw.layers).toHaveLength(2);
      const failed = await regkit(
        "copy",
        "--platform",
        "linux/amd64",
        `${dead.host}/loc/src:v1`,
        `docker-archive:${join(out, "dead.tar")}`,
      );
      expect(failed.code).toBe(7);
      expect(failed.stderr.trim().split("\n")).toHaveLength(1);
      expect(await files(out)).toEqual(["app.tar"]);
    } finally {
      await flaky.close();
      await dead.close();
    }
  });

  it("names the archive after the source when no name is given, and refuses a name docker load refuses", async () => {
    const file = join(dir, "named.tar");
    const copied = await regkit("copy", "--platform", "linux/amd64", `${src}:v1`, `docker-archive:${file}`);
    expect(copied.stdout).toContain(`→ docker-archive:${file}:${src}:v1 `);
    expect(copied.stdout).toMatch(
      /: 3 blobs copied \(\d+\.\d KiB\), 0 mounted, 0 already there, 1 manifest, /,
    );
    const inspected = JSON.parse((await skopeoInspectRaw(`docker-archive:${file}`)).toString());
    expect(inspected.layers).toHaveLength(2);
    const bad = await regkit(
      "copy",
      "--platform",
      "linux/amd64",
      `${src}:v1`,
      `docker-archive:${file}:Bad/Name:v1`,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^regkit: invalid image name "Bad\/Name" for a docker archive/);
  });

  it("Ctrl-C removes the half-written archive and says so truthfully", async () => {
    const slow = await startRegistryServer({
      faults: { rules: [{ kind: "trickle", bytes: 4096, delayMs: 20, route: "/blobs/", method: "GET" }] },
    });
    try {
      await seed(slow.host, "loc/src");
      const out = await mkdtemp(join(dir, "sigint-"));
      const child = spawn(process.execPath, [
        CLI,
        "copy",
        "--platform",
        "linux/amd64",
        `${slow.host}/loc/src:v1`,
        `docker-archive:${join(out, "app.tar")}`,
      ]);
      let stderr = "";
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      for (let i = 0; i < 200 && (await files(out)).length === 0; i++) await sleep(50);
      expect((await files(out))[0]).toMatch(/^app\.tar\.[0-9a-f]{12}\.tmp$/);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/interrupted; 1 temporary file removed\n/);
      expect(await files(out)).toEqual([]);
    } finally {
      await slow.close();
    }
  });
});

describe("oci-archive and tarballs", () => {
  it("writes an OCI archive skopeo reads, and push takes it or a docker save tarball as a plain file", async () => {
    const oci = join(dir, "image.oci.tar");
    expect((await regkit("copy", `${src}:v1`, `oci-archive:${oci}:v1`)).code).toBe(0);
    expect((await skopeoInspectRaw(`oci-archive:${oci}:v1`)).equals(content.index.bytes)).toBe(true);
    const pushed = await regkit("push", oci, `${server.host}/loc/from-oci-archive:v1`);
    expect(pushed.code).toBe(0);
    expect(
      (await registry.repository(server.host, "loc/from-oci-archive").manifests.fetch("v1")).descriptor
        .digest,
    ).toBe(content.index.digest);
    const docker = join(dir, "by-skopeo.tar");
    await skopeoCopy(`docker://${src}:v1`, `docker-archive:${docker}:sk/app:v1`);
    const fromDocker = await regkit("push", docker, `${server.host}/loc/from-docker-archive:v1`);
    expect(fromDocker.code).toBe(0);
    const notTar = join(dir, "notes.txt");
    await writeFile(notTar, "hello");
    const refused = await regkit("push", notTar, `${server.host}/loc/x:v1`);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/neither a docker save archive \(manifest.json\) nor an OCI archive/);
    const skopeoArchive = join(dir, "by-skopeo.oci.tar");
    await skopeoCopy(`docker://${src}:v1`, `oci-archive:${skopeoArchive}:v3`);
    const read = await regkit(
      "copy",
      `oci-archive:${skopeoArchive}:v3`,
      `oci:${join(dir, "from-skopeo-archive")}:v3`,
    );
    expect(read.code).toBe(0);
    expect(await stat(join(dir, "from-skopeo-archive", "index.json"))).toBeTruthy();
  });
});
