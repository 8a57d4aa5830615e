import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CleanupCandidate, parseDuration, planCleanup } from "./cleanup.js";
import type { CleanupPolicy } from "./model.js";

const NOW = new Date("2026-06-01T00:00:00Z");
const DAY = 86_400_000;
const v = (version: string, tags: string[], daysOld: number, pkg = "app"): CleanupCandidate => ({
  package: pkg,
  version,
  tags,
  createTime: new Date(NOW.getTime() - daysOld * DAY),
});

describe("cleanup-policy dry run (fixed clock)", () => {
  const policies: Record<string, CleanupPolicy> = {
    "delete-old": { action: "DELETE", condition: { tagState: "ANY", olderThan: "2592000s" } },
    "delete-untagged": { action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: "604800s" } },
    "keep-releases": { action: "KEEP", condition: { tagState: "TAGGED", tagPrefixes: ["v"] } },
    "keep-recent": { action: "KEEP", mostRecentVersions: { keepCount: 1 } },
  };

  it("keep-by-tag, keep-most-recent, older-than and tag-state decide as Google documents", () => {
    const plan = planCleanup(
      policies,
      [
        v("sha256:a", ["v1.0"], 90),
        v("sha256:b", ["nightly"], 45),
        v("sha256:c", [], 10),
        v("sha256:d", [], 3),
        v("sha256:e", [], 1),
      ],
      NOW,
    );
    expect(plan.delete.map((d) => [d.version, d.policy])).toEqual([
      ["sha256:b", "delete-old"],
      ["sha256:c", "delete-untagged"],
    ]);
    expect(plan.keep.map((d) => [d.version, d.policy])).toEqual([
      ["sha256:a", "keep-releases"],
      ["sha256:d", null],
      ["sha256:e", "keep-recent"],
    ]);
    expect(plan.delete[0]).toMatchObject({ digest: "sha256:b", tags: ["nightly"] });
  });

  it("an older-than boundary is exclusive and durations must be Google's seconds", () => {
    const plan = planCleanup(
      { d: { action: "DELETE", condition: { olderThan: "864000s" } } },
      [v("x", [], 10), v("y", [], 10.01)],
      NOW,
    );
    expect(plan.delete.map((d) => d.version)).toEqual(["y"]);
    expect(() => parseDuration("10d")).toThrow(/like "86400s"/);
  });

  const policy = fc.record({
    action: fc.constantFrom("KEEP", "DELETE") as fc.Arbitrary<"KEEP" | "DELETE">,
    condition: fc.record(
      {
        tagState: fc.constantFrom("TAGGED", "UNTAGGED", "ANY") as fc.Arbitrary<"TAGGED" | "UNTAGGED" | "ANY">,
        tagPrefixes: fc.array(fc.constantFrom("v", "rel", "n"), { maxLength: 2 }),
        olderThan: fc.integer({ min: 0, max: 100 }).map((d) => `${d * 86400}s`),
      },
      { requiredKeys: [] },
    ),
  });
  const candidate = fc.record({
    package: fc.constantFrom("app", "tool"),
    tags: fc.array(fc.constantFrom("v1", "release", "nightly", "latest"), { maxLength: 2 }),
    createTime: fc.integer({ min: 0, max: 200 }).map((d) => new Date(NOW.getTime() - d * DAY)),
  });
  // Version ids are unique, as in a repository.
  const candidates = fc
    .array(candidate, { maxLength: 12 })
    .map((list) => list.map((c, i): CleanupCandidate => ({ ...c, version: `sha256:${i}` })));

  it("property: keep rules always win over delete rules, and every version is decided once", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), policy, { maxKeys: 5 }),
        candidates,
        (policies, versions) => {
          const plan = planCleanup(policies, versions, NOW);
          expect(plan.delete.length + plan.keep.length).toBe(versions.length);
          const keepOnly = Object.fromEntries(
            Object.entries(policies).filter(([, p]) => p.action === "KEEP"),
          );
          const keptAlone = planCleanup(
            { ...keepOnly, __all: { action: "DELETE", condition: { tagState: "ANY" } } },
            versions,
            NOW,
          );
          // Whatever a KEEP policy matches is kept even when a DELETE policy matches everything.
          const protectedVersions = new Set(keptAlone.keep.map((d) => d.version));
          for (const d of plan.delete) expect(protectedVersions.has(d.version)).toBe(false);
          for (const d of plan.delete) expect(policies[d.policy!]?.action).toBe("DELETE");
        },
      ),
      { seed: 20260601, numRuns: 300 },
    );
  });

  it("property: adding a KEEP policy never deletes more", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), policy, { maxKeys: 4 }),
        policy,
        candidates,
        (policies, extra, versions) => {
          const before = planCleanup(policies, versions, NOW).delete.length;
          const after = planCleanup(
            { ...policies, "~extra-keep": { ...extra, action: "KEEP" } },
            versions,
            NOW,
          ).delete.length;
          expect(after).toBeLessThanOrEqual(before);
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
