import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { type Digest, Digester, digestAlgorithm } from "../core/digest.js";

/** A manifest as the registry keeps it: exact bytes plus what the referrers API needs. */
export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  kind: "image" | "index";
  bytes: Buffer;
  /** Digests this manifest needs present (config, layers, or index children). */
  references: Digest[];
  subject?: Digest;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface UploadState {
  id: string;
  repository: string;
  /** Bytes received so far. */
  size: number;
  expiresAt: number;
}

/**
 * Where the embedded registry keeps content. Blobs are content-addressed and
 * stored once; repositories link to the blobs pushed or mounted into them,
 * as in distribution, so a blob is only visible where it was put. Provider
 * API fakes read the same storage, so a push shows up in their listings.
 */
export interface RegistryStorage {
  repositories(): Promise<string[]>;
  hasRepository(repository: string): Promise<boolean>;

  blobSize(repository: string, digest: Digest): Promise<number | undefined>;
  /** Streams a linked blob, optionally a byte range [start, end]. */
  readBlob(repository: string, digest: Digest, range?: { start: number; end: number }): Readable;
  /** Links an existing blob (stored under any repository) into `repository`; false when unknown. */
  linkBlob(repository: string, digest: Digest): Promise<boolean>;
  unlinkBlob(repository: string, digest: Digest): Promise<boolean>;

  getManifest(repository: string, digest: Digest): Promise<StoredManifest | undefined>;
  putManifest(repository: string, manifest: StoredManifest): Promise<void>;
  /** Removes the manifest and every tag pointing at it. */
  deleteManifest(repository: string, digest: Digest): Promise<boolean>;

  resolveTag(repository: string, tag: string): Promise<Digest | undefined>;
  setTag(repository: string, tag: string, digest: Digest): Promise<void>;
  deleteTag(repository: string, tag: string): Promise<boolean>;
  tags(repository: string): Promise<string[]>;
  /** Manifests of `repository` whose `subject` is `digest`. */
  referrers(repository: string, digest: Digest): Promise<StoredManifest[]>;

  createUpload(repository: string, ttlMs: number): Promise<UploadState>;
  getUpload(id: string): Promise<UploadState | undefined>;
  /**
   * Appends bytes at the end of the upload, in call order also when a call
   * comes before the previous one settled (the server hands each chunk over
   * as it arrives from the socket).
   */
  appendUpload(id: string, chunk: Buffer): Promise<void>;
  /** Verifies the digest of everything received; on success the blob is stored and linked. */
  completeUpload(
    id: string,
    digest: Digest,
  ): Promise<{ ok: true; size: number } | { ok: false; actual: Digest }>;
  deleteUpload(id: string): Promise<void>;
  /**
   * Removes every upload session untouched for longer than its idle lifetime
   * (sessions that predate a recorded lifetime use `ttlMs`); returns their ids.
   */
  expireUploads?(ttlMs: number): Promise<string[]>;
}

interface Upload {
  state: UploadState;
  /** Idle lifetime: every append moves `state.expiresAt` to now + this. */
  ttlMs: number;
  chunks: Buffer[];
  sha256: Digester;
}

interface Repo {
  blobs: Set<Digest>;
  manifests: Map<Digest, StoredManifest>;
  tags: Map<string, Digest>;
}

/** Everything in memory; blob bytes are kept as the chunks they arrived in, never concatenated. */
export class MemoryStorage implements RegistryStorage {
  readonly #blobs = new Map<Digest, { chunks: Buffer[]; size: number }>();
  readonly #repos = new Map<string, Repo>();
  readonly #uploads = new Map<string, Upload>();

  #repo(name: string): Repo {
    let repo = this.#repos.get(name);
    if (!repo) {
      repo = { blobs: new Set(), manifests: new Map(), tags: new Map() };
      this.#repos.set(name, repo);
    }
    return repo;
  }

  async repositories(): Promise<string[]> {
    return [...this.#repos.entries()]
      .filter(([, r]) => r.manifests.size > 0 || r.blobs.size > 0)
      .map(([name]) => name)
      .sort();
  }

  async hasRepository(repository: string): Promise<boolean> {
    return this.#repos.has(repository);
  }

  async blobSize(repository: string, digest: Digest): Promise<number | undefined> {
    if (!this.#repos.get(repository)?.blobs.has(digest)) return undefined;
    return this.#blobs.get(digest)?.size;
  }

  readBlob(repository: string, digest: Digest, range?: { start: number; end: number }): Readable {
    const blob = this.#repos.get(repository)?.blobs.has(digest) ? this.#blobs.get(digest) : undefined;
    if (!blob) return Readable.from([]);
    return Readable.from(slices(blob.chunks, range ?? { start: 0, end: blob.size - 1 }), {
      objectMode: false,
    });
  }

  async linkBlob(repository: string, digest: Digest): Promise<boolean> {
    if (!this.#blobs.has(digest)) return false;
    this.#repo(repository).blobs.add(digest);
    return true;
  }

  async unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.#repos.get(repository)?.blobs.delete(digest) ?? false;
  }

  async getManifest(repository: string, digest: Digest): Promise<StoredManifest | undefined> {
    return this.#repos.get(repository)?.manifests.get(digest);
  }

  async putManifest(repository: string, manifest: StoredManifest): Promise<void> {
    this.#repo(repository).manifests.set(manifest.digest, manifest);
  }

  async deleteManifest(repository: string, digest: Digest): Promise<boolean> {
    const repo = this.#repos.get(repository);
    if (!repo?.manifests.delete(digest)) return false;
    for (const [tag, target] of repo.tags) if (target === digest) repo.tags.delete(tag);
    return true;
  }

  async resolveTag(repository: string, tag: string): Promise<Digest | undefined> {
    return this.#repos.get(repository)?.tags.get(tag);
  }

  async setTag(repository: string, tag: string, digest: Digest): Promise<void> {
    this.#repo(repository).tags.set(tag, digest);
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    return this.#repos.get(repository)?.tags.delete(tag) ?? false;
  }

  async tags(repository: string): Promise<string[]> {
    return [...(this.#repos.get(repository)?.tags.keys() ?? [])].sort();
  }

  async referrers(repository: string, digest: Digest): Promise<StoredManifest[]> {
    const repo = this.#repos.get(repository);
    if (!repo) return [];
    return [...repo.manifests.values()]
      .filter((m) => m.subject === digest)
      .sort((a, b) => (a.digest < b.digest ? -1 : 1));
  }

  async createUpload(repository: string, ttlMs: number): Promise<UploadState> {
    const state = { id: randomUUID(), repository, size: 0, expiresAt: Date.now() + ttlMs };
    // Hash as bytes arrive so completion needs no second pass over the data.
    this.#uploads.set(state.id, { state, ttlMs, chunks: [], sha256: new Digester("sha256") });
    return { ...state };
  }

  async getUpload(id: string): Promise<UploadState | undefined> {
    const upload = this.#uploads.get(id);
    if (!upload) return undefined;
    if (upload.state.expiresAt < Date.now()) {
      this.#uploads.delete(id);
      return undefined;
    }
    return { ...upload.state };
  }

  async appendUpload(id: string, chunk: Buffer): Promise<void> {
    const upload = this.#uploads.get(id);
    if (!upload) return;
    upload.chunks.push(chunk);
    upload.state.size += chunk.byteLength;
    upload.state.expiresAt = Date.now() + upload.ttlMs;
    upload.sha256.update(chunk);
  }

  async completeUpload(id: string, digest: Digest) {
    const upload = this.#uploads.get(id);
    if (!upload) throw new Error(`unknown upload ${id}`);
    this.#uploads.delete(id);
    const algorithm = digestAlgorithm(digest);
    let digester = upload.sha256;
    if (algorithm !== "sha256") {
      digester = new Digester(algorithm);
      for (const c of upload.chunks) digester.update(c);
    }
    const actual = digester.digest();
    if (actual !== digest) return { ok: false as const, actual };
    if (!this.#blobs.has(digest)) this.#blobs.set(digest, { chunks: upload.chunks, size: upload.state.size });
    this.#repo(upload.state.repository).blobs.add(digest);
    return { ok: true as const, size: upload.state.size };
  }

  async deleteUpload(id: string): Promise<void> {
    this.#uploads.delete(id);
  }

  async expireUploads(): Promise<string[]> {
    const now = Date.now();
    const expired = [...this.#uploads.values()].filter((u) => u.state.expiresAt < now).map((u) => u.state.id);
    for (const id of expired) this.#uploads.delete(id);
    return expired;
  }
}

/** Yields the parts of `chunks` covering bytes [start, end] without copying them. */
function* slices(chunks: Buffer[], range: { start: number; end: number }): Generator<Buffer> {
  let offset = 0;
  for (const chunk of chunks) {
    const chunkEnd = offset + chunk.byteLength - 1;
    if (chunkEnd >= range.start && offset <= range.end) {
      yield chunk.subarray(
        Math.max(0, range.start - offset),
        Math.min(chunk.byteLength, range.end - offset + 1),
      );
    }
    offset += chunk.byteLength;
    if (offset > range.end) return;
  }
}
