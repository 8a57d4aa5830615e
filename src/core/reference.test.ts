import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { digestOf } from "./digest.js";
import { isRegkitError } from "./errors.js";
import {
  familiarReference,
  formatReference,
  parseReference,
  parseRepository,
  type Reference,
  referenceTarget,
  registryEndpoint,
  withDigest,
  withTag,
} from "./reference.js";

const D = digestOf("x");

describe("parseReference normalizes like Docker", () => {
  it.each<[string, Reference]>([
    ["alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }],
    ["alpine:3.20", { registry: "docker.io", repository: "library/alpine", tag: "3.20" }],
    ["docker.io/alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }],
    ["index.docker.io/alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }],
    [
      "registry-1.docker.io/library/alpine:3",
      { registry: "docker.io", repository: "library/alpine", tag: "3" },
    ],
    ["user/app:v1", { registry: "docker.io", repository: "user/app", tag: "v1" }],
    ["org/team/image", { registry: "docker.io", repository: "org/team/image", tag: "latest" }],
    ["localhost/foo", { registry: "localhost", repository: "foo", tag: "latest" }],
    ["localhost:5000/foo", { registry: "localhost:5000", repository: "foo", tag: "latest" }],
    ["127.0.0.1:5000/a/b:t", { registry: "127.0.0.1:5000", repository: "a/b", tag: "t" }],
    ["[::1]:5000/x", { registry: "[::1]:5000", repository: "x", tag: "latest" }],
    ["GHCR.IO/owner/img", { registry: "ghcr.io", repository: "owner/img", tag: "latest" }],
    [
      "europe-docker.pkg.dev/p/r/i:1.0",
      { registry: "europe-docker.pkg.dev", repository: "p/r/i", tag: "1.0" },
    ],
    [`a@${D}`, { registry: "docker.io", repository: "library/a", digest: D }],
    [`a:t@${D}`, { registry: "docker.io", repository: "library/a", tag: "t", digest: D }],
    ["ab/c_d.e-f__g---h", { registry: "docker.io", repository: "ab/c_d.e-f__g---h", tag: "latest" }],
  ])("%s", (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it("applies options", () => {
    expect(parseReference("a/b", { defaultRegistry: "r.example" })).toEqual({
      registry: "r.example",
      repository: "a/b",
      tag: "latest",
    });
    expect(parseReference("a", { defaultTag: false })).toEqual({
      registry: "docker.io",
      repository: "library/a",
    });
    expect(parseReference("a", { defaultTag: "stable" }).tag).toBe("stable");
  });

  it.each([
    ["", /empty/],
    ["ghcr.io/Owner/img", /lowercase/],
    [":tag", /empty/],
    ["a//b", /empty path component/],
    ["a/", /empty path component/],
    ["a:", /invalid tag/],
    [`a:${"t".repeat(129)}`, /invalid tag/],
    ["a:-bad", /invalid tag/],
    [`${"a".repeat(256)}`, /longer than 255/],
    ["a b", /whitespace/],
    ["a\u0000b", /control/],
    ["a@sha256:1234", /invalid digest/],
    [`a@sha256:${"A".repeat(64)}`, /invalid digest/],
    ["-a", /invalid path component/],
    ["a..b", /invalid path component/],
    ["host:port/a", /invalid registry host/],
    ["exa_mple.com/a", /invalid registry host/],
  ])("rejects %j", (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
    try {
      parseReference(input);
    } catch (error) {
      expect(isRegkitError(error) && error.code).toBe("NAME_INVALID");
    }
  });
});

describe("reference helpers", () => {
  it("formats and shortens", () => {
    const ref = parseReference("alpine:3.20");
    expect(formatReference(ref)).toBe("docker.io/library/alpine:3.20");
    expect(familiarReference(ref)).toBe("alpine:3.20");
    expect(familiarReference(parseReference("user/app"))).toBe("user/app:latest");
    expect(familiarReference(parseReference("ghcr.io/o/i:1"))).toBe("ghcr.io/o/i:1");
    expect(formatReference(parseReference(`h:5000/a/b:t@${D}`))).toBe(`h:5000/a/b:t@${D}`);
  });

  it("maps Docker Hub to its API host", () => {
    expect(registryEndpoint("docker.io")).toBe("registry-1.docker.io");
    expect(registryEndpoint("index.docker.io")).toBe("registry-1.docker.io");
    expect(registryEndpoint("ghcr.io")).toBe("ghcr.io");
  });

  it("targets the digest when pinned", () => {
    const ref = parseReference("a:t");
    expect(referenceTarget(ref)).toBe("t");
    expect(referenceTarget(withDigest(ref, D))).toBe(D);
    expect(withTag(ref, "v2").tag).toBe("v2");
    expect(() => withTag(ref, "bad tag")).toThrow(/tag/);
    expect(() => referenceTarget(parseReference("a", { defaultTag: false }))).toThrow(/tag or a digest/);
  });

  it("parses repositories without tags", () => {
    expect(parseRepository("alpine")).toEqual({ registry: "docker.io", repository: "library/alpine" });
    expect(parseRepository("127.0.0.1:5000/a/b")).toEqual({ registry: "127.0.0.1:5000", repository: "a/b" });
    expect(() => parseRepository("a:t")).toThrow(/without tag/);
    expect(() => parseRepository(`a@${D}`)).toThrow(/without tag/);
  });
});

const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((s) => s.length <= 30);
const host = fc.oneof(
  fc.constantFrom(
    "docker.io",
    "ghcr.io",
    "localhost",
    "localhost:5000",
    "127.0.0.1:5000",
    "r.example.com:443",
    "[::1]:5000",
  ),
  fc.stringMatching(/^[a-z0-9]{1,10}\.[a-z]{2,5}$/),
);
const tag = fc.stringMatching(/^[\w][\w.-]{0,40}$/);
const validReference = fc
  .record({
    host: fc.option(host, { nil: undefined }),
    path: fc.array(component, { minLength: 1, maxLength: 4 }),
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(
      fc.uint8Array({ maxLength: 16 }).map((b) => digestOf(b)),
      { nil: undefined },
    ),
  })
  .map(
    ({ host: h, path, tag: t, digest }) =>
      `${h ? `${h}/` : ""}${path.join("/")}${t ? `:${t}` : ""}${digest ? `@${digest}` : ""}`,
  )
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
      fc.property(validReference, (input) => {
        const once = parseReference(input);
        expect(parseReference(formatReference(once))).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });

  it("any string either parses or throws a RegkitError", () => {
    const referenceish = fc.stringMatching(/^[a-zA-Z0-9:@/._\-[\]]{0,80}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), referenceish), (input) => {
        try {
          parseReference(input);
          parseRepository(input);
        } catch (error) {
          expect(isRegkitError(error)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
