import type { Challenge } from "../../auth/challenge.js";
import type { CredentialProvider } from "../../auth/credentials.js";
import { basic, chainProviders, defaultCredentials, staticCredentials } from "../../auth/index.js";
import { InvalidInputError, isRegkitError } from "../../core/errors.js";
import { isIndexMediaType } from "../../core/mediaTypes.js";
import { type Platform, parsePlatform } from "../../core/platform.js";
import { providerOf } from "../../core/providers.js";
import {
  DOCKER_HUB,
  DOCKER_HUB_ENDPOINT,
  parseReference,
  parseRepository,
  referenceTarget,
  registryEndpoint,
} from "../../core/reference.js";
import { Registry, type RegistryOptions } from "../../registry/registry.js";
import type { Repository } from "../../registry/repository.js";
import type { ProviderInfo } from "../provider.js";
import { emptyCounts, type VulnerabilityReport } from "../vulnerabilities.js";
import { DOCKER_HUB_DEFAULTS, type DockerHubConfig, loadDockerHubConfig } from "./config.js";
import { HubApi } from "./hubApi.js";
import { type HubLogin, HubSession } from "./hubSession.js";
import { type PullLimitStatus, RATE_LIMIT_PREVIEW, readPullLimit } from "./pullLimit.js";

export {
  checkCallbackUrl,
  type DockerHubCallback,
  sendDockerHubCallback,
} from "./callback.js";
export {
  DOCKER_HUB_DEFAULTS,
  type DockerHubConfig,
  defaultConfigPath,
  loadDockerHubConfig,
} from "./config.js";
export { HubApi, type ListRepositoriesOptions } from "./hubApi.js";
export type { HubImage, HubRepository, HubScan, HubSearchResult, HubTag } from "./hubModel.js";
export { type HubLogin, HubSession, type HubTokenState, jwtExpiry } from "./hubSession.js";
export {
  type PullLimitStatus,
  planPulls,
  pullPlanner,
  RATE_LIMIT_PREVIEW,
  readPullLimit,
} from "./pullLimit.js";
export { highestTag, pinReference, resolveTag, type SemverTag, semverTags } from "./tags.js";
export {
  type DockerHubWebhookEvent,
  dockerHubEventLine,
  dockerHubWebhookParser,
  parseDockerHubWebhook,
} from "./webhook.js";

/** What regkit knows about Docker Hub as a provider (hosts, names). */
export const dockerHub: ProviderInfo = {
  id: "dockerhub",
  matches: (host) => providerOf(host) === "dockerhub",
};

/** Options of {@link DockerHub.create}. */
export interface DockerHubOptions {
  /** Settings; read from the environment and the config file when omitted. */
  config?: DockerHubConfig;
  /** Hub API login; default: DOCKER_HUB_USERNAME + token/password, then Docker's config for docker.io. `false`: anonymous. */
  login?: HubLogin | false;
  /** Credentials for the registry side (default: the same chain regkit uses everywhere). */
  credentials?: CredentialProvider | false;
  /** Transport, telemetry and record/replay options of the underlying Registry. */
  registry?: Omit<
    RegistryOptions,
    "credentials" | "endpoints" | "challenges" | "retry" | "circuitBreaker" | "timeoutMs" | "uploadChunkSize"
  >;
}

/**
 * Docker Hub: the generic registry client pointed at Docker Hub's registry
 * (or whatever the configuration names), plus the Hub API with its own JWT
 * login, pull-limit reading and scan overviews.
 */
export class DockerHub {
  readonly config: DockerHubConfig;
  readonly registry: Registry;
  readonly session: HubSession;
  readonly api: HubApi;
  readonly #credentials: CredentialProvider | undefined;

  constructor(config: DockerHubConfig, options: Omit<DockerHubOptions, "config"> = {}) {
    this.config = config;
    this.#credentials =
      options.credentials === false ? undefined : (options.credentials ?? hubCredentials(config));
    this.registry = new Registry({
      ...options.registry,
      credentials: this.#credentials ?? false,
      ...(config.registryUrl !== DOCKER_HUB_DEFAULTS.registryUrl
        ? { endpoints: { [DOCKER_HUB]: config.registryUrl } }
        : {}),
      challenges: knownChallenges(config),
      timeoutMs: config.timeoutSeconds * 1000,
      uploadChunkSize: Math.round(config.chunkSizeMb * 1024 * 1024),
      retry: { maxAttempts: config.maxRetries + 1 },
      circuitBreaker: {
        failureThreshold: config.circuitBreaker.failureThreshold,
        halfOpenAfterMs: config.circuitBreaker.resetTimeoutSeconds * 1000,
      },
    });
    const context = this.registry.context(DOCKER_HUB);
    const login = options.login;
    this.session = new HubSession({
      send: context.send,
      hubUrl: config.hubUrl,
      telemetry: context.telemetry,
      login: async () => (login === false ? undefined : (login ?? (await this.#loginFromCredentials()))),
    });
    this.api = new HubApi({
      send: context.send,
      hubUrl: config.hubUrl,
      session: this.session,
      telemetry: context.telemetry,
    });
  }

  /** Reads the environment and the config file (`file`, `$REGKIT_CONFIG`, `~/.config/regkit/config.yaml`). */
  static async create(
    options: DockerHubOptions & { env?: NodeJS.ProcessEnv; file?: string } = {},
  ): Promise<DockerHub> {
    const config =
      options.config ??
      (await loadDockerHubConfig({
        ...(options.env ? { env: options.env } : {}),
        ...(options.file ? { file: options.file } : {}),
      }));
    return new DockerHub(config, options);
  }

  /** A repository on Docker Hub (`alpine` is `library/alpine`; `docker.io/` may be written or not). */
  repository(name: string): Repository {
    const { registry, repository } = parseRepository(name);
    if (providerOf(registry) !== "dockerhub")
      throw new InvalidInputError(`${name} is not a Docker Hub repository`, { provider: "dockerhub" });
    return this.registry.repository(DOCKER_HUB, repository);
  }

  /** Pull limit, remaining budget, window and source, without spending a pull. */
  async pullLimit(reference = `${RATE_LIMIT_PREVIEW}:latest`): Promise<PullLimitStatus> {
    const ref = parseReference(reference);
    const authenticated = (await this.#credentials?.resolve({ registry: DOCKER_HUB })) !== undefined;
    return readPullLimit(this.registry, ref.repository, referenceTarget(ref), authenticated);
  }

  /**
   * The scan overview of an image, normalised. A tag is resolved with a HEAD
   * (not a pull); an index is narrowed to `platform` (default linux/amd64),
   * since Docker Hub scans each platform's image.
   */
  async vulnerabilities(
    reference: string,
    options: { platform?: Platform | string } = {},
  ): Promise<VulnerabilityReport> {
    const ref = parseReference(reference);
    const repository = this.registry.repository(DOCKER_HUB, ref.repository);
    const platform =
      typeof options.platform === "string" ? parsePlatform(options.platform) : options.platform;
    // One HEAD says both what the tag points to and whether it is an index (neither is a pull).
    const top = await repository.manifests.head(referenceTarget(ref));
    let digest = top.digest;
    if (isIndexMediaType(top.mediaType)) {
      const resolved = await repository.resolve(digest, {
        platform: platform ?? parsePlatform("linux/amd64"),
      });
      digest = resolved.descriptor.digest as typeof digest;
    }
    const image = { repository: ref.repository, digest };
    try {
      return { provider: "dockerhub", image, ...(await this.api.scan(ref.repository, digest)) };
    } catch (error) {
      if (
        isRegkitError(error) &&
        (error.category === "authorization" || error.category === "authentication")
      ) {
        return {
          provider: "dockerhub",
          image,
          status: "no-access",
          lastScanned: undefined,
          counts: emptyCounts(),
          vulnerabilities: [],
        };
      }
      throw error;
    }
  }

  /** Closes the Hub API client and the registry client. */
  async close(): Promise<void> {
    await this.registry.close();
  }

  /** The Hub API takes a username with a password or PAT: the registry's Basic credential for docker.io. */
  async #loginFromCredentials(): Promise<HubLogin | undefined> {
    const found = await this.#credentials?.resolve({ registry: DOCKER_HUB });
    if (found?.credential.kind !== "basic") return undefined;
    return { username: found.credential.username, secret: found.credential.password, source: found.source };
  }
}

/** Environment (per the config) first, then Docker's config file and credential helpers. */
function hubCredentials(config: DockerHubConfig): CredentialProvider {
  const { username, secret } = config;
  if (!username || !secret) return defaultCredentials();
  const fromEnvironment = staticCredentials(
    { [DOCKER_HUB]: basic(username, secret.value) },
    `environment (DOCKER_HUB_USERNAME, ${secret.source})`,
  );
  return chainProviders(fromEnvironment, defaultCredentials());
}

/**
 * Docker Hub's token service is known, so the first request to Docker Hub's
 * registry can carry a token instead of drawing a 401. Only there, or where
 * the configuration names the auth service too: a mirror or fake named by
 * DOCKER_HUB_REGISTRY_URL alone says through its own challenge where its
 * tokens come from, and a token from auth.docker.io is never sent to a host
 * that did not ask for it.
 */
export function knownChallenges(config: DockerHubConfig): Record<string, Challenge> {
  const registry = new URL(config.registryUrl);
  const realHub = registry.protocol === "https:" && registryEndpoint(registry.host) === DOCKER_HUB_ENDPOINT;
  if (!realHub && (config.sources.auth_url ?? "default") === "default") return {};
  return {
    [registry.origin]: {
      scheme: "bearer",
      params: { realm: `${config.authUrl}/token`, service: "registry.docker.io" },
    },
  };
}
