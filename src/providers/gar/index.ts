import type { ProviderInfo } from "../provider.js";

/** Artifact Registry Docker hosts are `LOCATION-docker.pkg.dev` (e.g. `europe-west1-docker.pkg.dev`). */
const GAR_HOST = /^([a-z0-9]+(?:-[a-z0-9]+)*)-docker\.pkg\.dev$/;

/** The location (region or multi-region) of an Artifact Registry host, or undefined for other hosts. */
export function garLocation(host: string): string | undefined {
  return GAR_HOST.exec(host.toLowerCase())?.[1];
}

export const artifactRegistry: ProviderInfo = {
  id: "gar",
  matches: (host) => garLocation(host) !== undefined,
};
