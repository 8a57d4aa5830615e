import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Digest, digestOf } from "./digest.js";
import { InvalidReferenceError, isRegkitError } from "./errors.js";
import {
  DOCKER_HUB,
  DOCKER_HUB_ENDPOINT,
  familiarReference,
  formatReference,
  isValidRepository,
  isValidTag,
  parseReference,
  parseRepository,
  parseTag,
  type Reference,
  referenceTarget,
  registryEndpoint,
  withDigest,
  withTag,
} from "./reference.js";

const D = digestOf("x");
const D512 = digestOf("x", "sha512");

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("parseReference normalizes like Docker", () => {
  it.each<[string, Reference]>([
    ["alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }],
    ["alpine:3.20", { registry: "docker.io", repository: "library/alpine", tag: "3.20" }],
    ["docker.io/alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }],
    ["docker.io/x", { registry: "docker.io", repository: "library/x", tag: "latest" }],
    ["index.docker.io/x", { registry: "docker.io", repository: "library/x", tag: "latest" }],
    ["registry-1.docker.io/x", { registry: "docker.io", repository: "library/x", tag: "latest" }],
    ["Index.Docker.IO/x", { registry: "docker.io", repository: "library/x", tag: "latest" }],
    [
      "registry-1.docker.io/library/alpine:3",
      { registry: "docker.io", repository: "library/alpine", tag: "3" },
    ],
    ["docker.io/library/alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }],
    ["user/app:v1", { registry: "docker.io", repository: "user/app", tag: "v1" }],
    ["org/team/image", { registry: "docker.io", repository: "org/team/image", tag: "latest" }],
    ["localhost/foo", { registry: "localhost", repository: "foo", tag: "latest" }],
    ["LOCALHOST/foo", { registry: "localhost", repository: "foo", tag: "latest" }],
    ["localhost:5000/foo", { registry: "localhost:5000", repository: "foo", tag: "latest" }],
    ["127.0.0.1:5000/a/b:t", { registry: "127.0.0.1:5000", repository: "a/b", tag: "t" }],
    ["[::1]:5000/x", { registry: "[::1]:5000", repository: "x", tag: "latest" }],
    ["[::1]/x", { registry: "[::1]", repository: "x", tag: "latest" }],
    ["[FE80::1]:443/x", { registry: "[fe80::1]:443", repository: "x", tag: "latest" }],
    ["myhost:5000/x", { registry: "myhost:5000", repository: "x", tag: "latest" }],
    ["GHCR.IO/owner/img", { registry: "ghcr.io", repository: "owner/img", tag: "latest" }],
    [
      "europe-docker.pkg.dev/p/r/i:1.0",
      { registry: "europe-docker.pkg.dev", repository: "p/r/i", tag: "1.0" },
    ],
    // `localhost:5000` with no path is Docker's `library/localhost` at tag `5000`.
    ["localhost:5000", { registry: "docker.io", repository: "library/localhost", tag: "5000" }],
    [`a@${D}`, { registry: "docker.io", repository: "library/a", digest: D }],
    [`a@${D512}`, { registry: "docker.io", repository: "library/a", digest: D512 }],
    [`a:t@${D}`, { registry: "docker.io", repository: "library/a", tag: "t", digest: D }],
    [`ghcr.io/o/i:v1@${D}`, { registry: "ghcr.io", repository: "o/i", tag: "v1", digest: D }],
    ["ab/c_d.e-f__g---h", { registry: "docker.io", repository: "ab/c_d.e-f__g---h", tag: "latest" }],
    ["a:Tag_1.0-rc", { registry: "docker.io", repository: "library/a", tag: "Tag_1.0-rc" }],
    [`a:${"t".repeat(128)}`, { registry: "docker.io", repository: "library/a", tag: "t".repeat(128) }],
  ])("%s", (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it("applies options", () => {
    expect(parseReference("a/b", { defaultRegistry: "r.example" })).toEqual({
      registry: "r.example",
      repository: "a/b",
      tag: "latest",
    });
    expect(parseReference("a", { defaultRegistry: "r.example" })).toEqual({
      registry: "r.example",
      repository: "a",
      tag: "latest",
    });
    expect(parseReference("a", { defaultRegistry: "index.docker.io" }).repository).toBe("library/a");
    expect(parseReference("a", { defaultTag: false })).toEqual({
      registry: "docker.io",
      repository: "library/a",
    });
    expect(parseReference("a", { defaultTag: "stable" }).tag).toBe("stable");
    expect(parseReference("a:t", { defaultTag: "stable" }).tag).toBe("t");
    expect(parseReference(`a@${D}`, { defaultTag: "stable" }).tag).toBeUndefined();
    expect(() => parseReference("a", { defaultTag: "-bad" })).toThrow(InvalidReferenceError);
  });

  const longest = `r.example/${"a".repeat(255 - "r.example/".length)}`;
  it.each([
    ["", /empty/],
    ["ghcr.io/Owner/img", /must be lowercase/],
    ["Owner/img", /must be lowercase/],
    ["ALPINE", /must be lowercase/],
    [":tag", /repository name is empty/],
    [`@${D}`, /repository name is empty/],
    ["docker.io/", /repository name is empty/],
    ["a//b", /empty path component/],
    ["a/", /empty path component/],
    ["/a", /empty path component/],
    ["a:", /invalid tag/],
    [`a:${"t".repeat(129)}`, /invalid tag/],
    ["a:-bad", /invalid tag/],
    ["a:.bad", /invalid tag/],
    ["a:t@", /invalid digest/],
    [`${"a".repeat(256)}`, /longer than 255/],
    [`a/${"b".repeat(250)}`, /longer than 255/],
    [`${longest}b`, /longer than 255/],
    ["a b", /whitespace/],
    [" a", /whitespace/],
    ["a\t", /whitespace/],
    ["a\u0000b", /control/],
    ["a\u007f", /control/],
    ["a@sha256:1234", /invalid digest/],
    [`a@sha256:${"A".repeat(64)}`, /invalid digest/],
    [`a@md5:${"a".repeat(32)}`, /invalid digest/],
    ["-a", /invalid path component/],
    ["a-", /invalid path component/],
    ["a..b", /invalid path component/],
    ["a___b", /invalid path component/],
    ["ä", /invalid path component/],
    ["host:port/a", /invalid registry host/],
    ["host:0/a", /invalid registry host/],
    ["host:65536/a", /invalid registry host/],
    ["exa_mple.com/a", /invalid registry host/],
    ["-bad.example/a", /invalid registry host/],
    ["a..example/b", /invalid registry host/],
    ["[::1/x", /invalid registry host/],
    ["[:]:5000/x", /invalid registry host/],
    ["[zz::1]/x", /invalid registry host/],
    ["[::1]x/y", /invalid registry host/],
    ["[fe80::1%eth0]/x", /invalid registry host/],
    ["a:b:5000/x", /invalid registry host/],
    [`${"a".repeat(1025)}`, /too long/],
  ])("rejects %j", (input, message) => {
    const error = thrown(() => parseReference(input));
    expect(error).toBeInstanceOf(InvalidReferenceError);
    expect((error as Error).message).toMatch(message);
    expect((error as InvalidReferenceError).code).toBe("NAME_INVALID");
    expect((error as Error).message).not.toMatch(/[\r\n]/);
  });

  it("accepts a name of exactly 255 characters with its registry", () => {
    expect(formatReference(parseReference(longest, { defaultTag: false }))).toBe(longest);
  });

  it("throws a typed error for non-string input", () => {
    expect(() => parseReference(42 as unknown as string)).toThrow(InvalidReferenceError);
  });
});

describe("parseRepository", () => {
  it("parses repositories without tags", () => {
    expect(parseRepository("alpine")).toEqual({ registry: "docker.io", repository: "library/alpine" });
    expect(parseRepository("127.0.0.1:5000/a/b")).toEqual({ registry: "127.0.0.1:5000", repository: "a/b" });
    expect(parseRepository("a/b", { defaultRegistry: "r.example" })).toEqual({
      registry: "r.example",
      repository: "a/b",
    });
  });

  it.each(["a:t", `a@${D}`, `a:t@${D}`, "localhost:5000", "", "A/b", "a//b"])("rejects %j", (input) => {
    expect(() => parseRepository(input)).toThrow(InvalidReferenceError);
  });
});

describe("tags and repository names", () => {
  it.each([
    ["latest", true],
    ["v1.2.3", true],
    ["_private", true],
    ["UPPER", true],
    ["t".repeat(128), true],
    ["t".repeat(129), false],
    ["", false],
    [".hidden", false],
    ["-dash", false],
    ["a/b", false],
    ["a+b", false],
    ["é", false],
  ])("isValidTag(%j) = %s", (tag, valid) => {
    expect(isValidTag(tag)).toBe(valid);
    if (valid) expect(parseTag(tag)).toBe(tag);
    else expect(() => parseTag(tag)).toThrow(InvalidReferenceError);
  });

  it.each([
    ["library/alpine", true],
    ["a", true],
    ["a/b/c/d", true],
    ["a__b", true],
    ["a---b", true],
    ["a".repeat(255), true],
    ["a".repeat(256), false],
    ["", false],
    ["A", false],
    ["a/", false],
    ["a//b", false],
    ["a_-b", false],
    ["ghcr.io/a", true],
    ["host:5000/a", false],
  ])("isValidRepository(%j) = %s", (name, valid) => {
    expect(isValidRepository(name)).toBe(valid);
  });
});

describe("reference helpers", () => {
  it("formats the full form", () => {
    expect(formatReference(parseReference("alpine:3.20"))).toBe("docker.io/library/alpine:3.20");
    expect(formatReference(parseReference(`host:5000/a/b@${D}`))).toBe(`host:5000/a/b@${D}`);
    expect(formatReference(parseReference(`r.example/n:t@${D}`))).toBe(`r.example/n:t@${D}`);
    expect(formatReference(parseReference("a", { defaultTag: false }))).toBe("docker.io/library/a");
  });

  it.each([
    ["alpine:3.20", "alpine:3.20"],
    ["docker.io/library/alpine", "alpine:latest"],
    ["user/img:t", "user/img:t"],
    ["library/a/b", "library/a/b:latest"],
    [`a:t@${D}`, `a:t@${D}`],
    ["ghcr.io/o/i:1", "ghcr.io/o/i:1"],
    ["localhost:5000/x", "localhost:5000/x:latest"],
    // These Hub names would read as registries in their short form.
    ["docker.io/localhost/foo", "docker.io/localhost/foo:latest"],
    ["docker.io/foo.bar/baz", "docker.io/foo.bar/baz:latest"],
  ])("familiarReference(%s) = %s", (input, expected) => {
    expect(familiarReference(parseReference(input))).toBe(expected);
  });

  it("maps Docker Hub to its API host", () => {
    expect(DOCKER_HUB).toBe("docker.io");
    expect(registryEndpoint("docker.io")).toBe(DOCKER_HUB_ENDPOINT);
    expect(registryEndpoint("index.docker.io")).toBe("registry-1.docker.io");
    expect(registryEndpoint("registry-1.docker.io")).toBe("registry-1.docker.io");
    expect(registryEndpoint("ghcr.io")).toBe("ghcr.io");
    expect(registryEndpoint("127.0.0.1:5000")).toBe("127.0.0.1:5000");
  });

  it("targets the digest when pinned", () => {
    const ref = parseReference("a:t");
    expect(referenceTarget(ref)).toBe("t");
    expect(referenceTarget(parseReference(`a:t@${D}`))).toBe(D);
    const pinned = withDigest(ref, D);
    expect(pinned).toEqual({ registry: "docker.io", repository: "library/a", tag: "t", digest: D });
    expect(referenceTarget(pinned)).toBe(D);
    expect(withTag(pinned, "v2")).toEqual({ registry: "docker.io", repository: "library/a", tag: "v2" });
    expect(() => withTag(ref, "bad tag")).toThrow(InvalidReferenceError);
    expect(() => withDigest(ref, "sha256:short" as Digest)).toThrow(/invalid digest/);
    expect(() => referenceTarget(parseReference("a", { defaultTag: false }))).toThrow(/tag or a digest/);
  });
});

const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((s) => s.length <= 30);
const host = fc.oneof(
  fc.constantFrom(
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "ghcr.io",
    "GHCR.io",
    "localhost",
    "localhost:5000",
    "127.0.0.1:5000",
    "r.example.com:443",
    "[::1]:5000",
    "[::1]",
    "us-docker.pkg.dev",
  ),
  fc.stringMatching(/^[a-z0-9]{1,10}\.[a-z]{2,5}(?::[1-9]\d{0,3})?$/),
);
const tag = fc.stringMatching(/^\w[\w.-]{0,40}$/);
const digest = fc
  .tuple(fc.uint8Array({ maxLength: 16 }), fc.constantFrom("sha256" as const, "sha512" as const))
  .map(([bytes, algorithm]) => digestOf(bytes, algorithm));
const validReference = fc
  .record({
    host: fc.option(host, { nil: undefined }),
    path: fc.array(component, { minLength: 1, maxLength: 4 }),
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  .map(
    ({ host: h, path, tag: t, digest: d }) =>
      `${h ? `${h}/` : ""}${path.join("/")}${t ? `:${t}` : ""}${d ? `@${d}` : ""}`,
  )
  // Paths whose first component looks like a host are another registry, not this case.
  .filter((s) => {
    try {
      parseReference(s);
      return true;
    } catch {
      return false;
    }
  });

describe("properties", () => {
  it("parse ∘ format ∘ parse = parse", () => {
    fc.assert(
      fc.property(validReference, fc.boolean(), (input, keepDefault) => {
        const options = keepDefault ? {} : { defaultTag: false as const };
        const once = parseReference(input, options);
        expect(parseReference(formatReference(once), options)).toEqual(once);
        expect(parseReference(familiarReference(once), options)).toEqual(once);
        expect(isValidRepository(once.repository)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("generated references keep what was written", () => {
    fc.assert(
      fc.property(fc.array(component, { minLength: 2, maxLength: 4 }), tag, digest, (path, t, d) => {
        const ref = parseReference(`ghcr.io/${path.join("/")}:${t}@${d}`);
        expect(ref).toEqual({ registry: "ghcr.io", repository: path.join("/"), tag: t, digest: d });
      }),
      { numRuns: 300 },
    );
  });

  it("any string either parses or throws a RegkitError", () => {
    const referenceish = fc.string({
      unit: fc.constantFrom(..."aA0:@/._-[]%+ \u0000é".split("")),
      maxLength: 80,
    });
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), referenceish),
        (input) => {
          for (const parse of [parseReference, parseRepository, parseTag]) {
            try {
              parse(input);
            } catch (error) {
              expect(isRegkitError(error)).toBe(true);
              expect((error as Error).message).not.toMatch(/[\r\n]/);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
