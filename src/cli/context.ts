import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import type { Command } from "commander";
import type { Digest } from "../core/digest.js";
import { cliReference, isLocalLocation } from "../core/location.js";
import type { Descriptor, ParsedManifest } from "../core/manifest.js";
import { type Platform, parsePlatform } from "../core/platform.js";
import { endpointsFromEnvironment } from "../core/providers.js";
import { type Reference, referenceTarget } from "../core/reference.js";
import type { ManifestCacheOptions } from "../registry/manifestCache.js";
import type { Registry } from "../registry/registry.js";
import type { Repository } from "../registry/repository.js";

export { cliReference, cliRepository, isLocalLocation } from "../core/location.js";

/** Options every command sees (commander's global flags). */
export interface GlobalOptions {
  json?: boolean;
  verbose?: number;
  insecureRegistry?: string[];
  record?: string;
  replay?: string;
  cacheDir?: string;
  /** False with `--no-cache`. */
  cache?: boolean;
}

/** What a command needs from its surroundings; tests substitute the streams. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
}

/** Loaded on first use so that `--help`, `--version` and usage errors stay instant. */
export async function createRegistry(options: GlobalOptions): Promise<Registry> {
  const { Registry } = await import("../registry/registry.js");
  const logger = await createLogger(options.verbose);
  const [{ chainProviders }, { defaultCredentials }, { googleRegistryCredentials }] = await Promise.all([
    import("../auth/credentials.js"),
    import("../auth/defaultCredentials.js"),
    import("../providers/gar/googleRegistryCredentials.js"),
  ]);
  return new Registry({
    // Artifact Registry hosts also take a Google access token when Docker's config has nothing.
    credentials: chainProviders(defaultCredentials(), googleRegistryCredentials()),
    insecureHosts: options.insecureRegistry ?? [],
    endpoints: endpointsFromEnvironment(),
    ...(logger ? { logger } : {}),
    ...(options.record ? { record: options.record } : {}),
    ...(options.replay ? { replay: options.replay } : {}),
    manifestCache: manifestCacheSettings(options),
  });
}

/**
 * A command lives for seconds: tag answers are reused for a few of them, and
 * verified manifests are kept on disk across commands unless `--no-cache`
 * or an empty `REGKIT_CACHE_DIR` says otherwise. An unusable directory is a
 * warning, not a failure: the command runs without the cache.
 */
export function manifestCacheSettings(
  options: Pick<GlobalOptions, "cacheDir" | "cache">,
  env: NodeJS.ProcessEnv = process.env,
): ManifestCacheOptions {
  const dir = options.cache === false ? undefined : (options.cacheDir ?? defaultCacheDir(env));
  return {
    tagTtlMs: CLI_TAG_TTL_MS,
    ...(dir
      ? {
          disk: {
            dir,
            onError: (error) => process.stderr.write(`regkit: warning: ${error.message}\n`),
          },
        }
      : {}),
  };
}

/** How long a command reuses a tag's answer (tag → digest). */
export const CLI_TAG_TTL_MS = 5000;

/** `REGKIT_CACHE_DIR` (empty: none), else `$XDG_CACHE_HOME/regkit`, else `~/.cache/regkit`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.REGKIT_CACHE_DIR !== undefined) return env.REGKIT_CACHE_DIR || undefined;
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, "regkit");
  const home = env.HOME || homedir();
  return home ? join(home, ".cache", "regkit") : undefined;
}

/** docker.io, ghcr.io and `*-docker.pkg.dev` references follow their provider's variable (core/providers.ts). */
export { endpointsFromEnvironment } from "../core/providers.js";

/** The logger for `-v`…`-vvv`; pino is loaded only when something will be logged. */
export async function createLogger(verbose: number | undefined) {
  if (!verbose) return undefined;
  const { createLogger: make, levelForVerbosity } = await import("../core/logger.js");
  return make(levelForVerbosity(verbose));
}

/** What every provider client (Docker Hub, GHCR, Artifact Registry) takes from the command line. */
export interface ProviderClientSettings {
  /** `--config FILE`, else the default config path. */
  file?: string;
  registry: {
    insecureHosts: string[];
    logger?: NonNullable<Awaited<ReturnType<typeof createLogger>>>;
    record?: string;
    replay?: string;
  };
}

/**
 * Runs `fn` with a provider client made by `create` from the global flags
 * and `--config` (environment > config file > defaults), closed afterwards.
 */
export async function withProviderClient<C extends { close(): Promise<void> }, T>(
  command: Command,
  create: (settings: ProviderClientSettings) => Promise<C>,
  fn: (client: C) => Promise<T>,
): Promise<T> {
  const globals = command.optsWithGlobals<GlobalOptions & { config?: string }>();
  const logger = await createLogger(globals.verbose);
  const client = await create({
    ...(globals.config ? { file: globals.config } : {}),
    registry: {
      insecureHosts: globals.insecureRegistry ?? [],
      ...(logger ? { logger } : {}),
      ...(globals.record ? { record: globals.record } : {}),
      ...(globals.replay ? { replay: globals.replay } : {}),
    },
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Runs `fn` with a Registry that is closed afterwards, so idle sockets never keep the process alive. */
export async function withRegistry<T>(
  options: GlobalOptions,
  fn: (registry: Registry) => Promise<T>,
): Promise<T> {
  const registry = await createRegistry(options);
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}

export function writeLine(io: CliIo, line: string): void {
  io.stdout.write(`${line}\n`);
}

/** Whether `--json` was given, wherever it stands on the command line. */
export function jsonOutput(command: Command): boolean {
  return command.optsWithGlobals<GlobalOptions>().json === true;
}

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** REF and `--platform` as the commands that resolve an image take them. */
export interface ImageArguments {
  ref: Reference;
  /** The tag or digest to ask the registry for. */
  target: string;
  /** Options for `Repository.resolve`: the platform, when one was asked. */
  resolve: { platform?: Platform };
}

export function imageArguments(refText: string, platformText?: string): ImageArguments {
  const ref = cliReference(refText);
  const platform = platformText ? parsePlatform(platformText) : undefined;
  return { ref, target: referenceTarget(ref), resolve: platform ? { platform } : {} };
}

/** Runs `fn` with the repository a reference names, closing the client afterwards. */
export function withRepository<T>(
  options: GlobalOptions,
  ref: Reference,
  fn: (repo: Repository) => Promise<T>,
): Promise<T> {
  return withRegistry(options, (registry) => fn(registry.repository(ref.registry, ref.repository)));
}

/** The digest a reference points at: its own digest, or the tag resolved with a HEAD. */
export async function pinnedDigest(repo: Repository, ref: Reference): Promise<Digest> {
  return ref.digest ?? (await repo.manifests.head(referenceTarget(ref))).digest;
}

/** An image as the read commands see it, wherever it lives. */
export interface OpenedImage {
  /** `registry/repository`, or the local location. */
  name: string;
  descriptor: Descriptor;
  manifest: ParsedManifest;
  readBlob(descriptor: Descriptor): Promise<NodeJS.ReadableStream>;
}

/**
 * Resolves REF (one platform's manifest with `--platform`) in a registry or in
 * any location copy takes (`oci:`, `oci-archive:`, `docker-archive:`), so the
 * read commands take every location the copy commands take.
 */
export async function openImage<T>(
  globals: GlobalOptions,
  refText: string,
  platformText: string | undefined,
  fn: (image: OpenedImage) => Promise<T>,
): Promise<T> {
  if (isLocalLocation(refText)) {
    const { resolveLocal } = await import("../store/location.js");
    const local = await resolveLocal(refText, platformText ? parsePlatform(platformText) : undefined);
    return fn({ ...local, name: local.store.name });
  }
  const { ref, target, resolve } = imageArguments(refText, platformText);
  return withRepository(globals, ref, async (repo) => {
    const { manifest, descriptor } = await repo.resolve(target, resolve);
    return fn({
      name: `${ref.registry}/${ref.repository}`,
      descriptor,
      manifest,
      readBlob: async (blob) => (await repo.blobs.fetch(blob.digest, { size: blob.size })).stream,
    });
  });
}
