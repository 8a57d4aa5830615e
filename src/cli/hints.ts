import {
  AuthenticationError,
  CredentialsRejectedError,
  isRegkitError,
  type RegkitError,
} from "../core/errors.js";
import { endpointsFromEnvironment, providerOf } from "../core/providers.js";
import { registryEndpoint } from "../core/reference.js";

/**
 * What the user can do about an error, said after its message: an
 * authentication failure names the `regkit login` that would fix it, for the
 * registry as the user names it (`docker.io`, not the endpoint a
 * DOCKER_HUB_REGISTRY_URL mirror answers at). Nothing inside `login` itself,
 * which is already that command. Artifact Registry has hints of its own
 * (`garHint`): its APIs take Google credentials, not a login.
 */
export function hintFor(
  error: unknown,
  command: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (!isRegkitError(error) || command === "login") return undefined;
  if (isGarError(error, env)) return garHint(error, env);
  if (!(error instanceof AuthenticationError) || !error.registry) return undefined;
  const target = loginTarget(error.registry, env);
  if (!(error instanceof CredentialsRejectedError)) return `log in with \`regkit login ${target}\``;
  // Variables win over stored credentials: a login would not change what is sent.
  if (error.source.startsWith("environment")) return undefined;
  return `run \`regkit login ${target}\` to store working credentials`;
}

/** The name credentials are stored under for the host regkit talked to. */
export function loginTarget(host: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const [registry, url] of Object.entries(endpointsFromEnvironment(env))) {
    try {
      // `*-docker.pkg.dev`: one endpoint for every location, so which one the user named is not known.
      if (new URL(url).host === host)
        return registry.startsWith("*") ? `LOCATION${registry.slice(1)}` : registry;
    } catch {
      // A malformed variable is reported where it is read.
    }
  }
  return registryEndpoint(host) === registryEndpoint("docker.io") ? "docker.io" : host;
}

const ACCESS_TOKEN = "GOOGLE_OAUTH_ACCESS_TOKEN";

/** Artifact Registry's REST APIs and token requests (provider `gar`), or its Docker endpoint. */
function isGarError(error: RegkitError, env: NodeJS.ProcessEnv): boolean {
  if (error.provider === "gar") return true;
  if (!(error instanceof AuthenticationError) || !error.registry) return false;
  return providerOf(error.registry) === "gar" || loginTarget(error.registry, env).endsWith("-docker.pkg.dev");
}

/**
 * Where Artifact Registry credentials come from: the REST APIs take Google
 * credentials only (GOOGLE_OAUTH_ACCESS_TOKEN → GOOGLE_APPLICATION_CREDENTIALS
 * or `key_file` → gcloud ADC → metadata server); the Docker endpoint takes
 * Docker's config first (`regkit login` with `oauth2accesstoken` or
 * `_json_key`), then the same Google credentials.
 */
function garHint(error: RegkitError, env: NodeJS.ProcessEnv): string | undefined {
  // Its message already lists every way to provide credentials.
  if (error.code === "CREDENTIALS_NOT_FOUND") return undefined;
  const freshToken = `${ACCESS_TOKEN} is sent as is and never refreshed: set a fresh one (\`gcloud auth print-access-token\`), or unset it to use GOOGLE_APPLICATION_CREDENTIALS or gcloud ADC`;
  if (error.category === "authorization")
    return "grant the Google identity regkit authenticates as a role that holds the permission Google names, on the project or repository (roles/artifactregistry.reader to read, roles/artifactregistry.writer to push and tag, roles/artifactregistry.repoAdmin to delete)";
  if (error.category !== "authentication") return undefined;
  if (env[ACCESS_TOKEN] && !(error instanceof CredentialsRejectedError)) return freshToken;
  if (!(error instanceof AuthenticationError) || !error.registry)
    return "check that the Google key or account regkit found (GOOGLE_APPLICATION_CREDENTIALS, gcloud ADC, the metadata server) is still valid; Artifact Registry's REST APIs take only Google credentials, not `regkit login`";
  const target = loginTarget(error.registry, env);
  const login = `\`regkit login ${target} -u oauth2accesstoken\` (password: \`gcloud auth print-access-token\`) or \`-u _json_key\` (password: a service-account key file)`;
  if (!(error instanceof CredentialsRejectedError))
    return `log in with ${login}, or set GOOGLE_APPLICATION_CREDENTIALS`;
  if (error.source === ACCESS_TOKEN) return freshToken;
  if (error.source.startsWith("docker config") || error.source.startsWith("credential helper"))
    return `store working credentials with ${login}, or \`regkit logout ${target}\` to use Google credentials`;
  return `check that the Google credentials from ${error.source} are still valid, or store others with ${login}`;
}
