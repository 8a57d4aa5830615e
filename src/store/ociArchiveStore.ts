import { Readable } from "node:stream";
import { digestAlgorithm, digestEquals, digestHex, parseDigest } from "../core/digest.js";
import { DigestMismatchError, InvalidInputError, NotFoundError } from "../core/errors.js";
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
import type { ReferrerLister, Store } from "./store.js";
import { TarReader } from "./tarReader.js";
import { TarWriter } from "./tarWriter.js";

const MAX_MANIFEST = 4 << 20;

/**
 * An OCI archive (`oci-archive:FILE[:TAG]`, as skopeo names it): a tarball of
 * an OCI image layout. Reading streams entries out of the tar (one pass
 * hashes them, each read streams one entry); writing streams blobs into a
 * temporary tar and adds `oci-layout` and `index.json` last, in `finish()`,
 * before the file is renamed into place. Referrers are listed in index.json
 * as in a layout directory.
 */
export class OciArchiveStore implements Store, ReferrerLister {
  readonly file: string;
  readonly name: string;
  readonly #reader: TarReader;
  #index: Promise<LayoutIndex> | undefined;
  #writer: TarWriter | undefined;
  readonly #written = new Set<string>();
  #manifests: Descriptor[] = [];

  constructor(file: string, reader = new TarReader(file)) {
    this.file = file;
    this.name = `oci-archive:${file}`;
    this.#reader = reader;
  }

  #path(digest: string): string {
    const valid = parseDigest(digest);
    return `blobs/${digestAlgorithm(valid)}/${digestHex(valid)}`;
  }

  #readIndex(): Promise<LayoutIndex> {
    this.#index ??= (async () => {
      const entries = await this.#reader.entries();
      if (!entries.has("index.json"))
        throw new InvalidInputError(
          entries.has("manifest.json")
            ? `${this.file} is a docker archive, not an OCI archive: use docker-archive:${this.file}`
            : `${this.file} has no index.json: not an OCI archive`,
        );
      let json: unknown;
      try {
        json = JSON.parse(await this.#reader.readText("index.json"));
      } catch {
        json = undefined;
      }
      const parsed = layoutIndexSchema.safeParse(json);
      if (!parsed.success)
        throw new InvalidInputError(`${this.file}: index.json is not a valid OCI image index`);
      return parsed.data;
    })();
    return this.#index;
  }

  readonly #manifestBytes = async (descriptor: Descriptor): Promise<Buffer | undefined> => {
    const entry = (await this.#reader.entries()).get(this.#path(descriptor.digest));
    if (!entry || entry.size > MAX_MANIFEST) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of this.#reader.read(entry.name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  async resolve(reference: string): Promise<Descriptor> {
    return resolveInLayout(
      await this.#readIndex(),
      reference,
      this.name,
      this.#manifestBytes,
      async () => new NotFoundError(`${this.name} holds no image (index.json lists none)`),
    );
  }

  async fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    return verifiedManifest(descriptor, await this.#manifestBytes(descriptor), this.name);
  }

  async fetchBlob(descriptor: Descriptor, offset = 0): Promise<Readable> {
    const entry = (await this.#reader.entries()).get(this.#path(descriptor.digest));
    if (!entry) throw new NotFoundError(`${this.name}: missing blob ${descriptor.digest}`);
    // The receiving store verifies; the tar scan has hashed the entry already.
    if (!digestEquals(entry.digest, descriptor.digest))
      throw new DigestMismatchError(descriptor.digest, entry.digest, "blob");
    return this.#reader.read(entry.name, offset);
  }

  /** An archive is written whole: only what this run has written counts as present. */
  async exists(descriptor: Descriptor): Promise<boolean> {
    return this.#written.has(descriptor.digest);
  }

  async *tags(): AsyncIterable<string> {
    const index = await this.#readIndex();
    yield* index.manifests
      .map((d) => d.annotations?.[REF_NAME])
      .filter((t): t is string => t !== undefined)
      .sort();
  }

  async referrers(subject: Descriptor): Promise<Descriptor[]> {
    return referrersIn(await this.#readIndex(), subject.digest, this.#manifestBytes);
  }

  /* Writing. */

  async pushBlob(descriptor: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
    if (this.#written.has(descriptor.digest)) return;
    this.#writer ??= new TarWriter(this.file);
    await this.#writer.addBlob(this.#path(descriptor.digest), descriptor, open);
    this.#written.add(descriptor.digest);
  }

  async pushManifest(descriptor: Descriptor, bytes: Buffer, tag?: string): Promise<void> {
    await this.pushBlob(descriptor, async () => Readable.from([bytes]));
    if (tag) this.#manifests = withTag(this.#manifests, descriptor, tag);
    else if (subjectOf(bytes)) this.#manifests = withUntagged(this.#manifests, descriptor, bytes);
  }

  /** Adds `oci-layout` and `index.json` (an untagged root listed as skopeo does), then renames into place. */
  async finish(root: Descriptor, tag?: string): Promise<void> {
    this.#writer ??= new TarWriter(this.file);
    const writer = this.#writer;
    try {
      const manifests = tag ? this.#manifests : withUntagged(this.#manifests, root);
      await writer.addText("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
      await writer.addText(
        "index.json",
        JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }),
      );
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    } finally {
      this.#writer = undefined;
      this.#manifests = [];
      this.#reader.forget();
      this.#index = undefined;
    }
  }

  async abort(): Promise<void> {
    await this.#writer?.abort();
    this.#writer = undefined;
    this.#manifests = [];
  }
}
