import { randomBytes } from "node:crypto";
import { type Digest, digestOf } from "../core/digest.js";
import { isRegkitError, RegkitError } from "../core/errors.js";
import { MediaType } from "../core/mediaTypes.js";
import type { Repository } from "./repository.js";

/** Options of {@link untag}. */
export interface UntagOptions {
  /**
   * Where the registry cannot delete tags, do what regctl's `tag delete` does:
   * point the tag at a placeholder manifest of its own and delete that by
   * digest. Off by default: it writes to the repository.
   */
  placeholder?: boolean;
  signal?: AbortSignal;
}

/** What {@link untag} did. */
export interface UntagResult {
  tag: string;
  /** `delete`: the registry deleted the tag; `placeholder`: the tag went with its placeholder manifest. */
  method: "delete" | "placeholder";
  /** The digest the tag pointed at before (with `placeholder`). */
  previous?: Digest;
  /** The placeholder manifest that took the tag away (with `placeholder`). */
  placeholder?: Digest;
}

/** The annotation that names what a placeholder was made for. */
export const PLACEHOLDER_ANNOTATION = "io.regkit.untag";

const EMPTY_CONFIG = Buffer.from("{}");

/**
 * A manifest no other tag shares: the empty config, no layers, and an
 * annotation with the tag, the time and random bytes, so deleting it by
 * digest takes nothing else with it.
 */
export function placeholderManifest(repository: string, tag: string, now = new Date()): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciEmpty, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.byteLength },
    layers: [],
    annotations: {
      [PLACEHOLDER_ANNOTATION]: `${repository}:${tag} ${now.toISOString()} ${randomBytes(8).toString("hex")}`,
    },
  };
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * The placeholder took the tag but the registry would not delete it: the
 * message says where the tag points now.
 */
export class PlaceholderNotDeletedError extends RegkitError {
  readonly tag: string;
  readonly placeholder: Digest;
  /** Where the tag points after the attempt: the original digest again, or the placeholder. */
  readonly tagPointsAt: Digest;
  constructor(
    where: string,
    tag: string,
    previous: Digest,
    placeholder: Digest,
    restored: boolean,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const category = isRegkitError(cause) ? cause.category : "server";
    super(
      restored
        ? `${where}: the placeholder manifest ${placeholder} could not be deleted (${why}); ` +
            `the tag ${tag} points at ${previous} again, as before; the untagged placeholder stays`
        : `${where}: the placeholder manifest ${placeholder} could not be deleted (${why}) and the tag could not be ` +
            `put back: ${tag} now points at the placeholder ${placeholder} (an empty image), not at ${previous}`,
      { code: "UNTAG_INCOMPLETE", category, cause },
    );
    this.tag = tag;
    this.placeholder = placeholder;
    this.tagPointsAt = restored ? previous : placeholder;
  }
}

/**
 * Removes a tag and nothing else: a DELETE by tag, or with `placeholder`
 * (where the registry refuses that) the tag is moved to a placeholder
 * manifest which is then deleted by digest. When that last delete is refused
 * too (deletes disabled), the tag is put back where it was and the error says
 * so, or says where it points when even that failed.
 */
export async function untag(repo: Repository, tag: string, options: UntagOptions = {}): Promise<UntagResult> {
  const signal = options.signal ? { signal: options.signal } : {};
  if (!options.placeholder) {
    await repo.manifests.delete(tag, signal);
    return { tag, method: "delete" };
  }
  // Fetched first: a missing tag fails here, before anything is written.
  const previous = await repo.manifests.fetch(tag, signal);
  const bytes = placeholderManifest(repo.name, tag);
  const placeholder = digestOf(bytes);
  await repo.uploads.upload(
    EMPTY_CONFIG,
    { digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.byteLength, mediaType: MediaType.OciEmpty },
    signal,
  );
  await repo.manifests.put(tag, bytes, MediaType.OciManifest, signal);
  try {
    await repo.manifests.delete(placeholder, signal);
  } catch (error) {
    const restored = await repo.manifests
      .put(tag, previous.bytes, previous.descriptor.mediaType, signal)
      .then(
        () => true,
        () => false,
      );
    throw new PlaceholderNotDeletedError(
      `${repo.registry}/${repo.name}:${tag}`,
      tag,
      previous.descriptor.digest,
      placeholder,
      restored,
      error,
    );
  }
  return { tag, method: "placeholder", previous: previous.descriptor.digest, placeholder };
}
