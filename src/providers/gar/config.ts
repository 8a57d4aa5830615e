import { z } from "zod";
import { SecretString } from "../../core/secret.js";
import { envUrl, httpUrl, readConfigSection, settingPicker } from "../config.js";

/** Artifact Registry's endpoints and client settings. */
export interface GarConfig {
  apiUrl: string;
  analysisUrl: string;
  /** Where every `LOCATION-docker.pkg.dev` host is sent instead (a fake, a proxy); unset: each location's own host. */
  dockerUrl: string | undefined;
  /** Google's OAuth2 token endpoint; requests the auth library sends there go here instead. */
  tokenUrl: string;
  /** A service-account or ADC key file (otherwise GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC, the metadata server). */
  keyFile: string | undefined;
  /** A ready OAuth2 access token (GOOGLE_OAUTH_ACCESS_TOKEN), used as is and never refreshed. */
  accessToken: SecretString | undefined;
  timeoutSeconds: number;
  /** Retries of a 429 (RESOURCE_EXHAUSTED), exponentially from `quotaRetryBaseSeconds`. */
  maxRetries: number;
  quotaRetryBaseSeconds: number;
  sources: Record<string, "default" | "file" | "environment">;
}

/** Google's endpoints and the specification's retry defaults. */
export const GAR_DEFAULTS = {
  apiUrl: "https://artifactregistry.googleapis.com",
  analysisUrl: "https://containeranalysis.googleapis.com",
  tokenUrl: "https://oauth2.googleapis.com/token",
  timeoutSeconds: 60,
  // Specification §6.1: RESOURCE_EXHAUSTED retries 5 times, exponentially from 30 s.
  maxRetries: 5,
  quotaRetryBaseSeconds: 30,
} as const;

const section = z.strictObject({
  api_url: httpUrl.optional(),
  analysis_url: httpUrl.optional(),
  docker_url: httpUrl.optional(),
  token_url: httpUrl.optional(),
  key_file: z.string().min(1).optional(),
  timeout_seconds: z.number().positive().max(3600).optional(),
  max_retries: z.number().int().min(0).max(20).optional(),
  quota_retry_base_seconds: z.number().min(0).max(3600).optional(),
});

/** Settings in the priority environment > config file (`artifact_registry:`) > defaults. */
export async function loadGarConfig(
  options: { env?: NodeJS.ProcessEnv; file?: string } = {},
): Promise<GarConfig> {
  const env = options.env ?? process.env;
  const fromFile: z.infer<typeof section> = await readConfigSection("artifact_registry", section, {
    env,
    ...(options.file !== undefined ? { file: options.file } : {}),
  });
  const sources: GarConfig["sources"] = {};
  const pick = settingPicker(sources);
  const trim = (value: string | undefined) => value?.replace(/\/+$/, "");
  const token = env.GOOGLE_OAUTH_ACCESS_TOKEN;
  return {
    apiUrl: pick(
      "api_url",
      envUrl(env, "ARTIFACT_REGISTRY_API_URL"),
      trim(fromFile.api_url),
      GAR_DEFAULTS.apiUrl,
    ),
    analysisUrl: pick(
      "analysis_url",
      envUrl(env, "CONTAINER_ANALYSIS_API_URL"),
      trim(fromFile.analysis_url),
      GAR_DEFAULTS.analysisUrl,
    ),
    dockerUrl: pick<string | undefined>(
      "docker_url",
      envUrl(env, "ARTIFACT_REGISTRY_DOCKER_URL"),
      trim(fromFile.docker_url),
      undefined,
    ),
    tokenUrl: pick(
      "token_url",
      envUrl(env, "GOOGLE_OAUTH_TOKEN_URL"),
      fromFile.token_url,
      GAR_DEFAULTS.tokenUrl,
    ),
    keyFile: pick<string | undefined>(
      "key_file",
      env.GOOGLE_APPLICATION_CREDENTIALS || undefined,
      fromFile.key_file,
      undefined,
    ),
    accessToken: token ? new SecretString(token) : undefined,
    timeoutSeconds: pick("timeout_seconds", undefined, fromFile.timeout_seconds, GAR_DEFAULTS.timeoutSeconds),
    maxRetries: pick("max_retries", undefined, fromFile.max_retries, GAR_DEFAULTS.maxRetries),
    quotaRetryBaseSeconds: pick(
      "quota_retry_base_seconds",
      undefined,
      fromFile.quota_retry_base_seconds,
      GAR_DEFAULTS.quotaRetryBaseSeconds,
    ),
    sources,
  };
}
