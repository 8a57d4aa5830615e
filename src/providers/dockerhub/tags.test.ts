import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { highestTag, semverTags } from "./tags.js";

describe("semantic tag helpers", () => {
  const tags = [
    "latest",
    "1.2.3",
    "v1.10.0",
    "1.2.10",
    "2.0.0-rc.1",
    "stable",
    "v2.0.0",
    "2.0.0",
    "20240101",
    "1.2",
  ];

  it("keeps semantic versions only, highest first, v-prefixed or not", () => {
    expect(semverTags(tags).map((t) => t.tag)).toEqual(["2.0.0", "v2.0.0", "v1.10.0", "1.2.10", "1.2.3"]);
    expect(semverTags(tags, { includePrerelease: true }).map((t) => t.tag)).toContain("2.0.0-rc.1");
  });

  it("picks the highest tag in a range", () => {
    expect(highestTag(tags, "^1.2")).toBe("v1.10.0");
    expect(highestTag(tags, "~1.2.0")).toBe("1.2.10");
    expect(highestTag(tags, ">=3")).toBeUndefined();
    expect(highestTag(tags)).toBe("2.0.0");
  });

  it("never throws and always sorts descending, whatever the tags", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 })), (input) => {
        const sorted = semverTags(input);
        for (let i = 1; i < sorted.length; i++)
          expect(sorted[i - 1]!.version.compare(sorted[i]!.version)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
