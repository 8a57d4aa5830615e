import { providerOf } from "../../core/providers.js";
import { DOCKER_HUB_ENDPOINT } from "../../core/reference.js";
import type { ProviderInfo } from "../provider.js";

/** Default endpoints of Docker Hub (each is overridable by configuration in the provider issue). */
export const DOCKER_HUB_DEFAULTS = {
  hubUrl: "https://hub.docker.com",
  registryUrl: `https://${DOCKER_HUB_ENDPOINT}`,
  authUrl: "https://auth.docker.io",
} as const;

export const dockerHub: ProviderInfo = {
  id: "dockerhub",
  matches: (host) => providerOf(host) === "dockerhub",
};
