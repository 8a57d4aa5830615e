import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { type Digest, digestAlgorithm, digestHex } from "../core/digest.js";
import { exists, writeFileAtomic } from "./atomicFile.js";
import { FileUploads } from "./fileUploads.js";
import type { RegistryStorage, StoredManifest, UploadState } from "./storage.js";

/**
 * Storage in a directory, surviving restarts:
 *
 *     blobs/<alg>/<hex>                          content, stored once
 *     repositories/<name>/_links/<alg>-<hex>      blobs visible in the repository
 *     repositories/<name>/_manifests/<alg>-<hex>  manifest record (bytes live in blobs/)
 *     repositories/<name>/_tags/<tag>             digest the tag points at
 *     uploads/<id>/...                           upload sessions (see FileUploads)
 *
 * Every visible file is written to a temporary name and renamed into place,
 * so a crash leaves either the old state or the new one, never half a file.
 * Names reach the file system only after the router validated them against
 * the distribution grammar (no `..`, no separators in tags; no name starts
 * with `_`, so the `_links`-style folders never collide).
 */
export class FileStorage implements RegistryStorage {
  readonly root: string;
  readonly #uploads: FileUploads;

  constructor(root: string) {
    this.root = root;
    this.#uploads = new FileUploads(join(root, "uploads"));
  }

  #blob(digest: Digest): string {
    return join(this.root, "blobs", digestAlgorithm(digest), digestHex(digest));
  }
  #repo(name: string, ...parts: string[]): string {
    return join(this.root, "repositories", name, ...parts);
  }
  #key(digest: Digest): string {
    return `${digestAlgorithm(digest)}-${digestHex(digest)}`;
  }

  async repositories(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string, name: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      const names = new Set(entries.map((e) => e.name));
      if (name && (names.has("_manifests") || names.has("_links"))) found.push(name);
      for (const entry of entries) {
        if (!entry.isDirectory() || ["_manifests", "_links", "_tags"].includes(entry.name)) continue;
        await walk(join(dir, entry.name), name ? `${name}/${entry.name}` : entry.name);
      }
    };
    await walk(join(this.root, "repositories"), "");
    return found.sort();
  }

  async hasRepository(repository: string): Promise<boolean> {
    return exists(this.#repo(repository));
  }

  async blobSize(repository: string, digest: Digest): Promise<number | undefined> {
    if (!(await exists(this.#repo(repository, "_links", this.#key(digest))))) return undefined;
    return stat(this.#blob(digest)).then(
      (s) => s.size,
      () => undefined,
    );
  }

  readBlob(_repository: string, digest: Digest, range?: { start: number; end: number }): Readable {
    return createReadStream(this.#blob(digest), {
      ...(range ? { start: range.start, end: range.end } : {}),
      highWaterMark: 1 << 20,
    });
  }

  async linkBlob(repository: string, digest: Digest): Promise<boolean> {
    if (!(await exists(this.#blob(digest)))) return false;
    await writeFileAtomic(this.#repo(repository, "_links", this.#key(digest)), "");
    return true;
  }

  async unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    const link = this.#repo(repository, "_links", this.#key(digest));
    if (!(await exists(link))) return false;
    await rm(link);
    return true;
  }

  async getManifest(repository: string, digest: Digest): Promise<StoredManifest | undefined> {
    const record = await readFile(this.#repo(repository, "_manifests", this.#key(digest)), "utf8").catch(
      () => undefined,
    );
    if (record === undefined) return undefined;
    const meta = JSON.parse(record) as Omit<StoredManifest, "bytes">;
    const bytes = await readFile(this.#blob(digest)).catch(() => undefined);
    return bytes ? { ...meta, bytes } : undefined;
  }

  async putManifest(repository: string, manifest: StoredManifest): Promise<void> {
    const { bytes, ...meta } = manifest;
    if (!(await exists(this.#blob(manifest.digest))))
      await writeFileAtomic(this.#blob(manifest.digest), bytes);
    await writeFileAtomic(
      this.#repo(repository, "_manifests", this.#key(manifest.digest)),
      JSON.stringify(meta),
    );
  }

  async deleteManifest(repository: string, digest: Digest): Promise<boolean> {
    const record = this.#repo(repository, "_manifests", this.#key(digest));
    if (!(await exists(record))) return false;
    for (const tag of await this.tags(repository)) {
      if ((await this.resolveTag(repository, tag)) === digest)
        await rm(this.#repo(repository, "_tags", tag), { force: true });
    }
    await rm(record);
    return true;
  }

  async resolveTag(repository: string, tag: string): Promise<Digest | undefined> {
    const value = await readFile(this.#repo(repository, "_tags", tag), "utf8").catch(() => undefined);
    return value?.trim() as Digest | undefined;
  }

  async setTag(repository: string, tag: string, digest: Digest): Promise<void> {
    await writeFileAtomic(this.#repo(repository, "_tags", tag), digest);
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const path = this.#repo(repository, "_tags", tag);
    if (!(await exists(path))) return false;
    await rm(path);
    return true;
  }

  async tags(repository: string): Promise<string[]> {
    const entries = await readdir(this.#repo(repository, "_tags")).catch(() => [] as string[]);
    return entries.filter((name) => !name.endsWith(".tmp")).sort();
  }

  async referrers(repository: string, digest: Digest): Promise<StoredManifest[]> {
    const entries = await readdir(this.#repo(repository, "_manifests")).catch(() => [] as string[]);
    const out: StoredManifest[] = [];
    for (const entry of entries.filter((e) => !e.endsWith(".tmp")).sort()) {
      const meta = JSON.parse(
        await readFile(this.#repo(repository, "_manifests", entry), "utf8"),
      ) as StoredManifest;
      if (meta.subject !== digest) continue;
      const full = await this.getManifest(repository, meta.digest);
      if (full) out.push(full);
    }
    return out;
  }

  createUpload(repository: string, ttlMs: number): Promise<UploadState> {
    return this.#uploads.create(repository, ttlMs);
  }

  getUpload(id: string): Promise<UploadState | undefined> {
    return this.#uploads.get(id);
  }

  expireUploads(ttlMs: number): Promise<string[]> {
    return this.#uploads.expire(ttlMs);
  }

  appendUpload(id: string, chunk: Buffer): Promise<void> {
    return this.#uploads.append(id, chunk);
  }

  completeUpload(id: string, digest: Digest) {
    return this.#uploads.complete(id, digest, async (file, repository) => {
      const target = this.#blob(digest);
      await mkdir(dirname(target), { recursive: true });
      if (await exists(target)) await rm(file);
      else await rename(file, target);
      await writeFileAtomic(this.#repo(repository, "_links", this.#key(digest)), "");
    });
  }

  deleteUpload(id: string): Promise<void> {
    return this.#uploads.delete(id);
  }
}
