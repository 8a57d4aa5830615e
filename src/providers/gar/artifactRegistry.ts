import type { CredentialProvider } from "../../auth/credentials.js";
import { basic } from "../../auth/credentials.js";
import { providerOf } from "../../core/providers.js";
import { Registry, type RegistryOptions } from "../../registry/registry.js";
import type { Repository } from "../../registry/repository.js";
import type { VulnerabilityReport } from "../vulnerabilities.js";
import { ContainerAnalysisApi } from "./analysis.js";
import { ArtifactRegistryApi } from "./api.js";
import { type CleanupCandidate, type CleanupPlan, planCleanup } from "./cleanup.js";
import { type GarConfig, loadGarConfig } from "./config.js";
import { DOCKER_TOKEN_USER } from "./dockerToken.js";
import { GoogleTokenSource } from "./googleAuth.js";
import { GoogleClient } from "./googleClient.js";
import { resourceId } from "./model.js";
import { dockerHost, type GarImage, type GarRepository, parseGarImage } from "./names.js";

/** How to build an ArtifactRegistry client. */
export interface ArtifactRegistryOptions {
  config?: GarConfig;
  /** Transport, telemetry and record/replay options of the underlying Registry. */
  registry?: Omit<RegistryOptions, "credentials" | "endpoints" | "retry" | "timeoutMs">;
  /** Token source options (tests pin the clock or switch background refresh off). */
  tokens?: {
    /** The clock the 80 % refresh point is measured with. */
    now?: () => number;
    /** Refresh in the background at 80 % of the lifetime (default true). */
    background?: boolean;
    /** Where GCE_METADATA_HOST, CLOUDSDK_CONFIG and HOME are read (default process.env). */
    env?: NodeJS.ProcessEnv;
  };
}

/**
 * Google Artifact Registry: the generic registry client on
 * `LOCATION-docker.pkg.dev` (or ARTIFACT_REGISTRY_DOCKER_URL) with
 * `oauth2accesstoken` + a Google access token, the REST API, and one token
 * source (google-auth-library) behind both.
 */
export class ArtifactRegistry {
  readonly config: GarConfig;
  readonly registry: Registry;
  readonly tokens: GoogleTokenSource;
  readonly api: ArtifactRegistryApi;
  readonly client: GoogleClient;
  readonly analysis: ContainerAnalysisApi;

  constructor(config: GarConfig, options: Omit<ArtifactRegistryOptions, "config"> = {}) {
    this.config = config;
    let tokens: GoogleTokenSource | undefined;
    this.registry = new Registry({
      ...options.registry,
      credentials: dockerCredentials(() => tokens!),
      ...(config.dockerUrl ? { endpoints: { "*-docker.pkg.dev": config.dockerUrl } } : {}),
      timeoutMs: config.timeoutSeconds * 1000,
      retry: {
        maxAttempts: config.maxRetries + 1,
        rateLimitDelayMs: config.quotaRetryBaseSeconds * 1000,
        // A quota wait is exponential from 30 s (specification §6.1): allow the longest step.
        maxRateLimitWaitMs: config.quotaRetryBaseSeconds * 1000 * 2 ** config.maxRetries,
      },
    });
    const context = this.registry.context("artifactregistry-docker.pkg.dev");
    tokens = new GoogleTokenSource({
      send: context.send,
      tokenUrl: config.tokenUrl,
      ...(config.keyFile ? { keyFile: config.keyFile } : {}),
      ...(config.accessToken ? { accessToken: config.accessToken } : {}),
      ...options.tokens,
    });
    this.tokens = tokens;
    this.client = new GoogleClient({
      send: context.send,
      baseUrl: config.apiUrl,
      tokens,
      telemetry: context.telemetry,
    });
    this.api = new ArtifactRegistryApi(this.client);
    this.analysis = new ContainerAnalysisApi(
      new GoogleClient({
        send: context.send,
        baseUrl: config.analysisUrl,
        tokens,
        telemetry: context.telemetry,
      }),
    );
  }

  /** Reads the environment and the config file (`file`, `$REGKIT_CONFIG`, `~/.config/regkit/config.yaml`). */
  static async create(
    options: ArtifactRegistryOptions & { env?: NodeJS.ProcessEnv; file?: string } = {},
  ): Promise<ArtifactRegistry> {
    const config =
      options.config ??
      (await loadGarConfig({
        ...(options.env ? { env: options.env } : {}),
        ...(options.file ? { file: options.file } : {}),
      }));
    return new ArtifactRegistry(config, options);
  }

  /** The OCI repository of an image (`LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE`). */
  repository(image: GarImage | string): Repository {
    const i = typeof image === "string" ? parseGarImage(image) : image;
    return this.registry.repository(dockerHost(i.location), `${i.project}/${i.repository}/${i.image}`);
  }

  /**
   * What the repository's cleanup policies would delete and keep now (a dry
   * run over every version of every package; nothing is changed).
   */
  async cleanupPreview(repository: GarRepository, now = new Date()): Promise<CleanupPlan> {
    const info = await this.api.repository(repository);
    const candidates: CleanupCandidate[] = [];
    for await (const p of this.api.packages(repository)) {
      const image = resourceId(p.name);
      for await (const v of this.api.versions({ ...repository, image }))
        candidates.push({
          package: image,
          version: resourceId(v.name),
          tags: (v.relatedTags ?? []).map((t) => resourceId(t.name)),
          createTime: new Date(v.createTime ?? 0),
        });
    }
    return planCleanup(info.cleanupPolicies ?? {}, candidates, now);
  }

  /** The digest an image names (a tag resolved with a HEAD), then its Container Analysis findings. */
  async vulnerabilities(image: GarImage | string): Promise<VulnerabilityReport> {
    const i = typeof image === "string" ? parseGarImage(image) : image;
    const digest = i.digest ?? (await this.repository(i).manifests.head(i.tag ?? "latest")).digest;
    return this.analysis.report(i, digest);
  }

  /** Stops token refreshes and closes the connections. */
  async close(): Promise<void> {
    this.tokens.close();
    await this.registry.close();
  }
}

/**
 * Artifact Registry's Docker endpoints take Basic `oauth2accesstoken:<token>`
 * at their token service; the token is the same one the REST API uses.
 */
export function dockerCredentials(tokens: () => GoogleTokenSource): CredentialProvider {
  return {
    name: "Google access token (oauth2accesstoken)",
    async resolve({ registry }) {
      if (providerOf(registry) !== "gar" && !registry.startsWith("*")) return undefined;
      const token = await tokens().token();
      return { credential: basic(DOCKER_TOKEN_USER, token), source: (await tokens().source()).source };
    },
  };
}
