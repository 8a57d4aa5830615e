/** The contract helper itself, against the reference descriptions and their examples. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { discoveryContract, jsonSchemaContract, openApiContract, REFERENCE } from "./support/contract.js";

describe("contract helper", () => {
  it("validates GitHub webhook payloads against the octokit schemas", async () => {
    const contract = await jsonSchemaContract("github/octokit-webhooks/payload-schemas");
    expect(contract.schemas()).toContain("registry_package/published");
    const example = JSON.parse(
      await readFile(
        join(
          REFERENCE,
          "github/octokit-webhooks/payload-examples/registry_package-published.docker.payload.json",
        ),
        "utf8",
      ),
    );
    expect(contract.check("registry_package/published", example)).toEqual({ ok: true, errors: [] });
    const broken = { ...example, action: "exploded" };
    const result = contract.check("registry_package/published", broken);
    expect(result.ok).toBe(false);
    expect(result.errors.join("; ")).toMatch(/\/action must be equal to one of the allowed values/);
  });

  it("validates GitHub Packages API shapes from the OpenAPI description", async () => {
    const contract = await openApiContract("github/packages-api.extract.yaml");
    const version = {
      id: 1,
      name: "sha256:0123",
      url: "https://api.github.com/orgs/o/packages/container/p/versions/1",
      package_html_url: "https://github.com/orgs/o/packages/container/package/p",
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
      metadata: { package_type: "container", container: { tags: ["v1"] } },
    };
    expect(contract.check("package-version", version)).toEqual({ ok: true, errors: [] });
    expect(contract.check("package-version", { ...version, id: "one" }).ok).toBe(false);
  });

  it("validates Docker Hub API shapes and Google discovery schemas", async () => {
    const hub = await openApiContract("dockerhub/hub-api-latest.trimmed.yaml");
    expect(hub.schemas().length).toBeGreaterThan(5);
    const gar = await discoveryContract("google/artifactregistry-v1.discovery.json");
    const image = {
      name: "projects/p/locations/l/repositories/r/dockerImages/i@sha256:0",
      uri: "l-docker.pkg.dev/p/r/i@sha256:0",
      tags: ["v1"],
      imageSizeBytes: "1024",
    };
    expect(gar.check("DockerImage", image)).toEqual({ ok: true, errors: [] });
    expect(gar.check("DockerImage", { ...image, tags: "v1" }).ok).toBe(false);
  });
});
