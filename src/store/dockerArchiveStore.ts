import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, type Header, pack } from "tar-stream";
import { z } from "zod";
import { type Digest, Digester, digestHex, digestOf } from "../core/digest.js";
import { ConfigurationError, InvalidInputError, NotFoundError, UnsupportedError } from "../core/errors.js";
import { type Descriptor, parseManifest } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import type { Store } from "./store.js";

const archiveManifest = z.array(
  z.looseObject({ Config: z.string(), RepoTags: z.array(z.string()).nullish(), Layers: z.array(z.string()) }),
);

/** The parts of tar-stream's (streamx) entry stream used here. */
interface TarEntry {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  pipe(destination: NodeJS.WritableStream): unknown;
  resume(): unknown;
}

interface Entry {
  name: string;
  size: number;
  digest: Digest;
  gzip: boolean;
}

/** Names in a tarball must stay inside it: no absolute paths, no `..`. */
function safeName(name: string): string {
  const clean = name.replace(/^\.\//, "");
  if (clean.startsWith("/") || clean.split("/").includes("..") || clean.includes("\0")) {
    throw new InvalidInputError(
      `docker archive entry escapes the archive: ${JSON.stringify(name.slice(0, 100))}`,
    );
  }
  return clean;
}

/**
 * A `docker save` tarball (`manifest.json`, `repositories`, the config and
 * layer files). Reading streams through the tar (a first pass hashes the
 * entries; each blob read streams its entry again), never holding the whole
 * archive in memory. Writing streams entries into a temporary file that is
 * renamed into place when the image's manifest arrives. One image per
 * archive: copy a single platform into it.
 */
export class DockerArchiveStore implements Store {
  readonly file: string;
  readonly name: string;
  #scan: Promise<Map<string, Entry>> | undefined;
  #writer:
    | { pack: ReturnType<typeof pack>; done: Promise<void>; temp: string; queue: Promise<void> }
    | undefined;
  readonly #written = new Map<string, Descriptor>();

  constructor(file: string) {
    this.file = file;
    this.name = `docker-archive:${file}`;
  }

  /** One pass over the tar: name → size, digest, compression. */
  #entries(): Promise<Map<string, Entry>> {
    this.#scan ??= (async () => {
      const entries = new Map<string, Entry>();
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
      if (!(await stat(this.file).catch(() => undefined))) {
        tar.destroy();
        done.catch(() => undefined);
        throw new NotFoundError(`${this.file} does not exist`);
      }
      // The entry handler's verdict (`done`) explains a failure better than the pipeline's.
      await Promise.all([pipeline(createReadStream(this.file), tar).catch(() => done), done]);
      return entries;
    })();
    return this.#scan;
  }

  async #read(name: string): Promise<Readable> {
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
        stream.pipe(out);
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

  async #manifest(): Promise<{
    descriptor: Descriptor;
    bytes: Buffer;
    tags: string[];
    byDigest: Map<string, Entry>;
  }> {
    const entries = await this.#entries();
    const manifestEntry = entries.get("manifest.json");
    if (!manifestEntry)
      throw new InvalidInputError(`${this.file} has no manifest.json: not a docker archive`);
    const chunks: Buffer[] = [];
    for await (const chunk of await this.#read("manifest.json")) chunks.push(chunk as Buffer);
    const parsed = archiveManifest.safeParse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    if (!parsed.success || parsed.data.length === 0)
      throw new InvalidInputError(`${this.file}: manifest.json is not valid`);
    if (parsed.data.length > 1)
      throw new UnsupportedError(`${this.file} holds ${parsed.data.length} images; regkit reads one`);
    const image = parsed.data[0]!;
    const lookup = (name: string) => {
      const entry = entries.get(safeName(name));
      if (!entry) throw new InvalidInputError(`${this.file}: manifest.json names a missing file ${name}`);
      return entry;
    };
    const config = lookup(image.Config);
    const layers = image.Layers.map(lookup);
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, size: config.size, digest: config.digest },
      layers: layers.map((l) => ({
        mediaType: l.gzip ? MediaType.DockerLayerGzip : "application/vnd.docker.image.rootfs.diff.tar",
        size: l.size,
        digest: l.digest,
      })),
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const byDigest = new Map([config, ...layers].map((e) => [e.digest as string, e]));
    const tags = (image.RepoTags ?? []).map((t) => t.slice(t.lastIndexOf(":") + 1));
    return {
      descriptor: { mediaType: MediaType.DockerManifest, digest: digestOf(bytes), size: bytes.length },
      bytes,
      tags,
      byDigest,
    };
  }

  async resolve(reference: string): Promise<Descriptor> {
    const { descriptor, tags } = await this.#manifest();
    if (reference && reference !== descriptor.digest && !tags.includes(reference) && tags.length > 0) {
      throw new NotFoundError(`${this.name}: no image tagged ${reference} (tags: ${tags.join(", ")})`);
    }
    return descriptor;
  }

  async fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    const { descriptor: own, bytes } = await this.#manifest();
    if (descriptor.digest !== own.digest)
      throw new NotFoundError(`${this.name}: no manifest ${descriptor.digest}`);
    return bytes;
  }

  async fetchBlob(descriptor: Descriptor, offset = 0): Promise<Readable> {
    const { byDigest } = await this.#manifest();
    const entry = byDigest.get(descriptor.digest);
    if (!entry) throw new NotFoundError(`${this.name}: no blob ${descriptor.digest}`);
    const stream = await this.#read(entry.name);
    if (offset === 0) return stream;
    let skipped = 0;
    const out = new PassThrough();
    stream.on("data", (chunk: Buffer) => {
      const keep = chunk.subarray(Math.max(0, offset - skipped));
      skipped += chunk.byteLength;
      if (keep.byteLength > 0) out.write(keep);
    });
    stream.on("end", () => out.end());
    stream.on("error", (error) => out.destroy(error));
    return out;
  }

  /** An archive is written whole: only what this run has written counts as present. */
  async exists(descriptor: Descriptor): Promise<boolean> {
    return this.#written.has(descriptor.digest);
  }

  /** The archive's tags (`REPO:TAG` entries of its manifest). */
  async *tags(): AsyncIterable<string> {
    yield* (await this.#manifest()).tags;
  }

  /* Writing. */

  #open() {
    if (!this.#writer) {
      const temp = `${this.file}.${randomBytes(6).toString("hex")}.tmp`;
      const tar = pack();
      const done = pipeline(tar, createWriteStream(temp));
      this.#writer = { pack: tar, done, temp, queue: Promise.resolve() };
    }
    return this.#writer;
  }

  /** Tar entries are written one after another: blob pushes queue up. */
  async pushBlob(descriptor: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
    if (this.#written.has(descriptor.digest)) return;
    const writer = this.#open();
    const isConfig =
      descriptor.mediaType === MediaType.DockerConfig || descriptor.mediaType.includes("config");
    const name = `${digestHex(descriptor.digest)}${isConfig ? ".json" : ".tar"}`;
    const task = writer.queue.then(async () => {
      const source = await open(0);
      const digester = new Digester();
      const entry = writer.pack.entry({ name, size: descriptor.size, mode: 0o644, mtime: new Date(0) });
      source.on("data", (chunk: Buffer) => digester.update(chunk));
      await pipeline(source, entry);
      const actual = digester.digest();
      if (actual !== descriptor.digest)
        throw new InvalidInputError(`blob ${descriptor.digest} arrived as ${actual}`);
      this.#written.set(descriptor.digest, { ...descriptor, annotations: { name } });
    });
    writer.queue = task.catch(() => undefined);
    await task;
  }

  /** Records the image manifest; the archive is closed by `finish()` once the copy is complete. */
  async pushManifest(descriptor: Descriptor, bytes: Buffer, tag?: string): Promise<void> {
    const parsed = parseManifest(bytes, descriptor.mediaType);
    if (parsed.kind === "index") {
      throw new UnsupportedError(
        "a docker archive holds one image: copy a single platform into it (--platform)",
      );
    }
    if (this.#image && this.#image.digest !== descriptor.digest) {
      throw new UnsupportedError(
        "a docker archive holds one image: copy a single platform into it (--platform)",
      );
    }
    this.#image = {
      digest: descriptor.digest,
      config: parsed.manifest.config.digest,
      layers: parsed.manifest.layers.map((l) => l.digest),
      tag,
    };
  }

  /** Writes `manifest.json` and `repositories`, then renames the archive into place. */
  async finish(): Promise<void> {
    const image = this.#image;
    if (!image) throw new ConfigurationError("docker archive: no image was written");
    const writer = this.#open();
    await writer.queue;
    const file = (digest: string) => {
      const entry = this.#written.get(digest);
      if (!entry) throw new ConfigurationError(`docker archive: blob ${digest} was not written`);
      return entry.annotations!.name!;
    };
    const repository = this.repository ?? "regkit/image";
    const manifestJson = [
      {
        Config: file(image.config),
        RepoTags: image.tag ? [`${repository}:${image.tag}`] : [],
        Layers: image.layers.map(file),
      },
    ];
    const add = (name: string, text: string) =>
      new Promise<void>((resolve, reject) =>
        writer.pack.entry({ name, mtime: new Date(0), mode: 0o644 }, text, (e) =>
          e ? reject(e) : resolve(),
        ),
      );
    await add("manifest.json", JSON.stringify(manifestJson));
    if (image.tag) {
      await add(
        "repositories",
        JSON.stringify({
          [repository]: { [image.tag]: digestHex((image.layers.at(-1) as Digest) ?? image.config) },
        }),
      );
    }
    writer.pack.finalize();
    try {
      await writer.done;
      await rename(writer.temp, this.file);
    } catch (error) {
      await rm(writer.temp, { force: true });
      throw error;
    } finally {
      this.#writer = undefined;
      this.#scan = undefined;
      this.#image = undefined;
    }
  }

  #image: { digest: string; config: string; layers: string[]; tag: string | undefined } | undefined;

  /** The repository name recorded in `RepoTags` (`docker load` tags the image with it). */
  repository: string | undefined;
}
