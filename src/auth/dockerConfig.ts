import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { ConfigurationError } from "../core/errors.js";
import { SecretString } from "../core/secret.js";
import { CredentialHelper } from "./credentialHelper.js";
import {
  type Credential,
  type CredentialProvider,
  DOCKER_HUB_CONFIG_KEY,
  dockerConfigPath,
  normalizeRegistryKey,
  type ResolvedCredential,
} from "./credentials.js";

const configSchema = z.looseObject({
  auths: z
    .record(z.string(), z.looseObject({ auth: z.string().optional(), identitytoken: z.string().optional() }))
    .optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
  credsStore: z.string().optional(),
});
type DockerConfigFile = z.infer<typeof configSchema>;

export { dockerConfigPath };

/** The key Docker uses for a registry in `auths`/`credHelpers`, and the server URL helpers get. */
function serverKey(registry: string): string {
  const key = normalizeRegistryKey(registry);
  return key === DOCKER_HUB_CONFIG_KEY ? DOCKER_HUB_CONFIG_KEY : key;
}

/**
 * Docker's config file: reads `auths` (base64 `auth` or `identitytoken`),
 * `credHelpers` per registry and `credsStore` for all; writes logins the
 * way Docker does (through the helper when one is configured, else base64
 * in the file with mode 0600).
 */
export class DockerConfig implements CredentialProvider {
  readonly name = "docker config";
  readonly path: string;

  constructor(path = dockerConfigPath()) {
    this.path = path;
  }

  async #load(): Promise<DockerConfigFile> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw new ConfigurationError(`cannot read ${this.path}: ${(error as Error).message}`);
    }
    try {
      return configSchema.parse(JSON.parse(text));
    } catch {
      throw new ConfigurationError(`${this.path} is not a valid Docker config file`);
    }
  }

  /** The helper responsible for a registry, if any. */
  async helperFor(registry: string): Promise<string | undefined> {
    const config = await this.#load();
    const key = serverKey(registry);
    const helpers = Object.entries(config.credHelpers ?? {});
    return helpers.find(([host]) => normalizeRegistryKey(host) === key)?.[1] ?? config.credsStore;
  }

  async resolve({ registry }: { registry: string }): Promise<ResolvedCredential | undefined> {
    const config = await this.#load();
    const key = serverKey(registry);
    const perRegistry = Object.entries(config.credHelpers ?? {}).find(
      ([host]) => normalizeRegistryKey(host) === key,
    )?.[1];
    for (const helper of [perRegistry, config.credsStore]) {
      if (!helper) continue;
      const credential = await new CredentialHelper(helper).get(key);
      if (credential) return { credential, source: `credential helper docker-credential-${helper}` };
    }
    const entry = Object.entries(config.auths ?? {}).find(
      ([host]) => normalizeRegistryKey(host) === key,
    )?.[1];
    if (!entry) return undefined;
    if (entry.identitytoken) {
      return {
        credential: { kind: "identity-token", token: new SecretString(entry.identitytoken) },
        source: `docker config ${this.path}`,
      };
    }
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0)
        throw new ConfigurationError(`${this.path}: the auth entry for ${key} is not base64 user:password`);
      return {
        credential: {
          kind: "basic",
          username: decoded.slice(0, colon),
          password: new SecretString(decoded.slice(colon + 1)),
        },
        source: `docker config ${this.path}`,
      };
    }
    return undefined;
  }

  /** Stores a login; returns where it went. */
  async store(registry: string, credential: Credential): Promise<string> {
    const key = serverKey(registry);
    const helper = await this.helperFor(registry);
    if (helper) {
      await new CredentialHelper(helper).store(key, credential);
      // Docker keeps an empty auths entry so that `docker` lists the login.
      await this.#update((config) => ({ ...config, auths: { ...config.auths, [key]: {} } }));
      return `credential helper docker-credential-${helper}`;
    }
    const entry =
      credential.kind === "basic"
        ? { auth: Buffer.from(`${credential.username}:${credential.password.reveal()}`).toString("base64") }
        : { identitytoken: credential.token.reveal() };
    await this.#update((config) => ({
      ...config,
      auths: { ...withoutKey(config.auths, key), [key]: entry },
    }));
    return this.path;
  }

  /** Removes a login; true when there was one. */
  async erase(registry: string): Promise<boolean> {
    const key = serverKey(registry);
    const helper = await this.helperFor(registry);
    if (helper) await new CredentialHelper(helper).erase(key);
    let found = helper !== undefined;
    await this.#update((config) => {
      const auths = withoutKey(config.auths, key);
      found ||= Object.keys(auths).length !== Object.keys(config.auths ?? {}).length;
      return { ...config, auths };
    });
    return found;
  }

  /** Read-modify-write through a temp file and rename, with mode 0600: the file holds secrets. */
  async #update(change: (config: DockerConfigFile) => DockerConfigFile): Promise<void> {
    const next = change(await this.#load());
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(temp, `${JSON.stringify(next, null, "\t")}\n`, { mode: 0o600 });
      await chmod(temp, 0o600);
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw new ConfigurationError(`cannot write ${this.path}: ${(error as Error).message}`);
    }
  }
}

function withoutKey<T>(record: Record<string, T> | undefined, key: string): Record<string, T> {
  return Object.fromEntries(
    Object.entries(record ?? {}).filter(([host]) => normalizeRegistryKey(host) !== key),
  );
}
