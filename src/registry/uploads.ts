import { Readable } from "node:stream";
import { ExponentialBackoff, handleWhen, retry } from "cockatiel";
import { type Digest, Digester, digestAlgorithm, digestEquals } from "../core/digest.js";
import {
  DigestMismatchError,
  InvalidInputError,
  isRegkitError,
  ProtocolError,
  ServerError,
} from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";
import { headerValue } from "../transport/response.js";
import { type RegistryContext, repositoryScope } from "./context.js";
import { UploadSession } from "./uploadSession.js";

export { UploadSession };

/**
 * Where blob bytes come from. Bytes and factories can be re-read, so an
 * interrupted upload resumes from the registry's offset; a factory receives
 * the offset to start at. A bare Readable is read once.
 */
export type BlobSource = Uint8Array | Readable | ((offset: number) => Readable);

/** Options of a blob upload: the expected digest and size, chunking, abort signal. */
export interface UploadOptions {
  /** Bytes per PATCH. 0 (default) uploads in one request when digest and size are known. */
  chunkSize?: number;
  /** Repositories of the same registry to mount from instead of uploading. */
  mountFrom?: string[];
  /** Times an interrupted chunked upload asks the registry for its offset and continues. */
  maxResumes?: number;
  signal?: AbortSignal;
  /** Called with the number of bytes the registry has acknowledged so far. */
  onProgress?: (bytes: number) => void;
}

/** What an upload stored: digest, size, and whether it was there already or mounted. */
export interface UploadResult {
  descriptor: Descriptor;
  /** How the blob got there: already present, mounted, or uploaded. */
  via: "mount" | "upload";
}

const DEFAULT_MAX_RESUMES = 3;

/** Starts, mounts, resumes and finishes blob uploads for one repository. */
export class BlobUploader {
  readonly #ctx: RegistryContext;
  readonly #repository: string;

  constructor(ctx: RegistryContext, repository: string) {
    this.#ctx = ctx;
    this.#repository = repository;
  }

  /** Opens a session (end-4a), or mounts when `mount` names a source repository that has the blob (end-11). */
  async start(options: { mount?: { digest: Digest; from: string }; signal?: AbortSignal } = {}) {
    const response = await this.#ctx.callAndDiscard({
      method: "POST",
      path: `/v2/${this.#repository}/blobs/uploads/`,
      query: options.mount ? { mount: options.mount.digest, from: options.mount.from } : {},
      expect: options.mount ? [201, 202] : [202],
      operation: `start upload ${this.#repository}`,
      scopes: [
        repositoryScope(this.#repository, "pull", "push"),
        ...(options.mount ? [repositoryScope(options.mount.from, "pull")] : []),
      ],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.status === 201) return { mounted: true as const };
    const location = headerValue(response, "location");
    if (!location) throw new ProtocolError(`start upload ${this.#repository}: no Location header`);
    const url = this.#ctx.uploadUrl(location, response.url);
    return { mounted: false as const, session: new UploadSession(this.#ctx, this.#repository, url) };
  }

  /** Reattaches to a session by its Location, e.g. after a restart. */
  async resume(location: string | URL): Promise<UploadSession> {
    const url = this.#ctx.uploadUrl(String(location), await this.#ctx.baseUrl());
    return new UploadSession(this.#ctx, this.#repository, url);
  }

  /**
   * Uploads a blob: mount when possible, else one PUT when digest and size
   * are known and no chunk size is set, else chunked PATCHes (hashing on the
   * way when the digest is not known yet). Returns the final descriptor.
   */
  async upload(
    source: BlobSource,
    expected: { digest?: Digest; size?: number; mediaType?: string },
    options: UploadOptions = {},
  ): Promise<UploadResult> {
    return this.#ctx.operation("blob.upload", this.#repository, expected.digest, async () => {
      const { signal } = options;
      const mediaType = expected.mediaType ?? "application/octet-stream";
      if (
        source instanceof Uint8Array &&
        expected.size !== undefined &&
        expected.size !== source.byteLength
      ) {
        throw new InvalidInputError(`blob is ${source.byteLength} bytes, expected ${expected.size}`);
      }
      const size = expected.size ?? (source instanceof Uint8Array ? source.byteLength : undefined);
      let session: UploadSession | undefined;
      for (const from of expected.digest ? (options.mountFrom ?? []) : []) {
        if (from === this.#repository) continue;
        const started = await this.start({
          mount: { digest: expected.digest!, from },
          ...(signal ? { signal } : {}),
        });
        if (started.mounted) {
          options.onProgress?.(size ?? 0);
          return { descriptor: { mediaType, digest: expected.digest!, size: size ?? -1 }, via: "mount" };
        }
        session = started.session;
        break;
      }
      // A session the registry forgets (it drops one whose request broke) is replaced by a
      // new one and the blob sent again, as long as the source can be read again.
      for (let fresh = 0; ; fresh++) {
        session ??= await this.#open(signal);
        try {
          return await this.#send(session, source, expected, mediaType, size, options);
        } catch (error) {
          await session.cancel().catch(() => undefined);
          if (!isSessionLost(error)) throw error;
          if (source instanceof Readable || fresh >= MAX_FRESH_SESSIONS)
            throw new ServerError(
              `upload ${this.#repository}: the registry dropped the upload session (${fresh + 1} in all)`,
              { cause: error, retryable: true },
            );
          session = undefined;
        }
      }
    });
  }

  async #open(signal?: AbortSignal): Promise<UploadSession> {
    const started = await retryTransient(() => this.start(signal ? { signal } : {}), signal);
    if (started.mounted) throw new ProtocolError(`start upload ${this.#repository}: unexpected 201`);
    return started.session;
  }

  /** Sends the whole blob through one session: one PUT when digest and size are known, else chunks. */
  async #send(
    session: UploadSession,
    source: BlobSource,
    expected: { digest?: Digest; size?: number },
    mediaType: string,
    size: number | undefined,
    options: UploadOptions,
  ): Promise<UploadResult> {
    const { signal } = options;
    // The registry's default chunk size bounds a request's body; an explicit one always chunks.
    const fallback = this.#ctx.uploadChunkSize;
    const chunkSize =
      options.chunkSize ?? (fallback !== undefined && (size === undefined || size > fallback) ? fallback : 0);
    if (expected.digest && size !== undefined && chunkSize <= 0) {
      await this.#monolithic(session, source, expected.digest, size, options);
      options.onProgress?.(size);
      this.#ctx.telemetry.bytes(this.#ctx.registry, "upload", size);
      return { descriptor: { mediaType, digest: expected.digest, size }, via: "upload" };
    }
    const result = await this.#chunked(
      session,
      source,
      expected.digest,
      chunkSize > 0 ? chunkSize : 8 << 20,
      options,
    );
    if (size !== undefined && result.size !== size) {
      throw new InvalidInputError(`blob is ${result.size} bytes, expected ${size}`);
    }
    await session.complete(result.digest, undefined, 0, signal);
    this.#ctx.telemetry.bytes(this.#ctx.registry, "upload", result.size);
    return { descriptor: { mediaType, digest: result.digest, size: result.size }, via: "upload" };
  }

  /**
   * One PUT with the whole body. If it fails on the way, the registry is
   * asked how much it kept and the rest is sent from there (bytes and
   * factories can be re-read from an offset; a one-shot stream cannot).
   */
  async #monolithic(
    session: UploadSession,
    source: BlobSource,
    digest: Digest,
    size: number,
    options: UploadOptions,
  ) {
    const { signal } = options;
    const from = (offset: number) =>
      source instanceof Uint8Array
        ? source.subarray(offset)
        : source instanceof Readable
          ? source
          : () => source(offset);
    try {
      await session.complete(digest, from(0), size, signal);
      return;
    } catch (error) {
      if (!isTransient(error) || source instanceof Readable) throw error;
    }
    for (let resumes = 0; ; resumes++) {
      try {
        const offset = await session.status(signal);
        if (offset > size)
          throw new ProtocolError(
            `upload ${this.#repository}: registry reports more bytes than the blob has`,
          );
        // The closing PUT may carry the rest: registries append it at the offset they hold.
        await session.complete(digest, from(offset), size - offset, signal);
        return;
      } catch (error) {
        // The session may be gone because the failed PUT did complete: then the blob is there.
        if (
          isRegkitError(error) &&
          (error.category === "not-found" || isSessionLost(error)) &&
          (await this.#exists(digest, signal))
        )
          return;
        if (!isTransient(error) || resumes >= (options.maxResumes ?? DEFAULT_MAX_RESUMES)) throw error;
      }
    }
  }

  async #exists(digest: Digest, signal?: AbortSignal): Promise<boolean> {
    const response = await this.#ctx.callAndDiscard({
      method: "HEAD",
      path: `/v2/${this.#repository}/blobs/${digest}`,
      expect: [200, 404],
      operation: `head blob ${this.#repository}@${digest}`,
      scopes: [repositoryScope(this.#repository, "pull")],
      ...(signal ? { signal } : {}),
    });
    return response.status === 200;
  }

  async #chunked(
    session: UploadSession,
    source: BlobSource,
    expectedDigest: Digest | undefined,
    chunkSize: number,
    options: UploadOptions,
  ): Promise<{ digest: Digest; size: number }> {
    const digester = new Digester(expectedDigest ? digestAlgorithm(expectedDigest) : "sha256");
    const stream =
      source instanceof Uint8Array
        ? Readable.from([source])
        : source instanceof Readable
          ? source
          : source(0);
    for await (const chunk of rechunk(stream, chunkSize)) {
      digester.update(chunk);
      const chunkStart = digester.size - chunk.byteLength;
      for (let resumes = 0; ; ) {
        const sent = session.offset - chunkStart;
        try {
          await session.append(chunk.subarray(sent), options.signal);
          break;
        } catch (error) {
          if (
            !isRegkitError(error) ||
            !error.retryable ||
            resumes >= (options.maxResumes ?? DEFAULT_MAX_RESUMES)
          ) {
            throw error;
          }
          resumes++;
          // The chunk is still in memory, so whatever part of it the registry
          // did not keep can be sent again from the offset it reports.
          const offset = await session.status(options.signal);
          if (offset < chunkStart || offset > digester.size) throw error;
        }
      }
      options.onProgress?.(session.offset);
    }
    const digest = digester.digest();
    if (expectedDigest && !digestEquals(digest, expectedDigest)) {
      throw new DigestMismatchError(expectedDigest, digest, "blob source");
    }
    return { digest, size: digester.size };
  }
}

const MAX_FRESH_SESSIONS = 2;

/** The registry no longer knows the session (it invalidates one whose request broke). */
function isSessionLost(error: unknown): boolean {
  return (
    isRegkitError(error) &&
    (error.code === "BLOB_UPLOAD_UNKNOWN" || error.code === "BLOB_UPLOAD_INVALID" || error.status === 416)
  );
}

/** Failures worth another try: the network, or a registry answering 5xx. */
function isTransient(error: unknown): boolean {
  return (
    isRegkitError(error) && error.retryable && (error.category === "network" || error.category === "server")
  );
}

/** Runs `fn` up to three times while it fails transiently (cockatiel: exponential from 200 ms). */
function retryTransient<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const policy = retry(handleWhen(isTransient), {
    maxAttempts: 2,
    backoff: new ExponentialBackoff({ initialDelay: 200 }),
  });
  return policy.execute(fn, signal);
}

/** Re-slices a stream into chunks of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(stream: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const piece of stream) {
    let buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (held + buf.byteLength >= size) {
      const take = size - held;
      parts.push(buf.subarray(0, take));
      yield Buffer.concat(parts, size);
      parts = [];
      held = 0;
      buf = buf.subarray(take);
    }
    if (buf.byteLength > 0) {
      parts.push(buf);
      held += buf.byteLength;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}
