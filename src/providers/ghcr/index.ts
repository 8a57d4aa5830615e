import { providerOf } from "../../core/providers.js";
import type { ProviderInfo } from "../provider.js";

export const GHCR_DEFAULTS = {
  registry: "ghcr.io",
  /** GitHub REST API (GitHub Actions sets GITHUB_API_URL for GitHub Enterprise). */
  apiUrl: "https://api.github.com",
} as const;

export const ghcr: ProviderInfo = {
  id: "ghcr",
  matches: (host) => providerOf(host) === "ghcr",
};
