import { describe, expect, it } from "vitest";
import { requiredAccess } from "./guard.js";

describe("requiredAccess", () => {
  const q = new URLSearchParams();
  it.each([
    ["GET", "/v2/a/b/manifests/v1", [{ type: "repository", name: "a/b", actions: ["pull"] }]],
    [
      "PUT",
      "/v2/a/manifests/x/manifests/v1",
      [{ type: "repository", name: "a/manifests/x", actions: ["pull", "push"] }],
    ],
    [
      "POST",
      "/v2/org/app/blobs/uploads/",
      [{ type: "repository", name: "org/app", actions: ["pull", "push"] }],
    ],
    [
      "PATCH",
      "/v2/org/app/blobs/uploads/0b7c",
      [{ type: "repository", name: "org/app", actions: ["pull", "push"] }],
    ],
    ["DELETE", "/v2/x/blobs/sha256:ab", [{ type: "repository", name: "x", actions: ["delete"] }]],
    ["GET", "/v2/x/tags/list", [{ type: "repository", name: "x", actions: ["pull"] }]],
    ["GET", "/v2/_catalog", [{ type: "registry", name: "catalog", actions: ["*"] }]],
    ["GET", "/v2/", []],
  ])("%s %s", (method, path, expected) => {
    expect(requiredAccess(method, path, q)).toEqual(expected);
  });

  it("checks the name the router will use, decoded, and the mount source", () => {
    expect(requiredAccess("GET", "/v2/a%2Fb/manifests/v1", q)[0]!.name).toBe("a/b");
    const mount = new URLSearchParams({ mount: "sha256:ab", from: "other/repo" });
    expect(requiredAccess("POST", "/v2/dst/blobs/uploads/", mount)).toEqual([
      { type: "repository", name: "dst", actions: ["pull", "push"] },
      { type: "repository", name: "other/repo", actions: ["pull"] },
    ]);
  });
});
