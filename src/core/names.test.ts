import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError, isRegkitError } from "./errors.js";
import {
  parseDockerHubRepository,
  parseGarHost,
  validateDockerHubNamespace,
  validateDockerHubRepositoryName,
  validateGarImagePath,
  validateGhcrImageName,
} from "./names.js";

function expectInvalid(fn: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidInputError);
  expect((error as InvalidInputError).code).toBe("NAME_INVALID");
  expect((error as Error).message).toMatch(message);
}

describe("Docker Hub names", () => {
  it.each(["library", "user", "abcd", "a1b2c3", "0000", "a".repeat(30)])("accepts namespace %j", (ns) => {
    expect(validateDockerHubNamespace(ns)).toBe(ns);
  });

  it.each([
    ["", /empty/],
    ["abc", /4-30 characters/],
    ["a".repeat(31), /4-30 characters/],
    ["User", /lowercase letters and digits/],
    ["my-org", /lowercase letters and digits/],
    ["my_org", /lowercase letters and digits/],
    ["my.org", /lowercase letters and digits/],
  ])("rejects namespace %j", (ns, message) => {
    expectInvalid(() => validateDockerHubNamespace(ns), message);
  });

  it.each(["my-app", "ab", "a.b_c-d", "x1", "a".repeat(255)])("accepts repository name %j", (name) => {
    expect(validateDockerHubRepositoryName(name)).toBe(name);
  });

  it.each([
    ["a", /2-255 characters/],
    ["a".repeat(256), /2-255 characters/],
    ["My-App", /separated by single/],
    ["a--b", /separated by single/],
    ["a__b", /separated by single/],
    ["-ab", /separated by single/],
    ["ab.", /separated by single/],
    ["a/b", /separated by single/],
  ])("rejects repository name %j", (name, message) => {
    expectInvalid(() => validateDockerHubRepositoryName(name), message);
  });

  it("splits NAMESPACE/NAME", () => {
    expect(parseDockerHubRepository("library/alpine")).toEqual({ namespace: "library", name: "alpine" });
    expect(parseDockerHubRepository("acme/web-app")).toEqual({ namespace: "acme", name: "web-app" });
    expectInvalid(() => parseDockerHubRepository("alpine"), /NAMESPACE\/NAME/);
    expectInvalid(() => parseDockerHubRepository("org/team/app"), /no nested names/);
    expectInvalid(() => parseDockerHubRepository("ab/app"), /namespace/);
  });
});

describe("GHCR image names", () => {
  it.each(["octocat/hello", "my-org/app", "a/b", "o/team/app", "o/a.b_c", `${"a".repeat(39)}/x`, "a--b/c"])(
    "accepts %j",
    (name) => {
      expect(validateGhcrImageName(name)).toBe(name);
    },
  );

  it.each([
    ["", /empty/],
    ["image", /OWNER\/IMAGE/],
    ["Owner/img", /owner must be written in lowercase/],
    ["owner/Img", /must be lowercase/],
    ["-owner/img", /owner is 1-39/],
    ["owner-/img", /owner is 1-39/],
    ["own_er/img", /owner is 1-39/],
    [`${"a".repeat(40)}/img`, /owner is 1-39/],
    ["owner/", /OCI name grammar/],
    ["owner/img-", /OCI name grammar/],
    ["owner//img", /OCI name grammar/],
  ])("rejects %j", (name, message) => {
    expectInvalid(() => validateGhcrImageName(name), message);
  });
});

describe("Artifact Registry names", () => {
  it.each([
    ["us-docker.pkg.dev", "us"],
    ["europe-docker.pkg.dev", "europe"],
    ["us-central1-docker.pkg.dev", "us-central1"],
    ["Northamerica-Northeast1-Docker.pkg.dev", "northamerica-northeast1"],
  ])("parses host %s", (host, location) => {
    expect(parseGarHost(host)).toEqual({ host: host.toLowerCase(), location });
  });

  it.each([
    "",
    "docker.pkg.dev",
    "gcr.io",
    "us-docker.pkg.dev.evil.com",
    "us-maven.pkg.dev",
    "-docker.pkg.dev",
  ])("rejects host %j", (host) => {
    expect(() => parseGarHost(host)).toThrow(InvalidInputError);
  });

  it.each([
    ["my-project/my-repo/nginx", { project: "my-project", repository: "my-repo", image: "nginx" }],
    ["my-project/my-repo/team/app", { project: "my-project", repository: "my-repo", image: "team/app" }],
    ["proj01/r/a.b_c", { project: "proj01", repository: "r", image: "a.b_c" }],
    [
      "example.com/my-project/repo/img",
      { project: "example.com:my-project", repository: "repo", image: "img" },
    ],
  ])("splits %s", (path, expected) => {
    expect(validateGarImagePath(path)).toEqual(expected);
  });

  it.each([
    ["", /empty/],
    ["My-project/r/i", /lowercase/],
    ["my-project/r", /PROJECT-ID\/REPOSITORY\/IMAGE/],
    ["my-project", /PROJECT-ID\/REPOSITORY\/IMAGE/],
    ["short/r/i", /project ID is 6-30/],
    ["1project/r/i", /project ID is 6-30/],
    ["project-/r/i", /project ID is 6-30/],
    [`p${"a".repeat(30)}/r/i`, /project ID is 6-30/],
    ["my-project/1repo/i", /repository is up to 63/],
    ["my-project/repo-/i", /repository is up to 63/],
    ["my-project/re_po/i", /repository is up to 63/],
    [`my-project/r${"a".repeat(63)}/i`, /repository is up to 63/],
    ["my-project/repo/-img", /OCI name grammar/],
    ["my-project/repo/img/", /OCI name grammar/],
    ["example.com/short/r/i", /domain-scoped/],
    ["example..com/my-project/r/i", /domain-scoped/],
    ["example.com", /domain-scoped/],
  ])("rejects %j", (path, message) => {
    expectInvalid(() => validateGarImagePath(path), message);
  });
});

describe("properties", () => {
  it("validators throw only RegkitErrors", () => {
    const validators = [
      validateDockerHubNamespace,
      validateDockerHubRepositoryName,
      parseDockerHubRepository,
      validateGhcrImageName,
      parseGarHost,
      validateGarImagePath,
    ];
    const nameish = fc.string({ unit: fc.constantFrom(..."ab1-_./:A".split("")), maxLength: 60 });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), nameish), (input) => {
        for (const validate of validators) {
          try {
            validate(input);
          } catch (error) {
            expect(isRegkitError(error)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
