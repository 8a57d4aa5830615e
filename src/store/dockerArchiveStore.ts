import type { Readable } from "node:stream";
import { z } from "zod";
import { type Digest, digestHex, digestOf } from "../core/digest.js";
import { InvalidInputError, isRegkitError, NotFoundError, UnsupportedError } from "../core/errors.js";
import { type Descriptor, parseManifest } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import { parseRepository } from "../core/reference.js";
import type { Store } from "./store.js";
import { safeName, type TarFileEntry, TarReader } from "./tarReader.js";
import { TarWriter } from "./tarWriter.js";

const archiveManifest = z.array(
  z.looseObject({ Config: z.string(), RepoTags: z.array(z.string()).nullish(), Layers: z.array(z.string()) }),
);

const ONE_IMAGE = "a docker archive holds one image: copy a single platform into it (--platform)";

/**
 * A `docker save` tarball (`manifest.json`, `repositories`, the config and
 * layer files). Reading streams through the tar (a first pass hashes the
 * entries; each blob read streams its entry again), never holding the whole
 * archive in memory. Writing streams entries into a temporary file that is
 * renamed into place by `finish()`. One image per archive: copy a single
 * platform into it.
 */
export class DockerArchiveStore implements Store {
  readonly file: string;
  /** Copy refuses an index before moving anything: this store takes one image. */
  readonly holdsOneImage = true;
  readonly #reader: TarReader;
  #writer: TarWriter | undefined;
  readonly #written = new Map<string, string>();
  #repository: string | undefined;
  #image: { digest: string; config: string; layers: string[]; tag: string | undefined } | undefined;

  constructor(file: string, reader = new TarReader(file)) {
    this.file = file;
    this.#reader = reader;
  }

  get name(): string {
    return `docker-archive:${this.file}${this.#repository ? `:${this.#repository}` : ""}`;
  }

  /** The repository name recorded in `RepoTags` (`docker load` tags the image with it); none: untagged. */
  get repository(): string | undefined {
    return this.#repository;
  }

  set repository(name: string | undefined) {
    // docker load refuses what the reference grammar refuses: check before writing anything.
    if (name !== undefined) {
      try {
        parseRepository(name);
      } catch (error) {
        throw new InvalidInputError(
          `invalid image name ${JSON.stringify(name)} for a docker archive (docker load would refuse it): ` +
            `${isRegkitError(error) ? error.message.replace(/^invalid reference "[^"]*": /, "") : ""}`,
        );
      }
    }
    this.#repository = name;
  }

  async #manifest(): Promise<{
    descriptor: Descriptor;
    bytes: Buffer;
    tags: string[];
    byDigest: Map<string, TarFileEntry>;
  }> {
    const entries = await this.#reader.entries();
    if (!entries.get("manifest.json"))
      throw new InvalidInputError(
        entries.has("index.json") && entries.has("oci-layout")
          ? `${this.file} is an OCI archive, not a docker archive: use oci-archive:${this.file}`
          : `${this.file} has no manifest.json: not a docker archive`,
      );
    let json: unknown;
    try {
      json = JSON.parse(await this.#reader.readText("manifest.json"));
    } catch {
      json = undefined;
    }
    const parsed = archiveManifest.safeParse(json);
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
    return this.#reader.read(entry.name, offset);
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

  /** Tar entries are written one after another: blob pushes queue up; a broken source resumes. */
  async pushBlob(descriptor: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
    if (this.#written.has(descriptor.digest)) return;
    this.#writer ??= new TarWriter(this.file);
    const isConfig =
      descriptor.mediaType === MediaType.DockerConfig || descriptor.mediaType.includes("config");
    const name = `${digestHex(descriptor.digest)}${isConfig ? ".json" : ".tar"}`;
    await this.#writer.addBlob(name, descriptor, open);
    this.#written.set(descriptor.digest, name);
  }

  /** Records the image manifest; the archive is closed by `finish()` once the copy is complete. */
  async pushManifest(descriptor: Descriptor, bytes: Buffer, tag?: string): Promise<void> {
    const parsed = parseManifest(bytes, descriptor.mediaType);
    if (parsed.kind === "index" || (this.#image && this.#image.digest !== descriptor.digest))
      throw new UnsupportedError(ONE_IMAGE);
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
    if (!image) throw new UnsupportedError("docker archive: no image was written");
    this.#writer ??= new TarWriter(this.file);
    const writer = this.#writer;
    try {
      const file = (digest: string) => {
        const name = this.#written.get(digest);
        if (!name) throw new UnsupportedError(`docker archive: blob ${digest} was not written`);
        return name;
      };
      // Without a name the image is saved untagged, as skopeo does: docker load keeps it by ID.
      const repoTag = image.tag && this.#repository ? `${this.#repository}:${image.tag}` : undefined;
      const manifestJson = [
        { Config: file(image.config), RepoTags: repoTag ? [repoTag] : null, Layers: image.layers.map(file) },
      ];
      await writer.addText("manifest.json", JSON.stringify(manifestJson));
      if (repoTag && image.tag) {
        const top = digestHex((image.layers.at(-1) as Digest) ?? image.config);
        await writer.addText("repositories", JSON.stringify({ [this.#repository!]: { [image.tag]: top } }));
      }
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    } finally {
      this.#writer = undefined;
      this.#reader.forget();
      this.#image = undefined;
    }
  }

  /** A failed copy leaves nothing: the temporary archive goes. */
  async abort(): Promise<void> {
    await this.#writer?.abort();
    this.#writer = undefined;
    this.#image = undefined;
  }
}
