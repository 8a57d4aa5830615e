import { homedir } from "node:os";
import { join } from "node:path";
import { SecretString } from "../core/secret.js";

/**
 * What a user authenticates with. A username/password pair (passwords,
 * PATs, GITHUB_TOKEN, access tokens all travel this way), an identity token
 * (the OAuth2 refresh token Docker keeps after `docker login`), or a
 * ready registry token sent as `Bearer`.
 */
export type Credential =
  | { kind: "basic"; username: string; password: SecretString }
  | { kind: "identity-token"; username?: string; token: SecretString }
  | { kind: "registry-token"; token: SecretString };

/** Where a credential came from, for `regkit auth status` and logs (never the secret itself). */
export interface ResolvedCredential {
  credential: Credential;
  source: string;
}

/** What credentials are asked for: the registry (and, for token realms, the realm's host). */
export interface CredentialTarget {
  /** Registry as written in references (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  registry: string;
  repository?: string;
}

/**
 * A place credentials may be found. Answering `undefined` means "not mine",
 * so a chain moves on; providers (Docker Hub, GitHub, Google) add their own
 * sources through this interface without touching the core.
 */
export interface CredentialProvider {
  readonly name: string;
  /** The credential for `target`, or `undefined` to let the next source (or anonymous access) answer. */
  resolve(target: CredentialTarget): Promise<ResolvedCredential | undefined>;
}

/** A username and password (or token) credential; the password is kept as a {@link SecretString}. */
export function basic(username: string, password: string | SecretString): Credential {
  return { kind: "basic", username, password: SecretString.from(password) };
}

/** First provider with an answer wins. */
export function chainProviders(...providers: CredentialProvider[]): CredentialProvider {
  return {
    name: providers.map((p) => p.name).join(" → "),
    async resolve(target) {
      for (const provider of providers) {
        const found = await provider.resolve(target);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** Explicit credentials, keyed by registry host. */
export function staticCredentials(
  entries: Record<string, Credential>,
  source = "options",
): CredentialProvider {
  const map = new Map(
    Object.entries(entries).map(([host, credential]) => [normalizeRegistryKey(host), credential]),
  );
  return {
    name: source,
    async resolve({ registry }) {
      const credential = map.get(normalizeRegistryKey(registry));
      return credential ? { credential, source } : undefined;
    },
  };
}

const DOCKER_HUB_KEYS = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "registry.docker.io",
  "https://index.docker.io/v1/",
  "https://index.docker.io/v1",
  "https://registry-1.docker.io",
]);

/** Docker Hub has many names; its credentials live under `https://index.docker.io/v1/`. */
export const DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/";

/** Reduces `https://host:port/v2/` style keys to `host:port`, and every Docker Hub name to one key. */
export function normalizeRegistryKey(key: string): string {
  const lower = key.trim().toLowerCase();
  if (DOCKER_HUB_KEYS.has(lower)) return DOCKER_HUB_CONFIG_KEY;
  return lower.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}

/**
 * Credentials from the environment: Docker Hub (`DOCKER_HUB_USERNAME` with
 * `DOCKER_HUB_PASSWORD` or `DOCKER_HUB_ACCESS_TOKEN`) and ghcr.io
 * (`GITHUB_TOKEN`/`GH_TOKEN` with `GITHUB_ACTOR`, as GitHub Actions sets).
 */
export function environmentCredentials(env: NodeJS.ProcessEnv = process.env): CredentialProvider {
  return {
    name: "environment",
    async resolve({ registry }) {
      const key = normalizeRegistryKey(registry);
      if (key === DOCKER_HUB_CONFIG_KEY) {
        const username = env.DOCKER_HUB_USERNAME;
        const secret = env.DOCKER_HUB_ACCESS_TOKEN ?? env.DOCKER_HUB_PASSWORD;
        const variable = env.DOCKER_HUB_ACCESS_TOKEN ? "DOCKER_HUB_ACCESS_TOKEN" : "DOCKER_HUB_PASSWORD";
        if (username && secret)
          return {
            credential: basic(username, secret),
            source: `environment (DOCKER_HUB_USERNAME, ${variable})`,
          };
      }
      if (key === "ghcr.io") {
        const token = env.GITHUB_TOKEN ?? env.GH_TOKEN;
        const variable = env.GITHUB_TOKEN ? "GITHUB_TOKEN" : "GH_TOKEN";
        // ghcr.io checks the token, not the user name; any non-empty name works when no actor is set.
        if (token)
          return {
            credential: basic(env.GITHUB_ACTOR ?? "regkit", token),
            source: `environment (${variable})`,
          };
      }
      return undefined;
    },
  };
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
}
