import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigurationError, truncate } from "../core/errors.js";

/**
 * The regkit config file every provider reads its own section from
 * (`docker_hub:`, `artifact_registry:`), and the environment URL checks
 * they share.
 */

export const httpUrl = z.url({ protocol: /^https?$/ });

/** `$REGKIT_CONFIG`, else `$XDG_CONFIG_HOME/regkit/config.yaml` (or `~/.config/…`). */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGKIT_CONFIG) return env.REGKIT_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "regkit", "config.yaml");
}

/** One section of the config file, validated strictly; `{}` when the file is absent and optional. */
export async function readConfigSection<S extends z.ZodType>(
  path: string,
  required: boolean,
  key: string,
  section: S,
): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") return {} as z.infer<S>;
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
  return (result.data[key] ?? {}) as z.infer<S>;
}

/** An http(s) URL from the environment, without trailing slashes; undefined when unset. */
export function envUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  if (!httpUrl.safeParse(value).success)
    throw new ConfigurationError(
      `${name} must be an http(s) URL, got ${JSON.stringify(truncate(value, 80))}`,
    );
  return value.replace(/\/+$/, "");
}

/** Picks environment > file > default for one setting and records where it came from. */
export function settingPicker(sources: Record<string, "default" | "file" | "environment">) {
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
