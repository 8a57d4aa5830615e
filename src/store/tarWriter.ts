import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import { ConfigurationError, UsageError } from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";
import { receiveBlob } from "./receiveBlob.js";
import { trackTemporary } from "./temporaryFiles.js";

/** The writable side of a tar-stream entry (streamx). */
interface EntryWriter {
  write(chunk: Buffer): boolean;
  end(callback?: (error?: Error | null) => void): unknown;
  once(event: "drain", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  destroy(error?: Error): unknown;
}

/**
 * A tarball written entry by entry into a temporary file beside `file`,
 * renamed into place by `commit()`; `abort()` (or Ctrl-C, through the
 * temporary-file registry) removes it. Entries are written one after
 * another, so concurrent adds queue up; a blob whose source breaks resumes
 * inside its entry, and one that fails verification fails the archive.
 */
export class TarWriter {
  readonly file: string;
  readonly #pack = pack();
  #temp: string | undefined;
  #done: Promise<void> | undefined;
  #forget: (() => void) | undefined;
  #queue: Promise<void> = Promise.resolve();
  #failed: unknown;

  constructor(file: string) {
    this.file = file;
  }

  /** Opens the temporary file on first use; a missing directory is refused before any byte moves. */
  async #ready(): Promise<void> {
    if (this.#failed) throw this.#failed;
    if (this.#done) return;
    const parent = dirname(this.file);
    const dir = await stat(parent).catch(() => undefined);
    if (!dir?.isDirectory())
      throw new UsageError(`cannot write ${this.file}: directory ${parent} does not exist`);
    if (this.#done) return;
    this.#temp = `${this.file}.${randomBytes(6).toString("hex")}.tmp`;
    this.#forget = trackTemporary(this.#temp);
    const temp = this.#temp;
    this.#done = pipeline(this.#pack, createWriteStream(temp)).catch((error: Error) => {
      throw new ConfigurationError(`cannot write ${this.file}: ${error.message}`, { cause: error });
    });
    // Surfaces through commit() or the next entry; never as an unhandled rejection.
    this.#done.catch((error: unknown) => {
      this.#failed ??= error;
    });
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(async () => {
      await this.#ready();
      try {
        await task();
      } catch (error) {
        this.#failed ??= error;
        throw error;
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** A blob entry, verified against its descriptor while it is written. */
  addBlob(name: string, descriptor: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
    return this.#enqueue(async () => {
      const entry = this.#pack.entry({
        name,
        size: descriptor.size,
        mode: 0o644,
        mtime: new Date(0),
      }) as unknown as EntryWriter;
      try {
        await receiveBlob(descriptor, open, (chunk) =>
          entry.write(chunk) ? undefined : new Promise<void>((resolve) => entry.once("drain", resolve)),
        );
      } catch (error) {
        // The archive cannot be completed now; the error is reported by the caller, not as an event.
        entry.on("error", () => undefined);
        entry.destroy();
        throw error;
      }
      await new Promise<void>((resolve, reject) => entry.end((e) => (e ? reject(e) : resolve())));
    });
  }

  /** A small entry (manifest.json, index.json, …). */
  addText(name: string, text: string | Buffer): Promise<void> {
    return this.#enqueue(
      () =>
        new Promise<void>((resolve, reject) =>
          this.#pack.entry({ name, mtime: new Date(0), mode: 0o644 }, text, (e) =>
            e ? reject(e) : resolve(),
          ),
        ),
    );
  }

  /** Ends the tar and renames it into place: the file appears only complete. */
  async commit(): Promise<void> {
    try {
      await this.#queue;
      await this.#ready();
      this.#pack.finalize();
      await this.#done;
      await rename(this.#temp!, this.file);
      this.#forget?.();
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /** Discards the temporary file; safe to call more than once. */
  async abort(): Promise<void> {
    this.#failed ??= new ConfigurationError(`${this.file}: the archive was abandoned`);
    this.#pack.destroy();
    await this.#done?.catch(() => undefined);
    if (this.#temp) await rm(this.#temp, { force: true });
    this.#forget?.();
  }
}
