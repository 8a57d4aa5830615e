import { describe, expect, it } from "vitest";
import { parseDuration } from "./options.js";

describe("parseDuration", () => {
  it("takes --older-than's units plus seconds and milliseconds; a bare number is seconds", () => {
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("90m")).toBe(5_400_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("2d")).toBe(172_800_000);
    expect(parseDuration("1w")).toBe(604_800_000);
    expect(parseDuration("30")).toBe(30_000);
    expect(parseDuration("0s")).toBe(0);
  });

  it("refuses anything else", () => {
    for (const bad of ["", "ten seconds", "-5s", "5 years", "1e3s", "s"])
      expect(() => parseDuration(bad)).toThrow(/expected a duration/);
  });
});
