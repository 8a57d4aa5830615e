import type { CredentialProvider } from "../../auth/credentials.js";
import { defaultCredentials } from "../../auth/defaultCredentials.js";
import type { Digest } from "../../core/digest.js";
import { InvalidInputError, isRegkitError } from "../../core/errors.js";
import { isIndexMediaType } from "../../core/mediaTypes.js";
import { type Platform, parsePlatform } from "../../core/platform.js";
import { providerOf } from "../../core/providers.js";
import { parseReference, parseRepository, referenceTarget } from "../../core/reference.js";
import type { SecretString } from "../../core/secret.js";
import { Registry, type RegistryOptions } from "../../registry/registry.js";
import type { Repository } from "../../registry/repository.js";
import type { ProviderInfo } from "../provider.js";
import { emptyCounts, type VulnerabilityReport } from "../vulnerabilities.js";
import { attachedVulnerabilities } from "./attestations.js";
import {
  type CleanupPlan,
  type CleanupPolicy,
  type CleanupProgress,
  executeCleanup,
  type PlanEntry,
  planCleanup,
  type VersionGraph,
} from "./cleanup.js";
import { GHCR_DEFAULTS, type GhcrConfig, loadGhcrConfig } from "./config.js";
import type { PackageVersion } from "./model.js";
import { createOctokit } from "./octokit.js";
import { PackagesApi } from "./packagesApi.js";

export {
  COSIGN_VULN_PREDICATE,
  OPENVEX_MEDIA_TYPE,
  readDocument,
  SARIF_MEDIA_TYPE,
} from "./attestations.js";
export {
  type CleanupPlan,
  type CleanupPolicy,
  executeCleanup,
  type PlanEntry,
  parseAge,
  planCleanup,
  type VersionGraph,
} from "./cleanup.js";
export { GHCR_DEFAULTS, type GhcrConfig, loadGhcrConfig } from "./config.js";
export { githubError } from "./githubErrors.js";
export {
  cosignTag,
  type ImageSize,
  imageSize,
  matchingTags,
  retag,
  type SigningArtifact,
  signingArtifacts,
  signingTagSubject,
  tagMatcher,
} from "./images.js";
export type { ContainerPackage, OwnerType, PackageVersion } from "./model.js";
export { MAX_THROTTLE_DELAY_MS, THROTTLE_AT, throttleDelay } from "./octokit.js";
export { type PackageScope, PackagesApi, type VersionFilter, type Visibility } from "./packagesApi.js";
export {
  type GitHubPackageEvent,
  githubEventLine,
  githubWebhookParser,
  parseGitHubWebhook,
} from "./webhook.js";

/** What regkit knows about GitHub Container Registry as a provider (hosts, names). */
export const ghcr: ProviderInfo = {
  id: "ghcr",
  matches: (host) => providerOf(host) === "ghcr",
};

/** How a `Ghcr` client is built: settings, credentials, the API token, throttle hooks, transport options. */
export interface GhcrOptions {
  config?: GhcrConfig;
  /** Registry credentials (default: GITHUB_TOKEN/GH_TOKEN + GITHUB_ACTOR, then Docker's config). `false`: anonymous. */
  credentials?: CredentialProvider | false;
  /** The token for the REST API; default: the password of the ghcr.io credential. */
  token?: SecretString;
  /** Pause between two API writes (default 1 s, octokit's). */
  writeIntervalMs?: number;
  /** How the 80 % throttle waits (tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Called with each pause the 80 % throttle inserts. */
  onThrottle?: (delayMs: number) => void;
  registry?: Omit<RegistryOptions, "credentials" | "endpoints" | "retry" | "timeoutMs">;
}

/** `ghcr.io/OWNER/PACKAGE[:tag|@digest]` → its owner and package name (the path below the owner). */
export function packageOf(text: string): {
  owner: string;
  name: string;
  reference: ReturnType<typeof parseReference>;
} {
  const reference = parseReference(text);
  if (providerOf(reference.registry) !== "ghcr")
    throw new InvalidInputError(`${text} is not a ghcr.io image (ghcr.io/OWNER/PACKAGE)`, {
      provider: "ghcr",
    });
  const slash = reference.repository.indexOf("/");
  if (slash <= 0)
    throw new InvalidInputError(`${text}: expected ghcr.io/OWNER/PACKAGE`, { provider: "ghcr" });
  return {
    owner: reference.repository.slice(0, slash),
    name: reference.repository.slice(slash + 1),
    reference,
  };
}

/**
 * GitHub Container Registry: the generic registry client pointed at ghcr.io
 * (or GHCR_REGISTRY_URL), and GitHub's Packages API on octokit, whose
 * requests go through the same transport. One token serves both: the
 * registry exchanges it at its token realm for short-lived (5 minute)
 * registry tokens with the scopes each request needs, refreshed before they
 * expire and once after a 401.
 */
export class Ghcr {
  readonly config: GhcrConfig;
  readonly registry: Registry;
  readonly api: PackagesApi;

  constructor(config: GhcrConfig, options: Omit<GhcrOptions, "config"> = {}) {
    this.config = config;
    this.registry = new Registry({
      ...options.registry,
      credentials: options.credentials ?? defaultCredentials(),
      ...(config.registryUrl !== GHCR_DEFAULTS.registryUrl
        ? { endpoints: { [GHCR_DEFAULTS.registry]: config.registryUrl } }
        : {}),
      timeoutMs: config.timeoutSeconds * 1000,
      retry: { maxAttempts: config.maxRetries + 1 },
    });
    const context = this.registry.context(new URL(config.apiUrl).host);
    const octokit = createOctokit({
      send: context.send,
      apiUrl: config.apiUrl,
      token: options.token,
      rateLimits: this.registry.rateLimits,
      retries: config.maxRetries,
      ...(options.writeIntervalMs !== undefined ? { writeIntervalMs: options.writeIntervalMs } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.onThrottle ? { onThrottle: options.onThrottle } : {}),
    });
    this.api = new PackagesApi({ octokit, telemetry: context.telemetry });
  }

  /** Reads the settings and finds the token (environment, then Docker's config for ghcr.io). */
  static async create(options: GhcrOptions & { env?: NodeJS.ProcessEnv; file?: string } = {}): Promise<Ghcr> {
    const config =
      options.config ??
      (await loadGhcrConfig({
        ...(options.env ? { env: options.env } : {}),
        ...(options.file ? { file: options.file } : {}),
      }));
    const credentials =
      options.credentials === false ? false : (options.credentials ?? defaultCredentials(options.env));
    let token = options.token;
    if (!token && credentials) {
      const found = await credentials.resolve({ registry: GHCR_DEFAULTS.registry });
      if (found?.credential.kind === "basic") token = found.credential.password;
      else if (found?.credential.kind === "registry-token") token = found.credential.token;
    }
    return new Ghcr(config, { ...options, credentials, ...(token ? { token } : {}) });
  }

  /** The OCI repository of an image on ghcr.io (`ghcr.io/` may be omitted: `OWNER/PACKAGE`). */
  repository(name: string): Repository {
    const full =
      name.includes(".") && name.split("/")[0]!.includes(".") ? name : `${GHCR_DEFAULTS.registry}/${name}`;
    const { registry, repository } = parseRepository(full);
    if (providerOf(registry) !== "ghcr")
      throw new InvalidInputError(`${name} is not a ghcr.io repository`, { provider: "ghcr" });
    return this.registry.repository(GHCR_DEFAULTS.registry, repository);
  }

  /** The registry's view of a kept version, for cleanup: an index's children and the referrers. */
  versionGraph(repository: Repository): VersionGraph {
    const children = new Map<Digest, Promise<Digest[]>>();
    const referrers = new Map<Digest, Promise<Digest[]>>();
    return {
      children(digest) {
        let known = children.get(digest);
        if (!known) {
          known = repository.manifests
            .get(digest)
            .then((m) => (m.kind === "index" ? m.manifest.manifests.map((d) => d.digest as Digest) : []));
          children.set(digest, known);
        }
        return known;
      },
      referrers(digest) {
        let known = referrers.get(digest);
        if (!known) {
          known = repository.referrers.list(digest).then((r) => r.referrers.map((d) => d.digest as Digest));
          referrers.set(digest, known);
        }
        return known;
      },
    };
  }

  /** Every version of `ghcr.io/OWNER/PACKAGE` evaluated against `policy`; nothing is deleted. */
  async planCleanup(image: string, policy: CleanupPolicy): Promise<CleanupPlan> {
    const { owner, name } = packageOf(image);
    const versions: PackageVersion[] = [];
    for await (const v of this.api.versions(owner, name)) versions.push(v);
    return planCleanup(
      versions,
      policy,
      this.versionGraph(this.registry.repository(GHCR_DEFAULTS.registry, `${owner}/${name}`)),
    );
  }

  /** Deletes what a plan says, one version at a time; versions already gone count as done. */
  async cleanup(
    image: string,
    plan: CleanupPlan,
    onDeleted?: (entry: PlanEntry, outcome: "deleted" | "already-gone") => void,
  ): Promise<CleanupProgress> {
    const { owner, name } = packageOf(image);
    return executeCleanup(plan, (entry) => this.api.deleteVersion(owner, name, entry.id), onDeleted);
  }

  /**
   * Vulnerabilities of an image from the scan results attached to it. A
   * multi-platform tag is narrowed to `platform` (default linux/amd64);
   * without attached results the report says `not-scanned` (no scan data).
   */
  async vulnerabilities(
    reference: string,
    options: { platform?: Platform | string } = {},
  ): Promise<VulnerabilityReport & { scanner?: string }> {
    const { owner, name, reference: ref } = packageOf(reference);
    const repository = this.registry.repository(GHCR_DEFAULTS.registry, `${owner}/${name}`);
    const top = await repository.manifests.head(referenceTarget(ref));
    let digest = top.digest as Digest;
    try {
      // Scanners attach to the index or to each platform's image: the index first.
      const onIndex = await attachedVulnerabilities(repository, digest);
      if (onIndex.status === "scanned" || !isIndexMediaType(top.mediaType)) return onIndex;
      const platform =
        typeof options.platform === "string" ? parsePlatform(options.platform) : options.platform;
      const resolved = await repository.resolve(digest, {
        platform: platform ?? parsePlatform("linux/amd64"),
      });
      digest = resolved.descriptor.digest as Digest;
      return await attachedVulnerabilities(repository, digest);
    } catch (error) {
      if (isRegkitError(error) && (error.category === "authorization" || error.category === "authentication"))
        return {
          provider: "ghcr",
          image: { repository: repository.name, digest },
          status: "no-access",
          lastScanned: undefined,
          counts: emptyCounts(),
          vulnerabilities: [],
        };
      throw error;
    }
  }

  /** Versions whose attached scan results list vulnerabilities (FR-VULN-002), walking every version. */
  async *vulnerableVersions(
    image: string,
  ): AsyncIterable<{ version: PackageVersion; report: VulnerabilityReport }> {
    const { owner, name } = packageOf(image);
    const repository = this.registry.repository(GHCR_DEFAULTS.registry, `${owner}/${name}`);
    for await (const version of this.api.versions(owner, name)) {
      const report = await attachedVulnerabilities(repository, version.digest);
      if (report.vulnerabilities.length > 0) yield { version, report };
    }
  }

  /** Closes the transport (connection pools) and writes a recorded cassette. */
  async close(): Promise<void> {
    await this.registry.close();
  }
}
