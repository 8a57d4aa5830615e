import semver from "semver";
import type { Digest } from "../../core/digest.js";
import { formatReference, type Reference } from "../../core/reference.js";
import type { Repository } from "../../registry/repository.js";

/** A tag that reads as a semantic version, with that version. */
export interface SemverTag {
  tag: string;
  version: semver.SemVer;
}

/**
 * The tags that are semantic versions (`1.2.3`, `v1.2.3`, `1.2.3-rc.1`),
 * highest first; `latest`, `stable`, dates and the like are left out. Tags
 * that differ only by a `v` sort by version, then by name, so the order is
 * stable.
 */
export function semverTags(
  tags: Iterable<string>,
  options: { includePrerelease?: boolean } = {},
): SemverTag[] {
  const out: SemverTag[] = [];
  for (const tag of tags) {
    const version = semver.parse(tag.startsWith("v") ? tag.slice(1) : tag);
    if (!version) continue;
    if (version.prerelease.length > 0 && !options.includePrerelease) continue;
    out.push({ tag, version });
  }
  return out.sort((a, b) => semver.rcompare(a.version, b.version) || a.tag.localeCompare(b.tag));
}

/** The highest tag satisfying a range (`^1.2`, `~3.20`, `>=2 <3`), or undefined. */
export function highestTag(
  tags: Iterable<string>,
  range = "*",
  options: { includePrerelease?: boolean } = {},
) {
  return semverTags(tags, options).find((t) => semver.satisfies(t.version, range, options))?.tag;
}

/** The digest a tag points to now (a manifest HEAD; Docker Hub does not count it as a pull). */
export async function resolveTag(repository: Repository, tag = "latest"): Promise<Digest> {
  return (await repository.manifests.head(tag)).digest;
}

/** The same reference pinned to what it points to now: `docker.io/library/alpine:3.20@sha256:…`. */
export async function pinReference(repository: Repository, ref: Reference): Promise<string> {
  const digest = ref.digest ?? (await resolveTag(repository, ref.tag ?? "latest"));
  return formatReference({ ...ref, tag: ref.tag ?? "latest", digest });
}
