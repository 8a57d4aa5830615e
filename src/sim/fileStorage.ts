import { randomBytes, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { type Digest, Digester, digestAlgorithm, digestHex } from "../core/digest.js";
import type { RegistryStorage, StoredManifest, UploadState } from "./storage.js";

/**
 * Storage in a directory, surviving restarts:
 *
 *     blobs/<alg>/<hex>                          content, stored once
 *     repositories/<name>/_links/<alg>-<hex>      blobs visible in the repository
 *     repositories/<name>/_manifests/<alg>-<hex>  manifest record (bytes live in blobs/)
 *     repositories/<name>/_tags/<tag>             digest the tag points at
 *     uploads/<id>/data, uploads/<id>/state.json
 *
 * Every visible file is written to a temporary name and renamed into place,
 * so a crash leaves either the old state or the new one, never half a file.
 * Names reach the file system only after the router validated them against
 * the distribution grammar (no `..`, no separators in tags; no name starts
 * with `_`, so the `_links`-style folders never collide), and upload ids
 * are checked to be UUIDs.
 */
export class FileStorage implements RegistryStorage {
  readonly root: string;
  /** Uploads receiving bytes in this process: one append handle and the running hash each. */
  readonly #receiving = new Map<string, Receiving>();

  constructor(root: string) {
    this.root = root;
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
  #upload(id: string, file: string): string | undefined {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)
      ? join(this.root, "uploads", id, file)
      : undefined;
  }

  async #write(path: string, data: string | Buffer): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(temp, data);
    await rename(temp, path);
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
    await this.#write(this.#repo(repository, "_links", this.#key(digest)), "");
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
    if (!(await exists(this.#blob(manifest.digest)))) await this.#write(this.#blob(manifest.digest), bytes);
    await this.#write(this.#repo(repository, "_manifests", this.#key(manifest.digest)), JSON.stringify(meta));
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
    await this.#write(this.#repo(repository, "_tags", tag), digest);
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

  async createUpload(repository: string, ttlMs: number): Promise<UploadState> {
    const state: UploadState = { id: randomUUID(), repository, size: 0, expiresAt: Date.now() + ttlMs };
    await this.#write(this.#upload(state.id, "data")!, "");
    await this.#write(this.#upload(state.id, "state.json")!, JSON.stringify({ repository, ttlMs }));
    return state;
  }

  /**
   * An upload expires `ttlMs` after its data file was last written (appends
   * move its mtime, so an upload receiving bytes stays alive); a state file
   * from before `ttlMs` was recorded carries a fixed `expiresAt`.
   */
  async #uploadState(id: string, defaultTtlMs?: number): Promise<UploadState | undefined> {
    const statePath = this.#upload(id, "state.json");
    if (!statePath) return undefined;
    const text = await readFile(statePath, "utf8").catch(() => undefined);
    const data = await stat(this.#upload(id, "data")!).catch(() => undefined);
    const saved = parseUploadState(text);
    if (!saved || !data) {
      // Half-created (a crash between its two files): expires like any other once old enough.
      if (defaultTtlMs === undefined) return undefined;
      const dir = await stat(dirname(statePath)).catch(() => undefined);
      return { id, repository: "", size: 0, expiresAt: (dir?.mtimeMs ?? 0) + defaultTtlMs };
    }
    const expiresAt = saved.ttlMs !== undefined ? data.mtimeMs + saved.ttlMs : (saved.expiresAt ?? 0);
    return { id, repository: saved.repository, size: data.size, expiresAt };
  }

  async getUpload(id: string): Promise<UploadState | undefined> {
    const state = await this.#uploadState(id);
    if (!state) return undefined;
    if (state.expiresAt < Date.now() && !this.#receiving.has(id)) {
      await this.deleteUpload(id);
      return undefined;
    }
    return state;
  }

  async expireUploads(ttlMs: number): Promise<string[]> {
    const ids = await readdir(join(this.root, "uploads")).catch(() => [] as string[]);
    const removed: string[] = [];
    const now = Date.now();
    for (const id of ids) {
      if (this.#receiving.has(id)) continue;
      const state = await this.#uploadState(id, ttlMs);
      if (state && state.expiresAt < now) {
        await this.deleteUpload(id);
        removed.push(id);
      }
    }
    return removed;
  }

  /**
   * Appends through one handle per upload and hashes on the way, in call
   * order, so completing needs no second read. Chunks that arrive while a
   * write is running are written together by the next one (one `writev` for
   * what a fast client sent meanwhile, instead of a write per socket read).
   * An upload that had bytes before this process saw it (a restart) is
   * hashed from its file at completion instead.
   */
  appendUpload(id: string, chunk: Buffer): Promise<void> {
    const data = this.#upload(id, "data");
    if (!data) return Promise.resolve();
    let entry = this.#receiving.get(id);
    if (!entry) {
      const created: Receiving = {
        digester: new Digester("sha256"),
        bytes: 0,
        queue: [],
        tail: Promise.resolve(),
      };
      created.tail = Promise.all([open(data, "a"), stat(data)]).then(([handle, file]) => {
        created.handle = handle;
        if (file.size > 0) created.digester = undefined;
      });
      this.#receiving.set(id, created);
      entry = created;
    }
    const receiving = entry;
    return new Promise<void>((resolve, reject) => {
      receiving.queue.push({ chunk, resolve, reject });
      if (receiving.queue.length === 1) {
        const next = () => flush(receiving);
        receiving.tail = receiving.tail.then(next, next);
      }
    });
  }

  /** Stops receiving: waits for queued appends, closes the handle, returns the running hash. */
  async #finishReceiving(id: string): Promise<Receiving | undefined> {
    const entry = this.#receiving.get(id);
    if (!entry) return undefined;
    this.#receiving.delete(id);
    await entry.tail.catch(() => undefined);
    await entry.handle?.close();
    return entry;
  }

  async completeUpload(id: string, digest: Digest) {
    const received = await this.#finishReceiving(id);
    const state = await this.getUpload(id);
    if (!state) throw new Error(`unknown upload ${id}`);
    const data = this.#upload(id, "data")!;
    const algorithm = digestAlgorithm(digest);
    let digester = received?.bytes === state.size && algorithm === "sha256" ? received.digester : undefined;
    if (!digester) {
      digester = new Digester(algorithm);
      for await (const chunk of createReadStream(data, { highWaterMark: 1 << 20 }))
        digester.update(chunk as Buffer);
    }
    const actual = digester.digest();
    if (actual !== digest) {
      await this.deleteUpload(id);
      return { ok: false as const, actual };
    }
    const target = this.#blob(digest);
    await mkdir(dirname(target), { recursive: true });
    if (await exists(target)) await rm(data);
    else await rename(data, target);
    await this.deleteUpload(id);
    await this.#write(this.#repo(state.repository, "_links", this.#key(digest)), "");
    return { ok: true as const, size: state.size };
  }

  async deleteUpload(id: string): Promise<void> {
    await this.#finishReceiving(id).catch(() => undefined);
    const dir = this.#upload(id, "");
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

function parseUploadState(
  text: string | undefined,
): { repository: string; ttlMs?: number; expiresAt?: number } | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as { repository?: unknown; ttlMs?: unknown; expiresAt?: unknown };
    if (typeof value.repository !== "string") return undefined;
    return {
      repository: value.repository,
      ...(typeof value.ttlMs === "number" ? { ttlMs: value.ttlMs } : {}),
      ...(typeof value.expiresAt === "number" ? { expiresAt: value.expiresAt } : {}),
    };
  } catch {
    return undefined;
  }
}

interface Receiving {
  handle?: FileHandle;
  /** sha256 of every byte appended through `handle`; undefined when it cannot be trusted. */
  digester: Digester | undefined;
  bytes: number;
  /** Chunks waiting for the next write, with their callers. */
  queue: Array<{ chunk: Buffer; resolve: () => void; reject: (error: unknown) => void }>;
  /** The last write: the next one starts after it. */
  tail: Promise<void>;
}

/** Writes every queued chunk, in order, until the queue stays empty. */
async function flush(entry: Receiving): Promise<void> {
  while (entry.queue.length > 0) {
    const batch = entry.queue;
    entry.queue = [];
    const chunks = batch.map((item) => item.chunk);
    try {
      if (!entry.handle) throw new Error("upload file not open");
      await writeAll(entry.handle, chunks);
      for (const chunk of chunks) {
        entry.digester?.update(chunk);
        entry.bytes += chunk.byteLength;
      }
      for (const item of batch) item.resolve();
    } catch (error) {
      entry.digester = undefined; // the file may hold part of the batch
      for (const item of batch) item.reject(error);
    }
  }
}

/** `writev` until every byte is written (a write may take only part of them). */
async function writeAll(handle: FileHandle, chunks: Buffer[]): Promise<void> {
  let rest = chunks;
  while (rest.length > 0) {
    let written = (await handle.writev(rest)).bytesWritten;
    const left: Buffer[] = [];
    for (const chunk of rest) {
      if (written >= chunk.byteLength) written -= chunk.byteLength;
      else {
        left.push(written > 0 ? chunk.subarray(written) : chunk);
        written = 0;
      }
    }
    rest = left;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
