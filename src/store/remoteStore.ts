import type { Readable } from "node:stream";
import type { Descriptor } from "../core/manifest.js";
import { isManifestMediaType } from "../core/mediaTypes.js";
import type { Repository } from "../registry/repository.js";
import { pendingReadable } from "./pendingReadable.js";
import type { Mounter, ReferrerLister, Store } from "./store.js";

/** A repository of a registry, as a store. */
export class RemoteStore implements Store, Mounter, ReferrerLister {
  readonly repository: Repository;
  readonly name: string;

  constructor(repository: Repository) {
    this.repository = repository;
    this.name = `${repository.registry}/${repository.name}`;
  }

  /** Manifests fetched while resolving, kept for the fetch that follows (one GET instead of HEAD + GET). */
  readonly #resolved = new Map<string, Buffer>();

  async resolve(reference: string): Promise<Descriptor> {
    const { descriptor, bytes } = await this.repository.manifests.fetch(reference);
    this.#resolved.set(descriptor.digest, bytes);
    return descriptor;
  }

  async fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    const kept = this.#resolved.get(descriptor.digest);
    if (kept) {
      this.#resolved.delete(descriptor.digest);
      return kept;
    }
    return (await this.repository.manifests.fetch(descriptor.digest)).bytes;
  }

  async pushManifest(descriptor: Descriptor, bytes: Buffer, tag?: string): Promise<void> {
    // pushManifest keeps the referrers fallback index current for manifests with a subject.
    await this.repository.pushManifest(tag ?? descriptor.digest, bytes, descriptor.mediaType);
  }

  async fetchBlob(descriptor: Descriptor, offset = 0, options: { verify?: boolean } = {}): Promise<Readable> {
    if (offset > 0) {
      return (await this.repository.blobs.fetch(descriptor.digest, { range: { start: offset } })).stream;
    }
    const verify = options.verify ?? true;
    return (await this.repository.blobs.fetch(descriptor.digest, { size: descriptor.size, verify })).stream;
  }

  async pushBlob(descriptor: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
    await this.repository.uploads.upload((offset) => pendingReadable(() => open(offset)), descriptor);
  }

  exists(descriptor: Descriptor): Promise<boolean> {
    return isManifestMediaType(descriptor.mediaType)
      ? this.repository.manifests.exists(descriptor.digest)
      : this.repository.blobs.exists(descriptor.digest);
  }

  /** The repository's tags, all pages. */
  tags(): AsyncIterable<string> {
    return this.repository.tags();
  }

  /** Cross-repository mount, possible only within one registry. */
  async mount(descriptor: Descriptor, from: Store): Promise<boolean> {
    if (!(from instanceof RemoteStore) || from.repository.registry !== this.repository.registry) return false;
    if (from.repository.name === this.repository.name) return false;
    const started = await this.repository.uploads.start({
      mount: { digest: descriptor.digest, from: from.repository.name },
    });
    if (started.mounted) return true;
    await started.session.cancel();
    return false;
  }

  /** The manifests that refer to `subject` in this repository. */
  async referrers(subject: Descriptor): Promise<Descriptor[]> {
    return (await this.repository.referrers.list(subject.digest)).referrers;
  }
}
