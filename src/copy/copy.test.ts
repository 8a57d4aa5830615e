/**
 * The copy engine between memory, an OCI layout in a temporary directory and
 * regkit's embedded registry started in this process: what it moves, counts
 * and reports. Failures and cancellation: copy.failures.test.ts.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  blobsOf,
  copyFixture,
  Destination,
  descriptorOf,
  failure,
  gate,
  has,
  indexOf,
  indexSource,
  OneImage,
  putImage,
  Recorded,
  sizeOf,
  tagsOf,
  turns,
} from "../../test/support/copyStores.js";
import { digestOf } from "../core/digest.js";
import { NetworkError, NotFoundError, UsageError } from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import { parsePlatform } from "../core/platform.js";
import {
  type GeneratedBlob,
  type GeneratedImage,
  type GeneratedIndex,
  generateImage,
} from "../sim/images.js";
import { MemoryStore } from "../store/memoryStore.js";
import { OciLayoutStore, REF_NAME } from "../store/ociLayoutStore.js";
import { RemoteStore } from "../store/remoteStore.js";
import { CopyError, type CopyProgress, copy } from "./copy.js";

let dir: string;
let content: GeneratedIndex;
let remote: (name?: string) => RemoteStore;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ dir, content, remote, close } = await copyFixture("copy-unit"));
});
afterAll(() => close());

describe("copy: what moves, exactly", () => {
  it("memory → registry: exact bytes and digests, counts and progress; a second copy moves nothing", async () => {
    const source = await indexSource(content, new Recorded());
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
    // The destination verifies what it receives: the source is asked for unverified bytes, from 0.
    expect(source.blobRequests.sort()).toEqual(blobs.map((b) => [b.digest, 0, false]).sort());

    const again: CopyProgress[] = [];
    const second = await copy(source, "v1", destination, "v1", { onProgress: (e) => again.push(e) });
    expect(second).toStrictEqual({ ...result, blobs: { copied: 0, skipped: 6, mounted: 0 }, bytes: 0 });
    expect(again.filter((e) => e.type === "blob")).toEqual(
      expect.arrayContaining(
        blobs.map((b) => ({ type: "blob", digest: b.digest, size: b.size, state: "skipped" })),
      ),
    );
    expect(again.filter((e) => e.type !== "manifest")).toHaveLength(6);
    expect((await copy(source, "v1", destination, "v1")).blobs.skipped).toBe(6);
  });

  it("within one registry blobs are mounted from the source repository, not moved", async () => {
    const first = remote();
    await copy(await indexSource(content), "v1", first, "v1");
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
    expect((await copy(first, "v1", remote(), "v1")).blobs.mounted).toBe(6);
  });

  it("registry → OCI layout → memory keeps every digest; an untagged copy is listed in index.json", async () => {
    const origin = remote();
    await copy(await indexSource(content), "v1", origin, "v1");
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
    const result = await copy(await indexSource(content), "v1", destination, "latest");
    expect(await tagsOf(destination)).toEqual(["latest"]);
    expect(destination.finished).toEqual([[content.index.digest, "latest"]]);
    expect(destination.aborts).toBe(0);
    for (const image of content.images) expect(await has(destination, image.manifest.digest)).toBe(true);
    expect(result.manifests).toBe(3);
  });

  it("copies one platform out of an index: that image, under the tag, nothing of the others", async () => {
    const source = await indexSource(content, new Recorded());
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
    const byChild = await copy(await indexSource(content), "v1", new MemoryStore(), undefined, {
      platform,
      digest: arm.manifest.digest,
    });
    expect(byChild.descriptor.digest).toBe(arm.manifest.digest);
    // Children of an index have other digests than the one named: only the root is compared.
    const whole = await copy(await indexSource(content), "v1", new MemoryStore(), undefined, {
      digest: content.index.digest,
    });
    expect(whole.manifests).toBe(3);

    const source = await indexSource(content, new Recorded());
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
      seed: "common-layers",
      platform: { os: "linux", architecture: "amd64" },
      layerSize: 10_000,
    });
    const arm = await generateImage({
      seed: "common-layers",
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
    const refusing = await indexSource(content, new Recorded());
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
    await copy(await indexSource(content), "v1", source, "index");
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
