import { garLocation, providerOf } from "../../core/providers.js";
import type { ProviderInfo } from "../provider.js";

export { garLocation };

export const artifactRegistry: ProviderInfo = {
  id: "gar",
  matches: (host) => providerOf(host) === "gar",
};
