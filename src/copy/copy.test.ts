/**
 * The copy engine between memory, an OCI layout in a temporary directory and
 * regkit's embedded registry started in this process: what it moves, what it
 * counts and reports, and how it fails. Transfers that must wait are held on
 * promises the test releases, never on timers.
 */
import { getEventListeners } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Digest, digestOf } from "../core/digest.js";
import {
  AbortedError,
  ConfigurationError,
  DigestMismatchError,
  NetworkError,
  NotFoundError,
  type RegkitError,
  UsageError,
} from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import { parsePlatform } from "../core/platform.js";
import { Registry } from "../registry/registry.js";
import {
  type GeneratedBlob,
  type GeneratedImage,
  type GeneratedIndex,
  generateImage,
  generateIndex,
} from "../sim/images.js";
import { type RegistryServer, startRegistryServer } from "../sim/server.js";
import { MemoryStore } from "../store/memoryStore.js";
import { OciLayoutStore, REF_NAME } from "../store/ociLayoutStore.js";
import { receiveBlob } from "../store/receiveBlob.js";
import { RemoteStore } from "../store/remoteStore.js";
import { CopyError, type CopyProgress, copy } from "./copy.js";

let server: RegistryServer;
let registry: Registry;
let dir: string;
let content: GeneratedIndex;
let repoCount = 0;

beforeAll(async () => {
  server = await startRegistryServer();
  registry = new Registry({ credentials: false, retry: false });
  dir = await mkdtemp(join(tmpdir(), "regkit-copy-unit-"));
  content = await generateIndex({
    seed: "copy-unit",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 20_000,
  });
});
afterAll(async () => {
  await registry.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const remote = (name = `r${repoCount++}`) =>
  new RemoteStore(registry.repository(server.host, `copy/${name}`));
const descriptorOf = (b: GeneratedBlob): Descriptor => ({
  mediaType: b.mediaType,
  digest: b.digest,
  size: b.size,
});
const blobsOf = (image: GeneratedImage) => [image.config, ...image.layers];
const sizeOf = (blobs: GeneratedBlob[]) => blobs.reduce((n, b) => n + b.size, 0);
/** Event-loop turns (not time): enough for any chain of promises already under way to run out. */
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A promise the test resolves when it decides. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

async function putImage(store: MemoryStore, image: GeneratedImage, tag?: string): Promise<void> {
  for (const blob of blobsOf(image)) await store.pushBlob(blob, async () => Readable.from([blob.bytes]));
  await store.pushManifest(descriptorOf(image.manifest), image.manifest.bytes, tag);
}

/** A memory store holding the two-platform index under `v1`. */
async function indexSource<T extends MemoryStore = MemoryStore>(
  store: T = new MemoryStore() as T,
): Promise<T> {
  for (const image of content.images) await putImage(store, image);
  await store.pushManifest(descriptorOf(content.index), content.index.bytes, "v1");
  return store;
}

/** An index manifest listing these entries (platforms and annotations as given). */
function indexOf(entries: Array<Descriptor & Record<string, unknown>>): GeneratedBlob {
  const bytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries }),
  );
  return { mediaType: MediaType.OciIndex, digest: digestOf(bytes), size: bytes.byteLength, bytes };
}

/** A memory store that records what the copy asks of it, and can hold or spoil blobs. */
class Recorded extends MemoryStore {
  readonly fetchedBlobs: string[] = [];
  readonly fetchedManifests: string[] = [];
  readonly resolved: string[] = [];
  /** Blob fetches entered and not yet let through. */
  held = 0;
  hold: ((digest: string) => Promise<void> | undefined) | undefined;
  spoil: ((descriptor: Descriptor, offset: number) => Promise<Readable | undefined>) | undefined;

  override async resolve(reference: string): Promise<Descriptor> {
    this.resolved.push(reference);
    return super.resolve(reference);
  }
  override async fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    this.fetchedManifests.push(descriptor.digest);
    return super.fetchManifest(descriptor);
  }
  override async fetchBlob(descriptor: Descriptor, offset = 0): Promise<Readable> {
    this.fetchedBlobs.push(descriptor.digest);
    const waiting = this.hold?.(descriptor.digest);
    if (waiting) {
      this.held++;
      await waiting;
      this.held--;
    }
    return (await this.spoil?.(descriptor, offset)) ?? super.fetchBlob(descriptor, offset);
  }
}

/** A destination that records aborts and finishes, and whose finish can fail. */
class Destination extends MemoryStore {
  aborts = 0;
  finished: Array<[string, string | undefined]> = [];
  failFinish: unknown;
  failAbort = false;
  async finish(root: Descriptor, tag?: string): Promise<void> {
    this.finished.push([root.digest, tag]);
    if (this.failFinish !== undefined) throw this.failFinish;
  }
  async abort(): Promise<void> {
    this.aborts++;
    if (this.failAbort) throw new Error("abort failed too");
  }
}

class OneImage extends MemoryStore {
  readonly holdsOneImage = true;
}

const has = (store: MemoryStore, digest: string) =>
  store.exists({ mediaType: "", digest: digest as Digest, size: 0 });
const tagsOf = async (store: { tags(): AsyncIterable<string> }) => {
  const tags: string[] = [];
  for await (const tag of store.tags()) tags.push(tag);
  return tags;
};
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("the copy succeeded");
    },
    (error: unknown) => error as RegkitError,
  );

describe("copy: what moves, exactly", () => {
  it("memory → registry: exact bytes and digests, counts and progress; a second copy moves nothing", async () => {
    const source = await indexSource();
    const destination = remote();
    const events: CopyProgress[] = [];
    const blobs = content.images.flatMap(blobsOf);
    const result = await copy(source, "v1", destination, "v1", { onProgress: (e) => events.push(e) });
    expect(result).toStrictEqual({
      descriptor: descriptorOf(content.index),
      manifests: 3,
      blobs: { copied: 6, skipped: 0, mounted: 0 },
      bytes: sizeOf(blobs),
    });
    const repo = destination.repository;
    expect((await repo.manifests.fetch("v1")).bytes.equals(content.index.bytes)).toBe(true);
    for (const image of content.images) {
      expect((await repo.manifests.fetch(image.manifest.digest)).bytes.equals(image.manifest.bytes)).toBe(
        true,
      );
      for (const blob of blobsOf(image)) expect(await repo.blobs.exists(blob.digest)).toBe(true);
    }
    // Per blob: started, its bytes, done; manifests children first, the index last.
    for (const blob of blobs) {
      const mine = events.filter((e) => e.type !== "manifest" && e.digest === blob.digest);
      expect(mine[0]).toEqual({ type: "blob", digest: blob.digest, size: blob.size, state: "started" });
      expect(mine.at(-1)).toEqual({ type: "blob", digest: blob.digest, size: blob.size, state: "done" });
      const bytes = mine.slice(1, -1);
      expect(bytes.every((e) => e.type === "bytes")).toBe(true);
      expect(bytes.reduce((n, e) => n + (e.type === "bytes" ? e.bytes : 0), 0)).toBe(blob.size);
    }
    const manifests = events.filter((e) => e.type === "manifest");
    expect(manifests.map((e) => e.digest).sort()).toEqual(
      content.images
        .map((i) => i.manifest.digest)
        .concat(content.index.digest)
        .sort(),
    );
    expect(manifests.at(-1)).toEqual({
      type: "manifest",
      digest: content.index.digest,
      mediaType: MediaType.OciIndex,
    });
    expect(events).toHaveLength(6 * 2 + events.filter((e) => e.type === "bytes").length + 3);

    const again: CopyProgress[] = [];
    const second = await copy(source, "v1", destination, "v1", { onProgress: (e) => again.push(e) });
    expect(second).toStrictEqual({ ...result, blobs: { copied: 0, skipped: 6, mounted: 0 }, bytes: 0 });
    expect(again.filter((e) => e.type === "blob")).toEqual(
      expect.arrayContaining(
        blobs.map((b) => ({ type: "blob", digest: b.digest, size: b.size, state: "skipped" })),
      ),
    );
    expect(again.filter((e) => e.type !== "manifest")).toHaveLength(6);
  });

  it("within one registry blobs are mounted from the source repository, not moved", async () => {
    const first = remote();
    await copy(await indexSource(), "v1", first, "v1");
    const second = remote();
    const events: CopyProgress[] = [];
    const result = await copy(first, "v1", second, "v2", { onProgress: (e) => events.push(e) });
    expect(result).toStrictEqual({
      descriptor: descriptorOf(content.index),
      manifests: 3,
      blobs: { copied: 0, skipped: 0, mounted: 6 },
      bytes: 0,
    });
    const blobs = content.images.flatMap(blobsOf);
    expect(events.filter((e) => e.type !== "manifest")).toEqual(
      expect.arrayContaining(
        blobs.map((b) => ({ type: "blob", digest: b.digest, size: b.size, state: "mounted" })),
      ),
    );
    expect(events.filter((e) => e.type !== "manifest")).toHaveLength(6);
    for (const blob of blobs) expect(await second.repository.blobs.exists(blob.digest)).toBe(true);
    expect((await second.repository.manifests.fetch("v2")).bytes.equals(content.index.bytes)).toBe(true);
  });

  it("registry → OCI layout → memory keeps every digest; an untagged copy is listed in index.json", async () => {
    const origin = remote();
    await copy(await indexSource(), "v1", origin, "v1");
    const layout = new OciLayoutStore(join(dir, "pulled"));
    const pulled = await copy(origin, "v1", layout, "v1");
    expect(pulled.descriptor).toStrictEqual(descriptorOf(content.index));
    for (const blob of content.images.flatMap(blobsOf))
      expect(
        (await readFile(join(layout.dir, "blobs", "sha256", blob.digest.slice(7)))).equals(blob.bytes),
      ).toBe(true);
    const index = JSON.parse(await readFile(join(layout.dir, "index.json"), "utf8"));
    expect(index.manifests).toEqual([{ ...descriptorOf(content.index), annotations: { [REF_NAME]: "v1" } }]);

    // The layout's entry carries an annotation; what is copied and returned is only the descriptor.
    const memory = new MemoryStore();
    const back = await copy(layout, "v1", memory, "v1");
    expect(back.descriptor).toStrictEqual(descriptorOf(content.index));
    expect((await memory.fetchManifest(descriptorOf(content.index))).equals(content.index.bytes)).toBe(true);

    const untagged = new OciLayoutStore(join(dir, "untagged"));
    await copy(memory, "v1", untagged, undefined);
    const listed = JSON.parse(await readFile(join(untagged.dir, "index.json"), "utf8"));
    expect(listed.manifests).toEqual([descriptorOf(content.index)]);
    // A layout's only image is named by the empty reference.
    const only = await copy(untagged, "", new MemoryStore(), "x");
    expect(only.descriptor.digest).toBe(content.index.digest);
  });

  it("children are copied untagged; only the root gets the tag, and finish sees the root", async () => {
    const destination = new Destination();
    const result = await copy(await indexSource(), "v1", destination, "latest");
    expect(await tagsOf(destination)).toEqual(["latest"]);
    expect(destination.finished).toEqual([[content.index.digest, "latest"]]);
    expect(destination.aborts).toBe(0);
    for (const image of content.images) expect(await has(destination, image.manifest.digest)).toBe(true);
    expect(result.manifests).toBe(3);
  });

  it("copies one platform out of an index: that image, under the tag, nothing of the others", async () => {
    const source = await indexSource(new Recorded());
    const destination = new MemoryStore();
    const arm = content.images[1]!;
    const result = await copy(source, "v1", destination, "arm", { platform: parsePlatform("linux/arm64") });
    expect(result).toStrictEqual({
      descriptor: descriptorOf(arm.manifest),
      manifests: 1,
      blobs: { copied: 3, skipped: 0, mounted: 0 },
      bytes: sizeOf(blobsOf(arm)),
    });
    expect((await destination.resolve("arm")).digest).toBe(arm.manifest.digest);
    expect(await has(destination, content.index.digest)).toBe(false);
    for (const blob of blobsOf(content.images[0]!)) expect(await has(destination, blob.digest)).toBe(false);
    expect(source.fetchedManifests).toEqual([content.index.digest, arm.manifest.digest]);

    // Asked for every platform as well, the index comes whole.
    const all = await copy(source, "v1", new MemoryStore(), "v1", {
      platform: parsePlatform("linux/arm64"),
      allPlatforms: true,
    });
    expect(all.descriptor.digest).toBe(content.index.digest);
    expect(all.manifests).toBe(3);

    // A single image is copied whatever platform is asked.
    const single = await copy(destination, "arm", new MemoryStore(), "one", {
      platform: parsePlatform("linux/amd64"),
    });
    expect(single.descriptor.digest).toBe(arm.manifest.digest);

    const missing = await failure(
      copy(source, "v1", new MemoryStore(), "v1", { platform: parsePlatform("linux/s390x") }),
    );
    expect(missing.code).toBe("PLATFORM_NOT_FOUND");
  });

  it("the digest the destination names is checked on what is copied: the chosen platform's, or the root's alone", async () => {
    const arm = content.images[1]!;
    const platform = parsePlatform("linux/arm64");
    const byChild = await copy(await indexSource(), "v1", new MemoryStore(), undefined, {
      platform,
      digest: arm.manifest.digest,
    });
    expect(byChild.descriptor.digest).toBe(arm.manifest.digest);
    // Children of an index have other digests than the one named: only the root is compared.
    const whole = await copy(await indexSource(), "v1", new MemoryStore(), undefined, {
      digest: content.index.digest,
    });
    expect(whole.manifests).toBe(3);

    const source = await indexSource(new Recorded());
    const destination = new Destination();
    const error = await failure(
      copy(source, "v1", destination, undefined, { platform, digest: content.index.digest }),
    );
    expect(error).not.toBeInstanceOf(CopyError);
    expect(error.message).toBe(
      `the destination names ${content.index.digest} but the image copied is ${arm.manifest.digest}: nothing was copied`,
    );
    expect([error.code, error.category]).toEqual(["DIGEST_INVALID", "integrity"]);
    expect(source.fetchedBlobs).toEqual([]);
    expect(destination.aborts).toBe(1);
    expect(await has(destination, arm.manifest.digest)).toBe(false);
  });

  it("a blob shared by two platforms moves once; a manifest listed twice is copied once", async () => {
    const amd = await generateImage({
      seed: "shared",
      platform: { os: "linux", architecture: "amd64" },
      layerSize: 10_000,
    });
    const arm = await generateImage({
      seed: "shared",
      platform: { os: "linux", architecture: "arm64" },
      layerSize: 10_000,
    });
    expect(arm.layers.map((l) => l.digest)).toEqual(amd.layers.map((l) => l.digest));
    const source = new Recorded();
    await putImage(source, amd);
    await putImage(source, arm);
    const index = indexOf([
      { ...descriptorOf(amd.manifest), platform: amd.platform },
      { ...descriptorOf(arm.manifest), platform: arm.platform },
      { ...descriptorOf(arm.manifest), annotations: { again: "yes" } },
    ]);
    await source.pushManifest(descriptorOf(index), index.bytes, "multi");
    const started: string[] = [];
    const result = await copy(source, "multi", new MemoryStore(), "multi", {
      onProgress: (e) => e.type === "blob" && e.state === "started" && started.push(e.digest),
    });
    const distinct = [amd.config, arm.config, ...amd.layers];
    expect(result.blobs).toEqual({ copied: 4, skipped: 0, mounted: 0 });
    expect(result.bytes).toBe(sizeOf(distinct));
    expect(result.manifests).toBe(3);
    expect(started.sort()).toEqual(distinct.map((b) => b.digest).sort());
    expect(source.fetchedBlobs.sort()).toEqual(distinct.map((b) => b.digest).sort());
  });

  it("beforeManifests sees an index's image manifests (not nested indexes) before any is fetched", async () => {
    const [amd, arm] = content.images as [GeneratedImage, GeneratedImage];
    const source = new Recorded();
    await putImage(source, amd);
    await putImage(source, arm);
    const inner = indexOf([{ ...descriptorOf(arm.manifest), platform: arm.platform }]);
    const outer = indexOf([{ ...descriptorOf(amd.manifest), platform: amd.platform }, descriptorOf(inner)]);
    const onlyNested = indexOf([descriptorOf(inner)]);
    await source.pushManifest(descriptorOf(inner), inner.bytes);
    await source.pushManifest(descriptorOf(outer), outer.bytes, "nested");
    await source.pushManifest(descriptorOf(onlyNested), onlyNested.bytes, "only-nested");
    const planned: Array<{ digests: string[]; fetched: string[] }> = [];
    const beforeManifests = async (manifests: Descriptor[]) => {
      planned.push({ digests: manifests.map((m) => m.digest), fetched: [...source.fetchedManifests] });
    };
    const result = await copy(source, "nested", new MemoryStore(), "nested", { beforeManifests });
    expect(result.manifests).toBe(4);
    // The outer index's plan first; the nested one's once it is fetched (the amd image may be too by then).
    expect(planned.map((p) => p.digests)).toEqual([[amd.manifest.digest], [arm.manifest.digest]]);
    expect(planned[0]!.fetched).toEqual([outer.digest]);
    expect(planned[1]!.fetched).toContain(inner.digest);
    expect(planned[1]!.fetched).not.toContain(arm.manifest.digest);
    planned.length = 0;
    source.fetchedManifests.length = 0;
    await copy(source, "only-nested", new MemoryStore(), "x", { beforeManifests });
    expect(planned.map((p) => p.digests)).toEqual([[arm.manifest.digest]]);

    // Refused by the plan: no image manifest fetched, nothing written.
    const refusing = await indexSource(new Recorded());
    const destination = new MemoryStore();
    const error = await failure(
      copy(refusing, "v1", destination, "v1", {
        beforeManifests: async (manifests) => {
          expect(manifests).toEqual(JSON.parse(content.index.bytes.toString()).manifests);
          throw new NotFoundError("no pulls left");
        },
      }),
    );
    expect(error).toBeInstanceOf(CopyError);
    expect(error.message).toBe("copy failed at the source (plan 2 manifests): no pulls left");
    expect((error as CopyError).origin).toBe("source");
    expect(refusing.fetchedManifests).toEqual([content.index.digest]);
    expect(await tagsOf(destination)).toEqual([]);
  });
});

describe("copy: destinations that hold one image", () => {
  it("refuses an index before anything moves, naming the platforms there are", async () => {
    const [amd] = content.images as [GeneratedImage];
    const source = new Recorded();
    await putImage(source, amd);
    const index = indexOf([
      { ...descriptorOf(amd.manifest), platform: amd.platform },
      descriptorOf(amd.manifest),
    ]);
    await source.pushManifest(descriptorOf(index), index.bytes, "v1");
    const error = await failure(copy(source, "v1", new OneImage(), "v1"));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      `memory holds one image and the source is an index: choose a platform with --platform (linux/amd64, ${amd.manifest.digest})`,
    );
    expect(source.fetchedBlobs).toEqual([]);
    // One image, or one platform chosen, it takes.
    const one = new OneImage();
    const chosen = await copy(source, "v1", one, "v1", { platform: parsePlatform("linux/amd64") });
    expect(chosen.descriptor.digest).toBe(amd.manifest.digest);
    expect(chosen.blobs.copied).toBe(3);
  });

  it("refuses referrers before resolving anything", async () => {
    const source = new Recorded();
    const error = await failure(copy(source, "v1", new OneImage(), "v1", { referrers: true }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe("memory holds one image: it cannot take referrers (drop --referrers)");
    expect(source.resolved).toEqual([]);
  });
});

describe("copy: referrers", () => {
  let image: GeneratedImage;
  let signature: GeneratedBlob;
  let countersignature: GeneratedBlob;
  let attestations: GeneratedBlob;
  let source: RemoteStore;

  const empty = Buffer.from("{}");
  const emptyDescriptor = { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 };
  function referrer(subject: GeneratedBlob, artifactType: string): GeneratedBlob {
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType,
        config: emptyDescriptor,
        layers: [emptyDescriptor],
        subject: descriptorOf(subject),
      }),
    );
    return { mediaType: MediaType.OciManifest, digest: digestOf(bytes), size: bytes.byteLength, bytes };
  }

  beforeAll(async () => {
    image = await generateImage({ seed: "signed", layers: 1, layerSize: 5_000 });
    source = remote("signed");
    const memory = new MemoryStore();
    await putImage(memory, image, "v1");
    await copy(memory, "v1", source, "v1");
    await source.repository.uploads.upload(empty, emptyDescriptor);
    signature = referrer(image.manifest, "application/vnd.dev.cosign.artifact.sig.v1+json");
    countersignature = referrer(signature, "application/vnd.dev.cosign.artifact.sig.v1+json");
    // An index can refer to a subject too: it is copied whole, whatever platform was asked.
    const other = content.images[0]!;
    await copy(await indexSource(), "v1", source, "index");
    const indexBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        artifactType: "application/vnd.example.attestations",
        manifests: content.images.map((i) => ({ ...descriptorOf(i.manifest), platform: i.platform })),
        subject: descriptorOf(image.manifest),
      }),
    );
    attestations = {
      mediaType: MediaType.OciIndex,
      digest: digestOf(indexBytes),
      size: indexBytes.byteLength,
      bytes: indexBytes,
    };
    expect(other.manifest.digest).toBeTruthy();
    for (const m of [signature, countersignature, attestations])
      await source.repository.pushManifest(m.digest, m.bytes, m.mediaType);
  });

  it("copies what refers to the image, recursively, untagged, when asked", async () => {
    const destination = new MemoryStore();
    const result = await copy(source, "v1", destination, "v1", {
      referrers: true,
      platform: parsePlatform("linux/amd64"),
    });
    // The image, its signature, the signature's signature, the attestation index and its two images.
    expect(result.manifests).toBe(6);
    for (const m of [
      image.manifest,
      signature,
      countersignature,
      attestations,
      ...content.images.map((i) => i.manifest),
    ])
      expect(await has(destination, m.digest)).toBe(true);
    expect(await has(destination, emptyDescriptor.digest)).toBe(true);
    expect(await tagsOf(destination)).toEqual(["v1"]);
  });

  it("leaves them when not asked, and a source that cannot list them is no error", async () => {
    const destination = new MemoryStore();
    const result = await copy(source, "v1", destination, "v1");
    expect(result.manifests).toBe(1);
    expect(await has(destination, signature.digest)).toBe(false);
    const again = await copy(destination, "v1", new MemoryStore(), "v1", { referrers: true });
    expect(again.manifests).toBe(1);
  });

  it("a failed listing fails the copy at the source", async () => {
    const failing = new (class extends RemoteStore {
      override async referrers(): Promise<Descriptor[]> {
        throw new NetworkError("GET referrers: ECONNRESET", { retryable: false });
      }
    })(source.repository);
    const error = await failure(copy(failing, "v1", new MemoryStore(), "v1", { referrers: true }));
    expect(error.message).toBe(
      `copy failed at the source (referrers of ${image.manifest.digest}): GET referrers: ECONNRESET`,
    );
    expect([error.code, error.category, error.retryable]).toEqual(["NETWORK", "network", false]);
  });
});

describe("copy: the concurrency bound", () => {
  let image: GeneratedImage;
  beforeAll(async () => {
    image = await generateImage({ seed: "many", layers: 7, layerSize: 2_000 });
  });

  for (const [limit, options] of [
    [4, {}],
    [2, { concurrency: 2 }],
    [1, { concurrency: 0 }],
  ] as const) {
    it(`${"concurrency" in options ? `concurrency ${options.concurrency}` : "by default"}: ${limit} blob transfers at once`, async () => {
      const source = new Recorded();
      await putImage(source, image, "v1");
      const release = gate();
      const reached = gate();
      let most = 0;
      source.hold = () => {
        most = Math.max(most, source.held + 1);
        if (source.held + 1 === limit) reached.open();
        return release.promise;
      };
      const copying = copy(source, "v1", new MemoryStore(), "v1", options);
      await reached.promise;
      await turns();
      expect(source.held).toBe(limit);
      expect(source.fetchedBlobs).toHaveLength(limit);
      release.open();
      const result = await copying;
      expect(result.blobs.copied).toBe(8);
      expect(most).toBe(limit);
    });
  }
});

describe("copy: failures", () => {
  let image: GeneratedImage;
  beforeAll(async () => {
    image = await generateImage({ seed: "failing", layers: 3, layerSize: 30_000 });
  });
  const corrupt = (d: Descriptor, offset: number) => Readable.from([Buffer.alloc(d.size - offset, 7)]);

  it("a blob missing at the source: named there, and the registry gets no tag", async () => {
    const source = new Recorded();
    await putImage(source, image, "v1");
    const missing = image.layers[1]!;
    source.spoil = async (d) => {
      if (d.digest === missing.digest) throw new NotFoundError(`memory: no content ${d.digest}`);
      return undefined;
    };
    const destination = remote();
    const error = await failure(copy(source, "v1", destination, "v1"));
    expect(error).toBeInstanceOf(CopyError);
    expect((error as CopyError).origin).toBe("source");
    expect(error.message).toBe(
      `copy failed at the source (blob ${missing.digest}): memory: no content ${missing.digest}`,
    );
    expect([error.code, error.category, error.retryable]).toEqual(["NOT_FOUND", "not-found", false]);
    expect(await destination.repository.manifests.exists("v1")).toBe(false);
    expect(await destination.repository.blobs.exists(missing.digest)).toBe(false);
  });

  it("bytes that do not match their digest: the source is named, the registry keeps neither blob nor tag", async () => {
    const source = new Recorded();
    await putImage(source, image, "v1");
    const bad = image.layers[2]!;
    source.spoil = async (d, offset) => (d.digest === bad.digest ? corrupt(d, offset) : undefined);
    const destination = remote();
    const error = await failure(copy(source, "v1", destination, "v1"));
    expect((error as CopyError).origin).toBe("source");
    expect(error.message).toBe(
      `copy failed at the source (blob ${bad.digest}): source blob digest mismatch: expected ${bad.digest}, got ${digestOf(Buffer.alloc(bad.size, 7))}`,
    );
    expect([error.code, error.category]).toEqual(["DIGEST_INVALID", "integrity"]);
    expect(await destination.repository.manifests.exists("v1")).toBe(false);
    expect(await destination.repository.blobs.exists(bad.digest)).toBe(false);
  });

  it("a destination refusing good bytes is named, even when the source cannot be read again", async () => {
    const refusing = new (class extends MemoryStore {
      override async pushBlob(d: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
        for await (const _ of await open(0)) {
          // read it all, then refuse it
        }
        throw new DigestMismatchError(d.digest, "sha256:0", "stored");
      }
    })();
    const source = new Recorded();
    await putImage(source, image, "v1");
    const error = await failure(copy(source, "v1", refusing, "v1", { concurrency: 1 }));
    expect((error as CopyError).origin).toBe("destination");
    expect(error.message).toBe(
      `copy failed at the destination (blob ${image.config.digest}): stored digest mismatch: expected ${image.config.digest}, got sha256:0`,
    );
    // Corrupt once, then gone: the second look at the source fails otherwise than on integrity.
    let reads = 0;
    source.spoil = async (d, offset) => {
      if (d.digest !== image.config.digest) return undefined;
      if (reads++ === 0) return corrupt(d, offset);
      throw new NotFoundError("gone");
    };
    const gone = await failure(copy(source, "v1", new MemoryStore(), "v1", { concurrency: 1 }));
    expect((gone as CopyError).origin).toBe("destination");
    expect(gone.category).toBe("integrity");
  });

  it("a source breaking mid-blob is named with its own error, retryable or not", async () => {
    for (const retryable of [false, true]) {
      const source = new Recorded();
      await putImage(source, image, "v1");
      const broken = image.layers[0]!;
      source.spoil = async (d, offset) =>
        d.digest !== broken.digest
          ? undefined
          : Readable.from(
              (async function* () {
                yield broken.bytes.subarray(offset, offset + 1000);
                throw new NetworkError("GET http://source.invalid: ECONNRESET", { retryable });
              })(),
            );
      const error = await failure(copy(source, "v1", new MemoryStore(), "v1"));
      expect((error as CopyError).origin).toBe("source");
      expect(error.message).toBe(
        `copy failed at the source (blob ${broken.digest}): GET http://source.invalid: ECONNRESET`,
      );
      expect([error.code, error.category, error.retryable]).toEqual(["NETWORK", "network", retryable]);
    }
  });

  it("a source that breaks once and resumes is not blamed for a later failure of the destination", async () => {
    const broken = image.layers[0]!;
    const source = new Recorded();
    await putImage(source, image, "v1");
    let breaks = 0;
    source.spoil = async (d, offset) => {
      if (d.digest !== broken.digest || breaks++ > 0) return undefined;
      return Readable.from(
        (async function* () {
          yield broken.bytes.subarray(offset, offset + 1000);
          throw new NetworkError("GET http://source.invalid: ECONNRESET");
        })(),
      );
    };
    // A layout resumes the broken blob at the byte where it stopped.
    const layout = new OciLayoutStore(join(dir, "resumed"));
    const result = await copy(source, "v1", layout, "v1");
    expect(result.blobs.copied).toBe(4);
    expect(result.bytes).toBe(sizeOf(blobsOf(image)));
    expect(
      (await readFile(join(layout.dir, "blobs", "sha256", broken.digest.slice(7)))).equals(broken.bytes),
    ).toBe(true);

    breaks = 0;
    const full = new (class extends MemoryStore {
      override async pushBlob(d: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
        if (d.digest !== broken.digest) return super.pushBlob(d, open);
        await receiveBlob(d, open, () => undefined);
        throw new ConfigurationError("no space left on device");
      }
    })();
    const error = await failure(copy(source, "v1", full, "v1", { concurrency: 1 }));
    expect(breaks).toBe(2);
    expect((error as CopyError).origin).toBe("destination");
    expect(error.message).toBe(
      `copy failed at the destination (blob ${broken.digest}): no space left on device`,
    );
  });

  it("errors that are not regkit's keep their message, as a server failure that is not retried", async () => {
    for (const [thrown, text] of [
      [new Error("boom"), "boom"],
      ["a string", "a string"],
      [undefined, "undefined"],
    ] as const) {
      const source = new (class extends MemoryStore {
        override async resolve(): Promise<Descriptor> {
          throw thrown;
        }
      })();
      const error = await failure(copy(source, "v1", new MemoryStore(), "v1"));
      expect(error).toBeInstanceOf(CopyError);
      expect(error.message).toBe(`copy failed at the source (resolve v1): ${text}`);
      expect([error.code, error.category, error.retryable, error.cause]).toEqual([
        "COPY_FAILED",
        "server",
        false,
        thrown,
      ]);
    }
    const empty = await failure(copy(new MemoryStore(), "", new MemoryStore(), undefined));
    expect(empty.message).toBe("copy failed at the source (resolve its only image): memory: no manifest");
  });

  it("a failing finish is the destination's; abort is called, and its own failure hides nothing", async () => {
    const destination = new Destination();
    destination.failFinish = new ConfigurationError("cannot close archive.tar");
    destination.failAbort = true;
    const error = await failure(copy(await indexSource(), "v1", destination, "v1"));
    expect(error.message).toBe("copy failed at the destination (finish): cannot close archive.tar");
    expect([(error as CopyError).origin, error.code, error.category]).toEqual([
      "destination",
      "CONFIGURATION",
      "configuration",
    ]);
    expect(destination.finished).toEqual([[content.index.digest, "v1"]]);
    expect(destination.aborts).toBe(1);
    const failed = new Destination();
    const pushing = new (class extends Destination {
      override async pushManifest(): Promise<void> {
        throw new NetworkError("PUT manifest: ECONNRESET", { retryable: false });
      }
    })();
    const push = await failure(copy(await indexSource(), "v1", pushing, "v1"));
    expect(push.message).toMatch(
      /^copy failed at the destination \(manifest sha256:[0-9a-f]{64}\): PUT manifest: ECONNRESET$/,
    );
    expect(pushing.aborts).toBe(1);
    expect(failed.aborts).toBe(0);
  });

  it("after a failure nothing new starts", async () => {
    const source = new Recorded();
    await putImage(source, image, "v1");
    source.spoil = async (d) => {
      if (d.digest === image.config.digest) throw new NotFoundError("gone");
      return undefined;
    };
    const destination = new MemoryStore();
    await failure(copy(source, "v1", destination, "v1", { concurrency: 1 }));
    expect(source.fetchedBlobs).toEqual([image.config.digest]);
    for (const layer of image.layers) expect(await has(destination, layer.digest)).toBe(false);
  });

  it("a failed copy into a layout returns only after the transfers under way are done, and leaves no temporary file", async () => {
    const source = new Recorded();
    await putImage(source, image, "v1");
    const [failing, held] = image.layers as [GeneratedBlob, GeneratedBlob];
    const release = gate();
    const failed = gate();
    source.hold = (digest) => (digest === held.digest ? release.promise : undefined);
    source.spoil = async (d) => {
      if (d.digest === failing.digest) throw new NotFoundError("gone");
      return undefined;
    };
    const layout = new (class extends OciLayoutStore {
      override async pushBlob(d: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
        try {
          await super.pushBlob(d, open);
        } finally {
          if (d.digest === failing.digest) failed.open();
        }
      }
    })(join(dir, "settled"));
    let settled = false;
    const copying = failure(copy(source, "v1", layout, "v1")).finally(() => {
      settled = true;
    });
    await failed.promise;
    await turns();
    expect(settled).toBe(false);
    release.open();
    const error = await copying;
    expect(error.message).toBe(`copy failed at the source (blob ${failing.digest}): gone`);
    const files = await readdir(layout.dir, { recursive: true });
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(files).not.toContain("index.json");
    expect(
      (await readFile(join(layout.dir, "blobs", "sha256", held.digest.slice(7)))).equals(held.bytes),
    ).toBe(true);
  });

  it("a manifest whose blobs finish after the failure is not written", async () => {
    const [amd, arm] = content.images as [GeneratedImage, GeneratedImage];
    const source = await indexSource(new Recorded());
    const release = gate();
    const started = gate();
    source.hold = (digest) => {
      if (digest !== arm.layers[0]!.digest) return undefined;
      started.open();
      return release.promise;
    };
    source.spoil = async (d) => {
      if (d.digest === amd.layers[0]!.digest) {
        await started.promise;
        throw new NotFoundError("gone");
      }
      return undefined;
    };
    const destination = new MemoryStore();
    const copying = failure(copy(source, "v1", destination, "v1"));
    await started.promise;
    await turns();
    release.open();
    await copying;
    expect(await has(destination, arm.layers[0]!.digest)).toBe(true);
    expect(await has(destination, arm.manifest.digest)).toBe(false);
    expect(await has(destination, amd.manifest.digest)).toBe(false);
  });
});

describe("copy: cancellation by AbortSignal", () => {
  let image: GeneratedImage;
  beforeAll(async () => {
    image = await generateImage({ seed: "cancelled", layers: 3, layerSize: 30_000 });
  });

  it("cuts the transfer under way, starts nothing more, and rejects once it has ended: no tag, no temporary file", async () => {
    const source = new Recorded();
    await putImage(source, image, "v1");
    const cut = image.layers[0]!;
    const body = new PassThrough();
    body.write(cut.bytes.subarray(0, 1000));
    source.spoil = async (d) => (d.digest === cut.digest ? body : undefined);
    const flowing = gate();
    const controller = new AbortController();
    const layout = new OciLayoutStore(join(dir, "cancelled"));
    const copying = failure(
      copy(source, "v1", layout, "v1", {
        concurrency: 1,
        signal: controller.signal,
        onProgress: (e) => e.type === "bytes" && e.digest === cut.digest && flowing.open(),
      }),
    );
    await flowing.promise;
    const reason = new Error("stopped by the user");
    controller.abort(reason);
    const error = await copying;
    expect(error).toBeInstanceOf(AbortedError);
    expect([error.message, error.code, error.cause]).toEqual(["copy aborted", "ABORTED", reason]);
    expect(body.destroyed).toBe(true);
    expect(source.fetchedBlobs).toEqual([image.config.digest, cut.digest]);
    const files = await readdir(layout.dir, { recursive: true });
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(files).not.toContain("index.json");
    expect(files).not.toContain(join("blobs", "sha256", cut.digest.slice(7)));
    expect(getEventListeners(controller.signal, "abort")).toEqual([]);
  });

  it("a blob still opening when the copy is cancelled is cut as it opens", async () => {
    const source = new Recorded();
    await putImage(source, image, "v1");
    const release = gate();
    const opening = gate();
    source.hold = (digest) => {
      if (digest !== image.config.digest) return undefined;
      opening.open();
      return release.promise;
    };
    const controller = new AbortController();
    const destination = new Destination();
    const copying = failure(
      copy(source, "v1", destination, "v1", { concurrency: 1, signal: controller.signal }),
    );
    await opening.promise;
    controller.abort();
    release.open();
    const error = await copying;
    expect(error).toBeInstanceOf(AbortedError);
    expect(await has(destination, image.config.digest)).toBe(false);
    expect(source.fetchedBlobs).toEqual([image.config.digest]);
    expect(destination.aborts).toBe(1);
  });

  it("an aborted signal reads nothing; a copy that ended no longer listens", async () => {
    const source = new Recorded();
    await putImage(source, image, "v1");
    const controller = new AbortController();
    controller.abort();
    const destination = new Destination();
    const error = await failure(copy(source, "v1", destination, "v1", { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.cause).toBe(controller.signal.reason);
    expect([source.resolved, source.fetchedManifests, source.fetchedBlobs]).toEqual([[], [], []]);
    expect(destination.aborts).toBe(1);

    const shared = new AbortController();
    await copy(source, "v1", new MemoryStore(), "v1", { signal: shared.signal });
    await failure(copy(new MemoryStore(), "v1", new MemoryStore(), "v1", { signal: shared.signal }));
    expect(getEventListeners(shared.signal, "abort")).toEqual([]);
  });
});
