import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DurationUnit, parseDuration } from "./duration.js";
import { InvalidInputError } from "./errors.js";

const FACTOR: Record<DurationUnit, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

describe("parseDuration", () => {
  it("takes a number and a unit: ms, s, m (minutes), h, d, w", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("90m")).toBe(5_400_000);
    expect(parseDuration("12h")).toBe(43_200_000);
    expect(parseDuration("30d")).toBe(30 * 86_400_000);
    expect(parseDuration("2w")).toBe(1_209_600_000);
    expect(parseDuration(" 30 d ")).toBe(30 * 86_400_000);
    expect(parseDuration("0s")).toBe(0);
  });

  it("a bare number only where the caller names its unit", () => {
    expect(() => parseDuration("30")).toThrow(InvalidInputError);
    expect(() => parseDuration("30")).toThrow(
      /invalid duration "30" \(e\.g\. 30d, 12h, 2w, 90m, 10s, 500ms\)$/,
    );
    expect(parseDuration("30", { bareUnit: "s" })).toBe(30_000);
    expect(parseDuration("2", { bareUnit: "d" })).toBe(172_800_000);
  });

  it("refuses anything else with a typed error; an overflow too", () => {
    for (const bad of ["", "ten seconds", "thirty days", "-5s", "5 years", "1e3s", "s", "3y", "1.s", ".5h"])
      expect(() => parseDuration(bad, { bareUnit: "s" })).toThrow(/invalid duration/);
    expect(() => parseDuration("99999999999999999999w")).toThrow(/too long/);
  });

  it("property: N followed by a unit is N times the unit", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.constantFrom(...(Object.keys(FACTOR) as DurationUnit[])),
        (n, unit) => parseDuration(`${n}${unit}`) === n * FACTOR[unit],
      ),
    );
  });

  it("property: any text either parses to a safe whole number of ms or throws InvalidInputError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (text) => {
        try {
          const ms = parseDuration(text, { bareUnit: "s" });
          return Number.isSafeInteger(ms) && ms >= 0;
        } catch (error) {
          return error instanceof InvalidInputError;
        }
      }),
    );
  });
});
