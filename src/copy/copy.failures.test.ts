/**
 * How the copy engine fails and is cancelled: the side named, what the
 * destination keeps (no tag), transfers under way awaited, nothing new
 * started. Transfers that must wait are held on promises the test
 * releases, never on timers.
 */
import { getEventListeners } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
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
  putImage,
  Recorded,
  sizeOf,
  turns,
} from "../../test/support/copyStores.js";
import { digestOf } from "../core/digest.js";
import {
  AbortedError,
  ConfigurationError,
  DigestMismatchError,
  NetworkError,
  NotFoundError,
} from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";
import type { Registry } from "../registry/registry.js";
import {
  type GeneratedBlob,
  type GeneratedImage,
  type GeneratedIndex,
  generateImage,
} from "../sim/images.js";
import { startRegistryServer } from "../sim/server.js";
import { MemoryStore } from "../store/memoryStore.js";
import { OciLayoutStore } from "../store/ociLayoutStore.js";
import { receiveBlob } from "../store/receiveBlob.js";
import { RemoteStore } from "../store/remoteStore.js";
import { CopyError, copy } from "./copy.js";

let registry: Registry;
let dir: string;
let content: GeneratedIndex;
let remote: (name?: string) => RemoteStore;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ registry, dir, content, remote, close } = await copyFixture("copy-failures"));
});
afterAll(() => close());

describe("copy: failures", () => {
  let image: GeneratedImage;
  beforeAll(async () => {
    // Layers larger than a stream's buffers: a blob is read to its end only by a reader that drains it.
    image = await generateImage({ seed: "failing", layers: 3, layerSize: 100_000 });
  });
  // In 1 KB chunks: the source is hashed again only if every chunk is read.
  const corrupt = (d: Descriptor, offset: number) => {
    const bytes = Buffer.alloc(d.size - offset, 7);
    return Readable.from(
      Array.from({ length: Math.ceil(bytes.length / 1024) }, (_, i) =>
        bytes.subarray(i * 1024, (i + 1) * 1024),
      ),
    );
  };

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
    // Sent once, then hashed again at the source only because the destination refused it.
    expect(source.blobRequests.filter(([digest]) => digest === bad.digest)).toEqual([
      [bad.digest, 0, false],
      [bad.digest, 0, false],
    ]);
  });

  it("a destination failing on its own is named even when the bytes it got were bad", async () => {
    const source = new Recorded();
    await putImage(source, image, "v1");
    source.spoil = async (d, offset) => (d.digest === image.config.digest ? corrupt(d, offset) : undefined);
    const unreachable = new (class extends MemoryStore {
      override async pushBlob(_d: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
        (await open(0)).resume();
        throw new NetworkError("PUT http://destination.invalid: ECONNRESET", { retryable: false });
      }
    })();
    const error = await failure(copy(source, "v1", unreachable, "v1", { concurrency: 1 }));
    expect((error as CopyError).origin).toBe("destination");
    expect(error.message).toBe(
      `copy failed at the destination (blob ${image.config.digest}): PUT http://destination.invalid: ECONNRESET`,
    );
    // Only an integrity failure makes the engine look at the source again.
    expect(source.blobRequests).toEqual([[image.config.digest, 0, false]]);
  });

  it("a manifest missing at the source is named there", async () => {
    const source = new MemoryStore();
    const [amd] = content.images as [GeneratedImage];
    const index = indexOf([{ ...descriptorOf(amd.manifest), platform: amd.platform }]);
    await source.pushManifest(descriptorOf(index), index.bytes, "v1");
    const error = await failure(copy(source, "v1", new MemoryStore(), "v1"));
    expect((error as CopyError).origin).toBe("source");
    expect(error.message).toBe(
      `copy failed at the source (manifest ${amd.manifest.digest}): memory: no content ${amd.manifest.digest}`,
    );
  });

  it("a destination that cannot say what it has is named", async () => {
    const blind = new (class extends MemoryStore {
      override async exists(): Promise<boolean> {
        throw new NetworkError("HEAD http://destination.invalid: ECONNREFUSED", { retryable: false });
      }
    })();
    const source = new Recorded();
    await putImage(source, image, "v1");
    const error = await failure(copy(source, "v1", blind, "v1", { concurrency: 1 }));
    expect(error.message).toBe(
      `copy failed at the destination (blob ${image.config.digest}): HEAD http://destination.invalid: ECONNREFUSED`,
    );
    expect(source.fetchedBlobs).toEqual([]);
  });

  it("after a failure no manifest is fetched any more: a nested index fetched meanwhile goes no deeper", async () => {
    const [amd, arm] = content.images as [GeneratedImage, GeneratedImage];
    const source = new Recorded();
    await putImage(source, amd);
    await putImage(source, arm);
    const nested = indexOf([{ ...descriptorOf(arm.manifest), platform: arm.platform }]);
    const root = indexOf([{ ...descriptorOf(amd.manifest), platform: amd.platform }, descriptorOf(nested)]);
    await source.pushManifest(descriptorOf(nested), nested.bytes);
    await source.pushManifest(descriptorOf(root), root.bytes, "v1");
    const release = gate();
    const fetching = gate();
    source.holdManifest = (digest) => {
      if (digest !== nested.digest) return undefined;
      fetching.open();
      return release.promise;
    };
    source.spoil = async (d) => {
      if (d.digest !== amd.config.digest) return undefined;
      await fetching.promise;
      throw new NotFoundError("gone");
    };
    let settled = false;
    const copying = failure(copy(source, "v1", new MemoryStore(), "v1")).finally(() => {
      settled = true;
    });
    await fetching.promise;
    await turns();
    // The nested index's fetch is still under way: the copy waits for it.
    expect(settled).toBe(false);
    release.open();
    expect((await copying).message).toBe(`copy failed at the source (blob ${amd.config.digest}): gone`);
    expect(source.fetchedManifests).not.toContain(arm.manifest.digest);
  });

  it("a mount the registry fails is the destination's failure", async () => {
    const faulty = await startRegistryServer({
      faults: {
        rules: [{ kind: "status", status: 500, route: "/copy/mount-to/blobs/uploads/", method: "POST" }],
      },
    });
    try {
      const from = new RemoteStore(registry.repository(faulty.host, "copy/mount-from"));
      await copy(await indexSource(content), "v1", from, "v1");
      const to = new RemoteStore(registry.repository(faulty.host, "copy/mount-to"));
      const error = await failure(copy(from, "v1", to, "v1", { concurrency: 1 }));
      expect((error as CopyError).origin).toBe("destination");
      expect(error.message).toMatch(/^copy failed at the destination \(mount sha256:[0-9a-f]{64}\): /);
      expect(await to.repository.manifests.exists("v1")).toBe(false);
    } finally {
      await faulty.close();
    }
  });

  it("a CopyError from a nested copy (in a hook or a store) is passed on, not wrapped again", async () => {
    const nested = new CopyError("destination", "blob sha256:0", new NotFoundError("elsewhere"));
    const planned = await failure(
      copy(await indexSource(content), "v1", new MemoryStore(), "v1", {
        beforeManifests: async () => {
          throw nested;
        },
      }),
    );
    expect(planned).toBe(nested);
    const mirroring = new (class extends MemoryStore {
      override async pushBlob(): Promise<void> {
        throw nested;
      }
    })();
    expect(await failure(copy(await indexSource(content), "v1", mirroring, "v1"))).toBe(nested);
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
      // A Node error's own code (ENOSPC, ECONNRESET) is not a regkit code.
      [Object.assign(new Error("boom"), { code: "ENOSPC", category: "integrity", retryable: true }), "boom"],
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
    const error = await failure(copy(await indexSource(content), "v1", destination, "v1"));
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
    const push = await failure(copy(await indexSource(content), "v1", pushing, "v1"));
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
    const source = await indexSource(content, new Recorded());
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
