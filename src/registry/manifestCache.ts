import { type Digest, digestAlgorithm, digestEquals, digestOf } from "../core/digest.js";
import type { Descriptor } from "../core/manifest.js";

export interface ManifestCacheOptions {
  /** Most manifests kept (default 256); 0 turns the cache off. */
  maxEntries?: number;
  /** Most manifest bytes kept (default 16 MiB). */
  maxBytes?: number;
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
  #bytes = 0;

  constructor(options: ManifestCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MANIFEST_CACHE_ENTRIES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MANIFEST_CACHE_BYTES;
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
