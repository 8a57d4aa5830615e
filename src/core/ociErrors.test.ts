import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  AuthorizationError,
  exitCodeFor,
  isRegkitError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  type RegkitError,
  ServerError,
  UnsupportedError,
} from "./errors.js";
import { errorFromResponse, parseOciErrorBody } from "./ociErrors.js";

const body = (...errors: unknown[]) => JSON.stringify({ errors });

describe("parseOciErrorBody", () => {
  it("parses the envelope", () => {
    expect(
      parseOciErrorBody(body({ code: "BLOB_UNKNOWN", message: "blob unknown", detail: { digest: "d" } })),
    ).toEqual([{ code: "BLOB_UNKNOWN", message: "blob unknown", detail: { digest: "d" } }]);
    expect(parseOciErrorBody(body({ code: "A" }, { code: "B", message: "b" }))).toEqual([
      { code: "A" },
      { code: "B", message: "b" },
    ]);
    expect(parseOciErrorBody(body())).toEqual([]);
  });

  it.each([
    ["HTML", "<html>502 Bad Gateway</html>"],
    ["an empty body", ""],
    ["a string", '"errors"'],
    ["errors that are not a list", '{"errors":"nope"}'],
    ["an entry without code", body({ message: "m" })],
    ["a numeric code", body({ code: 404 })],
    ["a code over 256 characters", body({ code: "C".repeat(257) })],
    ["a message over 4096 characters", body({ code: "C", message: "m".repeat(4097) })],
    ["null", "null"],
  ])("yields nothing for %s", (_what, text) => {
    expect(parseOciErrorBody(text)).toEqual([]);
  });

  it("keeps at most 32 entries", () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ code: `C${i}` }));
    const parsed = parseOciErrorBody(body(...many));
    expect(parsed).toHaveLength(32);
    expect(parsed[31]?.code).toBe("C31");
  });
});

describe("errorFromResponse", () => {
  it("maps an OCI error body to a typed error with its code and message", () => {
    const error = errorFromResponse({
      operation: "get manifest a:b",
      status: 404,
      body: body({ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }),
      provider: "dockerhub",
    });
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      code: "MANIFEST_UNKNOWN",
      status: 404,
      provider: "dockerhub",
      message: "get manifest a:b: MANIFEST_UNKNOWN: manifest unknown",
      ociErrors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }],
    });
    expect(exitCodeFor(error)).toBe(3);
  });

  it.each<[number, string | undefined, new (...args: never[]) => RegkitError, string, number]>([
    [401, undefined, AuthenticationError, "op: UNAUTHORIZED: authentication required", 4],
    [403, undefined, AuthorizationError, "op: DENIED: access denied", 4],
    [404, undefined, NotFoundError, "op: NOT_FOUND: not found", 3],
    [429, undefined, RateLimitError, "op: TOOMANYREQUESTS: rate limited", 5],
    [405, undefined, UnsupportedError, "op: HTTP 405", 1],
    [413, undefined, ProtocolError, "op: SIZE_INVALID: request body too large", 1],
    [500, undefined, ServerError, "op: HTTP 500", 7],
    [503, "<html>down</html>", ServerError, "op: HTTP 503", 7],
    [400, "{}", ProtocolError, "op: HTTP 400", 2],
    [200, body({ code: "TOOMANYREQUESTS" }), RateLimitError, "op: TOOMANYREQUESTS", 5],
    [400, body({ code: "BLOB_UPLOAD_UNKNOWN" }), NotFoundError, "op: BLOB_UPLOAD_UNKNOWN", 3],
    [400, body({ code: "UNSUPPORTED" }), UnsupportedError, "op: UNSUPPORTED", 1],
    [400, body({ code: "UNAUTHORIZED" }), AuthenticationError, "op: UNAUTHORIZED", 4],
    [400, body({ code: "DENIED" }), AuthorizationError, "op: DENIED", 4],
    [400, body({ code: "NAME_INVALID", message: "bad" }), ProtocolError, "op: NAME_INVALID: bad", 2],
  ])("status %i with body %j → %s", (status, text, type, message, exit) => {
    const error = errorFromResponse({
      operation: "op",
      status,
      ...(text !== undefined ? { body: text } : {}),
    });
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
    expect(exitCodeFor(error)).toBe(exit);
  });

  it("maps 429 to RateLimitError with the wait the caller measured", () => {
    const resetAt = new Date("2030-01-01T00:00:00Z");
    const error = errorFromResponse({
      operation: "pull",
      status: 429,
      retryAfterMs: 5000,
      resetAt,
      body: body({ code: "TOOMANYREQUESTS", message: "You have reached your pull rate limit." }),
    });
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(5000);
    expect((error as RateLimitError).resetAt).toEqual(resetAt);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe("pull: TOOMANYREQUESTS: You have reached your pull rate limit.");
  });

  it("marks 5xx retryable except 501", () => {
    expect(errorFromResponse({ operation: "x", status: 502 }).retryable).toBe(true);
    expect(errorFromResponse({ operation: "x", status: 503 }).retryable).toBe(true);
    expect(errorFromResponse({ operation: "x", status: 501 }).retryable).toBe(false);
  });

  it("reports DIGEST_INVALID as an integrity failure", () => {
    const error = errorFromResponse({
      operation: "put blob",
      status: 400,
      body: body({ code: "DIGEST_INVALID", message: "provided digest did not match uploaded content" }),
    });
    expect(error.category).toBe("integrity");
    expect(exitCodeFor(error)).toBe(6);
  });

  it("keeps a hostile registry message short, on one line and without terminal escapes", () => {
    const error = errorFromResponse({
      operation: "op",
      status: 400,
      body: body({ code: "X\u001b[2J", message: `evil\n\u001b]0;title\u0007${"m".repeat(1000)}` }),
    });
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
    expect(error.message.startsWith("op: X\\u001b[2J: evil \\u001b]0;title\\u0007")).toBe(true);
    expect(error.message.length).toBeLessThan(300);
  });

  it("never throws on arbitrary bodies and statuses", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: "binary" }),
          fc.json(),
          fc.jsonValue().map((detail) => body({ code: "X", detail })),
          fc.array(fc.record({ code: fc.string(), message: fc.string() })).map((e) => body(...e)),
        ),
        fc.integer({ min: 100, max: 599 }),
        (text, status) => {
          const entries = parseOciErrorBody(text);
          expect(Array.isArray(entries)).toBe(true);
          const error = errorFromResponse({ operation: "op", status, body: text });
          expect(isRegkitError(error)).toBe(true);
          expect(error.message).not.toMatch(/[\r\n]/);
        },
      ),
      { numRuns: 500 },
    );
  });
});
