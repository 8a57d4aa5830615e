import { describe, expect, it } from "vitest";
import { dockerHub } from "./dockerhub/index.js";
import { artifactRegistry, garLocation } from "./gar/index.js";
import { ghcr } from "./ghcr/index.js";

describe("provider host matching", () => {
  it.each([
    ["docker.io", "dockerhub"],
    ["index.docker.io", "dockerhub"],
    ["registry-1.docker.io", "dockerhub"],
    ["ghcr.io", "ghcr"],
    ["GHCR.io", "ghcr"],
    ["europe-west1-docker.pkg.dev", "gar"],
    ["us-docker.pkg.dev", "gar"],
    ["quay.io", undefined],
    ["docker.pkg.dev", undefined],
    ["evil-docker.pkg.dev.example.com", undefined],
  ])("%s → %s", (host, id) => {
    const match = [dockerHub, ghcr, artifactRegistry].find((p) => p.matches(host));
    expect(match?.id).toBe(id);
  });

  it("extracts the Artifact Registry location", () => {
    expect(garLocation("europe-west1-docker.pkg.dev")).toBe("europe-west1");
    expect(garLocation("ghcr.io")).toBeUndefined();
  });
});
