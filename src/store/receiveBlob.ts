import type { Readable } from "node:stream";
import { Digester, digestAlgorithm, digestEquals } from "../core/digest.js";
import { DigestMismatchError, isRegkitError, SizeMismatchError } from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";

const MAX_RESUMES = 3;

/**
 * Receives a blob into `write`, hashing on the way; a source that breaks with
 * a retryable network error is opened again at the byte where it stopped (at
 * most three times), so every writing store resumes the same way. Throws when
 * the size or digest is not the descriptor's; the caller then discards what
 * it wrote.
 */
export async function receiveBlob(
  descriptor: Descriptor,
  open: (offset: number) => Promise<Readable>,
  write: (chunk: Buffer) => Promise<void> | undefined,
): Promise<void> {
  const digester = new Digester(digestAlgorithm(descriptor.digest));
  for (let resumes = 0; ; resumes++) {
    try {
      for await (const chunk of await open(digester.size)) {
        const buf = chunk as Buffer;
        digester.update(buf);
        if (digester.size > descriptor.size)
          throw new SizeMismatchError(descriptor.size, digester.size, "blob");
        const waiting = write(buf);
        if (waiting) await waiting;
      }
      break;
    } catch (error) {
      const resumable = isRegkitError(error) && error.category === "network" && error.retryable;
      if (!resumable || resumes >= MAX_RESUMES) throw error;
    }
  }
  if (digester.size !== descriptor.size) throw new SizeMismatchError(descriptor.size, digester.size, "blob");
  const actual = digester.digest();
  if (!digestEquals(actual, descriptor.digest))
    throw new DigestMismatchError(descriptor.digest, actual, "blob");
}
