import type { CredentialProvider } from "../auth/credentials.js";
import { ConfigurationError, truncate } from "../core/errors.js";
import { registryEndpoint } from "../core/reference.js";

/** Parses `endpoints`, keyed by the host requests would otherwise go to (`registry-1.docker.io`). */
export function endpointOverrides(entries: Record<string, string>): Map<string, URL> {
  const map = new Map<string, URL>();
  for (const [name, value] of Object.entries(entries)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigurationError(`endpoint for ${name} is not a URL: ${JSON.stringify(truncate(value))}`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new ConfigurationError(`endpoint for ${name} must be an http(s) URL`);
    map.set(registryEndpoint(name.toLowerCase()), new URL(`${url.origin}/`));
  }
  return map;
}

/** The override for a registry: its own entry, else the first `*suffix` pattern it ends with. */
export function endpointFor(endpoints: Map<string, URL>, registry: string): URL | undefined {
  const host = registryEndpoint(registry.toLowerCase());
  const exact = endpoints.get(host);
  if (exact) return exact;
  for (const [name, url] of endpoints)
    if (name.startsWith("*") && host.endsWith(name.slice(1)) && host.length > name.length - 1) return url;
  return undefined;
}

/** Requests to an overriding endpoint use the credentials of the registry name it stands for. */
export function aliasCredentials(
  provider: CredentialProvider,
  endpoints: Map<string, URL>,
): CredentialProvider {
  if (endpoints.size === 0) return provider;
  const names = new Map([...endpoints].map(([name, url]) => [url.host, name]));
  return {
    name: provider.name,
    resolve: (target) =>
      provider.resolve({ ...target, registry: names.get(target.registry) ?? target.registry }),
  };
}
