import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, rmSync } from "node:fs";
import { mkdir, open as openFile, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import {
  Digester,
  digestAlgorithm,
  digestEquals,
  digestHex,
  parseDigest,
  VerifyingStream,
} from "../core/digest.js";
import {
  ConfigurationError,
  DigestMismatchError,
  isRegkitError,
  NotFoundError,
  SizeMismatchError,
} from "../core/errors.js";
import { type Descriptor, descriptorSchema } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import type { Store } from "./store.js";

export const REF_NAME = "org.opencontainers.image.ref.name";
const indexSchema = z.looseObject({ schemaVersion: z.literal(2), manifests: z.array(descriptorSchema) });
type LayoutIndex = z.infer<typeof indexSchema>;
const LOCK_STALE_MS = 30_000;
const MAX_RESUMES = 3;

/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`).
 * Blobs are written to a temporary file, verified, then renamed into place,
 * so a reader never sees partial content and concurrent writers of the same
 * blob are harmless; `index.json` changes happen under a lock file. Paths
 * come only from validated digests, so no digest can escape the directory.
 */
export class OciLayoutStore implements Store {
  /** Temporary files being written, process-wide, so an interrupted run can remove them. */
  static readonly #inProgress = new Set<string>();

  /** Removes every temporary file still being written (for SIGINT handlers: synchronous). */
  static removeTemporaryFiles(): void {
    for (const path of OciLayoutStore.#inProgress) rmSync(path, { force: true });
    OciLayoutStore.#inProgress.clear();
  }

  readonly dir: string;
  readonly name: string;

  constructor(dir: string) {
    this.dir = dir;
    this.name = `oci:${dir}`;
  }

  #blobPath(digest: string): string {
    const valid = parseDigest(digest);
    return join(this.dir, "blobs", digestAlgorithm(valid), digestHex(valid));
  }

  async #index(): Promise<LayoutIndex> {
    let text: string;
    try {
      text = await readFile(join(this.dir, "index.json"), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { schemaVersion: 2, manifests: [] };
      throw new ConfigurationError(`cannot read ${this.dir}/index.json: ${(error as Error).message}`);
    }
    const parsed = (() => {
      try {
        return indexSchema.safeParse(JSON.parse(text));
      } catch {
        return undefined;
      }
    })();
    if (!parsed?.success)
      throw new ConfigurationError(`${this.dir}/index.json is not a valid OCI image index`);
    return parsed.data;
  }

  async resolve(reference: string): Promise<Descriptor> {
    const index = await this.#index();
    if (reference.includes(":") && /^[a-z0-9]+:/.test(reference)) {
      const digest = parseDigest(reference);
      const listed = index.manifests.find((d) => d.digest === digest);
      if (listed) return listed;
      const bytes = await readFile(this.#blobPath(digest)).catch(() => undefined);
      if (!bytes) throw new NotFoundError(`${this.name}: no manifest ${digest}`);
      const mediaType =
        (JSON.parse(bytes.toString("utf8")) as { mediaType?: string }).mediaType ?? MediaType.OciManifest;
      return { mediaType, digest, size: bytes.byteLength };
    }
    const tagged = index.manifests.filter((d) => d.annotations?.[REF_NAME] === reference);
    if (tagged.length === 0 && reference === "" && index.manifests.length === 1) return index.manifests[0]!;
    if (tagged.length === 0) {
      const names = index.manifests.map((d) => d.annotations?.[REF_NAME]).filter(Boolean);
      throw new NotFoundError(
        `${this.name}: no image tagged ${JSON.stringify(reference)} (tags: ${names.join(", ") || "none"})`,
      );
    }
    return tagged[0]!;
  }

  async fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    const bytes = await readFile(this.#blobPath(descriptor.digest)).catch(() => {
      throw new NotFoundError(`${this.name}: missing blob ${descriptor.digest}`);
    });
    const digester = new Digester(digestAlgorithm(descriptor.digest));
    digester.update(bytes);
    const actual = digester.digest();
    if (!digestEquals(actual, descriptor.digest))
      throw new DigestMismatchError(descriptor.digest, actual, "manifest");
    return bytes;
  }

  async pushManifest(descriptor: Descriptor, bytes: Buffer, tag?: string): Promise<void> {
    await this.#writeVerified(descriptor, async () => Readable.from([bytes]));
    if (tag) await this.#tag(descriptor, tag);
  }

  async fetchBlob(descriptor: Descriptor, offset = 0, options: { verify?: boolean } = {}): Promise<Readable> {
    const path = this.#blobPath(descriptor.digest);
    await stat(path).catch(() => {
      throw new NotFoundError(`${this.name}: missing blob ${descriptor.digest}`);
    });
    const stream = createReadStream(path, { start: offset, highWaterMark: 1 << 20 });
    if (offset > 0 || options.verify === false) return stream;
    return stream.pipe(new VerifyingStream({ digest: descriptor.digest, size: descriptor.size }));
  }

  async pushBlob(descriptor: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
    if (await this.exists(descriptor)) return;
    await this.#writeVerified(descriptor, open);
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    return stat(this.#blobPath(descriptor.digest)).then(
      (s) => s.size === descriptor.size,
      () => false,
    );
  }

  /** The `org.opencontainers.image.ref.name` of each manifest in `index.json`. */
  async *tags(): AsyncIterable<string> {
    const index = await this.#index();
    yield* index.manifests
      .map((d) => d.annotations?.[REF_NAME])
      .filter((t): t is string => t !== undefined)
      .sort();
  }

  /** Temp file in the same directory, hashed while written, resumed on a broken source, renamed last. */
  async #writeVerified(descriptor: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
    const final = this.#blobPath(descriptor.digest);
    await this.#ensureLayout();
    await mkdir(join(final, ".."), { recursive: true });
    const temp = `${final}.${randomBytes(6).toString("hex")}.tmp`;
    OciLayoutStore.#inProgress.add(temp);
    const digester = new Digester(digestAlgorithm(descriptor.digest));
    try {
      const file = createWriteStream(temp, { flags: "w", highWaterMark: 1 << 20 });
      // A write error (disk full) surfaces through end() below; never as an uncaught event.
      file.on("error", () => undefined);
      for (let resumes = 0; ; resumes++) {
        try {
          for await (const chunk of await open(digester.size)) {
            const buf = chunk as Buffer;
            digester.update(buf);
            if (digester.size > descriptor.size)
              throw new SizeMismatchError(descriptor.size, digester.size, "blob");
            if (!file.write(buf)) await new Promise<void>((resolve) => file.once("drain", () => resolve()));
          }
          break;
        } catch (error) {
          const resumable = isRegkitError(error) && error.category === "network" && error.retryable;
          if (!resumable || resumes >= MAX_RESUMES) throw error;
        }
      }
      await new Promise<void>((resolve, reject) =>
        file.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      if (digester.size !== descriptor.size)
        throw new SizeMismatchError(descriptor.size, digester.size, "blob");
      const actual = digester.digest();
      if (!digestEquals(actual, descriptor.digest))
        throw new DigestMismatchError(descriptor.digest, actual, "blob");
      await rename(temp, final);
    } finally {
      await rm(temp, { force: true });
      OciLayoutStore.#inProgress.delete(temp);
    }
  }

  async #ensureLayout(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const marker = join(this.dir, "oci-layout");
    if (!(await stat(marker).catch(() => undefined))) {
      await writeFile(marker, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    }
  }

  /** Points `tag` at the manifest in index.json, under a lock so concurrent writers do not lose entries. */
  async #tag(descriptor: Descriptor, tag: string): Promise<void> {
    await this.#withLock(async () => {
      const index = await this.#index();
      const manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME] !== tag);
      manifests.push({ ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: tag } });
      const next = { ...index, schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
      const temp = join(this.dir, `index.json.${randomBytes(6).toString("hex")}.tmp`);
      await writeFile(temp, JSON.stringify(next));
      await rename(temp, join(this.dir, "index.json"));
    });
  }

  async #withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = join(this.dir, "index.json.lock");
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await openFile(lock, "wx");
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
        if (age > LOCK_STALE_MS) await rm(lock, { force: true });
        else if (attempt > 600)
          throw new ConfigurationError(`${this.dir}/index.json is locked by another writer`);
        else await sleep(50);
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }
}
