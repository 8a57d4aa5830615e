import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { PassThrough, type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, type Header } from "tar-stream";
import { type Digest, Digester } from "../core/digest.js";
import { InvalidInputError, NotFoundError } from "../core/errors.js";

/** The parts of tar-stream's (streamx) entry stream used here. */
interface TarEntry {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  pipe(destination: NodeJS.WritableStream): unknown;
  resume(): unknown;
}

export interface TarFileEntry {
  name: string;
  size: number;
  digest: Digest;
  gzip: boolean;
}

/** Names in a tarball must stay inside it: no absolute paths, no `..`. */
export function safeName(name: string): string {
  const clean = name.replace(/^\.\//, "");
  if (clean.startsWith("/") || clean.split("/").includes("..") || clean.includes("\0")) {
    throw new InvalidInputError(`archive entry escapes the archive: ${JSON.stringify(name.slice(0, 100))}`);
  }
  return clean;
}

/**
 * Reads a tarball without holding it in memory: one pass hashes every file
 * entry (name → size, digest, compression); each read streams one entry
 * again. Shared by the docker-archive and oci-archive stores.
 */
export class TarReader {
  readonly file: string;
  #scan: Promise<Map<string, TarFileEntry>> | undefined;

  constructor(file: string) {
    this.file = file;
  }

  entries(): Promise<Map<string, TarFileEntry>> {
    this.#scan ??= this.#scanOnce();
    return this.#scan;
  }

  async #scanOnce(): Promise<Map<string, TarFileEntry>> {
    const info = await stat(this.file).catch(() => undefined);
    if (!info) throw new NotFoundError(`${this.file} does not exist`);
    if (!info.isFile()) throw new InvalidInputError(`${this.file} is not a file: expected a tar archive`);
    const entries = new Map<string, TarFileEntry>();
    let unsafe: Error | undefined;
    const tar = extract();
    const done = new Promise<void>((resolve, reject) => {
      tar.on("entry", (header: Header, entryStream, next: () => void) => {
        const stream = entryStream as unknown as TarEntry;
        let name: string;
        try {
          name = safeName(header.name);
        } catch (error) {
          // Remember the verdict, read past the entry, and fail once the scan ends.
          unsafe ??= error as Error;
          stream.on("end", () => next());
          stream.resume();
          return;
        }
        const digester = new Digester();
        let first: Buffer | undefined;
        stream.on("data", (chunk: Buffer) => {
          first ??= chunk;
          digester.update(chunk);
        });
        stream.on("end", () => {
          if (header.type === "file") {
            entries.set(name, {
              name,
              size: digester.size,
              digest: digester.digest(),
              gzip: first?.[0] === 0x1f && first?.[1] === 0x8b,
            });
          }
          next();
        });
        stream.on("error", reject);
      });
      tar.on("finish", () => (unsafe ? reject(unsafe) : resolve()));
      tar.on("error", (error: Error) =>
        reject(new InvalidInputError(`${this.file} is not a valid tar archive: ${error.message}`)),
      );
    });
    // The entry handler's verdict (`done`) explains a failure better than the pipeline's.
    await Promise.all([pipeline(createReadStream(this.file), tar).catch(() => done), done]);
    return entries;
  }

  /** Streams one entry's bytes, from `offset`. */
  read(name: string, offset = 0): Readable {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    const tar = extract();
    let found = false;
    tar.on("entry", (header: Header, entryStream, next: () => void) => {
      const stream = entryStream as unknown as TarEntry;
      let entryName: string;
      try {
        entryName = safeName(header.name);
      } catch (error) {
        tar.destroy(error as Error);
        out.destroy(error as Error);
        return;
      }
      if (!found && entryName === name) {
        found = true;
        const sink = offset > 0 ? skipBytes(offset) : out;
        if (sink !== out) sink.pipe(out);
        stream.pipe(sink);
        stream.on("end", () => next());
      } else {
        stream.on("end", () => next());
        stream.resume();
      }
    });
    tar.on("finish", () => {
      if (!found) out.destroy(new NotFoundError(`${this.file}: no entry ${name}`));
    });
    pipeline(createReadStream(this.file), tar).catch((error: Error) => out.destroy(error));
    return out;
  }

  /** A small entry, whole. */
  async readText(name: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.read(name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  /** Lets a later read see a rewritten file. */
  forget(): void {
    this.#scan = undefined;
  }
}

/** Drops the first `count` bytes (a resumed read), with backpressure. */
function skipBytes(count: number): Transform {
  let left = count;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (left >= chunk.byteLength) {
        left -= chunk.byteLength;
        callback();
        return;
      }
      const keep = chunk.subarray(left);
      left = 0;
      callback(null, keep);
    },
  });
}
