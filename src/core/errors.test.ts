import { describe, expect, it } from "vitest";
import {
  AbortedError,
  AuthenticationError,
  AuthorizationError,
  CircuitOpenError,
  ConfigurationError,
  DigestMismatchError,
  exitCodeFor,
  InvalidDigestError,
  InvalidInputError,
  InvalidReferenceError,
  isRegkitError,
  ManifestInvalidError,
  NetworkError,
  NotFoundError,
  PlatformNotFoundError,
  ProtocolError,
  RateLimitError,
  RegkitError,
  ServerError,
  SizeLimitError,
  SizeMismatchError,
  TimeoutError,
  truncate,
  UnsupportedError,
  UsageError,
} from "./errors.js";

describe("RegkitError", () => {
  it("carries code, category, status, retryable, provider and cause", () => {
    const cause = new Error("root");
    const error = new RegkitError("boom", {
      code: "X",
      category: "server",
      retryable: true,
      status: 503,
      provider: "ghcr",
      cause,
      ociErrors: [{ code: "X" }],
    });
    expect(error).toMatchObject({
      message: "boom",
      code: "X",
      category: "server",
      retryable: true,
      status: 503,
      provider: "ghcr",
      name: "RegkitError",
      ociErrors: [{ code: "X" }],
    });
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
    const bare = new RegkitError("x");
    expect(bare).toMatchObject({ code: "UNKNOWN", category: "server", retryable: false, ociErrors: [] });
    expect(bare.status).toBeUndefined();
    expect("cause" in bare).toBe(false);
  });

  it("keeps messages on one line and escapes control and bidi characters", () => {
    expect(new RegkitError("first\n  second\r\nthird").message).toBe("first second third");
    expect(new RegkitError("  padded  ").message).toBe("padded");
    expect(new RegkitError("a\u2028b").message).toBe("a b");
    expect(new RegkitError("red \u001b[31m bell \u0007").message).toBe("red \\u001b[31m bell \\u0007");
    expect(new RegkitError("rtl \u202e txt").message).toBe("rtl \\u202e txt");
    expect(new RegkitError("tab\there").message).toBe("tab\\u0009here");
  });

  it("is recognised across package copies by its brand, not only instanceof", () => {
    expect(isRegkitError(new NotFoundError("n"))).toBe(true);
    expect(isRegkitError({ [Symbol.for("regkit.error")]: true })).toBe(true);
    expect(isRegkitError(new Error("x"))).toBe(false);
    expect(isRegkitError(null)).toBe(false);
    expect(isRegkitError("RegkitError")).toBe(false);
    expect(isRegkitError({ name: "RegkitError", code: "X" })).toBe(false);
  });

  it.each<[RegkitError, string, string, string]>([
    [new ConfigurationError("c"), "ConfigurationError", "CONFIGURATION", "configuration"],
    [new UsageError("u"), "UsageError", "USAGE", "usage"],
    [new InvalidInputError("i"), "InvalidInputError", "INVALID", "invalid"],
    [new InvalidReferenceError("x y", "why"), "InvalidReferenceError", "NAME_INVALID", "invalid"],
    [new InvalidDigestError("d", "why"), "InvalidDigestError", "DIGEST_INVALID", "invalid"],
    [new ManifestInvalidError("m"), "ManifestInvalidError", "MANIFEST_INVALID", "protocol"],
    [new SizeLimitError("manifest", 10), "SizeLimitError", "SIZE_INVALID", "protocol"],
    [new ProtocolError("p"), "ProtocolError", "PROTOCOL", "protocol"],
    [new DigestMismatchError("a", "b"), "DigestMismatchError", "DIGEST_INVALID", "integrity"],
    [new SizeMismatchError(1, 2), "SizeMismatchError", "SIZE_INVALID", "integrity"],
    [new NotFoundError("n"), "NotFoundError", "NOT_FOUND", "not-found"],
    [new AuthenticationError("a"), "AuthenticationError", "UNAUTHORIZED", "authentication"],
    [new AuthorizationError("a"), "AuthorizationError", "DENIED", "authorization"],
    [new RateLimitError("r"), "RateLimitError", "TOOMANYREQUESTS", "rate-limit"],
    [new UnsupportedError("u"), "UnsupportedError", "UNSUPPORTED", "unsupported"],
    [new NetworkError("n"), "NetworkError", "NETWORK", "network"],
    [new TimeoutError("GET /v2/", 5), "TimeoutError", "TIMEOUT", "network"],
    [new AbortedError(), "AbortedError", "ABORTED", "network"],
    [new ServerError("s"), "ServerError", "SERVER", "server"],
    [new CircuitOpenError("https://r", new Date(0)), "CircuitOpenError", "CIRCUIT_OPEN", "circuit-open"],
    [new PlatformNotFoundError("linux/x", []), "PlatformNotFoundError", "PLATFORM_NOT_FOUND", "not-found"],
  ])("%s is a %s with code %s and category %s", (error, name, code, category) => {
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.category).toBe(category);
    expect(isRegkitError(error)).toBe(true);
  });

  it("lets options override subclass defaults", () => {
    const error = new NotFoundError("gone", { code: "MANIFEST_UNKNOWN", status: 410 });
    expect([error.code, error.status, error.category]).toEqual(["MANIFEST_UNKNOWN", 410, "not-found"]);
  });

  it("has the retryable defaults the resilience layer relies on", () => {
    expect(new NetworkError("n").retryable).toBe(true);
    expect(new TimeoutError("t", 1).retryable).toBe(true);
    expect(new ServerError("s").retryable).toBe(true);
    expect(new RateLimitError("r").retryable).toBe(true);
    expect(new AbortedError().retryable).toBe(false);
    expect(new NotFoundError("n").retryable).toBe(false);
    expect(new DigestMismatchError("a", "b").retryable).toBe(false);
  });

  it("writes specific messages and keeps the details", () => {
    const ref = new InvalidReferenceError("Bad Ref", "uppercase");
    expect(ref.message).toBe('invalid reference "Bad Ref": uppercase');
    expect(ref.input).toBe("Bad Ref");
    const long = new InvalidDigestError("x".repeat(500), "too long");
    expect(long.message.length).toBeLessThan(200);
    expect(long.input).toHaveLength(500);
    const mismatch = new DigestMismatchError("sha256:a", "sha256:b", "layer");
    expect(mismatch.message).toBe("layer digest mismatch: expected sha256:a, got sha256:b");
    expect([mismatch.expected, mismatch.actual]).toEqual(["sha256:a", "sha256:b"]);
    const size = new SizeMismatchError(10, 12);
    expect(size.message).toBe("content size mismatch: expected 10 bytes, got 12");
    expect(new SizeLimitError("manifest", 4).limit).toBe(4);
    const timeout = new TimeoutError("GET /v2/", 1500);
    expect(timeout).toBeInstanceOf(NetworkError);
    expect([timeout.message, timeout.timeoutMs]).toEqual(["GET /v2/ timed out after 1500 ms", 1500]);
    const circuit = new CircuitOpenError("https://r.example", new Date("2030-01-01T00:00:00Z"));
    expect(circuit.message).toBe(
      "circuit open for https://r.example: failing fast until 2030-01-01T00:00:00.000Z",
    );
    const platform = new PlatformNotFoundError("linux/s390x", ["linux/amd64", "linux/arm64"]);
    expect(platform.message).toBe(
      "no manifest for platform linux/s390x; available: linux/amd64, linux/arm64",
    );
    expect(platform.available).toEqual(["linux/amd64", "linux/arm64"]);
    const limited = new RateLimitError("slow down", { retryAfterMs: 3000, resetAt: new Date(5) });
    expect([limited.retryAfterMs, limited.resetAt?.getTime(), limited.status]).toEqual([3000, 5, 429]);
  });

  it("truncates long values with an ellipsis", () => {
    expect(truncate("short")).toBe("short");
    expect(truncate("x".repeat(121))).toBe(`${"x".repeat(120)}…`);
    expect(truncate("abcdef", 3)).toBe("abc…");
  });
});

describe("exitCodeFor", () => {
  it.each<[unknown, number]>([
    [new UsageError("u"), 2],
    [new InvalidInputError("i"), 2],
    [new InvalidReferenceError("r", "x"), 2],
    [new NotFoundError("n"), 3],
    [new PlatformNotFoundError("p", []), 3],
    [new AuthenticationError("a"), 4],
    [new AuthorizationError("a"), 4],
    [new RateLimitError("r"), 5],
    [new RegkitError("q", { category: "quota" }), 5],
    [new DigestMismatchError("a", "b"), 6],
    [new SizeMismatchError(1, 2), 6],
    [new NetworkError("n"), 7],
    [new TimeoutError("t", 1), 7],
    [new ServerError("s"), 7],
    [new CircuitOpenError("o", new Date()), 7],
    [new ConfigurationError("c"), 1],
    [new ProtocolError("p"), 1],
    [new UnsupportedError("u"), 1],
    [new Error("bug"), 1],
    ["string", 1],
    [undefined, 1],
  ])("%s exits %i", (error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });
});
