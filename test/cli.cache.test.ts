/**
 * The manifest cache on disk, as users meet it: separate `regkit` processes
 * sharing a cache directory, against CNCF distribution, whose access log
 * counts the manifest requests each command made.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestHex } from "../src/core/digest.js";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedIndex, generateIndex } from "../src/sim/images.js";
import { type Distribution, startDistribution } from "./support/distribution.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
let registry: Distribution;
let content: GeneratedIndex;
let work: string;
let cacheDir: string;
let source: string;

function regkit(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Manifest requests (GET or HEAD) on the source repository that `run` caused, from the access log. */
async function manifestRequests(run: () => Promise<unknown>): Promise<{ get: number; head: number }> {
  const before = registry.accessLog().length;
  await run();
  await new Promise((resolve) => setTimeout(resolve, 300)); // access-log lines trail the responses
  const lines = registry.accessLog().slice(before);
  const count = (method: string) =>
    lines.filter((line) => line.includes(`"${method} /v2/cache/src/manifests/`)).length;
  return { get: count("GET"), head: count("HEAD") };
}

beforeAll(async () => {
  registry = await startDistribution({ accessLog: true });
  work = await mkdtemp(join(tmpdir(), "regkit-cli-cache-"));
  cacheDir = join(work, "cache");
  content = await generateIndex({ seed: "cli-cache", platforms: ["linux/amd64", "linux/arm64/v8"] });
  const client = new Registry({ credentials: false });
  const repo = client.repository(registry.host, "cache/src");
  for (const image of content.images) {
    for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
    await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  }
  await repo.manifests.put("v1", content.index.bytes, content.index.mediaType);
  await client.close();
  source = `${registry.host}/cache/src@${content.index.digest}`;
});
afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("manifest cache on disk (--cache-dir)", () => {
  it("a second command reads the same digests from the cache: no manifest request", async () => {
    const cache = ["--cache-dir", cacheDir];
    const first = await manifestRequests(async () => {
      const copied = await regkit([...cache, "--json", "copy", source, `${registry.host}/cache/dst1:v1`]);
      expect(copied.code).toBe(0);
      expect(JSON.parse(copied.stdout).descriptor.digest).toBe(content.index.digest);
    });
    expect(first.get).toBe(3); // the index and both platforms' manifests

    // Entries are private to the user, the directory too.
    const entries = (await readdir(join(cacheDir, "manifests"))).filter((n) => !n.startsWith("."));
    expect(entries).toHaveLength(3);
    expect((await stat(join(cacheDir, "manifests"))).mode & 0o777).toBe(0o700);
    for (const name of entries)
      expect((await stat(join(cacheDir, "manifests", name))).mode & 0o777).toBe(0o600);

    const again = await manifestRequests(async () => {
      const copied = await regkit([...cache, "--json", "copy", source, `${registry.host}/cache/dst2:v1`]);
      expect(copied.code).toBe(0);
      expect(JSON.parse(copied.stdout)).toMatchObject({ descriptor: { digest: content.index.digest } });
      const pulled = await regkit([...cache, "pull", source, join(work, "layout")]);
      expect(pulled.code).toBe(0);
      const index = JSON.parse(await readFile(join(work, "layout", "index.json"), "utf8"));
      expect(index.manifests[0].digest).toBe(content.index.digest);
      const inspected = await regkit([...cache, "--json", "inspect", "--platform", "linux/arm64", source]);
      expect(JSON.parse(inspected.stdout)).toMatchObject({
        digest: content.images[1]!.manifest.digest,
        config: { architecture: "arm64" },
      });
      const digest = await regkit([...cache, "digest", source]);
      expect(digest.stdout.trim()).toBe(content.index.digest);
    });
    expect(again).toEqual({ get: 0, head: 0 });
    // The destination registry got the manifests all the same.
    const check = new Registry({ credentials: false, manifestCache: false });
    const pushed = await check.repository(registry.host, "cache/dst2").manifests.head("v1");
    await check.close();
    expect(pushed.digest).toBe(content.index.digest);

    // --no-cache and an empty REGKIT_CACHE_DIR ask the registry again.
    const off = await manifestRequests(async () => {
      expect((await regkit([...cache, "--no-cache", "--json", "inspect", source])).code).toBe(0);
      expect((await regkit(["--json", "inspect", source], { REGKIT_CACHE_DIR: "" })).code).toBe(0);
    });
    expect(off.get).toBe(2);
    // REGKIT_CACHE_DIR names the directory when --cache-dir does not.
    const fromEnv = await manifestRequests(async () => {
      expect((await regkit(["--json", "inspect", source], { REGKIT_CACHE_DIR: cacheDir })).code).toBe(0);
    });
    expect(fromEnv.get).toBe(0);
  });

  it("a corrupted entry is detected, removed and fetched again, never served", async () => {
    const dir = join(work, "corrupt");
    const cache = ["--cache-dir", dir];
    expect((await regkit([...cache, "inspect", source])).code).toBe(0);
    const name = (await readdir(join(dir, "manifests"))).find((n) =>
      n.startsWith(`sha256-${digestHex(content.index.digest)}-`),
    )!;
    const path = join(dir, "manifests", name);
    const original = await readFile(path);
    // Same length, one byte of the manifest changed (the header line stays valid).
    const corrupted = Buffer.from(original);
    corrupted.writeUInt8(corrupted.readUInt8(corrupted.length - 2) ^ 0x01, corrupted.length - 2);
    await writeFile(path, corrupted);

    const counted = await manifestRequests(async () => {
      const inspected = await regkit([...cache, "--json", "inspect", source]);
      expect(inspected.code).toBe(0);
      expect(JSON.parse(inspected.stdout)).toMatchObject({ digest: content.index.digest });
    });
    expect(counted.get).toBe(1);
    expect(await readFile(path)).toEqual(original); // fetched, verified and written again
  });

  it("an unusable cache directory is one warning; the command still works", async () => {
    const file = join(work, "not-a-directory");
    await writeFile(file, "x");
    const copied = await regkit(["--cache-dir", file, "copy", source, `${registry.host}/cache/dst3:v1`]);
    expect(copied.code).toBe(0);
    const warnings = copied.stderr.split("\n").filter((line) => line.includes("manifest cache"));
    expect(warnings).toEqual([
      `regkit: warning: manifest cache ${file} is unusable (ENOTDIR); continuing without it`,
    ]);
  });
});
