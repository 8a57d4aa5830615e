import { Readable } from "node:stream";
import { Digester, digestAlgorithm, digestEquals } from "../core/digest.js";
import { DigestMismatchError, NotFoundError, SizeMismatchError } from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";
import type { Store } from "./store.js";

/** Content in memory: for tests, and for small images assembled in a program. */
export class MemoryStore implements Store {
  readonly name = "memory";
  readonly #content = new Map<string, { descriptor: Descriptor; bytes: Buffer }>();
  readonly #tags = new Map<string, Descriptor>();

  async resolve(reference: string): Promise<Descriptor> {
    const found = this.#tags.get(reference) ?? this.#content.get(reference)?.descriptor;
    if (!found) throw new NotFoundError(`memory: no manifest ${reference}`);
    return found;
  }

  async fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    return this.#get(descriptor);
  }

  async pushManifest(descriptor: Descriptor, bytes: Buffer, tag?: string): Promise<void> {
    this.#put(descriptor, bytes);
    if (tag) this.#tags.set(tag, descriptor);
  }

  async fetchBlob(descriptor: Descriptor, offset = 0): Promise<Readable> {
    return Readable.from([this.#get(descriptor).subarray(offset)]);
  }

  async pushBlob(descriptor: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of await open(0)) chunks.push(chunk as Buffer);
    this.#put(descriptor, Buffer.concat(chunks));
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    return this.#content.has(descriptor.digest);
  }

  /** The tags held, sorted. */
  async *tags(): AsyncIterable<string> {
    yield* [...this.#tags.keys()].sort();
  }

  #get(descriptor: Descriptor): Buffer {
    const entry = this.#content.get(descriptor.digest);
    if (!entry) throw new NotFoundError(`memory: no content ${descriptor.digest}`);
    return entry.bytes;
  }

  #put(descriptor: Descriptor, bytes: Buffer): void {
    if (bytes.byteLength !== descriptor.size) throw new SizeMismatchError(descriptor.size, bytes.byteLength);
    const digester = new Digester(digestAlgorithm(descriptor.digest));
    digester.update(bytes);
    const actual = digester.digest();
    if (!digestEquals(actual, descriptor.digest)) throw new DigestMismatchError(descriptor.digest, actual);
    this.#content.set(descriptor.digest, { descriptor, bytes });
  }
}
