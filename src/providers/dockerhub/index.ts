import { DOCKER_HUB, DOCKER_HUB_ENDPOINT } from "../../core/reference.js";
import type { ProviderInfo } from "../provider.js";

/** Default endpoints of Docker Hub (each is overridable by configuration in the provider issue). */
export const DOCKER_HUB_DEFAULTS = {
  hubUrl: "https://hub.docker.com",
  registryUrl: `https://${DOCKER_HUB_ENDPOINT}`,
  authUrl: "https://auth.docker.io",
} as const;

const HOSTS = new Set([DOCKER_HUB, "index.docker.io", DOCKER_HUB_ENDPOINT]);

export const dockerHub: ProviderInfo = {
  id: "dockerhub",
  matches: (host) => HOSTS.has(host.toLowerCase()),
};
