import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigurationError, truncate } from "../../core/errors.js";
import { DOCKER_HUB_ENDPOINT } from "../../core/reference.js";
import { SecretString } from "../../core/secret.js";

/** Docker Hub's endpoints and client settings (architecture document §10.1). */
export interface DockerHubConfig {
  hubUrl: string;
  registryUrl: string;
  authUrl: string;
  timeoutSeconds: number;
  chunkSizeMb: number;
  maxRetries: number;
  circuitBreaker: { failureThreshold: number; resetTimeoutSeconds: number };
  /** Credentials from the environment; the Docker config is consulted when there are none. */
  username?: string;
  secret?: { value: SecretString; kind: "password" | "access-token"; source: string };
  /** Where each setting came from, for `regkit hub config`-style diagnostics and errors. */
  sources: Record<string, "default" | "file" | "environment">;
}

/** Docker Hub's settings when neither the environment nor a config file says otherwise. */
export const DOCKER_HUB_DEFAULTS = {
  hubUrl: "https://hub.docker.com",
  registryUrl: `https://${DOCKER_HUB_ENDPOINT}`,
  authUrl: "https://auth.docker.io",
  timeoutSeconds: 60,
  chunkSizeMb: 5,
  maxRetries: 3,
  circuitBreaker: { failureThreshold: 5, resetTimeoutSeconds: 30 },
} as const;

const url = z.url({ protocol: /^https?$/ });
const section = z.strictObject({
  hub_url: url.optional(),
  registry_url: url.optional(),
  auth_url: url.optional(),
  timeout_seconds: z.number().positive().max(3600).optional(),
  chunk_size_mb: z.number().positive().max(1024).optional(),
  max_retries: z.number().int().min(0).max(20).optional(),
  circuit_breaker: z
    .strictObject({
      failure_threshold: z.number().int().min(1).max(1000).optional(),
      reset_timeout_seconds: z.number().positive().max(86_400).optional(),
    })
    .optional(),
});
const file = z.looseObject({ docker_hub: section.optional() });

/** `$REGKIT_CONFIG`, else `$XDG_CONFIG_HOME/regkit/config.yaml` (or `~/.config/…`). */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGKIT_CONFIG) return env.REGKIT_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "regkit", "config.yaml");
}

async function readConfigFile(path: string, required: boolean): Promise<z.infer<typeof section>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ConfigurationError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    // JSON is YAML, but a JSON file deserves JSON's error messages.
    parsed = path.endsWith(".json") ? JSON.parse(text) : (await import("yaml")).parse(text);
  } catch (error) {
    throw new ConfigurationError(
      `config file ${path} is not valid: ${truncate((error as Error).message, 160)}`,
    );
  }
  const result = file.safeParse(parsed ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigurationError(
      `config file ${path}: ${issue.path.join(".") || "(root)"}: ${truncate(issue.message, 160)}`,
    );
  }
  return result.data.docker_hub ?? {};
}

function envUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  if (!url.safeParse(value).success)
    throw new ConfigurationError(
      `${name} must be an http(s) URL, got ${JSON.stringify(truncate(value, 80))}`,
    );
  return value.replace(/\/+$/, "");
}

/**
 * Settings in the priority environment > config file > defaults. The file
 * is optional unless named explicitly; secrets come only from the
 * environment here (the Docker config and credential helpers are read by
 * the credential chain).
 */
export async function loadDockerHubConfig(
  options: { env?: NodeJS.ProcessEnv; file?: string } = {},
): Promise<DockerHubConfig> {
  const env = options.env ?? process.env;
  const fromFile = await readConfigFile(
    options.file ?? defaultConfigPath(env),
    options.file !== undefined || !!env.REGKIT_CONFIG,
  );
  const sources: DockerHubConfig["sources"] = {};
  const pick = <T>(key: string, fromEnv: T | undefined, fileValue: T | undefined, fallback: T): T => {
    if (fromEnv !== undefined) {
      sources[key] = "environment";
      return fromEnv;
    }
    if (fileValue !== undefined) {
      sources[key] = "file";
      return fileValue;
    }
    sources[key] = "default";
    return fallback;
  };
  const trim = (value: string | undefined) => value?.replace(/\/+$/, "");
  const config: DockerHubConfig = {
    hubUrl: pick(
      "hub_url",
      envUrl(env, "DOCKER_HUB_URL"),
      trim(fromFile.hub_url),
      DOCKER_HUB_DEFAULTS.hubUrl,
    ),
    registryUrl: pick(
      "registry_url",
      envUrl(env, "DOCKER_HUB_REGISTRY_URL"),
      trim(fromFile.registry_url),
      DOCKER_HUB_DEFAULTS.registryUrl,
    ),
    authUrl: pick(
      "auth_url",
      envUrl(env, "DOCKER_HUB_AUTH_URL"),
      trim(fromFile.auth_url),
      DOCKER_HUB_DEFAULTS.authUrl,
    ),
    timeoutSeconds: pick(
      "timeout_seconds",
      undefined,
      fromFile.timeout_seconds,
      DOCKER_HUB_DEFAULTS.timeoutSeconds,
    ),
    chunkSizeMb: pick("chunk_size_mb", undefined, fromFile.chunk_size_mb, DOCKER_HUB_DEFAULTS.chunkSizeMb),
    maxRetries: pick("max_retries", undefined, fromFile.max_retries, DOCKER_HUB_DEFAULTS.maxRetries),
    circuitBreaker: {
      failureThreshold: pick(
        "circuit_breaker.failure_threshold",
        undefined,
        fromFile.circuit_breaker?.failure_threshold,
        DOCKER_HUB_DEFAULTS.circuitBreaker.failureThreshold,
      ),
      resetTimeoutSeconds: pick(
        "circuit_breaker.reset_timeout_seconds",
        undefined,
        fromFile.circuit_breaker?.reset_timeout_seconds,
        DOCKER_HUB_DEFAULTS.circuitBreaker.resetTimeoutSeconds,
      ),
    },
    sources,
  };
  const username = env.DOCKER_HUB_USERNAME;
  const token = env.DOCKER_HUB_ACCESS_TOKEN;
  const password = env.DOCKER_HUB_PASSWORD;
  if ((token || password) && !username)
    throw new ConfigurationError(
      "DOCKER_HUB_ACCESS_TOKEN or DOCKER_HUB_PASSWORD is set but DOCKER_HUB_USERNAME is not",
    );
  if (username) config.username = username;
  if (username && token)
    config.secret = {
      value: new SecretString(token),
      kind: "access-token",
      source: "DOCKER_HUB_ACCESS_TOKEN",
    };
  else if (username && password)
    config.secret = { value: new SecretString(password), kind: "password", source: "DOCKER_HUB_PASSWORD" };
  return config;
}
