import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isRegkitError, PlatformNotFoundError } from "./errors.js";
import {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  selectPlatform,
} from "./platform.js";

describe("platforms", () => {
  it.each([
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v7" }],
    ["windows/amd64:10.0.17763.1234", { os: "windows", architecture: "amd64", osVersion: "10.0.17763.1234" }],
  ])("parses %s and formats it back", (input, expected) => {
    expect(parsePlatform(input)).toEqual(expected);
    expect(formatPlatform(parsePlatform(input))).toBe(input);
  });

  it.each(["", "linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64", "linux/amd64:"])(
    "rejects %j",
    (input) => {
      expect(() => parsePlatform(input)).toThrow(/invalid platform/);
    },
  );

  it("normalizes like containerd", () => {
    expect(normalizePlatform({ os: "Linux", architecture: "aarch64" })).toEqual({
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    });
    expect(normalizePlatform({ os: "linux", architecture: "x86_64" })).toEqual({
      os: "linux",
      architecture: "amd64",
    });
    expect(normalizePlatform({ os: "linux", architecture: "arm" })).toEqual({
      os: "linux",
      architecture: "arm",
      variant: "v7",
    });
  });

  it("matches on what was asked", () => {
    expect(
      platformMatches(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" }),
    ).toBe(true);
    expect(
      platformMatches(parsePlatform("linux/arm/v6"), { os: "linux", architecture: "arm", variant: "v7" }),
    ).toBe(false);
    expect(
      platformMatches(parsePlatform("windows/amd64:10.0.17763"), {
        os: "windows",
        architecture: "amd64",
        osVersion: "10.0.17763.5",
      }),
    ).toBe(true);
    expect(
      platformMatches(parsePlatform("windows/amd64:10.0.20348"), {
        os: "windows",
        architecture: "amd64",
        osVersion: "10.0.17763.5",
      }),
    ).toBe(false);
  });

  const entries = [
    { digest: "a", platform: { os: "linux", architecture: "amd64" } },
    { digest: "b", platform: { os: "linux", architecture: "arm", variant: "v6" } },
    { digest: "c", platform: { os: "linux", architecture: "arm", variant: "v7" } },
    { digest: "d", platform: { os: "unknown", architecture: "unknown" } },
    { digest: "e" },
  ];

  it("selects the best entry of an index", () => {
    expect(selectPlatform(entries, parsePlatform("linux/amd64")).digest).toBe("a");
    expect(selectPlatform(entries, parsePlatform("linux/arm")).digest).toBe("c");
    expect(selectPlatform(entries, parsePlatform("linux/arm/v6")).digest).toBe("b");
  });

  it("lists the available platforms when nothing matches", () => {
    const error = (() => {
      try {
        selectPlatform(entries, parsePlatform("linux/s390x"));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PlatformNotFoundError);
    expect((error as PlatformNotFoundError).available).toEqual([
      "linux/amd64",
      "linux/arm/v6",
      "linux/arm/v7",
    ]);
    expect((error as Error).message).toBe(
      "no manifest for platform linux/s390x; available: linux/amd64, linux/arm/v6, linux/arm/v7",
    );
  });

  it("knows the host platform", () => {
    expect(hostPlatform().os).toBe(process.platform === "win32" ? "windows" : process.platform);
  });

  it("throws only RegkitErrors", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (input) => {
        try {
          parsePlatform(input);
        } catch (error) {
          expect(isRegkitError(error)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
