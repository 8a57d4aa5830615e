import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Digest, Digester, digestAlgorithm } from "../core/digest.js";
import { writeFileAtomic } from "./atomicFile.js";
import type { UploadState } from "./storage.js";

/**
 * Upload sessions of the file storage, one folder each:
 *
 *     <dir>/<id>/data, <dir>/<id>/state.json
 *
 * Ids are checked to be UUIDs before they reach the file system. Bytes are
 * hashed as they arrive, so completing needs no second read unless the
 * session had bytes before this process saw it (a restart).
 */
export class FileUploads {
  readonly dir: string;
  /** Uploads receiving bytes in this process: one append handle and the running hash each. */
  readonly #receiving = new Map<string, Receiving>();

  constructor(dir: string) {
    this.dir = dir;
  }

  #path(id: string, file: string): string | undefined {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)
      ? join(this.dir, id, file)
      : undefined;
  }

  async create(repository: string, ttlMs: number): Promise<UploadState> {
    const state: UploadState = { id: randomUUID(), repository, size: 0, expiresAt: Date.now() + ttlMs };
    await writeFileAtomic(this.#path(state.id, "data")!, "");
    await writeFileAtomic(this.#path(state.id, "state.json")!, JSON.stringify({ repository, ttlMs }));
    return state;
  }

  /**
   * An upload expires `ttlMs` after its data file was last written (appends
   * move its mtime, so an upload receiving bytes stays alive); a state file
   * from before `ttlMs` was recorded carries a fixed `expiresAt`.
   */
  async #state(id: string, defaultTtlMs?: number): Promise<UploadState | undefined> {
    const statePath = this.#path(id, "state.json");
    if (!statePath) return undefined;
    const text = await readFile(statePath, "utf8").catch(() => undefined);
    const data = await stat(this.#path(id, "data")!).catch(() => undefined);
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

  async get(id: string): Promise<UploadState | undefined> {
    const state = await this.#state(id);
    if (!state) return undefined;
    if (state.expiresAt < Date.now() && !this.#receiving.has(id)) {
      await this.delete(id);
      return undefined;
    }
    return state;
  }

  async expire(ttlMs: number): Promise<string[]> {
    const ids = await readdir(this.dir).catch(() => [] as string[]);
    const removed: string[] = [];
    const now = Date.now();
    for (const id of ids) {
      if (this.#receiving.has(id)) continue;
      const state = await this.#state(id, ttlMs);
      if (state && state.expiresAt < now) {
        await this.delete(id);
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
  append(id: string, chunk: Buffer): Promise<void> {
    const data = this.#path(id, "data");
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

  /**
   * Verifies the digest of everything received. On a match, `keep` gets the
   * data file (it must move or remove it) before the session is removed; on
   * a mismatch the session is removed and `keep` never runs.
   */
  async complete(
    id: string,
    digest: Digest,
    keep: (file: string, repository: string) => Promise<void>,
  ): Promise<{ ok: true; size: number } | { ok: false; actual: Digest }> {
    const received = await this.#finishReceiving(id);
    const state = await this.get(id);
    if (!state) throw new Error(`unknown upload ${id}`);
    const data = this.#path(id, "data")!;
    const algorithm = digestAlgorithm(digest);
    let digester = received?.bytes === state.size && algorithm === "sha256" ? received.digester : undefined;
    if (!digester) {
      digester = new Digester(algorithm);
      for await (const chunk of createReadStream(data, { highWaterMark: 1 << 20 }))
        digester.update(chunk as Buffer);
    }
    const actual = digester.digest();
    if (actual !== digest) {
      await this.delete(id);
      return { ok: false, actual };
    }
    await keep(data, state.repository);
    await this.delete(id);
    return { ok: true, size: state.size };
  }

  async delete(id: string): Promise<void> {
    await this.#finishReceiving(id).catch(() => undefined);
    const dir = this.#path(id, "");
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
