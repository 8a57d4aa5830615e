import { z } from "zod";
import { envUrl, httpUrl, readConfigSection, type SettingSource, settingPicker, trimUrl } from "../config.js";

/** GHCR's endpoints and client settings. */
export interface GhcrConfig {
  /** Where `ghcr.io/…` references go. */
  registryUrl: string;
  /** GitHub's REST API (GitHub Enterprise Server: `https://HOST/api/v3`). */
  apiUrl: string;
  timeoutSeconds: number;
  maxRetries: number;
  sources: Record<string, SettingSource>;
}

/** GHCR's endpoints and settings when neither the environment nor the config file names them. */
export const GHCR_DEFAULTS = {
  registry: "ghcr.io",
  registryUrl: "https://ghcr.io",
  /** GitHub REST API (GitHub Actions sets GITHUB_API_URL, also for GitHub Enterprise). */
  apiUrl: "https://api.github.com",
  timeoutSeconds: 60,
  maxRetries: 3,
} as const;

const section = z.strictObject({
  registry_url: httpUrl.optional(),
  api_url: httpUrl.optional(),
  timeout_seconds: z.number().positive().max(3600).optional(),
  max_retries: z.number().int().min(0).max(20).optional(),
});

/** Settings in the priority environment (`GHCR_REGISTRY_URL`, `GITHUB_API_URL`) > config file (`ghcr:`) > defaults. */
export async function loadGhcrConfig(
  options: { env?: NodeJS.ProcessEnv; file?: string } = {},
): Promise<GhcrConfig> {
  const env = options.env ?? process.env;
  const fromFile: z.infer<typeof section> = await readConfigSection("ghcr", section, {
    env,
    ...(options.file !== undefined ? { file: options.file } : {}),
  });
  const sources: GhcrConfig["sources"] = {};
  const pick = settingPicker(sources);
  return {
    registryUrl: pick(
      "registry_url",
      envUrl(env, "GHCR_REGISTRY_URL"),
      trimUrl(fromFile.registry_url),
      GHCR_DEFAULTS.registryUrl,
    ),
    apiUrl: pick("api_url", envUrl(env, "GITHUB_API_URL"), trimUrl(fromFile.api_url), GHCR_DEFAULTS.apiUrl),
    timeoutSeconds: pick(
      "timeout_seconds",
      undefined,
      fromFile.timeout_seconds,
      GHCR_DEFAULTS.timeoutSeconds,
    ),
    maxRetries: pick("max_retries", undefined, fromFile.max_retries, GHCR_DEFAULTS.maxRetries),
    sources,
  };
}
