/** The image commands end to end: inspect, config, tag, untag, delete, referrers, manifest put/delete, blob put/delete. */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../src/core/digest.js";
import { MediaType } from "../src/core/mediaTypes.js";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedIndex, generateIndex } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
let server: RegistryServer;
let content: GeneratedIndex;
let repo: string;

function regkit(
  args: string[],
  stdin?: Buffer | string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin ?? "");
  });
}

beforeAll(async () => {
  server = await startRegistryServer();
  repo = `${server.host}/img/app`;
  content = await generateIndex({ seed: "cli-image", platforms: ["linux/amd64", "linux/arm64/v8"] });
  const registry = new Registry({ credentials: false });
  const r = registry.repository(server.host, "img/app");
  for (const image of content.images) {
    for (const blob of [image.config, ...image.layers]) await r.uploads.upload(blob.bytes, blob);
    await r.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  }
  await r.manifests.put("v1", content.index.bytes, content.index.mediaType);
  await registry.close();
});
afterAll(() => server.close());

describe("image commands", () => {
  it("inspect shows platforms of an index and the config of an image", async () => {
    const index = JSON.parse((await regkit(["--json", "inspect", `${repo}:v1`])).stdout);
    expect(index.platforms.map((p: { platform: string }) => p.platform)).toEqual([
      "linux/amd64",
      "linux/arm64/v8",
    ]);
    const image = JSON.parse(
      (await regkit(["--json", "inspect", "--platform", "linux/arm64", `${repo}:v1`])).stdout,
    );
    expect(image).toMatchObject({
      digest: content.images[1]!.manifest.digest,
      config: { os: "linux", architecture: "arm64" },
    });
    expect(image.layers).toHaveLength(2);
    const human = await regkit(["inspect", `${repo}:v1`]);
    expect(human.stdout).toContain("platform    linux/amd64");
  });

  it("config prints the image config, and asks for a platform on an index", async () => {
    const config = JSON.parse((await regkit(["config", "--platform", "linux/amd64", `${repo}:v1`])).stdout);
    expect(config.rootfs.diff_ids).toHaveLength(2);
    const index = await regkit(["config", `${repo}:v1`]);
    expect(index.code).toBe(2);
    expect(index.stderr).toMatch(
      /is an index: choose a platform with --platform \(linux\/amd64, linux\/arm64\/v8\)/,
    );
  });

  it("tag, untag and delete", async () => {
    expect((await regkit(["tag", `${repo}:v1`, "v2", "stable"])).stdout).toBe(
      `${content.index.digest} tagged v2, stable\n`,
    );
    expect((await regkit(["ls", repo])).stdout).toBe("stable\nv1\nv2\n");
    expect((await regkit(["untag", `${repo}:v2`])).code).toBe(0);
    expect((await regkit(["ls", repo])).stdout).toBe("stable\nv1\n");
    const amd = content.images[0]!.manifest.digest;
    expect((await regkit(["delete", `${repo}@${amd}`])).stdout).toBe(`deleted ${amd}\n`);
    expect((await regkit(["manifest", "get", `${repo}@${amd}`])).code).toBe(3);
  });

  it("manifest put from stdin, referrers, manifest delete", async () => {
    const empty = Buffer.from("{}");
    const emptyDigest = (await regkit(["blob", "put", `${server.host}/img/app`], empty)).stdout.trim();
    expect(emptyDigest).toBe(digestOf(empty));
    const subject = content.images[1]!.manifest;
    const sbom = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: "application/spdx+json",
        config: { mediaType: MediaType.OciEmpty, digest: emptyDigest, size: 2 },
        layers: [{ mediaType: MediaType.OciEmpty, digest: emptyDigest, size: 2 }],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      }),
    );
    const put = await regkit(["manifest", "put", `${repo}@${digestOf(sbom)}`], sbom);
    expect(put.stdout).toBe(`${digestOf(sbom)}\n`);
    const refs = JSON.parse((await regkit(["--json", "referrers", `${repo}@${subject.digest}`])).stdout);
    expect(refs).toMatchObject({
      source: "api",
      referrers: [{ digest: digestOf(sbom), artifactType: "application/spdx+json" }],
    });
    const filtered = JSON.parse(
      (await regkit(["--json", "referrers", "--artifact-type", "x/y", `${repo}@${subject.digest}`])).stdout,
    );
    expect(filtered.referrers).toEqual([]);
    expect((await regkit(["manifest", "delete", `${repo}@${digestOf(sbom)}`])).code).toBe(0);
    const bad = await regkit(["manifest", "put", `${repo}:broken`], "not json");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("regkit: stdin is not a valid manifest: manifest is not valid JSON\n");
  });

  it("blob put streams stdin in chunks, blob delete removes it", async () => {
    const data = randomBytes(300_000);
    const put = await regkit(
      ["--json", "blob", "put", "--chunk-size", "65536", `${server.host}/img/app`],
      data,
    );
    expect(JSON.parse(put.stdout)).toEqual({ digest: digestOf(data), size: data.length });
    expect((await regkit(["blob", "head", `${repo}@${digestOf(data)}`])).stdout).toBe(
      `${digestOf(data)} ${data.length}\n`,
    );
    expect((await regkit(["blob", "delete", `${repo}@${digestOf(data)}`])).code).toBe(0);
    expect((await regkit(["blob", "head", `${repo}@${digestOf(data)}`])).code).toBe(3);
  });
});
