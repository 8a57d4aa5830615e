import { describe, expect, it } from "vitest";
import { AuthenticationError, CredentialsRejectedError, NotFoundError } from "../core/errors.js";
import { hintFor, loginTarget } from "./hints.js";

describe("hintFor", () => {
  it("names the regkit login for a 401, and a fresh login for refused stored credentials", () => {
    expect(hintFor(new AuthenticationError("x", { registry: "127.0.0.1:5000" }), "ls")).toBe(
      "log in with `regkit login 127.0.0.1:5000`",
    );
    expect(hintFor(new CredentialsRejectedError("ghcr.io", "docker config /h/config.json"), "copy")).toBe(
      "run `regkit login ghcr.io` to store working credentials",
    );
  });

  it("says nothing inside login, for variables (they win over a login), or for other errors", () => {
    expect(hintFor(new AuthenticationError("x", { registry: "ghcr.io" }), "login")).toBeUndefined();
    expect(
      hintFor(new CredentialsRejectedError("ghcr.io", "environment (GITHUB_TOKEN)"), "ls"),
    ).toBeUndefined();
    expect(hintFor(new NotFoundError("x"), "ls")).toBeUndefined();
    expect(hintFor(new AuthenticationError("x"), "ls")).toBeUndefined();
  });
});

describe("loginTarget", () => {
  it("is the registry as users name it: docker.io for Docker Hub's endpoint and for a DOCKER_HUB_REGISTRY_URL mirror", () => {
    expect(loginTarget("registry-1.docker.io", {})).toBe("docker.io");
    expect(loginTarget("127.0.0.1:4000", { DOCKER_HUB_REGISTRY_URL: "http://127.0.0.1:4000" })).toBe(
      "docker.io",
    );
    expect(loginTarget("127.0.0.1:4000", {})).toBe("127.0.0.1:4000");
  });
});
