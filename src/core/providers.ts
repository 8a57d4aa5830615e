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

/**
 * The environment variable that points each provider's registry name somewhere
 * else (a mirror, a proxy, GitHub Enterprise, a fake): references naming the
 * key go to the variable's URL, with the key's credentials. One row per provider;
 * a key `*suffix` matches every host ending in the suffix.
 */
export const REGISTRY_URL_VARIABLES: Readonly<Record<string, string>> = {
  "docker.io": "DOCKER_HUB_REGISTRY_URL",
  "ghcr.io": "GHCR_REGISTRY_URL",
  // Every Artifact Registry host (`LOCATION-docker.pkg.dev`) at once: the key is a host suffix.
  "*-docker.pkg.dev": "ARTIFACT_REGISTRY_DOCKER_URL",
};

/** `Registry`'s `endpoints` option from the variables of `REGISTRY_URL_VARIABLES` that are set. */
export function endpointsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const endpoints: Record<string, string> = {};
  for (const [name, variable] of Object.entries(REGISTRY_URL_VARIABLES)) {
    const value = env[variable];
    if (value) endpoints[name] = value;
  }
  return endpoints;
}
