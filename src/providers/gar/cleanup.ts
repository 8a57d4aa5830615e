import { InvalidInputError } from "../../core/errors.js";
import type { CleanupPolicy } from "./model.js";

/** One version as the dry run sees it. */
export interface CleanupCandidate {
  package: string;
  /** The version id (a digest for Docker images). */
  version: string;
  tags: string[];
  createTime: Date;
}

/** What the dry run decided for one version, and which policy decided. */
export interface CleanupDecision {
  package: string;
  version: string;
  /** The digest, for Docker versions (ids that are digests). */
  digest: string | undefined;
  tags: string[];
  /** The policy that decided: a DELETE policy, a KEEP policy, or `null` when no DELETE policy matched. */
  policy: string | null;
}

/** The versions a cleanup run would delete and keep. */
export interface CleanupPlan {
  delete: CleanupDecision[];
  keep: CleanupDecision[];
}

/** Google writes durations as seconds with an `s` suffix (`"2592000s"`, `"3.5s"`). */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(text.trim());
  if (!match)
    throw new InvalidInputError(`cleanup policy duration ${JSON.stringify(text)} is not like "86400s"`, {
      provider: "gar",
    });
  return Number(match[1]) * 1000;
}

const anyPrefix = (values: string[], prefixes: string[] | undefined) =>
  !prefixes || prefixes.length === 0 || values.some((v) => prefixes.some((p) => v.startsWith(p)));

/** Whether a condition holds for a version: every criterion given must hold (prefix lists match any). */
function conditionHolds(policy: CleanupPolicy, v: CleanupCandidate, now: number): boolean {
  const c = policy.condition ?? {};
  const state = c.tagState ?? "ANY";
  if (state === "TAGGED" && v.tags.length === 0) return false;
  if (state === "UNTAGGED" && v.tags.length > 0) return false;
  // Tag prefixes apply to tagged versions (Google: only with tagState TAGGED or ANY).
  if (c.tagPrefixes && c.tagPrefixes.length > 0 && !anyPrefix(v.tags, c.tagPrefixes)) return false;
  if (!anyPrefix([v.version], c.versionNamePrefixes)) return false;
  if (!anyPrefix([v.package], c.packageNamePrefixes)) return false;
  const age = now - v.createTime.getTime();
  if (c.olderThan !== undefined && !(age > parseDuration(c.olderThan))) return false;
  if (c.newerThan !== undefined && !(age < parseDuration(c.newerThan))) return false;
  return true;
}

/** Versions each `mostRecentVersions` KEEP policy keeps: the newest `keepCount` per matching package. */
function mostRecent(policy: CleanupPolicy, versions: CleanupCandidate[]): Set<CleanupCandidate> {
  const rule = policy.mostRecentVersions;
  const kept = new Set<CleanupCandidate>();
  if (!rule) return kept;
  const byPackage = new Map<string, CleanupCandidate[]>();
  for (const v of versions)
    if (anyPrefix([v.package], rule.packageNamePrefixes))
      byPackage.set(v.package, [...(byPackage.get(v.package) ?? []), v]);
  for (const list of byPackage.values())
    for (const v of [...list]
      .sort((a, b) => b.createTime.getTime() - a.createTime.getTime())
      .slice(0, rule.keepCount ?? 0))
      kept.add(v);
  return kept;
}

/**
 * What a repository's cleanup policies would do now, without doing it:
 * a version is deleted when some DELETE policy matches it and no KEEP
 * policy does (keep always wins, as Google documents); everything else is
 * kept. Nothing is changed: regkit does not edit policies or delete here.
 */
export function planCleanup(
  policies: Record<string, CleanupPolicy>,
  versions: CleanupCandidate[],
  now: Date,
): CleanupPlan {
  const at = now.getTime();
  // In the repository's order: the first matching policy is the one the plan names.
  const entries = Object.entries(policies);
  const keeps = entries.filter(([, p]) => p.action === "KEEP");
  const deletes = entries.filter(([, p]) => p.action === "DELETE");
  const recent = new Map(keeps.map(([id, p]) => [id, mostRecent(p, versions)]));
  const plan: CleanupPlan = { delete: [], keep: [] };
  for (const v of versions) {
    const decision = (policy: string | null): CleanupDecision => ({
      package: v.package,
      version: v.version,
      digest: v.version.startsWith("sha256:") ? v.version : undefined,
      tags: [...v.tags],
      policy,
    });
    const keptBy = keeps.find(([id, p]) =>
      p.mostRecentVersions ? recent.get(id)!.has(v) : conditionHolds(p, v, at),
    )?.[0];
    const deletedBy = deletes.find(([, p]) => conditionHolds(p, v, at))?.[0];
    if (keptBy !== undefined) plan.keep.push(decision(keptBy));
    else if (deletedBy !== undefined) plan.delete.push(decision(deletedBy));
    else plan.keep.push(decision(null));
  }
  return plan;
}
