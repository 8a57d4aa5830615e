import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError, isRegkitError, PlatformNotFoundError } from "./errors.js";
import {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  type Platform,
  parsePlatform,
  platformFromDescriptor,
  platformFromNode,
  platformMatches,
  selectPlatform,
} from "./platform.js";

describe("parsePlatform", () => {
  it.each<[string, Platform]>([
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v7" }],
    ["windows/amd64:10.0.17763.1234", { os: "windows", architecture: "amd64", osVersion: "10.0.17763.1234" }],
    ["linux/ppc64le", { os: "linux", architecture: "ppc64le" }],
    ["Linux/x86_64", { os: "Linux", architecture: "x86_64" }],
  ])("parses %s and formats it back", (input, expected) => {
    expect(parsePlatform(input)).toEqual(expected);
    expect(formatPlatform(parsePlatform(input))).toBe(input);
  });

  it.each([
    "",
    "linux",
    "linux/",
    "/amd64",
    "linux//v7",
    "linux/arm/",
    "a/b/c/d",
    "linux/amd 64",
    "linux/amd64:",
    "linux/amd64:1:2",
    ":10.0",
    "linux/amd64\n",
    "linux/ärm",
    `linux/${"a".repeat(65)}`,
    "x".repeat(300),
  ])("rejects %j", (input) => {
    expect(() => parsePlatform(input)).toThrow(InvalidInputError);
    expect(() => parsePlatform(input)).toThrow(/^invalid platform /);
  });

  it("rejects non-strings with a typed error", () => {
    expect(() => parsePlatform(undefined as unknown as string)).toThrow(InvalidInputError);
  });
});

describe("normalizePlatform (containerd rules)", () => {
  it.each<[Platform, Platform]>([
    [
      { os: "Linux", architecture: "aarch64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ],
    [
      { os: "linux", architecture: "arm64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ],
    [
      { os: "linux", architecture: "arm64", variant: "8" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ],
    [
      { os: "linux", architecture: "arm64", variant: "v9.0" },
      { os: "linux", architecture: "arm64", variant: "v9" },
    ],
    [
      { os: "linux", architecture: "x86_64" },
      { os: "linux", architecture: "amd64" },
    ],
    [
      { os: "linux", architecture: "x86-64" },
      { os: "linux", architecture: "amd64" },
    ],
    [
      { os: "linux", architecture: "amd64", variant: "v1" },
      { os: "linux", architecture: "amd64" },
    ],
    [
      { os: "linux", architecture: "amd64", variant: "v3" },
      { os: "linux", architecture: "amd64", variant: "v3" },
    ],
    [
      { os: "linux", architecture: "arm" },
      { os: "linux", architecture: "arm", variant: "v7" },
    ],
    [
      { os: "linux", architecture: "arm", variant: "6" },
      { os: "linux", architecture: "arm", variant: "v6" },
    ],
    [
      { os: "linux", architecture: "armhf" },
      { os: "linux", architecture: "arm", variant: "v7" },
    ],
    [
      { os: "linux", architecture: "armel" },
      { os: "linux", architecture: "arm", variant: "v6" },
    ],
    [
      { os: "linux", architecture: "i386" },
      { os: "linux", architecture: "386" },
    ],
    [
      { os: "MacOS", architecture: "arm64" },
      { os: "darwin", architecture: "arm64", variant: "v8" },
    ],
    [
      { os: "windows", architecture: "AMD64", osVersion: "10.0.1", features: ["sse4"] },
      { os: "windows", architecture: "amd64", osVersion: "10.0.1", features: ["sse4"] },
    ],
  ])("%j → %j", (input, expected) => {
    expect(normalizePlatform(input)).toEqual(expected);
  });

  it("is idempotent", () => {
    const platform = fc.record(
      {
        os: fc.constantFrom("linux", "Linux", "windows", "macos", "darwin"),
        architecture: fc.constantFrom(
          "amd64",
          "x86_64",
          "arm64",
          "aarch64",
          "arm",
          "armhf",
          "i386",
          "riscv64",
        ),
        variant: fc.constantFrom("v5", "v6", "v7", "v8", "8", "v9.0", "v1", "v3", ""),
      },
      { requiredKeys: ["os", "architecture"] },
    );
    fc.assert(
      fc.property(platform, (p) => {
        const once = normalizePlatform(p);
        expect(normalizePlatform(once)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });
});

describe("platformMatches", () => {
  const p = parsePlatform;
  it.each<[string, Platform, boolean]>([
    ["linux/arm64", { os: "linux", architecture: "arm64", variant: "v8" }, true],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64" }, true],
    ["linux/aarch64", { os: "linux", architecture: "arm64" }, true],
    ["linux/amd64", { os: "linux", architecture: "x86_64" }, true],
    ["linux/amd64", { os: "linux", architecture: "amd64", variant: "v3" }, true],
    ["linux/amd64/v3", { os: "linux", architecture: "amd64" }, false],
    ["linux/arm/v6", { os: "linux", architecture: "arm", variant: "v7" }, false],
    ["linux/arm", { os: "linux", architecture: "arm", variant: "v6" }, true],
    ["linux/amd64", { os: "windows", architecture: "amd64" }, false],
    ["linux/amd64", { os: "linux", architecture: "arm64" }, false],
    ["windows/amd64:10.0.17763", { os: "windows", architecture: "amd64", osVersion: "10.0.17763.5" }, true],
    ["windows/amd64:10.0.17763", { os: "windows", architecture: "amd64", osVersion: "10.0.17763" }, true],
    ["windows/amd64:10.0.1776", { os: "windows", architecture: "amd64", osVersion: "10.0.17763.5" }, false],
    ["windows/amd64:10.0.20348", { os: "windows", architecture: "amd64", osVersion: "10.0.17763.5" }, false],
    ["windows/amd64:10.0.17763", { os: "windows", architecture: "amd64" }, false],
    ["windows/amd64", { os: "windows", architecture: "amd64", osVersion: "10.0.17763.5" }, true],
  ])("%s vs %j → %s", (wanted, candidate, expected) => {
    expect(platformMatches(p(wanted), candidate)).toBe(expected);
  });

  it("requires the wanted features to be a subset", () => {
    const wanted: Platform = { os: "windows", architecture: "amd64", osFeatures: ["win32k"] };
    expect(platformMatches(wanted, { ...wanted, osFeatures: ["win32k", "other"] })).toBe(true);
    expect(platformMatches(wanted, { os: "windows", architecture: "amd64" })).toBe(false);
    const cpu: Platform = { os: "linux", architecture: "amd64", features: ["avx2"] };
    expect(platformMatches(cpu, { ...cpu, features: [] })).toBe(false);
    expect(platformMatches({ os: "linux", architecture: "amd64" }, cpu)).toBe(true);
  });
});

describe("descriptors and selection", () => {
  it("reads a descriptor's platform", () => {
    expect(platformFromDescriptor({})).toBeUndefined();
    expect(
      platformFromDescriptor({
        platform: {
          os: "windows",
          architecture: "amd64",
          "os.version": "10.0.17763.1",
          "os.features": ["win32k"],
          variant: "",
          features: ["x"],
        },
      }),
    ).toEqual({
      os: "windows",
      architecture: "amd64",
      osVersion: "10.0.17763.1",
      osFeatures: ["win32k"],
      features: ["x"],
    });
  });

  const entries = [
    { digest: "a", platform: { os: "linux", architecture: "amd64" } },
    { digest: "b", platform: { os: "linux", architecture: "arm", variant: "v6" } },
    { digest: "c", platform: { os: "linux", architecture: "arm", variant: "v7" } },
    { digest: "d", platform: { os: "unknown", architecture: "unknown" } },
    { digest: "e" },
    { digest: "f", platform: { os: "linux", architecture: "amd64" } },
    { digest: "g", platform: { os: "linux", architecture: "arm64" } },
  ];

  it("selects the best entry of an index", () => {
    expect(selectPlatform(entries, parsePlatform("linux/amd64")).digest).toBe("a");
    expect(selectPlatform(entries, parsePlatform("linux/x86_64")).digest).toBe("a");
    expect(selectPlatform(entries, parsePlatform("linux/arm")).digest).toBe("c");
    expect(selectPlatform(entries, parsePlatform("linux/arm/v6")).digest).toBe("b");
    expect(selectPlatform(entries, parsePlatform("linux/arm64/v8")).digest).toBe("g");
    expect(selectPlatform(entries, parsePlatform("linux/aarch64")).digest).toBe("g");
  });

  it("prefers the exact variant over an entry that only matches loosely", () => {
    const amd = [
      { digest: "v3", platform: { os: "linux", architecture: "amd64", variant: "v3" } },
      { digest: "plain", platform: { os: "linux", architecture: "amd64" } },
    ];
    expect(selectPlatform(amd, parsePlatform("linux/amd64")).digest).toBe("plain");
    expect(selectPlatform(amd.slice(0, 1), parsePlatform("linux/amd64")).digest).toBe("v3");
    expect(selectPlatform(amd, parsePlatform("linux/amd64/v3")).digest).toBe("v3");
    const arm = [
      { digest: "v6", platform: { os: "linux", architecture: "arm", variant: "v6" } },
      { digest: "none", platform: { os: "linux", architecture: "arm" } },
    ];
    expect(selectPlatform(arm, parsePlatform("linux/arm/v7")).digest).toBe("none");
  });

  it("lists the available platforms when nothing matches, without attestations", () => {
    let error: unknown;
    try {
      selectPlatform(entries, parsePlatform("linux/s390x"));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlatformNotFoundError);
    expect((error as PlatformNotFoundError).requested).toBe("linux/s390x");
    expect((error as PlatformNotFoundError).available).toEqual([
      "linux/amd64",
      "linux/arm/v6",
      "linux/arm/v7",
      "linux/arm64",
    ]);
    expect((error as Error).message).toBe(
      "no manifest for platform linux/s390x; available: linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64",
    );
    expect(() => selectPlatform([], parsePlatform("linux/amd64"))).toThrow(/available: none$/);
  });
});

describe("host platform", () => {
  it.each<[string, string, string | undefined, Platform]>([
    ["linux", "x64", undefined, { os: "linux", architecture: "amd64" }],
    ["linux", "arm64", undefined, { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux", "arm", "6", { os: "linux", architecture: "arm", variant: "v6" }],
    ["linux", "arm", undefined, { os: "linux", architecture: "arm", variant: "v7" }],
    ["win32", "x64", undefined, { os: "windows", architecture: "amd64" }],
    ["darwin", "arm64", undefined, { os: "darwin", architecture: "arm64", variant: "v8" }],
    ["linux", "ia32", undefined, { os: "linux", architecture: "386" }],
    ["linux", "ppc64", undefined, { os: "linux", architecture: "ppc64le" }],
  ])("%s/%s (arm %s) → %j", (platform, arch, armVersion, expected) => {
    expect(platformFromNode(platform, arch, armVersion)).toEqual(expected);
  });

  it("describes this machine", () => {
    const host = hostPlatform();
    expect(host.os).toBe(process.platform === "win32" ? "windows" : process.platform);
    expect(host.architecture).toBe(platformFromNode(process.platform, process.arch).architecture);
    expect(platformMatches(host, host)).toBe(true);
  });
});

describe("properties", () => {
  const part = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
  it("format ∘ parse is the identity on valid platforms", () => {
    fc.assert(
      fc.property(
        part,
        part,
        fc.option(part, { nil: undefined }),
        fc.option(part, { nil: undefined }),
        (os, arch, variant, osVersion) => {
          const text = `${os}/${arch}${variant ? `/${variant}` : ""}${osVersion ? `:${osVersion}` : ""}`;
          expect(formatPlatform(parsePlatform(text))).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("throws only RegkitErrors", () => {
    const platformish = fc.string({ unit: fc.constantFrom(..."linux/amd64:v8.0 _-\u0000é".split("")) });
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: "binary" }), platformish),
        (input) => {
          try {
            const parsed = parsePlatform(input);
            expect(formatPlatform(parsed)).toBe(input);
          } catch (error) {
            expect(isRegkitError(error)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
