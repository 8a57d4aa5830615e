/**
 * Which big registry a host belongs to. Lives in core because every layer
 * labels its spans, metrics and errors with it; the provider modules add
 * their APIs on top and reuse these rules.
 */
export type ProviderId = "dockerhub" | "ghcr" | "gar" | "oci";

const DOCKER_HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
/** Artifact Registry Docker hosts are `LOCATION-docker.pkg.dev` (e.g. `europe-west1-docker.pkg.dev`). */
const GAR_HOST = /^([a-z0-9]+(?:-[a-z0-9]+)*)-docker\.pkg\.dev$/;

/** The Artifact Registry location of a `LOCATION-docker.pkg.dev` host, if it is one. */
export function garLocation(host: string): string | undefined {
  return GAR_HOST.exec(host.toLowerCase())?.[1];
}

export function providerOf(host: string): ProviderId {
  const lower = host.toLowerCase();
  if (DOCKER_HUB_HOSTS.has(lower)) return "dockerhub";
  if (lower === "ghcr.io") return "ghcr";
  if (garLocation(lower) !== undefined) return "gar";
  return "oci";
}

/** Span name prefixes of the provider specs (`docker.manifest.get`, `ghcr.…`, `gar.…`, `oci.…`). */
export function spanPrefix(provider: ProviderId): string {
  return provider === "dockerhub" ? "docker" : provider;
}
