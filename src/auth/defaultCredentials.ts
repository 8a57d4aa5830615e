import {
  type CredentialProvider,
  chainProviders,
  dockerConfigPath,
  environmentCredentials,
} from "./credentials.js";

/**
 * The default sources, first match wins: the environment, then Docker's
 * config file with its credential helpers. Explicit credentials go first
 * when the caller has some (see `chainProviders`).
 */
export function defaultCredentials(env: NodeJS.ProcessEnv = process.env): CredentialProvider {
  return chainProviders(environmentCredentials(env), lazyDockerConfig(dockerConfigPath(env)));
}

/**
 * Docker's config file as a provider whose code (a file parser with zod
 * schemas and credential helpers) loads when a registry first asks for
 * credentials: anonymous commands start without it.
 */
function lazyDockerConfig(path: string): CredentialProvider {
  let loaded: Promise<CredentialProvider> | undefined;
  return {
    name: "docker config",
    resolve(target) {
      loaded ??= import("./dockerConfig.js").then(({ DockerConfig }) => new DockerConfig(path));
      return loaded.then((config) => config.resolve(target));
    },
  };
}
