/**
 * The GHCR Packages API client's error paths against the embedded GHCR fake
 * behind fault injection: 5xx answers retried by octokit or reported,
 * secondary rate limits, bodies cut short, answers of the wrong shape
 * (`body` faults), and Link pages walked to the end.
 */
import { describe, expect, it } from "vitest";
import { ghcrApiFixture, ownerlessPackage, VERSIONS } from "../../../test/support/ghcrApi.js";
import { all, thrown } from "../../../test/support/thrown.js";
import {
  AuthenticationError,
  exitCodeFor,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ServerError,
} from "../../core/errors.js";
import type { FaultRule } from "../../sim/faults.js";

const setup = ghcrApiFixture();

describe("GHCR Packages API client: failures", () => {
  it("a 502 is retried by octokit and the listing succeeds", async () => {
    const { client, statuses, digest } = await setup(
      [{ kind: "status", status: 502, route: VERSIONS, method: "GET", times: 1 }],
      1,
    );
    const versions = await all(client.api.versions("acme", "app"));
    expect(versions.map((v) => v.digest)).toEqual([digest]);
    expect(statuses(VERSIONS)).toEqual(["502", "200"]);
  });

  it("a 5xx that persists is a server error naming the operation (exit 7)", async () => {
    const { client, statuses } = await setup([
      { kind: "status", status: 503, route: VERSIONS, method: "GET" },
    ]);
    const error = await thrown(all(client.api.versions("acme", "app")));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toBe("versions.list on GitHub: HTTP 503");
    expect(exitCodeFor(error)).toBe(7);
    expect(statuses(VERSIONS)).toEqual(["503"]);
  });

  it("a 429 past the longest wait is a rate-limit error (exit 5)", async () => {
    const { client } = await setup([{ kind: "status", status: 429, retryAfter: 3600, route: VERSIONS }]);
    const error = await thrown(all(client.api.versions("acme", "app")));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(exitCodeFor(error)).toBe(5);
    expect((error as RateLimitError).retryAfterMs).toBe(3_600_000);
  });

  it("an answer cut short is a protocol error", async () => {
    const { client } = await setup([{ kind: "truncate", bytes: 10, route: VERSIONS }]);
    const error = await thrown(all(client.api.versions("acme", "app")));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/on GitHub: /);
  });

  it("a token GitHub does not know is an authentication error that never shows the token", async () => {
    const { client } = await setup([], 0, 1, "ghp_unknown");
    const error = await thrown(client.api.package("acme", "app"));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toContain("check GITHUB_TOKEN");
    expect(error.message).not.toContain("ghp_unknown");
  });

  it("a version id that does not exist is not found (exit 3)", async () => {
    const { client } = await setup([]);
    const error = await thrown(client.api.version("acme", "app", 999_999));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(exitCodeFor(error)).toBe(3);
  });
});

describe("GHCR Packages API client: pages", () => {
  it("follows Link pages to the last one", async () => {
    const { client, digests, statuses } = await setup([], 0, 3);
    const versions = await all(client.api.versions("acme", "app", { perPage: 1 }));
    expect(versions.map((v) => v.digest).sort()).toEqual([...digests].sort());
    expect(versions.flatMap((v) => v.tags).sort()).toEqual(["t0", "t1", "t2"]);
    expect(statuses(VERSIONS)).toEqual(["200", "200", "200"]);
  });
});

describe("GHCR Packages API client: answers of the wrong shape", () => {
  const API = "/github/orgs/acme/packages";
  const body = (route: string, value: unknown): FaultRule => ({
    kind: "body",
    route: `/^${route.replaceAll("/", "\\/")}$/`,
    method: "GET",
    body: JSON.stringify(value),
  });

  it("are protocol errors naming what was asked and where the answer went wrong", async () => {
    const { client, fake } = await setup([
      { ...body("/github/users/alice", { login: "alice", type: "Bot" }), times: 1 },
      { ...body("/github/users/alice", { login: 5, type: "User" }), times: 1 },
      body(`${API}`, [{ ...ownerlessPackage("x"), owner: { login: 5 } }]),
      body(`${API}/container/app`, []),
      body("/github/user/packages", [ownerlessPackage("tool")]),
      body("/github/user", { login: 5 }),
      body(`${API}/container/app/versions`, { message: "moved" }),
      body(`${API}/container/app/versions/\\d+`, {}),
    ]);
    const failure = async (work: Promise<unknown>) => {
      const error = await thrown(work);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error.provider).toBe("ghcr");
      return error.message;
    };
    expect(await failure(client.api.ownerType("alice"))).toBe(
      "GitHub: alice is a Bot, not a user or organisation",
    );
    expect(await failure(client.api.ownerType("alice"))).toBe(
      "unexpected GitHub answer for owner at login: Invalid input: expected string, received number",
    );
    expect(await failure(all(client.api.packages({ org: "acme" })))).toBe(
      "unexpected GitHub answer for packages.list at owner.login: Invalid input: expected string, received number",
    );
    expect(await failure(all(client.api.packages({ mine: true })))).toBe(
      "unexpected GitHub answer for user at login: Invalid input: expected string, received number",
    );
    expect(await failure(client.api.package("acme", "app"))).toBe(
      "unexpected GitHub answer for package at (root): Invalid input: expected object, received array",
    );
    expect(await failure(all(client.api.versions("acme", "app")))).toBe(
      "GitHub: GET /orgs/{org}/packages/container/{package_name}/versions did not answer a list",
    );
    const [stored] = await fake.packages.active("acme/app");
    expect(await failure(client.api.version("acme", "app", stored!.id))).toBe(
      "unexpected GitHub answer for package version at id: Invalid input: expected number, received undefined",
    );
  });
});
