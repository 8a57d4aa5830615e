import { AuthenticationError, CredentialsRejectedError, isRegkitError } from "../core/errors.js";
import { endpointsFromEnvironment } from "../core/providers.js";
import { registryEndpoint } from "../core/reference.js";

/**
 * What the user can do about an error, said after its message: an
 * authentication failure names the `regkit login` that would fix it, for the
 * registry as the user names it (`docker.io`, not the endpoint a
 * DOCKER_HUB_REGISTRY_URL mirror answers at). Nothing inside `login` itself,
 * which is already that command.
 */
export function hintFor(error: unknown, command: string | undefined): string | undefined {
  if (!isRegkitError(error) || command === "login") return undefined;
  if (!(error instanceof AuthenticationError) || !error.registry) return undefined;
  const target = loginTarget(error.registry);
  if (!(error instanceof CredentialsRejectedError)) return `log in with \`regkit login ${target}\``;
  // Variables win over stored credentials: a login would not change what is sent.
  if (error.source.startsWith("environment")) return undefined;
  return `run \`regkit login ${target}\` to store working credentials`;
}

/** The name credentials are stored under for the host regkit talked to. */
export function loginTarget(host: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const [registry, url] of Object.entries(endpointsFromEnvironment(env))) {
    if (registry.startsWith("*")) continue;
    try {
      if (new URL(url).host === host) return registry;
    } catch {
      // A malformed variable is reported where it is read.
    }
  }
  return registryEndpoint(host) === registryEndpoint("docker.io") ? "docker.io" : host;
}
