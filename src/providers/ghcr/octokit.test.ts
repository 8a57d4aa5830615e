import { describe, expect, it } from "vitest";
import { MAX_THROTTLE_DELAY_MS, throttleDelay } from "./octokit.js";

const state = (limit: number, remaining: number, resetInMs: number, now: number) => ({
  origin: "https://api.github.com",
  style: "github" as const,
  limit,
  remaining,
  resetAt: new Date(now + resetInMs),
  updatedAt: new Date(now),
});

describe("NFR-RATE-002: preemptive throttle at 80 %", () => {
  it("NFR-RATE-002: no pause below 80 % used; past it the rest of the hour is spread over what is left", () => {
    const now = 1_000_000;
    expect(throttleDelay(state(1000, 201, 3_600_000, now), now)).toBe(0);
    expect(throttleDelay(state(1000, 200, 3_600_000, now), now)).toBe(18_000);
    expect(throttleDelay(state(1000, 100, 1_000_000, now), now)).toBe(10_000);
    expect(throttleDelay(state(1000, 2, 3_600_000, now), now)).toBe(MAX_THROTTLE_DELAY_MS);
    expect(throttleDelay(state(1000, 0, 3_600_000, now), now)).toBe(0);
    expect(throttleDelay(state(1000, 100, -5, now), now)).toBe(0);
    expect(throttleDelay(undefined, now)).toBe(0);
    expect(throttleDelay({ ...state(100, 1, 60_000, now), style: "docker" }, now)).toBe(0);
  });
});
