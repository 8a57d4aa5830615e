import { createHash, type Hash, timingSafeEqual } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { DigestMismatchError, InvalidDigestError, SizeMismatchError } from "./errors.js";

/** A validated `algorithm:hex` content digest. */
export type Digest = string & { readonly __digest: unique symbol };
/** The digest algorithms regkit computes and verifies. */
export type DigestAlgorithm = "sha256" | "sha512";

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const MAX_DIGEST_INPUT = 256;

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return value === "sha256" || value === "sha512";
}

/**
 * Strict parse: registered algorithms only, lowercase hex of the exact length
 * (the OCI image spec forbids uppercase for sha256/sha512).
 */
export function parseDigest(input: string): Digest {
  const problem = digestProblem(input);
  if (problem !== undefined) throw new InvalidDigestError(String(input), problem);
  return input as Digest;
}

/**
 * Whether `input` is a well-formed digest (`sha256:` and 64 hex digits, or `sha512:` and 128).
 * Asked of every tag on every manifest request, so it answers without building an error.
 */
export function isDigest(input: string): input is Digest {
  return digestProblem(input) === undefined;
}

/** What makes `input` no digest, or undefined for a well-formed one. */
function digestProblem(input: string): string | undefined {
  if (typeof input !== "string") return "not a string";
  if (input.length > MAX_DIGEST_INPUT) return "too long";
  const colon = input.indexOf(":");
  if (colon <= 0) return "expected algorithm:hex";
  const algorithm = input.slice(0, colon);
  const hex = input.slice(colon + 1);
  if (!isDigestAlgorithm(algorithm)) return `unsupported algorithm ${JSON.stringify(algorithm.slice(0, 32))}`;
  const want = HEX_LENGTH[algorithm];
  if (hex.length !== want) return `${algorithm} needs ${want} hex characters`;
  if (!/^[0-9a-f]+$/.test(hex)) return "hex must be lowercase 0-9a-f";
  return undefined;
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(":")) as DigestAlgorithm;
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(":") + 1);
}

/** Digest of bytes held in memory (manifests, configs; never whole blobs). */
export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}` as Digest;
}

/** Constant-time comparison: digests act as capabilities in some registries. */
export function digestEquals(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Incremental hashing for streamed content. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  #hash: Hash;
  #size = 0;

  constructor(algorithm: DigestAlgorithm = "sha256") {
    this.algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  get size(): number {
    return this.#size;
  }

  digest(): Digest {
    return `${this.algorithm}:${this.#hash.digest("hex")}` as Digest;
  }
}

export interface ExpectedContent {
  digest: Digest;
  /** Known size in bytes; when set, overruns fail early instead of at the end. */
  size?: number;
}

/**
 * A pass-through stream that hashes what flows through and fails the stream
 * (before its end is signalled) when size or digest differ from what was
 * expected, so a consumer never commits unverified content.
 */
export class VerifyingStream extends Transform {
  readonly expected: ExpectedContent;
  readonly #digester: Digester;
  #what: string;

  constructor(expected: ExpectedContent, what = "blob") {
    super();
    this.expected = expected;
    this.#digester = new Digester(digestAlgorithm(expected.digest));
    this.#what = what;
  }

  get bytes(): number {
    return this.#digester.size;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#digester.update(chunk);
    const { size } = this.expected;
    if (size !== undefined && this.#digester.size > size) {
      callback(new SizeMismatchError(size, this.#digester.size, this.#what));
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { size, digest } = this.expected;
    if (size !== undefined && this.#digester.size !== size) {
      callback(new SizeMismatchError(size, this.#digester.size, this.#what));
      return;
    }
    const actual = this.#digester.digest();
    if (!digestEquals(actual, digest)) {
      callback(new DigestMismatchError(digest, actual, this.#what));
      return;
    }
    callback();
  }
}
