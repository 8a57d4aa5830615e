import { describe, expect, it } from "vitest";
import { loadDockerHubConfig } from "./config.js";
import { knownChallenges } from "./index.js";

const config = (env: NodeJS.ProcessEnv) => loadDockerHubConfig({ env });

describe("knownChallenges", () => {
  it("sets Docker Hub's token service up in advance for Docker Hub's registry only", async () => {
    const none = { XDG_CONFIG_HOME: "/nonexistent/regkit-config-home" };
    expect(knownChallenges(await config(none))).toEqual({
      "https://registry-1.docker.io": {
        scheme: "bearer",
        params: { realm: "https://auth.docker.io/token", service: "registry.docker.io" },
      },
    });
    const mirror = await config({ ...none, DOCKER_HUB_REGISTRY_URL: "https://mirror.example.com" });
    expect(knownChallenges(mirror)).toEqual({});
    const named = await config({
      ...none,
      DOCKER_HUB_REGISTRY_URL: "https://mirror.example.com",
      DOCKER_HUB_AUTH_URL: "https://auth.mirror.example.com",
    });
    expect(knownChallenges(named)["https://mirror.example.com"]?.params.realm).toBe(
      "https://auth.mirror.example.com/token",
    );
  });
});
