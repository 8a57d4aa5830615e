import { garLocation, providerOf } from "../../core/providers.js";
import type { ProviderInfo } from "../provider.js";

export { garLocation };

/** What regkit knows about Google Artifact Registry as a provider (hosts, names). */
export const artifactRegistry: ProviderInfo = {
  id: "gar",
  matches: (host) => providerOf(host) === "gar",
};
