import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Digest, digestAlgorithm, digestEquals, digestHex, digestOf } from "../core/digest.js";
import { ConfigurationError } from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";

/** Options of the on-disk manifest cache (`RegistryOptions.manifestCache.disk`). */
export interface DiskManifestCacheOptions {
  /** The cache directory (`regkit` uses `$XDG_CACHE_HOME/regkit`); manifests go into `manifests/` below it. */
  dir: string;
  /** Most bytes kept on disk (default 32 MiB); the least recently used go first. */
  maxBytes?: number;
  /**
   * Called once when the directory cannot be used (not writable, not a
   * directory, disk full); the cache then turns itself off and every
   * request goes to the registry. Default: a process warning.
   */
  onError?: (error: ManifestCacheDirectoryError) => void;
  /** Least time between two scans for eviction by separate processes (default 10 minutes). */
  pruneIntervalMs?: number;
}

/** The manifest cache directory cannot be used; regkit continues without it. */
export class ManifestCacheDirectoryError extends ConfigurationError {
  constructor(dir: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
    super(`manifest cache ${dir} is unusable (${code}); continuing without it`, {
      code: "CACHE_DIR",
      cause,
    });
  }
}

export const DEFAULT_DISK_CACHE_BYTES = 32 << 20;
const DEFAULT_PRUNE_INTERVAL_MS = 10 * 60_000;
const STAMP = ".pruned";
const STALE_TEMP_MS = 60 * 60_000;

interface Header {
  mediaType: string;
  host: string;
  repository: string;
}

/**
 * Verified manifests on disk, shared by every process that names the same
 * directory: content-addressed by digest and scoped by registry host and
 * repository (a registry answers for a digest only where it was pushed).
 * Entries are written to a temporary file and renamed into place (0600 in a
 * 0700 directory), so a reader sees a whole entry or none; every read is
 * hashed again, and an entry whose bytes do not match its digest is removed
 * and reported as a miss, never served. Eviction removes the least recently
 * used (a hit refreshes the file's mtime) once the directory exceeds its
 * bound, scanned at most every `pruneIntervalMs` across processes.
 */
export class DiskManifestCache {
  readonly dir: string;
  readonly #manifests: string;
  readonly #maxBytes: number;
  readonly #pruneIntervalMs: number;
  readonly #onError: (error: ManifestCacheDirectoryError) => void;
  #ready: Promise<void> | undefined;
  #disabled = false;
  /** Bytes this process wrote since its last scan; a scan is due when they could break the bound. */
  #written = 0;
  #scanned = false;

  constructor(options: DiskManifestCacheOptions) {
    this.dir = options.dir;
    this.#manifests = join(options.dir, "manifests");
    this.#maxBytes = options.maxBytes ?? DEFAULT_DISK_CACHE_BYTES;
    this.#pruneIntervalMs = options.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
    this.#onError = options.onError ?? ((error) => process.emitWarning(error.message, "RegkitWarning"));
  }

  /** False once the directory proved unusable. */
  get enabled(): boolean {
    return !this.#disabled && this.#maxBytes > 0;
  }

  #path(host: string, repository: string, digest: Digest): string {
    const scope = createHash("sha256").update(`${host}/${repository}`).digest("hex").slice(0, 16);
    return join(this.#manifests, `${digestAlgorithm(digest)}-${digestHex(digest)}-${scope}`);
  }

  /** The manifest `digest` of `host/repository`, verified again; undefined when absent or corrupt. */
  async get(
    host: string,
    repository: string,
    digest: Digest,
  ): Promise<{ descriptor: Descriptor; bytes: Buffer } | undefined> {
    if (!this.enabled) return undefined;
    const path = this.#path(host, repository, digest);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (error) {
      if (!isMissing(error)) this.#fail(error);
      return undefined;
    }
    const newline = data.indexOf(10);
    const header = newline > 0 ? parseHeader(data.subarray(0, newline)) : undefined;
    const bytes = data.subarray(newline + 1);
    if (
      !header ||
      header.host !== host ||
      header.repository !== repository ||
      !digestEquals(digestOf(bytes, digestAlgorithm(digest)), digest)
    ) {
      await unlink(path).catch(() => {});
      return undefined;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => {}); // a hit is a use: eviction goes by mtime
    return { descriptor: { mediaType: header.mediaType, digest, size: bytes.byteLength }, bytes };
  }

  /** Keeps bytes whose digest the caller has verified. Never throws: a failure turns the cache off. */
  async set(host: string, repository: string, descriptor: Descriptor, bytes: Uint8Array): Promise<void> {
    if (!this.enabled) return;
    const header: Header = { mediaType: descriptor.mediaType, host, repository };
    const data = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), bytes]);
    if (data.byteLength > this.#maxBytes) return;
    const temp = join(this.#manifests, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    try {
      this.#ready ??= mkdir(this.#manifests, { recursive: true, mode: 0o700 }).then(() => {});
      await this.#ready;
      await writeFile(temp, data, { mode: 0o600, flag: "wx" });
      await rename(temp, this.#path(host, repository, descriptor.digest as Digest));
    } catch (error) {
      await unlink(temp).catch(() => {});
      this.#fail(error);
      return;
    }
    this.#written += data.byteLength;
    if (!this.#scanned || this.#written > this.#maxBytes / 4) await this.#maybePrune();
  }

  /** Forgets a manifest (the registry deleted it); a missing entry is not an error. */
  async delete(host: string, repository: string, digest: Digest): Promise<void> {
    if (!this.enabled) return;
    await unlink(this.#path(host, repository, digest)).catch(() => {});
  }

  /** Scans once per process, and only when no process scanned within the interval (or this one wrote a lot). */
  async #maybePrune(): Promise<void> {
    const heavy = this.#written > this.#maxBytes / 4;
    this.#scanned = true;
    if (!heavy) {
      const last = await stat(join(this.#manifests, STAMP)).catch(() => undefined);
      if (last && Date.now() - last.mtimeMs < this.#pruneIntervalMs) return;
    }
    await this.prune();
  }

  /** Removes the least recently used entries until the directory is within its bound. */
  async prune(): Promise<void> {
    this.#written = 0;
    let names: string[];
    try {
      names = await readdir(this.#manifests);
    } catch (error) {
      if (!isMissing(error)) this.#fail(error);
      return;
    }
    const now = Date.now();
    const entries: Array<{ path: string; size: number; mtime: number }> = [];
    for (const name of names) {
      if (name === STAMP) continue;
      const path = join(this.#manifests, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      // Temporary files left by a process that died mid-write.
      if (name.startsWith(".tmp-")) {
        if (now - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => {});
        continue;
      }
      entries.push({ path, size: info.size, mtime: info.mtimeMs });
    }
    let total = entries.reduce((sum, entry) => sum + entry.size, 0);
    entries.sort((a, b) => a.mtime - b.mtime);
    for (const entry of entries) {
      if (total <= this.#maxBytes) break;
      await unlink(entry.path).catch(() => {});
      total -= entry.size;
    }
    await writeFile(join(this.#manifests, STAMP), "", { mode: 0o600 }).catch(() => {});
  }

  #fail(error: unknown): void {
    if (this.#disabled) return;
    this.#disabled = true;
    this.#onError(new ManifestCacheDirectoryError(this.dir, error));
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function parseHeader(line: Buffer): Header | undefined {
  try {
    const value = JSON.parse(line.toString("utf8")) as Partial<Header>;
    return typeof value.mediaType === "string" &&
      typeof value.host === "string" &&
      typeof value.repository === "string"
      ? (value as Header)
      : undefined;
  } catch {
    return undefined;
  }
}
