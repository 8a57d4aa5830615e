import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigurationError, truncate } from "../core/errors.js";

/**
 * What every provider's settings share: one config file with a section per
 * provider (`docker_hub:`, `ghcr:`, …), read strictly, and the priority
 * environment > file > defaults with the source of each value kept.
 */

export type SettingSource = "default" | "file" | "environment";

export const httpUrl = z.url({ protocol: /^https?$/ });

/** `$REGKIT_CONFIG`, else `$XDG_CONFIG_HOME/regkit/config.yaml` (or `~/.config/…`). */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGKIT_CONFIG) return env.REGKIT_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "regkit", "config.yaml");
}

/**
 * One provider's section of the config file (`file`, else the default path;
 * a missing file is fine unless it was named explicitly). Other sections are
 * left to their providers.
 */
export async function readConfigSection<S extends z.ZodType>(
  key: string,
  section: S,
  options: { env?: NodeJS.ProcessEnv; file?: string },
): Promise<z.infer<S> | Record<string, never>> {
  const env = options.env ?? process.env;
  const path = options.file ?? defaultConfigPath(env);
  const required = options.file !== undefined || !!env.REGKIT_CONFIG;
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
  const result = z.looseObject({ [key]: section.optional() }).safeParse(parsed ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigurationError(
      `config file ${path}: ${issue.path.join(".") || "(root)"}: ${truncate(issue.message, 160)}`,
    );
  }
  return (result.data[key] as z.infer<S> | undefined) ?? {};
}

/** An http(s) URL from the environment, without trailing slashes; unset or empty is undefined. */
export function envUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  if (!httpUrl.safeParse(value).success)
    throw new ConfigurationError(
      `${name} must be an http(s) URL, got ${JSON.stringify(truncate(value, 80))}`,
    );
  return trimUrl(value);
}

export function trimUrl<T extends string | undefined>(value: T): T {
  return value?.replace(/\/+$/, "") as T;
}

/** Picks environment, else file, else default, and records which one it was under `key`. */
export function settingPicker(sources: Record<string, SettingSource>) {
  return <T>(key: string, fromEnv: T | undefined, fileValue: T | undefined, fallback: T): T => {
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
}
