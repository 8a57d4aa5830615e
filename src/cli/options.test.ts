import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { parseAge, parseDuration } from "./options.js";

describe("parseDuration (serve --grace, --upload-ttl)", () => {
  // The grammar itself is tested in src/core/duration.test.ts.
  it("takes the durations --older-than takes; a bare number is seconds", () => {
    expect([parseDuration("500ms"), parseDuration("1.5s"), parseDuration("1h")]).toEqual([
      500, 1500, 3_600_000,
    ]);
    expect(parseDuration("30")).toBe(30_000);
  });

  it("refuses anything else as a usage error", () => {
    for (const bad of ["", "ten seconds", "-5s", "5 years", "1e3s", "s"]) {
      expect(() => parseDuration(bad)).toThrow(InvalidArgumentError);
      expect(() => parseDuration(bad)).toThrow(/invalid duration .*, or a number of seconds\)$/);
    }
  });
});

describe("parseAge (ghcr cleanup --older-than)", () => {
  it("the same durations: what users wrote before (30d, 12h, 2w, 90m) and the finer units", () => {
    expect(["30d", "12h", "2w", "90m", "1.5d", "45s"].map(parseAge)).toEqual([
      30 * 86_400_000,
      12 * 3_600_000,
      2 * 604_800_000,
      90 * 60_000,
      36 * 3_600_000,
      45_000,
    ]);
  });

  it("a bare number is refused: the unit of a delete filter is never guessed", () => {
    expect(() => parseAge("30")).toThrow(InvalidArgumentError);
    expect(() => parseAge("30")).toThrow('invalid duration "30" (e.g. 30d, 12h, 2w, 90m, 10s, 500ms)');
  });
});
