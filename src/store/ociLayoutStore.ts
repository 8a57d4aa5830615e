import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open as openFile, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { digestAlgorithm, digestHex, parseDigest, VerifyingStream } from "../core/digest.js";
import { ConfigurationError, NotFoundError, UsageError } from "../core/errors.js";
import { STREAM_BUFFER_BYTES } from "../core/limits.js";
import type { Descriptor } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import {
  type LayoutIndex,
  layoutIndexSchema,
  REF_NAME,
  referrersIn,
  resolveInLayout,
  subjectOf,
  verifiedManifest,
  withTag,
  withUntagged,
} from "./layoutIndex.js";
import { receiveBlob } from "./receiveBlob.js";
import type { ReferrerLister, Store } from "./store.js";
import { removeTemporaryFiles, trackTemporary } from "./temporaryFiles.js";

export { REF_NAME } from "./layoutIndex.js";

const LOCK_STALE_MS = 30_000;

/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`).
 * Blobs are written to a temporary file, verified, then renamed into place,
 * so a reader never sees partial content and concurrent writers of the same
 * blob are harmless; `index.json` changes happen under a lock file. Paths
 * come only from validated digests, so no digest can escape the directory.
 */
export class OciLayoutStore implements Store, ReferrerLister {
  /** Removes every temporary file any store is still writing (for SIGINT handlers: synchronous). */
  static removeTemporaryFiles(): void {
    removeTemporaryFiles();
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
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return { schemaVersion: 2, manifests: [] };
      if (code === "ENOTDIR")
        throw new UsageError(
          `${this.dir} is a file, not an OCI layout directory: for a tarball write docker-archive:${this.dir} or oci-archive:${this.dir}`,
        );
      throw new ConfigurationError(`cannot read ${this.dir}/index.json: ${(error as Error).message}`);
    }
    const parsed = (() => {
      try {
        return layoutIndexSchema.safeParse(JSON.parse(text));
      } catch {
        return undefined;
      }
    })();
    if (!parsed?.success)
      throw new ConfigurationError(`${this.dir}/index.json is not a valid OCI image index`);
    return parsed.data;
  }

  async resolve(reference: string): Promise<Descriptor> {
    return resolveInLayout(await this.#index(), reference, this.name, this.#manifestBytes, () =>
      this.#empty(),
    );
  }

  async #empty(): Promise<Error> {
    const exists = await stat(this.dir).catch(() => undefined);
    return new NotFoundError(
      exists ? `${this.name} holds no image (index.json lists none)` : `${this.dir} does not exist`,
    );
  }

  readonly #manifestBytes = (entry: Descriptor): Promise<Buffer | undefined> =>
    readFile(this.#blobPath(entry.digest)).catch(() => undefined);

  /**
   * The manifests that refer to `subject`: index.json lists every manifest
   * with a subject as an untagged entry (as oras does), so the layout keeps
   * signatures and SBOMs reachable and copies them onward.
   */
  async referrers(subject: Descriptor): Promise<Descriptor[]> {
    return referrersIn(await this.#index(), subject.digest, this.#manifestBytes);
  }

  /** A copy's root without a tag is listed untagged, as skopeo does, so tools find it. */
  async finish(root: Descriptor, tag?: string): Promise<void> {
    if (tag) return;
    await this.#record(root);
  }

  async fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    return verifiedManifest(descriptor, await this.#manifestBytes(descriptor), this.name);
  }

  async pushManifest(descriptor: Descriptor, bytes: Buffer, tag?: string): Promise<void> {
    await this.#writeVerified(descriptor, async () => Readable.from([bytes]));
    if (tag) await this.#tag(descriptor, tag);
    else if (subjectOf(bytes)) await this.#record(descriptor, bytes);
  }

  async fetchBlob(descriptor: Descriptor, offset = 0, options: { verify?: boolean } = {}): Promise<Readable> {
    const path = this.#blobPath(descriptor.digest);
    await stat(path).catch(() => {
      throw new NotFoundError(`${this.name}: missing blob ${descriptor.digest}`);
    });
    const stream = createReadStream(path, { start: offset, highWaterMark: STREAM_BUFFER_BYTES });
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
    const forget = trackTemporary(temp);
    try {
      const file = createWriteStream(temp, { flags: "w", highWaterMark: STREAM_BUFFER_BYTES });
      // A write error (disk full) surfaces through end() below; never as an uncaught event.
      file.on("error", () => undefined);
      const failed = await receiveBlob(descriptor, open, (chunk) =>
        file.write(chunk) ? undefined : new Promise<void>((resolve) => file.once("drain", () => resolve())),
      ).then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      const closed = new Promise<void>((resolve, reject) =>
        file.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      if (failed) {
        await closed.catch(() => undefined);
        throw failed.error;
      }
      await closed;
      await rename(temp, final);
    } finally {
      await rm(temp, { force: true });
      forget();
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
    await this.#updateIndex((manifests) => withTag(manifests, descriptor, tag));
  }

  /** Lists a manifest untagged (a copied root, a referrer) unless index.json lists it already. */
  async #record(descriptor: Descriptor, bytes?: Buffer): Promise<void> {
    await this.#updateIndex((manifests) => withUntagged(manifests, descriptor, bytes));
  }

  async #updateIndex(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    await this.#ensureLayout();
    await this.#withLock(async () => {
      const index = await this.#index();
      const manifests = change(index.manifests);
      if (manifests === index.manifests) return;
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
