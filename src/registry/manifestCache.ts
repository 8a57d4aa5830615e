import { type Digest, digestAlgorithm, digestEquals, digestOf } from "../core/digest.js";
import type { Descriptor } from "../core/manifest.js";
import type { DiskManifestCacheOptions } from "./manifestDiskCache.js";

/** How a `Registry` keeps verified manifests: in memory by digest, tag answers for a short time, and optionally on disk. */
export interface ManifestCacheOptions {
  /** Most manifests kept (default 256); 0 turns the cache off. */
  maxEntries?: number;
  /** Most manifest bytes kept (default 16 MiB). */
  maxBytes?: number;
  /**
   * How long a tag's answer (tag → digest) is reused, in milliseconds.
   * Default 0: every tag is asked, since a tag moves and a long-running
   * program must see it move. Writes through the same client (put, delete)
   * forget the tags they touch.
   */
  tagTtlMs?: number;
  /** Verified manifests on disk as well, shared across processes (off by default). */
  disk?: DiskManifestCacheOptions;
  /** The clock of the tag TTL (tests). */
  now?: () => number;
}

interface TagEntry {
  descriptor: Descriptor;
  expires: number;
}

interface Entry {
  descriptor: Descriptor;
  bytes: Buffer;
}

export const DEFAULT_MANIFEST_CACHE_ENTRIES = 256;
export const DEFAULT_MANIFEST_CACHE_BYTES = 16 << 20;

/**
 * Verified manifests by repository and digest, least recently used out
 * first. A manifest fetched by digest never changes, so asking again is a
 * request saved (on Docker Hub, a pull not counted). Keyed by repository as
 * well: a registry answers for a digest only where it was pushed, and the
 * cache must not answer where the registry would say 404. Every hit is
 * hashed again before it is handed out, so a cached buffer changed by a
 * caller is dropped, not served.
 */
export class ManifestCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  /** Tag answers by `repository:tag` and the Accept asked with (a registry may answer by it). */
  readonly #tags = new Map<string, TagEntry>();
  readonly #tagTtlMs: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(options: ManifestCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MANIFEST_CACHE_ENTRIES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MANIFEST_CACHE_BYTES;
    this.#tagTtlMs = options.tagTtlMs ?? 0;
    this.#now = options.now ?? Date.now;
  }

  /** The digest `repository:tag` pointed at less than `tagTtlMs` ago, asked with `accept`. */
  tag(repository: string, tag: string, accept: string): Descriptor | undefined {
    const key = `${repository}:${tag} ${accept}`;
    const entry = this.#tags.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.#now()) {
      this.#tags.delete(key);
      return undefined;
    }
    return { ...entry.descriptor };
  }

  setTag(repository: string, tag: string, accept: string, descriptor: Descriptor): void {
    if (this.#tagTtlMs <= 0 || this.#maxEntries <= 0) return;
    const key = `${repository}:${tag} ${accept}`;
    this.#tags.delete(key);
    this.#tags.set(key, { descriptor: { ...descriptor }, expires: this.#now() + this.#tagTtlMs });
    for (const oldest of this.#tags.keys()) {
      if (this.#tags.size <= this.#maxEntries) break;
      this.#tags.delete(oldest);
    }
  }

  /** Forgets a tag (whatever it was asked with), or every tag pointing at a digest. */
  forgetTags(repository: string, match: { tag: string } | { digest: Digest }): void {
    for (const [key, entry] of this.#tags) {
      if (!key.startsWith(`${repository}:`)) continue;
      const hit =
        "tag" in match
          ? key.startsWith(`${repository}:${match.tag} `)
          : digestEquals(entry.descriptor.digest, match.digest);
      if (hit) this.#tags.delete(key);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  get(repository: string, digest: Digest): Entry | undefined {
    const key = `${repository}@${digest}`;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (!digestEquals(digestOf(entry.bytes, digestAlgorithm(digest)), digest)) {
      this.#bytes -= entry.bytes.byteLength;
      return undefined;
    }
    this.#entries.set(key, entry); // most recently used goes last
    return { descriptor: { ...entry.descriptor }, bytes: Buffer.from(entry.bytes) };
  }

  /** Keeps a copy of bytes whose digest the caller has verified. */
  set(repository: string, descriptor: Descriptor, bytes: Buffer): void {
    if (this.#maxEntries <= 0 || bytes.byteLength > this.#maxBytes) return;
    this.delete(repository, descriptor.digest);
    const key = `${repository}@${descriptor.digest}`;
    this.#entries.set(key, { descriptor: { ...descriptor }, bytes: Buffer.from(bytes) });
    this.#bytes += bytes.byteLength;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes.byteLength;
    }
  }

  delete(repository: string, digest: Digest): void {
    const key = `${repository}@${digest}`;
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes.byteLength;
  }
}
