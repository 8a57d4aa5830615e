import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  AuthorizationError,
  CredentialsRejectedError,
  NotFoundError,
} from "../core/errors.js";
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

describe("hintFor Artifact Registry", () => {
  const host = "us-central1-docker.pkg.dev";
  const rest401 = new AuthenticationError("list packages: UNAUTHENTICATED", { provider: "gar", status: 401 });

  it("a REST 401 points at the Google credentials, and at the variable that wins when it is set", () => {
    expect(hintFor(rest401, "gar", {})).toMatch(
      /^check that the Google key or account regkit found \(GOOGLE_APPLICATION_CREDENTIALS, gcloud ADC, the metadata server\) is still valid; .* not `regkit login`$/,
    );
    expect(hintFor(rest401, "gar", { GOOGLE_OAUTH_ACCESS_TOKEN: "ya29.x" })).toBe(
      "GOOGLE_OAUTH_ACCESS_TOKEN is sent as is and never refreshed: set a fresh one (`gcloud auth print-access-token`), or unset it to use GOOGLE_APPLICATION_CREDENTIALS or gcloud ADC",
    );
  });

  it("a 403 names the roles that grant Artifact Registry's permissions", () => {
    const denied = new AuthorizationError(
      'PERMISSION_DENIED: Permission "artifactregistry.versions.list" denied',
      {
        provider: "gar",
      },
    );
    expect(hintFor(denied, "gar", {})).toMatch(
      /roles\/artifactregistry\.reader to read, .*repoAdmin to delete\)$/,
    );
  });

  it("the Docker endpoint: a login with Google's user names, or the Google credentials behind it", () => {
    expect(hintFor(new AuthenticationError("x", { registry: host }), "ls", {})).toBe(
      `log in with \`regkit login ${host} -u oauth2accesstoken\` (password: \`gcloud auth print-access-token\`) or \`-u _json_key\` (password: a service-account key file), or set GOOGLE_APPLICATION_CREDENTIALS`,
    );
    expect(hintFor(new CredentialsRejectedError(host, "docker config /h/config.json"), "copy", {})).toMatch(
      new RegExp(
        `^store working credentials with \`regkit login ${host} -u oauth2accesstoken\`.*, or \`regkit logout ${host}\` to use Google credentials$`,
      ),
    );
    expect(hintFor(new CredentialsRejectedError(host, "GOOGLE_OAUTH_ACCESS_TOKEN"), "ls", {})).toMatch(
      /^GOOGLE_OAUTH_ACCESS_TOKEN is sent as is and never refreshed/,
    );
    expect(hintFor(new CredentialsRejectedError(host, "/keys/sa.json"), "ls", {})).toMatch(
      /^check that the Google credentials from \/keys\/sa\.json are still valid, or store others with `regkit login/,
    );
  });

  it("behind ARTIFACT_REGISTRY_DOCKER_URL the endpoint is still Artifact Registry, named by its pattern", () => {
    const env = { ARTIFACT_REGISTRY_DOCKER_URL: "http://127.0.0.1:4000" };
    expect(loginTarget("127.0.0.1:4000", env)).toBe("LOCATION-docker.pkg.dev");
    expect(hintFor(new AuthenticationError("x", { registry: "127.0.0.1:4000" }), "ls", env)).toMatch(
      /^log in with `regkit login LOCATION-docker\.pkg\.dev -u oauth2accesstoken`/,
    );
  });

  it("says nothing more where the message already lists the ways, or for other errors", () => {
    const none = new AuthenticationError("no Google credentials: set …", {
      provider: "gar",
      code: "CREDENTIALS_NOT_FOUND",
    });
    expect(hintFor(none, "gar", {})).toBeUndefined();
    expect(hintFor(new NotFoundError("x", { provider: "gar" }), "gar", {})).toBeUndefined();
  });
});
