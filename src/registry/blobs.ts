import { PassThrough, pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import { type Digest, digestEquals, isDigest, VerifyingStream } from "../core/digest.js";
import {
  DigestMismatchError,
  InvalidInputError,
  isRegkitError,
  NetworkError,
  ProtocolError,
  SizeMismatchError,
} from "../core/errors.js";
import { STREAM_BUFFER_BYTES } from "../core/limits.js";
import type { Descriptor } from "../core/manifest.js";
import { discard, headerValue } from "../transport/response.js";
import { type RegistryContext, repositoryScope } from "./context.js";
import { sendDelete } from "./deleteRefusal.js";

/** A byte range of a blob: from `start`, up to `end` inclusive when given. */
export interface BlobRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive; open-ended when omitted. */
  end?: number;
}

/** Options of {@link BlobStore.fetch}: expected size, verification, a range. */
export interface FetchBlobOptions {
  /** When known (from a descriptor), overruns fail at once instead of at the end. */
  size?: number;
  /** A byte range; ranged reads are size-checked but cannot be digest-checked. */
  range?: BlobRange;
  /** Times in a row a download cut mid-body is resumed with `Range` without progress (default 3). */
  maxResumes?: number;
  /**
   * `false` returns the body unverified, for consumers that verify themselves
   * (stores receiving a copy). Cuts are still resumed, so the consumer never sees
   * the source's fault. Default true.
   */
  verify?: boolean;
  signal?: AbortSignal;
}

/** A blob being streamed: its stream and what the registry said about it. */
export interface FetchedBlob {
  digest: Digest;
  /** Bytes this stream will deliver (the whole blob, or the range). */
  length: number;
  /**
   * The content. For whole-blob reads it fails with DigestMismatchError or
   * SizeMismatchError before it ends if the bytes are not what was asked for.
   */
  stream: Readable;
}

/** Blobs of one repository: head, fetch (streamed, verified), delete. Uploads live in uploads.ts. */
export class BlobStore {
  readonly #ctx: RegistryContext;
  readonly #repository: string;

  constructor(ctx: RegistryContext, repository: string) {
    this.#ctx = ctx;
    this.#repository = repository;
  }

  #path(digest: Digest): string {
    return `/v2/${this.#repository}/blobs/${digest}`;
  }

  /** The blob's descriptor from a HEAD: size, without the bytes. */
  async head(digest: Digest, options: { signal?: AbortSignal } = {}): Promise<Descriptor> {
    return this.#ctx.operation("blob.head", this.#repository, digest, async () => {
      const response = await this.#ctx.callAndDiscard({
        method: "HEAD",
        path: this.#path(digest),
        expect: [200],
        operation: `head blob ${this.#repository}@${digest}`,
        scopes: [repositoryScope(this.#repository, "pull")],
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const size = Number(headerValue(response, "content-length"));
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new ProtocolError(`head blob ${this.#repository}@${digest}: missing or invalid Content-Length`);
      }
      const served = headerValue(response, "docker-content-digest");
      if (served && isDigest(served) && !digestEquals(served, digest)) {
        throw new DigestMismatchError(digest, served, "blob");
      }
      return { mediaType: "application/octet-stream", digest, size };
    });
  }

  /** Whether the repository has the blob (a HEAD). */
  async exists(digest: Digest, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.#ctx.operation("blob.head", this.#repository, digest, async () => {
      const response = await this.#ctx.callAndDiscard({
        method: "HEAD",
        path: this.#path(digest),
        expect: [200, 404],
        operation: `head blob ${this.#repository}@${digest}`,
        scopes: [repositoryScope(this.#repository, "pull")],
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return response.status === 200;
    });
  }

  /**
   * Streams a blob. Registries often redirect blob GETs to a CDN; the
   * transport follows and drops credentials on the way. The body is never
   * buffered: verification happens as bytes flow.
   */
  async fetch(digest: Digest, options: FetchBlobOptions = {}): Promise<FetchedBlob> {
    return this.#ctx.operation("blob.get", this.#repository, digest, async () => {
      const { range } = options;
      if (
        range &&
        (!Number.isSafeInteger(range.start) || range.start < 0 || (range.end ?? range.start) < range.start)
      ) {
        throw new InvalidInputError(`invalid byte range ${range.start}-${range.end ?? ""}`);
      }
      const response = await this.#ctx.call({
        method: "GET",
        path: this.#path(digest),
        headers: range ? { range: `bytes=${range.start}-${range.end ?? ""}` } : {},
        expect: range ? [200, 206] : [200],
        operation: `get blob ${this.#repository}@${digest}`,
        scopes: [repositoryScope(this.#repository, "pull")],
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const contentLength = optionalLength(headerValue(response, "content-length"));
      if (range && response.status === 206) {
        const want = range.end === undefined ? contentLength : range.end - range.start + 1;
        if (want === undefined || (contentLength !== undefined && contentLength !== want)) {
          await discard(response);
          throw new ProtocolError(
            `get blob ${this.#repository}@${digest}: range response has an unexpected length`,
          );
        }
        const resumed = new PassThrough({ highWaterMark: STREAM_BUFFER_BYTES });
        feedResuming(response.body, resumed, {
          reopen: (delivered) => this.#resumeAt(digest, range.start + delivered, range.end, options.signal),
          maxResumes: options.maxResumes ?? DEFAULT_MAX_RESUMES,
          length: want,
        });
        return { digest, length: want, stream: pipeline(resumed, new LengthCheck(want), noop) };
      }
      // A 200 to a ranged request means the registry ignored the range: serve the
      // whole blob verified, and let the caller skip what it already has.
      const size = options.size ?? contentLength;
      if (options.size !== undefined && contentLength !== undefined && contentLength !== options.size) {
        await discard(response);
        throw new SizeMismatchError(options.size, contentLength, "blob");
      }
      // The consumer of an unverified body (a store writing the blob) verifies by itself: no
      // second hash on the hot path. Cuts are resumed either way, so a fault of this side
      // never reaches whoever the bytes are streamed to.
      const sink =
        options.verify === false
          ? new PassThrough({ highWaterMark: STREAM_BUFFER_BYTES })
          : new VerifyingStream(size === undefined ? { digest } : { digest, size }, "blob");
      const delivered = feedResuming(response.body, sink, {
        reopen: (offset) => this.#resumeAt(digest, offset, undefined, options.signal),
        maxResumes: options.maxResumes ?? DEFAULT_MAX_RESUMES,
        ...(size !== undefined ? { length: size } : {}),
      });
      sink.once("end", () => this.#ctx.telemetry.bytes(this.#ctx.registry, "download", delivered()));
      return { digest, length: size ?? -1, stream: sink };
    });
  }

  /**
   * Continues a download cut mid-body: `Range` from where it stopped. A source
   * that ignores ranges (200) is read again from the start and skipped up to
   * there, so the consumer still gets one continuous stream.
   */
  async #resumeAt(digest: Digest, offset: number, end: number | undefined, signal?: AbortSignal) {
    const response = await this.#ctx.call({
      method: "GET",
      path: this.#path(digest),
      headers: { range: `bytes=${offset}-${end ?? ""}` },
      expect: [200, 206],
      operation: `resume blob ${this.#repository}@${digest}`,
      scopes: [repositoryScope(this.#repository, "pull")],
      ...(signal ? { signal } : {}),
    });
    return response.status === 206
      ? response.body
      : Readable.from(skip(response.body, offset), { objectMode: false });
  }

  /** Deletes a blob, where the registry allows it. */
  async delete(digest: Digest, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#ctx.operation("blob.delete", this.#repository, digest, async () => {
      await sendDelete(
        this.#ctx,
        {
          path: this.#path(digest),
          operation: `delete blob ${this.#repository}@${digest}`,
          signal: options.signal,
        },
        { repository: this.#repository, what: "blobs" },
      );
    });
  }
}

function optionalLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function noop(): void {}

const DEFAULT_MAX_RESUMES = 3;

interface Resuming {
  /** Opens the content again at this many bytes from where the first body started. */
  reopen: (offset: number) => Promise<Readable>;
  /** Breaks in a row without a byte of progress before giving up. */
  maxResumes: number;
  /** Bytes expected in all: a body that ends cleanly but short (truncated) is resumed too. */
  length?: number;
}

/**
 * Pipes a body into `sink` (the verifier or a plain pass-through, one stream on
 * the hot path); when the connection breaks mid-body, or a body of known length
 * ends short, reopens at the offset reached, so a flaky source costs a request,
 * not the whole transfer, and the sink never sees the fault. Only breaks
 * without progress count against `maxResumes`: a source that keeps moving is
 * followed to the end. The digest is checked by whoever reads the sink, over
 * everything fed. Returns a reader of the bytes delivered so far.
 */
function feedResuming(first: Readable, sink: Transform, resuming: Resuming): () => number {
  let offset = 0;
  let resumes = 0;
  let progressAt = -1;
  const retry = (source: Readable, error: Error) => {
    source.unpipe(sink);
    if (offset > progressAt) resumes = 0;
    progressAt = offset;
    const resumable = isRegkitError(error) && error.category === "network" && error.retryable;
    if (!resumable || resumes++ >= resuming.maxResumes || sink.destroyed) {
      sink.destroy(error);
      return;
    }
    resuming.reopen(offset).then(attach, (reopenError: unknown) => sink.destroy(reopenError as Error));
  };
  const attach = (source: Readable) => {
    source.on("data", (chunk: Buffer) => {
      offset += chunk.byteLength;
    });
    source.once("end", () => {
      if (resuming.length === undefined || offset >= resuming.length) sink.end();
      else retry(source, new NetworkError(`blob body ended at ${offset} of ${resuming.length} bytes`));
    });
    source.once("error", (error) => retry(source, error));
    sink.once("close", () => source.destroy());
    source.pipe(sink, { end: false });
  };
  attach(first);
  return () => offset;
}

async function* skip(body: AsyncIterable<Buffer>, bytes: number): AsyncGenerator<Buffer> {
  let left = bytes;
  for await (const chunk of body) {
    if (left >= chunk.byteLength) {
      left -= chunk.byteLength;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/** Checks that a ranged body has exactly the promised length. */
class LengthCheck extends Transform {
  #remaining: number;
  readonly #expected: number;
  constructor(expected: number) {
    super();
    this.#expected = expected;
    this.#remaining = expected;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#remaining -= chunk.byteLength;
    if (this.#remaining < 0)
      callback(new SizeMismatchError(this.#expected, this.#expected - this.#remaining, "range"));
    else callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    if (this.#remaining !== 0)
      callback(new SizeMismatchError(this.#expected, this.#expected - this.#remaining, "range"));
    else callback();
  }
}
