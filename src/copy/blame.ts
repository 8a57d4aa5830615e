import { pipeline } from "node:stream/promises";
import { VerifyingStream } from "../core/digest.js";
import { isRegkitError, RegkitError } from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";
import type { Store } from "../store/store.js";

/** Which side of a copy failed, and on what. */
export class CopyError extends RegkitError {
  readonly origin: "source" | "destination";
  constructor(origin: "source" | "destination", what: string, cause: unknown) {
    const base = isRegkitError(cause) ? cause : undefined;
    super(`copy failed at the ${origin} (${what}): ${(cause as Error)?.message ?? String(cause)}`, {
      code: base?.code ?? "COPY_FAILED",
      category: base?.category ?? "server",
      retryable: base?.retryable ?? false,
      cause,
    });
    this.origin = origin;
  }
}

/** Runs one step of a copy on one side: what it throws becomes a {@link CopyError} naming that side. */
export async function side<T>(
  origin: "source" | "destination",
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof CopyError) throw error;
    throw new CopyError(origin, what, error);
  }
}

/**
 * Names the side that failed a blob transfer: the source when it raised the
 * error (the destination's abort is its consequence) or when the bytes it
 * served do not match their digest (checked again only after a failure).
 */
export async function blame(
  source: Store,
  blob: Descriptor,
  error: unknown,
  sourceFault: unknown,
): Promise<CopyError> {
  if (error instanceof CopyError) return error;
  const what = `blob ${blob.digest}`;
  if (sourceFault !== undefined) return new CopyError("source", what, sourceFault);
  if (isRegkitError(error) && error.category === "integrity") {
    // Hashed here: not every store verifies what it serves (memory does not).
    const sourceCheck = await source
      .fetchBlob(blob, 0, { verify: false })
      .then((stream) =>
        pipeline(stream, new VerifyingStream({ digest: blob.digest, size: blob.size }, "source blob"), drain),
      )
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    if (isRegkitError(sourceCheck) && sourceCheck.category === "integrity")
      return new CopyError("source", what, sourceCheck);
  }
  return new CopyError("destination", what, error);
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // nothing kept: only the verification matters
  }
}
