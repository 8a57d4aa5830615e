/**
 * Stores and helpers for the copy engine's unit tests (src/copy/*.test.ts):
 * memory stores that record what a copy asks of them and can hold a fetch on
 * a promise the test releases, or serve spoilt bytes; and the embedded
 * registry, a temporary directory and a two-platform index they copy.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type Digest, digestOf } from "../../src/core/digest.js";
import type { RegkitError } from "../../src/core/errors.js";
import type { Descriptor } from "../../src/core/manifest.js";
import { MediaType } from "../../src/core/mediaTypes.js";
import { Registry } from "../../src/registry/registry.js";
import {
  type GeneratedBlob,
  type GeneratedImage,
  type GeneratedIndex,
  generateIndex,
} from "../../src/sim/images.js";
import { startRegistryServer } from "../../src/sim/server.js";
import { MemoryStore } from "../../src/store/memoryStore.js";
import { RemoteStore } from "../../src/store/remoteStore.js";

/** The embedded registry (in this process), a client, a temporary directory and a two-platform index. */
export interface CopyFixture {
  registry: Registry;
  dir: string;
  content: GeneratedIndex;
  /** A repository of the embedded registry as a store (a new one unless named). */
  remote: (name?: string) => RemoteStore;
  close: () => Promise<void>;
}

export async function copyFixture(seed: string): Promise<CopyFixture> {
  const server = await startRegistryServer();
  const registry = new Registry({ credentials: false, retry: false });
  const dir = await mkdtemp(join(tmpdir(), "regkit-copy-unit-"));
  const content = await generateIndex({
    seed,
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 20_000,
  });
  let repositories = 0;
  return {
    registry,
    dir,
    content,
    remote: (name = `r${repositories++}`) =>
      new RemoteStore(registry.repository(server.host, `copy/${name}`)),
    close: async () => {
      await registry.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const descriptorOf = (b: GeneratedBlob): Descriptor => ({
  mediaType: b.mediaType,
  digest: b.digest,
  size: b.size,
});
export const blobsOf = (image: GeneratedImage) => [image.config, ...image.layers];
export const sizeOf = (blobs: GeneratedBlob[]) => blobs.reduce((n, b) => n + b.size, 0);
/** Event-loop turns (not time): enough for any chain of promises already under way to run out. */
export const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A promise the test resolves when it decides. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export async function putImage(store: MemoryStore, image: GeneratedImage, tag?: string): Promise<void> {
  for (const blob of blobsOf(image)) await store.pushBlob(blob, async () => Readable.from([blob.bytes]));
  await store.pushManifest(descriptorOf(image.manifest), image.manifest.bytes, tag);
}

/** A memory store holding the two-platform index under `v1`. */
export async function indexSource<T extends MemoryStore = MemoryStore>(
  content: GeneratedIndex,
  store: T = new MemoryStore() as T,
): Promise<T> {
  for (const image of content.images) await putImage(store, image);
  await store.pushManifest(descriptorOf(content.index), content.index.bytes, "v1");
  return store;
}

/** An index manifest listing these entries (platforms and annotations as given). */
export function indexOf(entries: Array<Descriptor & Record<string, unknown>>): GeneratedBlob {
  const bytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries }),
  );
  return { mediaType: MediaType.OciIndex, digest: digestOf(bytes), size: bytes.byteLength, bytes };
}

/** A memory store that records what the copy asks of it, and can hold or spoil blobs. */
export class Recorded extends MemoryStore {
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
  holdManifest: ((digest: string) => Promise<void> | undefined) | undefined;
  override async fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    this.fetchedManifests.push(descriptor.digest);
    await this.holdManifest?.(descriptor.digest);
    return super.fetchManifest(descriptor);
  }
  /** How each blob was asked for: from which byte, verified or not. */
  readonly blobRequests: Array<[string, number, boolean | undefined]> = [];
  override async fetchBlob(
    descriptor: Descriptor,
    offset = 0,
    options: { verify?: boolean } = {},
  ): Promise<Readable> {
    this.fetchedBlobs.push(descriptor.digest);
    this.blobRequests.push([descriptor.digest, offset, options.verify]);
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
export class Destination extends MemoryStore {
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

export class OneImage extends MemoryStore {
  readonly holdsOneImage = true;
}

export const has = (store: MemoryStore, digest: string) =>
  store.exists({ mediaType: "", digest: digest as Digest, size: 0 });
export const tagsOf = async (store: { tags(): AsyncIterable<string> }) => {
  const tags: string[] = [];
  for await (const tag of store.tags()) tags.push(tag);
  return tags;
};
export const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("the copy succeeded");
    },
    (error: unknown) => error as RegkitError,
  );
