/**
 * How a failed GitHub Packages API call becomes a typed error: octokit's
 * RequestError, as its request layer throws it for each answer GitHub gives
 * (status, headers, JSON body), mapped to regkit's hierarchy and exit codes.
 * test/ghcr.test.ts drives the same paths end to end against the GHCR fake.
 */
import { RequestError } from "@octokit/request-error";
import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  AuthorizationError,
  exitCodeFor,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ServerError,
} from "../../core/errors.js";
import { githubError } from "./githubErrors.js";

const request = {
  method: "DELETE" as const,
  url: "https://api.github.com/orgs/acme/packages/container/app/versions/1",
  headers: { authorization: "token ghp_secret" },
};

function failure(status: number, headers: Record<string, string | number> = {}, data: unknown = {}) {
  return new RequestError(`HTTP ${status}`, status, {
    request,
    response: { status, url: request.url, headers, data },
  });
}

describe("githubError", () => {
  it("passes regkit's own errors through, also when octokit wrapped them", () => {
    const own = new ServerError("circuit open");
    expect(githubError(own, "op")).toBe(own);
    const wrapped = new RequestError("fetch failed", 500, { request, cause: own });
    expect(githubError(wrapped, "op")).toBe(own);
  });

  it("a 5xx without an answer is a server error; anything else unanswered is a protocol error", () => {
    const down = githubError(new RequestError("bad gateway", 502, { request }), "list versions");
    expect(down).toBeInstanceOf(ServerError);
    expect(down.message).toBe("list versions on GitHub: HTTP 502");
    expect(down.status).toBe(502);
    // octokit reports a network failure as status 500 without a response.
    const network = githubError(new RequestError("socket hang up", 500, { request }), "list versions");
    expect(network).toBeInstanceOf(ServerError);
    expect(down.provider).toBe("ghcr");
    const odd = githubError(new Error("x".repeat(300)), "list versions");
    expect(odd).toBeInstanceOf(ProtocolError);
    expect(odd.message).toBe(`list versions on GitHub: ${"x".repeat(120)}…`);
    expect(odd.provider).toBe("ghcr");
    // Below 500 without an answer (nothing GitHub said) is no server error.
    const unanswered = githubError(new RequestError("refused", 404, { request }), "get");
    expect(unanswered).toBeInstanceOf(ProtocolError);
    expect(unanswered.message).toBe("get on GitHub: refused");
    // Without a status the answer is not read: no status, no meaning.
    const statusless = Object.assign(new Error("odd failure"), { response: { headers: {}, data: {} } });
    expect(githubError(statusless, "get")).toEqual(
      new ProtocolError("get on GitHub: odd failure", { provider: "ghcr" }),
    );
    expect(githubError("a string", "op").message).toBe("op on GitHub: a string");
    // A 500 is a server error (retried by the transport), answered or not.
    const answered = githubError(failure(500, {}, { message: "Server Error" }), "op");
    expect(answered).toBeInstanceOf(ServerError);
    expect(answered.message).toBe("op on GitHub: HTTP 500");
  });

  it("a 401 tells how to give a working token, and never shows the token", () => {
    const error = githubError(failure(401, {}, { message: "Bad credentials" }), "list packages");
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toBe(
      "list packages on GitHub: the token was refused (Bad credentials); check GITHUB_TOKEN or regkit login ghcr.io",
    );
    expect(error.message).not.toContain("ghp_secret");
    expect(exitCodeFor(error)).toBe(4);
  });

  it("a 403 names the scopes the token lacks, from GitHub's scope headers", () => {
    const error = githubError(
      failure(
        403,
        { "x-accepted-oauth-scopes": "read:packages, delete:packages", "x-oauth-scopes": "read:packages" },
        { message: "Resource not accessible" },
      ),
      "delete version",
    );
    expect(error).toBeInstanceOf(AuthorizationError);
    expect(error.message).toBe(
      "delete version on GitHub: Resource not accessible (the token lacks the delete:packages scope)",
    );
    const held = githubError(
      failure(403, { "x-accepted-oauth-scopes": "read:packages", "x-oauth-scopes": "read:packages" }),
      "get",
    );
    expect(held.message).toBe("get on GitHub: HTTP 403");
    expect(githubError(failure(403, {}, { message: "Forbidden" }), "get").message).toBe(
      "get on GitHub: Forbidden",
    );
    // No accepted scopes named: nothing is said to lack, whatever the token holds.
    expect(
      githubError(failure(403, { "x-oauth-scopes": "read:packages" }, { message: "Forbidden" }), "get")
        .message,
    ).toBe("get on GitHub: Forbidden");
    expect(
      githubError(failure(403, { "x-accepted-oauth-scopes": "read:packages, delete:packages," }), "delete")
        .message,
    ).toBe("delete on GitHub: HTTP 403 (the token lacks the read:packages, delete:packages scope)");
  });

  it("a 403 or 429 with an empty budget is a rate limit, waiting until the reset or Retry-After", () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    const primary = githubError(
      failure(
        403,
        { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
        { message: "API rate limit exceeded" },
      ),
      "list versions",
    ) as RateLimitError;
    expect(primary).toBeInstanceOf(RateLimitError);
    expect(exitCodeFor(primary)).toBe(5);
    expect(primary.message).toBe(
      `list versions on GitHub: API rate limit exceeded (resets at ${new Date(reset * 1000).toISOString()})`,
    );
    expect(primary.resetAt).toEqual(new Date(reset * 1000));
    expect(primary.retryAfterMs).toBeGreaterThan(100_000);
    expect(primary.retryAfterMs).toBeLessThanOrEqual(120_000);
    const secondary = githubError(failure(429, { "retry-after": "7" }), "list") as RateLimitError;
    expect(secondary).toBeInstanceOf(RateLimitError);
    expect(secondary.message).toBe("list on GitHub: HTTP 429");
    expect(secondary.retryAfterMs).toBe(7000);
    expect(secondary.resetAt).toBeUndefined();
    // A reset in the past waits for nothing; no reset and no Retry-After says nothing about waiting.
    const past = githubError(failure(429, { "x-ratelimit-reset": "1" }), "list") as RateLimitError;
    expect(past.retryAfterMs).toBe(0);
    const bare = githubError(failure(429, { "x-ratelimit-reset": "soon" }), "list") as RateLimitError;
    expect(bare.retryAfterMs).toBeUndefined();
    expect(bare.resetAt).toBeUndefined();
    // A reset at 0, or not a finite time, is no reset.
    for (const reset of ["0", "Infinity"]) {
      const none = githubError(failure(429, { "x-ratelimit-reset": reset }), "list") as RateLimitError;
      expect(none.message).toBe("list on GitHub: HTTP 429");
      expect(none.resetAt).toBeUndefined();
      expect(none.retryAfterMs).toBeUndefined();
    }
    // A 403 with budget left is a permission problem, not a rate limit.
    expect(githubError(failure(403, { "x-ratelimit-remaining": "10" }), "list")).toBeInstanceOf(
      AuthorizationError,
    );
    // The answer that spent the last of the budget is what it says, not a rate limit.
    const last = githubError(failure(404, { "x-ratelimit-remaining": "0" }), "get");
    expect(last).toBeInstanceOf(NotFoundError);
    expect(last.message).toBe("get on GitHub: HTTP 404");
  });

  it("a 404 is not found; other answers map as registry answers do", () => {
    const missing = githubError(failure(404, {}, { message: "Package not found." }), "get package");
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.message).toBe("get package on GitHub: Package not found.");
    expect(exitCodeFor(missing)).toBe(3);
    expect(missing.provider).toBe("ghcr");
    expect(missing.status).toBe(404);
    const invalid = githubError(failure(422, {}, { message: "Validation Failed" }), "restore");
    expect(invalid.message).toContain("restore on GitHub");
    expect(invalid.message).toContain("Validation Failed");
    expect(invalid.status).toBe(422);
    expect(invalid.provider).toBe("ghcr");
    // Without GitHub's words the status is said once.
    expect(githubError(failure(502, {}, {}), "list").message).toBe("list on GitHub: HTTP 502");
    // A body whose message is not a string, or no body at all, says the status.
    expect(githubError(failure(404, {}, { message: 42 }), "get").message).toBe("get on GitHub: HTTP 404");
    expect(githubError(failure(404, {}, "plain text"), "get").message).toBe("get on GitHub: HTTP 404");
    expect(githubError(failure(404, {}, null), "get").message).toBe("get on GitHub: HTTP 404");
    const long = githubError(failure(404, {}, { message: "m".repeat(500) }), "get").message;
    expect(long).toBe(`get on GitHub: ${"m".repeat(200)}…`);
  });
});
