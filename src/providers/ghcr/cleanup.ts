import type { Digest } from "../../core/digest.js";
import { parseDuration } from "../../core/duration.js";
import { InvalidInputError, isRegkitError } from "../../core/errors.js";
import { signingTagSubject } from "./images.js";
import type { PackageVersion } from "./model.js";

/**
 * Safe cleanup of a package's versions (FR-VER-006): a policy is evaluated
 * over every version into a plan — what is kept and why, what is deleted and
 * why — before anything is deleted. A version is deleted only when every
 * given rule selects it and nothing protects it: a kept tag, being one of
 * the newest N images, being a platform manifest of a kept index, or being a
 * signature, SBOM or attestation of a kept version (referrers, and cosign's
 * `sha256-<hex>.sig|.att|.sbom` tags).
 */
export interface CleanupPolicy {
  /** Keep the newest N images (versions that are neither an index's child nor a referrer). */
  keepLast?: number;
  /** Delete only versions created before this instant. */
  olderThan?: Date;
  /** Delete only untagged versions. */
  untagged?: boolean;
  /** Tags that keep their version, whatever the other rules say. */
  keepTags?: Array<(tag: string) => boolean>;
  /** How the keep-tag patterns are shown in reasons. */
  keepTagText?: string[];
}

/** One version in a cleanup plan and why it is deleted or kept. */
export interface PlanEntry {
  id: number;
  digest: Digest;
  tags: string[];
  reason: string;
}

/** What a cleanup would delete and what it keeps, each with a reason. */
export interface CleanupPlan {
  delete: PlanEntry[];
  keep: PlanEntry[];
}

/** What the planner asks the registry about a kept version. */
export interface VersionGraph {
  /** Manifests an index lists (empty for an image). */
  children(digest: Digest): Promise<Digest[]>;
  /** Manifests whose `subject` is this one (referrers API or its tag-schema fallback). */
  referrers(digest: Digest): Promise<Digest[]>;
}

/**
 * `30d`, `12h`, `2w`, `90m` (any duration with its unit written out, see
 * `parseDuration`) → milliseconds, for `CleanupPolicy.olderThan`.
 */
export function parseAge(text: string): number {
  return parseDuration(text);
}

export function checkPolicy(policy: CleanupPolicy): void {
  if (policy.keepLast === undefined && policy.olderThan === undefined && !policy.untagged)
    throw new InvalidInputError("a cleanup needs at least one of --keep-last, --older-than, --untagged");
  if (policy.keepLast !== undefined && (!Number.isSafeInteger(policy.keepLast) || policy.keepLast < 0))
    throw new InvalidInputError("--keep-last must be a whole number ≥ 0");
}

const short = (d: Digest) => d.slice(0, 19);

/** Evaluates `policy` over every version into a plan; deletes nothing. */
export async function planCleanup(
  versions: PackageVersion[],
  policy: CleanupPolicy,
  graph: VersionGraph,
): Promise<CleanupPlan> {
  checkPolicy(policy);
  const byDigest = new Map(versions.map((v) => [v.digest, v]));
  const keep = new Map<Digest, string>();
  const remove = new Map<Digest, string>();

  // Which versions hang off another one: cosign tags name their subject; the graph knows the rest.
  const tagSubjects = new Map<Digest, Digest[]>();
  for (const v of versions)
    for (const tag of v.tags) {
      const link = signingTagSubject(tag);
      if (link) tagSubjects.set(link.subject, [...(tagSubjects.get(link.subject) ?? []), v.digest]);
    }
  const dependants = new Set<Digest>();
  for (const v of versions) {
    for (const child of await graph.children(v.digest)) if (child !== v.digest) dependants.add(child);
    for (const r of await graph.referrers(v.digest)) dependants.add(r);
  }
  for (const list of tagSubjects.values()) for (const d of list) dependants.add(d);

  const images = versions
    .filter((v) => !dependants.has(v.digest))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);
  const newest = new Set(images.slice(0, policy.keepLast ?? images.length).map((v) => v.digest));

  for (const v of versions) {
    const kept = v.tags.find((t) => policy.keepTags?.some((m) => m(t)));
    if (kept !== undefined) {
      keep.set(v.digest, `tag ${kept} matches --keep-tag`);
      continue;
    }
    if (policy.keepLast !== undefined && newest.has(v.digest)) {
      keep.set(v.digest, `one of the newest ${policy.keepLast}`);
      continue;
    }
    if (policy.untagged && v.tags.length > 0) {
      keep.set(v.digest, "tagged");
      continue;
    }
    if (policy.olderThan && v.createdAt >= policy.olderThan) {
      keep.set(v.digest, `created after ${policy.olderThan.toISOString()}`);
      continue;
    }
    const why = [
      ...(policy.untagged ? ["untagged"] : []),
      ...(policy.olderThan ? [`older than ${policy.olderThan.toISOString()}`] : []),
      ...(policy.keepLast !== undefined && !dependants.has(v.digest)
        ? [`not among the newest ${policy.keepLast}`]
        : []),
    ];
    remove.set(v.digest, why.join(", ") || "belongs to no kept version");
  }

  // Protection spreads from every kept version to what it needs and what describes it.
  const queue = [...keep.keys()];
  const protect = (digest: Digest, reason: string) => {
    if (!remove.has(digest)) return;
    remove.delete(digest);
    keep.set(digest, reason);
    queue.push(digest);
  };
  while (queue.length > 0) {
    const digest = queue.shift()!;
    for (const child of await graph.children(digest))
      protect(child, `platform manifest of kept index ${short(digest)}`);
    for (const r of await graph.referrers(digest)) protect(r, `referrer of kept ${short(digest)}`);
    for (const t of tagSubjects.get(digest) ?? []) protect(t, `signing tag of kept ${short(digest)}`);
  }

  const entry = (digest: Digest, reason: string): PlanEntry => {
    const v = byDigest.get(digest)!;
    return { id: v.id, digest, tags: v.tags, reason };
  };
  // Parents before children: an index is never left pointing at a deleted platform manifest.
  const order = new Map<Digest, number>();
  for (const v of versions) order.set(v.digest, dependants.has(v.digest) ? 1 : 0);
  return {
    delete: [...remove]
      .map(([d, r]) => entry(d, r))
      .sort((a, b) => order.get(a.digest)! - order.get(b.digest)! || a.id - b.id),
    keep: [...keep].map(([d, r]) => entry(d, r)).sort((a, b) => a.id - b.id),
  };
}

export interface CleanupProgress {
  deleted: PlanEntry[];
  /** Already gone when its turn came (a second run after an interruption). */
  alreadyGone: PlanEntry[];
}

/**
 * Deletes what the plan says, one at a time (the API client spaces writes
 * out and throttles near the rate limit), reporting each. Resumable: a
 * version that is already gone counts as done, so an interrupted cleanup
 * run again finishes the job.
 */
export async function executeCleanup(
  plan: CleanupPlan,
  remove: (entry: PlanEntry) => Promise<void>,
  onDeleted?: (entry: PlanEntry, outcome: "deleted" | "already-gone") => void,
): Promise<CleanupProgress> {
  const progress: CleanupProgress = { deleted: [], alreadyGone: [] };
  for (const entry of plan.delete) {
    try {
      await remove(entry);
      progress.deleted.push(entry);
      onDeleted?.(entry, "deleted");
    } catch (error) {
      if (!isRegkitError(error) || error.category !== "not-found") throw error;
      progress.alreadyGone.push(entry);
      onDeleted?.(entry, "already-gone");
    }
  }
  return progress;
}
