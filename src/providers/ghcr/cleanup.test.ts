import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Digest } from "../../core/digest.js";
import { type CleanupPolicy, executeCleanup, parseAge, planCleanup, type VersionGraph } from "./cleanup.js";
import { tagMatcher } from "./images.js";
import type { PackageVersion } from "./model.js";

const hex = (n: number) => n.toString(16).padStart(64, "0");
const digestOf = (n: number) => `sha256:${hex(n)}` as Digest;

/** A random package: images, some indexes over others, some referrers and cosign tags. */
const packageArbitrary = fc
  .integer({ min: 1, max: 14 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      tags: fc.array(fc.subarray(["v1", "v2", "latest", "keep-me", "rc"], { maxLength: 2 }), {
        minLength: n,
        maxLength: n,
      }),
      ages: fc.array(fc.integer({ min: 0, max: 90 }), { minLength: n, maxLength: n }),
      // parent[i] = j: version i is a platform manifest of index j (j < i); -1: none.
      parent: fc.array(fc.integer({ min: -1, max: n - 1 }), { minLength: n, maxLength: n }),
      // subject[i] = j: version i is a referrer (signature) of j; -1: none.
      subject: fc.array(fc.integer({ min: -1, max: n - 1 }), { minLength: n, maxLength: n }),
      cosign: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    }),
  )
  .map(({ n, tags, ages, parent, subject, cosign }) => {
    const now = Date.UTC(2026, 0, 31);
    const children = new Map<Digest, Digest[]>();
    const referrers = new Map<Digest, Digest[]>();
    const versions: PackageVersion[] = [];
    for (let i = 0; i < n; i++) {
      const digest = digestOf(i + 1);
      const own = [...tags[i]!];
      const p = parent[i]!;
      const s = subject[i]!;
      if (p >= 0 && p !== i)
        children.set(digestOf(p + 1), [...(children.get(digestOf(p + 1)) ?? []), digest]);
      else if (s >= 0 && s !== i) {
        if (cosign[i]) own.push(`sha256-${hex(s + 1)}.sig`);
        else referrers.set(digestOf(s + 1), [...(referrers.get(digestOf(s + 1)) ?? []), digest]);
      }
      versions.push({
        id: 100 + i,
        digest,
        tags: own,
        createdAt: new Date(now - ages[i]! * 86_400_000),
        updatedAt: new Date(now),
        deletedAt: undefined,
        htmlUrl: undefined,
      });
    }
    const graph: VersionGraph = {
      children: async (d) => children.get(d) ?? [],
      referrers: async (d) => referrers.get(d) ?? [],
    };
    return { versions, graph, children, referrers, now };
  });

const policyArbitrary = fc
  .record({
    keepLast: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    olderThanDays: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    untagged: fc.boolean(),
    keepTag: fc.option(fc.constantFrom("v*", "keep-*", "/^lat/"), { nil: undefined }),
  })
  .filter((p) => p.keepLast !== undefined || p.olderThanDays !== undefined || p.untagged);

describe("cleanup plan (FR-VER-006) properties", () => {
  it("FR-VER-006: never deletes a kept tag, one of the newest N, a child of a kept index, or a referrer of a kept version", async () => {
    await fc.assert(
      fc.asyncProperty(packageArbitrary, policyArbitrary, async (pkg, p) => {
        const policy: CleanupPolicy = {
          ...(p.keepLast !== undefined ? { keepLast: p.keepLast } : {}),
          ...(p.olderThanDays !== undefined
            ? { olderThan: new Date(pkg.now - p.olderThanDays * 86_400_000) }
            : {}),
          untagged: p.untagged,
          ...(p.keepTag ? { keepTags: [tagMatcher(p.keepTag)] } : {}),
        };
        const plan = await planCleanup(pkg.versions, policy, pkg.graph);
        const deleted = new Set(plan.delete.map((e) => e.digest));
        const kept = new Set(plan.keep.map((e) => e.digest));
        // Every version is in exactly one list.
        expect(deleted.size + kept.size).toBe(pkg.versions.length);
        for (const d of deleted) expect(kept.has(d)).toBe(false);
        for (const v of pkg.versions) {
          if (p.keepTag && v.tags.some(tagMatcher(p.keepTag))) expect(deleted.has(v.digest)).toBe(false);
          if (p.untagged && v.tags.length > 0 && !v.tags.some((t) => t.endsWith(".sig")))
            expect(deleted.has(v.digest)).toBe(false);
          if (policy.olderThan && v.createdAt >= policy.olderThan) expect(deleted.has(v.digest)).toBe(false);
        }
        // The newest N images (versions nothing else lists or signs) survive.
        const dependants = new Set([...pkg.children.values(), ...pkg.referrers.values()].flat());
        for (const v of pkg.versions)
          for (const t of v.tags) if (t.endsWith(".sig")) dependants.add(v.digest);
        if (p.keepLast !== undefined) {
          const images = pkg.versions
            .filter((v) => !dependants.has(v.digest))
            .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);
          for (const v of images.slice(0, p.keepLast)) expect(deleted.has(v.digest)).toBe(false);
        }
        // Whatever is kept keeps what it needs and what describes it.
        for (const k of kept) {
          for (const child of pkg.children.get(k) ?? []) expect(deleted.has(child)).toBe(false);
          for (const r of pkg.referrers.get(k) ?? []) expect(deleted.has(r)).toBe(false);
          const sig = `sha256-${k.slice(7)}.sig`;
          for (const v of pkg.versions) if (v.tags.includes(sig)) expect(deleted.has(v.digest)).toBe(false);
        }
        // Every entry says why.
        for (const e of [...plan.delete, ...plan.keep]) expect(e.reason).not.toBe("");
      }),
      { numRuns: 300 },
    );
  });

  it("FR-VER-006: an index is deleted before its platform manifests", async () => {
    const versions: PackageVersion[] = [1, 2, 3].map((i) => ({
      id: i,
      digest: digestOf(i),
      tags: [],
      createdAt: new Date(0),
      updatedAt: new Date(0),
      deletedAt: undefined,
      htmlUrl: undefined,
    }));
    const graph: VersionGraph = {
      children: async (d) => (d === digestOf(3) ? [digestOf(1), digestOf(2)] : []),
      referrers: async () => [],
    };
    const plan = await planCleanup(versions, { untagged: true }, graph);
    expect(plan.delete.map((e) => e.id)).toEqual([3, 1, 2]);
  });

  it("a policy without a rule, and bad ages, are invalid input", async () => {
    await expect(
      planCleanup([], {}, { children: async () => [], referrers: async () => [] }),
    ).rejects.toThrow(/at least one of/);
    expect(parseAge("30d")).toBe(30 * 86_400_000);
    expect(parseAge("12h")).toBe(12 * 3_600_000);
    expect(parseAge("1.5d")).toBe(36 * 3_600_000);
    expect(() => parseAge("thirty days")).toThrow(/invalid duration/);
    expect(() => parseAge("30")).toThrow(/invalid duration/);
  });

  it("resumable: a version already gone counts as done, other failures stop the run", async () => {
    const plan = {
      delete: [1, 2, 3].map((id) => ({ id, digest: digestOf(id), tags: [], reason: "untagged" })),
      keep: [],
    };
    const { NotFoundError, ServerError } = await import("../../core/errors.js");
    const progress = await executeCleanup(plan, async (e) => {
      if (e.id === 2) throw new NotFoundError("gone");
    });
    expect(progress.deleted.map((e) => e.id)).toEqual([1, 3]);
    expect(progress.alreadyGone.map((e) => e.id)).toEqual([2]);
    await expect(
      executeCleanup(plan, async () => {
        throw new ServerError("boom");
      }),
    ).rejects.toThrow("boom");
  });
});
