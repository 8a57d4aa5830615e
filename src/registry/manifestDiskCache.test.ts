import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Digest, digestOf } from "../core/digest.js";
import type { Descriptor } from "../core/manifest.js";
import { DiskManifestCache, type ManifestCacheDirectoryError } from "./manifestDiskCache.js";

const manifest = (text: string): [Descriptor, Buffer] => {
  const bytes = Buffer.from(text);
  return [
    { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: digestOf(bytes), size: bytes.length },
    bytes,
  ];
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-disk-cache-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const entries = async () => (await readdir(join(dir, "manifests"))).filter((n) => !n.startsWith("."));

describe("DiskManifestCache", () => {
  it("answers across instances by host, repository and digest, and nowhere else", async () => {
    const [descriptor, bytes] = manifest('{"a":1}');
    await new DiskManifestCache({ dir }).set("r.example:5000", "x/y", descriptor, bytes);
    const other = new DiskManifestCache({ dir }); // another process, as far as the cache knows
    const digest = descriptor.digest as Digest;
    expect(await other.get("r.example:5000", "x/y", digest)).toEqual({ descriptor, bytes });
    expect(await other.get("r.example:5000", "x/other", digest)).toBeUndefined();
    expect(await other.get("r.example:5001", "x/y", digest)).toBeUndefined();
    await other.delete("r.example:5000", "x/y", digest);
    expect(await other.get("r.example:5000", "x/y", digest)).toBeUndefined();
    // Written through a temporary file renamed into place: none is left behind.
    expect((await readdir(join(dir, "manifests"))).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
  });

  it("re-hashes every read: a changed entry is removed, not served", async () => {
    const [descriptor, bytes] = manifest('{"b":2}');
    const cache = new DiskManifestCache({ dir });
    await cache.set("h", "r", descriptor, bytes);
    const [name] = await entries();
    const path = join(dir, "manifests", name!);
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replace('{"b":2}', '{"b":3}'));
    expect(await cache.get("h", "r", descriptor.digest as Digest)).toBeUndefined();
    expect(await entries()).toEqual([]);
    // A header that is not ours (truncated, or another tool's file) is a miss too.
    await cache.set("h", "r", descriptor, bytes);
    await writeFile(path, "garbage");
    expect(await cache.get("h", "r", descriptor.digest as Digest)).toBeUndefined();
    expect(await entries()).toEqual([]);
  });

  it("evicts the least recently used beyond its byte bound", async () => {
    const writer = new DiskManifestCache({ dir });
    const cache = new DiskManifestCache({ dir, maxBytes: 400 });
    const made = ["a", "b", "c", "d"].map((n) => manifest(`{"n":"${n.repeat(40)}"}`));
    const old = new Date(Date.now() - 60_000);
    for (const [i, [descriptor, bytes]] of made.entries()) {
      await writer.set("h", "r", descriptor, bytes);
      // Each entry older than the next; reading "a" below makes it the most recently used.
      const [name] = (await entries()).filter((n) => n.includes(descriptor.digest.slice(7, 20)));
      const when = new Date(old.getTime() + i * 1000);
      await utimes(join(dir, "manifests", name!), when, when);
    }
    expect(await cache.get("h", "r", made[0]![0].digest as Digest)).toBeDefined();
    await cache.prune();
    const left = await entries();
    const kept = made.filter(([d]) => left.some((n) => n.includes(d.digest.slice(7, 20))));
    // Each entry is ~150 bytes with its header: two fit in 400; "a" (just read) and "d" (newest) stay.
    expect(kept.map(([, bytes]) => bytes.toString())).toEqual([
      made[0]![1].toString(),
      made[3]![1].toString(),
    ]);
  });

  it("an unusable directory is reported once and turns the cache off", async () => {
    const file = join(dir, "file");
    await writeFile(file, "x");
    const errors: ManifestCacheDirectoryError[] = [];
    const cache = new DiskManifestCache({ dir: file, onError: (error) => errors.push(error) });
    const [descriptor, bytes] = manifest('{"c":3}');
    expect(await cache.get("h", "r", descriptor.digest as Digest)).toBeUndefined(); // a miss, no error
    await cache.set("h", "r", descriptor, bytes);
    await cache.set("h", "r", descriptor, bytes);
    expect(cache.enabled).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "CACHE_DIR", category: "configuration" });
    expect(errors[0]!.message).toContain("ENOTDIR");
  });
});
