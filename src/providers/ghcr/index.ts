import { providerOf } from "../../core/providers.js";
import type { ProviderInfo } from "../provider.js";

/** GitHub Container Registry's endpoints. */
export const GHCR_DEFAULTS = {
  registry: "ghcr.io",
  /** GitHub REST API (GitHub Actions sets GITHUB_API_URL for GitHub Enterprise). */
  apiUrl: "https://api.github.com",
} as const;

/** What regkit knows about GitHub Container Registry as a provider (hosts, names). */
export const ghcr: ProviderInfo = {
  id: "ghcr",
  matches: (host) => providerOf(host) === "ghcr",
};
