/**
 * The GHCR Packages API client's listings and lookups against the embedded
 * GHCR fake: packages per owner and repository, version filters, versions
 * found by id, tag or digest, deleted and restored; failed owner lookups not
 * remembered, and the span of each call.
 */
import { describe, expect, it } from "vitest";
import { ghcrApiFixture, ownerlessPackage, TOKEN } from "../../../test/support/ghcrApi.js";
import { all } from "../../../test/support/thrown.js";
import { InvalidInputError, NotFoundError, ServerError, UnsupportedError } from "../../core/errors.js";

const setup = ghcrApiFixture();

describe("GHCR Packages API client: listings and lookups", () => {
  it("lists packages per organisation, user, the token's user and repository; a repository must be OWNER/REPO", async () => {
    const { client } = await setup([]);
    const names = async (scope: Parameters<typeof client.api.packages>[0]) =>
      (await all(client.api.packages(scope))).map((p) => `${p.owner}/${p.name}`);
    expect(await names({ org: "acme" })).toEqual(["acme/app"]);
    expect(await names({ user: "alice" })).toEqual([]);
    expect(await names({ mine: true })).toEqual([]);
    expect(await names({ repository: "acme/unlinked" })).toEqual([]);
    await expect(all(client.api.packages({ repository: "acme" }))).rejects.toThrow(
      new InvalidInputError("repository must be OWNER/REPO, got acme"),
    );
    expect(await client.api.ownerType("ACME")).toBe("Organization");
    expect(await client.api.ownerType("alice")).toBe("User");
    expect(await client.api.visibility("acme", "app")).toBe("private");
  });

  it("filters versions by tagged state, tag and age", async () => {
    const { client, digests } = await setup([], 0, 2);
    const listed = async (filter: Parameters<typeof client.api.versions>[2]) =>
      (await all(client.api.versions("acme", "app", filter))).map((v) => v.digest).sort();
    expect(await listed({ tagged: true })).toEqual([...digests].sort());
    expect(await listed({ tagged: false })).toEqual([]);
    expect(await listed({ tag: (t) => t === "t1" })).toEqual([digests[1]]);
    expect(await listed({ olderThan: new Date(Date.now() + 60_000) })).toEqual([...digests].sort());
    expect(await listed({ olderThan: new Date(0) })).toEqual([]);
    expect(await listed({ state: "deleted" })).toEqual([]);
  });

  it("finds a version by id, tag or digest; deletes and restores it", async () => {
    const { client, digests } = await setup([], 0, 2);
    const byTag = await client.api.findVersion("acme", "app", "t0");
    expect(byTag.digest).toBe(digests[0]);
    expect((await client.api.findVersion("acme", "app", digests[1]!)).tags).toEqual(["t1"]);
    expect((await client.api.findVersion("acme", "app", byTag.id)).digest).toBe(digests[0]);
    expect((await client.api.findVersion("acme", "app", String(byTag.id))).digest).toBe(digests[0]);
    await expect(client.api.findVersion("acme", "app", "t9")).rejects.toThrow(
      new NotFoundError("ghcr.io/acme/app: no version tagged t9", { provider: "ghcr" }),
    );
    const deleted = await client.api.deleteByReference("acme", "app", "t0");
    expect(deleted.id).toBe(byTag.id);
    await expect(client.api.findVersion("acme", "app", "t0")).rejects.toThrow(NotFoundError);
    const restorable = await client.api.findVersion("acme", "app", digests[0]!, "deleted");
    expect(restorable.id).toBe(byTag.id);
    await expect(client.api.findVersion("acme", "app", digests[1]!, "deleted")).rejects.toThrow(
      `ghcr.io/acme/app: no deleted version with digest ${digests[1]}`,
    );
    await client.api.restoreVersion("acme", "app", byTag.id);
    expect((await client.api.findVersion("acme", "app", "t0")).id).toBe(byTag.id);
  });

  it("says where a package's visibility can be changed, as the REST API cannot", async () => {
    const { client } = await setup([]);
    await expect(client.api.setVisibility("acme", "app", "public")).rejects.toThrow(
      new UnsupportedError(
        "GitHub's REST API cannot change a package's visibility; make ghcr.io/acme/app public in its settings: https://github.com/orgs/acme/packages/container/app/settings",
        { provider: "ghcr" },
      ),
    );
    await expect(client.api.setVisibility("alice", "tools/app", "private")).rejects.toThrow(
      "https://github.com/users/alice/packages/container/tools%2Fapp/settings",
    );
  });
});

describe("GHCR Packages API client: owners, repositories and filters", () => {
  it("does not remember an owner lookup that failed", async () => {
    const { client, statuses } = await setup([
      { kind: "status", status: 502, route: "/github/users/acme", method: "GET", times: 1 },
    ]);
    await expect(client.api.ownerType("acme")).rejects.toThrow(
      new ServerError("owner.get on GitHub: HTTP 502", { provider: "ghcr", status: 502 }),
    );
    expect(await client.api.ownerType("acme")).toBe("Organization");
    expect(statuses("/github/users/acme")).toEqual(["502", "200"]);
  });

  it("lists a repository's packages whatever the case of its name, for organisations and users; a user's package under /users", async () => {
    const { client, push, digest } = await setup([], 0, 1, TOKEN, {
      linkedRepositories: { "acme/app": "acme/App-Repo", "alice/tool": "alice/tools" },
    });
    const tool = await push("alice/tool", "alice-tool", ["v1"]);
    const listed = async (scope: Parameters<typeof client.api.packages>[0]) =>
      (await all(client.api.packages(scope))).map((p) => `${p.owner}/${p.name} ${p.repository}`);
    expect(await listed({ repository: "acme/APP-REPO" })).toEqual(["acme/app acme/App-Repo"]);
    expect(await listed({ org: "acme" })).toEqual(["acme/app acme/App-Repo"]);
    expect(await listed({ repository: "alice/tools" })).toEqual(["alice/tool alice/tools"]);
    expect(await listed({ repository: "alice/other" })).toEqual([]);
    expect((await all(client.api.versions("alice", "tool"))).map((v) => v.digest)).toEqual([tool]);
    expect((await all(client.api.versions("acme", "app"))).map((v) => v.digest)).toEqual([digest]);
  });

  it("filters versions on every tag, tagged or not, and strictly older", async () => {
    const { client, push } = await setup([], 0, 0);
    const both = await push("acme/app", "two-tags", ["t0", "latest"]);
    const dotted = await push("acme/app", "dotted", ["1.0"]);
    const untagged = await push("acme/app", "untagged", []);
    const listed = async (filter: Parameters<typeof client.api.versions>[2]) =>
      (await all(client.api.versions("acme", "app", filter))).map((v) => v.digest).sort();
    expect(await listed({ tagged: true })).toEqual([both, dotted].sort());
    expect(await listed({ tagged: false })).toEqual([untagged]);
    expect(await listed({ tag: (t) => t === "latest" })).toEqual([both]);
    // A tag made of digits and more is a tag, not a version id.
    const found = await client.api.findVersion("acme", "app", "1.0");
    expect(found.digest).toBe(dotted);
    expect(await listed({ olderThan: found.createdAt })).not.toContain(dotted);
  });

  it("names each call in its span: operation, owner, package, version or route", async () => {
    const { client, operations, digest, push } = await setup([]);
    await push("alice/tool", "alice-tool", ["v1"]);
    const pushed = operations().length;
    expect(await client.api.ownerType("acme")).toBe("Organization");
    expect((await client.api.package("acme", "app")).name).toBe("app");
    const [version] = await all(client.api.versions("acme", "app"));
    expect((await client.api.version("acme", "app", version!.id)).digest).toBe(digest);
    await client.api.deleteVersion("acme", "app", version!.id);
    await client.api.restoreVersion("acme", "app", version!.id);
    expect((await all(client.api.packages({ org: "acme" }))).map((p) => p.name)).toEqual(["app"]);
    // The token's packages name their owner: no need to ask who the token's user is.
    expect((await all(client.api.packages({ mine: true }))).map((p) => p.owner)).toEqual(["alice"]);
    const target = { owner: "acme", package: "app", provider: "ghcr" };
    const id = String(version!.id);
    const versions = {
      route: "GET /orgs/{org}/packages/container/{package_name}/versions",
      provider: "ghcr",
    };
    const packages = { route: "GET /orgs/{org}/packages", provider: "ghcr" };
    const mine = { name: "ghcr.packages.list", route: "GET /user/packages", provider: "ghcr" };
    expect(operations().slice(pushed)).toEqual([
      { name: "ghcr.owner.get", owner: "acme", provider: "ghcr" },
      { name: "ghcr.package.get", ...target },
      { name: "ghcr.versions.list", ...versions },
      { name: "ghcr.versions.list", ...versions },
      { name: "ghcr.version.get", ...target, version: id },
      { name: "ghcr.version.delete", ...target, version: id },
      { name: "ghcr.version.restore", ...target, version: id },
      { name: "ghcr.packages.list", ...packages },
      { name: "ghcr.packages.list", ...packages },
      mine,
      mine,
    ]);
  });

  it("a package of the token's user whose answer leaves out its owner is the token's user's", async () => {
    const { client, operations } = await setup([
      {
        kind: "body",
        route: "/^\\/github\\/user\\/packages$/",
        body: JSON.stringify([ownerlessPackage("tool")]),
      },
    ]);
    expect((await all(client.api.packages({ mine: true }))).map((p) => `${p.owner}/${p.name}`)).toEqual([
      "alice/tool",
    ]);
    expect(operations().map((span) => span.name)).toEqual([
      "ghcr.packages.list",
      "ghcr.user.get",
      "ghcr.packages.list",
    ]);
  });

  it("asks for the token's user once however many packages leave out their owner", async () => {
    const { client, operations } = await setup([
      {
        kind: "body",
        route: "/^\\/github\\/user\\/packages$/",
        body: JSON.stringify([ownerlessPackage("tool"), ownerlessPackage("lib"), ownerlessPackage("app")]),
      },
    ]);
    expect((await all(client.api.packages({ mine: true }))).map((p) => `${p.owner}/${p.name}`)).toEqual([
      "alice/tool",
      "alice/lib",
      "alice/app",
    ]);
    expect(operations().filter((span) => span.name === "ghcr.user.get")).toHaveLength(1);
  });
});
