import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import type { Descriptor } from "../core/manifest.js";
import { generateImage } from "../sim/images.js";
import { type RegistryServer, startRegistryServer } from "../sim/server.js";
import type { HttpRequest, Middleware } from "../transport/types.js";
import { ManifestCache } from "./manifestCache.js";
import { Registry } from "./registry.js";

const manifest = (text: string): [Descriptor, Buffer] => {
  const bytes = Buffer.from(text);
  return [
    { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: digestOf(bytes), size: bytes.length },
    bytes,
  ];
};

describe("ManifestCache", () => {
  it("answers by repository and digest, with a copy the caller may change", () => {
    const cache = new ManifestCache();
    const [descriptor, bytes] = manifest('{"a":1}');
    cache.set("x/y", descriptor, bytes);
    expect(cache.get("x/other", descriptor.digest)).toBeUndefined();
    const hit = cache.get("x/y", descriptor.digest)!;
    expect(hit).toEqual({ descriptor, bytes });
    hit.bytes.fill(0);
    expect(cache.get("x/y", descriptor.digest)?.bytes).toEqual(bytes);
  });

  it("re-verifies on read: bytes that no longer match their digest are dropped", () => {
    const cache = new ManifestCache();
    const [descriptor, bytes] = manifest('{"b":2}');
    const [, other] = manifest('{"b":3}');
    cache.set("x/y", descriptor, other); // as if the kept copy had been corrupted
    expect(cache.get("x/y", descriptor.digest)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set("x/y", descriptor, bytes);
    expect(cache.get("x/y", descriptor.digest)?.bytes).toEqual(bytes);
  });

  it("evicts the least recently used beyond its entry and byte bounds", () => {
    const cache = new ManifestCache({ maxEntries: 2, maxBytes: 1000 });
    const [a, aBytes] = manifest('{"n":"a"}');
    const [b, bBytes] = manifest('{"n":"b"}');
    const [c, cBytes] = manifest('{"n":"c"}');
    cache.set("r", a, aBytes);
    cache.set("r", b, bBytes);
    cache.get("r", a.digest); // a is now the most recently used
    cache.set("r", c, cBytes);
    expect(cache.get("r", b.digest)).toBeUndefined();
    expect(cache.get("r", a.digest)).toBeDefined();
    expect(cache.get("r", c.digest)).toBeDefined();
    const [big, bigBytes] = manifest(`{"pad":"${"x".repeat(1100)}"}`);
    cache.set("r", big, bigBytes); // more than maxBytes on its own: not kept, nothing evicted
    expect(cache.size).toBe(2);
    const bounded = new ManifestCache({ maxBytes: 30 });
    bounded.set("r", a, aBytes);
    bounded.set("r", b, bBytes);
    bounded.set("r", c, cBytes);
    expect(bounded.size).toBe(3);
    const [d, dBytes] = manifest('{"n":"dddd"}');
    bounded.set("r", d, dBytes); // 9 + 9 + 9 + 12 bytes > 30: the oldest goes
    expect(bounded.get("r", a.digest)).toBeUndefined();
    expect(bounded.size).toBe(3);
  });
});

describe("Registry manifest cache", () => {
  let server: RegistryServer;
  const requests: HttpRequest[] = [];
  const counting: Middleware = {
    name: "count",
    wrap: (next) => (request) => {
      requests.push(request);
      return next(request);
    },
  };
  beforeAll(async () => {
    server = await startRegistryServer({ port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("fetches a digest once; tags always ask; a delete forgets; `false` turns it off", async () => {
    const image = await generateImage({ seed: "manifest-cache", layers: 1 });
    const registry = new Registry({ middlewares: [counting] });
    const uncached = new Registry({ middlewares: [counting], manifestCache: false });
    try {
      const repo = registry.repository(server.host, "cache/me");
      for (const blob of [image.config, ...image.layers])
        await repo.uploads.upload(blob.bytes, { digest: blob.digest, size: blob.size });
      await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
      const manifestGets = () =>
        requests.filter((r) => r.method === "GET" && r.url.pathname.includes("/manifests/")).length;

      const byTag = await repo.manifests.fetch("v1");
      expect(byTag.bytes).toEqual(image.manifest.bytes);
      const before = manifestGets();
      const first = await repo.manifests.fetch(image.manifest.digest);
      const second = await repo.manifests.get(image.manifest.digest);
      expect(first.bytes).toEqual(image.manifest.bytes);
      expect(second.digest).toBe(image.manifest.digest);
      expect(manifestGets()).toBe(before); // the tag's GET already verified these bytes
      await repo.manifests.fetch("v1");
      expect(manifestGets()).toBe(before + 1); // a tag may move: always asked

      // Another repository of the same registry does not get the answer.
      const other = registry.repository(server.host, "cache/other");
      await expect(other.manifests.fetch(image.manifest.digest)).rejects.toMatchObject({
        category: "not-found",
      });

      const plain = uncached.repository(server.host, "cache/me");
      await plain.manifests.fetch(image.manifest.digest);
      await plain.manifests.fetch(image.manifest.digest);
      expect(manifestGets()).toBe(before + 4);

      await repo.manifests.delete(image.manifest.digest);
      await expect(repo.manifests.fetch(image.manifest.digest)).rejects.toMatchObject({
        category: "not-found",
      });
    } finally {
      await registry.close();
      await uncached.close();
    }
  });

  it("reuses a tag's answer for tagTtlMs; a put or delete through the client forgets it", async () => {
    let now = 1_000_000;
    const registry = new Registry({
      middlewares: [counting],
      manifestCache: { tagTtlMs: 5000, now: () => now },
    });
    try {
      const repo = registry.repository(server.host, "cache/tags");
      const [one, two] = [
        await generateImage({ seed: "tag-ttl-1", layers: 1 }),
        await generateImage({ seed: "tag-ttl-2", layers: 1 }),
      ];
      for (const image of [one, two]) {
        for (const blob of [image.config, ...image.layers])
          await repo.uploads.upload(blob.bytes, { digest: blob.digest, size: blob.size });
        await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
      }
      await repo.manifests.put("v1", one.manifest.bytes, one.manifest.mediaType);
      const asked = () =>
        requests.filter((r) => r.url.pathname === "/v2/cache/tags/manifests/v1" && r.method !== "PUT").length;

      const start = asked();
      expect((await repo.manifests.head("v1")).digest).toBe(one.manifest.digest);
      expect((await repo.manifests.head("v1")).digest).toBe(one.manifest.digest);
      expect((await repo.manifests.fetch("v1")).bytes).toEqual(one.manifest.bytes);
      expect(asked()).toBe(start + 2); // the HEAD, then the GET for bytes the client did not have
      await repo.manifests.fetch("v1");
      expect(asked()).toBe(start + 2);
      // Another Accept may get another answer from a registry: asked on its own.
      await repo.manifests.head("v1", { accept: [one.manifest.mediaType] });
      expect(asked()).toBe(start + 3);

      now += 5000; // expired
      await repo.manifests.head("v1");
      expect(asked()).toBe(start + 4);

      // Moving the tag through this client: the next question goes to the registry.
      await repo.manifests.put("v1", two.manifest.bytes, two.manifest.mediaType);
      expect((await repo.manifests.head("v1")).digest).toBe(two.manifest.digest);
      expect(asked()).toBe(start + 5);
      // Deleting the manifest a tag points at forgets the tag (the registry drops it too).
      await repo.manifests.delete(two.manifest.digest);
      await expect(repo.manifests.head("v1")).rejects.toMatchObject({ category: "not-found" });
      expect(asked()).toBe(start + 6);
    } finally {
      await registry.close();
    }
  });
});
