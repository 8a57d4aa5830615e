import type { Readable } from "node:stream";
import { type Digest, digestAlgorithm, digestEquals, isDigest } from "../core/digest.js";
import { DigestMismatchError, ProtocolError } from "../core/errors.js";
import { headerValue } from "../transport/response.js";
import type { HttpResponse } from "../transport/types.js";
import { type RegistryContext, repositoryScope } from "./context.js";

/**
 * One upload session (`/v2/<name>/blobs/uploads/<id>`). It tracks the
 * Location the registry hands back after each step (it may change) and the
 * offset the registry has confirmed, which is what makes resuming possible.
 */
export class UploadSession {
  readonly #ctx: RegistryContext;
  readonly repository: string;
  #location: URL;
  #offset: number;

  constructor(ctx: RegistryContext, repository: string, location: URL, offset = 0) {
    this.#ctx = ctx;
    this.repository = repository;
    this.#location = location;
    this.#offset = offset;
  }

  get location(): URL {
    return this.#location;
  }

  /** Bytes the registry has confirmed. */
  get offset(): number {
    return this.#offset;
  }

  /** Asks the registry how much it has (end-13) and adopts its answer. */
  async status(signal?: AbortSignal): Promise<number> {
    const response = await this.#ctx.callAndDiscard({
      method: "GET",
      path: this.#location,
      expect: [204],
      operation: `upload status ${this.repository}`,
      scopes: [repositoryScope(this.repository, "pull", "push")],
      ...(signal ? { signal } : {}),
    });
    this.#adopt(response);
    return this.#offset;
  }

  /** PATCHes one chunk at the current offset with an explicit Content-Range. */
  async append(chunk: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (chunk.byteLength === 0) return;
    const start = this.#offset;
    const response = await this.#ctx.callAndDiscard({
      method: "PATCH",
      path: this.#location,
      headers: {
        "content-type": "application/octet-stream",
        "content-range": `${start}-${start + chunk.byteLength - 1}`,
        "content-length": String(chunk.byteLength),
      },
      body: chunk,
      expect: [202],
      operation: `upload chunk ${this.repository}`,
      scopes: [repositoryScope(this.repository, "pull", "push")],
      ...(signal ? { signal } : {}),
    });
    this.#adopt(response, start + chunk.byteLength);
  }

  /** Completes the upload (end-6), optionally with a last body, and checks the digest the registry reports. */
  async complete(
    digest: Digest,
    body?: Uint8Array | Readable | (() => Readable),
    length?: number,
    signal?: AbortSignal,
  ) {
    const url = new URL(this.#location.href);
    url.searchParams.set("digest", digest);
    const response = await this.#ctx.callAndDiscard({
      method: "PUT",
      path: url,
      headers: {
        "content-type": "application/octet-stream",
        ...(length !== undefined ? { "content-length": String(length) } : {}),
      },
      ...(body !== undefined ? { body } : {}),
      expect: [201, 204],
      operation: `complete upload ${this.repository}@${digest}`,
      scopes: [repositoryScope(this.repository, "pull", "push")],
      idleTimeoutMs: 300_000,
      ...(signal ? { signal } : {}),
    });
    const served = headerValue(response, "docker-content-digest");
    if (
      served &&
      isDigest(served) &&
      digestAlgorithm(served) === digestAlgorithm(digest) &&
      !digestEquals(served, digest)
    ) {
      throw new DigestMismatchError(digest, served, "uploaded blob");
    }
  }

  /** Abandons the session so the registry can free what it holds. */
  async cancel(signal?: AbortSignal): Promise<void> {
    await this.#ctx.callAndDiscard({
      method: "DELETE",
      path: this.#location,
      expect: [200, 202, 204, 404],
      operation: `cancel upload ${this.repository}`,
      scopes: [repositoryScope(this.repository, "pull", "push")],
      ...(signal ? { signal } : {}),
    });
  }

  #adopt(response: HttpResponse, fallbackOffset?: number): void {
    const location = headerValue(response, "location");
    if (location) this.#location = this.#ctx.uploadUrl(location, response.url);
    const range = headerValue(response, "range");
    const match = range ? /^(?:bytes=)?0-(\d+)$/.exec(range.trim()) : null;
    if (range === undefined) {
      if (fallbackOffset !== undefined) this.#offset = fallbackOffset;
      return;
    }
    if (!match) throw new ProtocolError(`upload ${this.repository}: invalid Range header`);
    const end = Number(match[1]);
    // "0-0" is how registries say "nothing yet" and also "one byte": only the
    // amount we just sent can tell the two apart.
    this.#offset = end === 0 ? Math.min(fallbackOffset ?? 0, 1) : end + 1;
  }
}
