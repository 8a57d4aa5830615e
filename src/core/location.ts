import { UsageError } from "./errors.js";
import { type ParseOptions, parseReference, parseRepository, type Reference } from "./reference.js";

/**
 * A registry reference as the CLI takes it: skopeo's `docker://` prefix is
 * accepted; another scheme gets a message naming the form expected.
 */
export function registryText(text: string): string {
  if (text.startsWith("docker://")) return text.slice("docker://".length);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme)
    throw new UsageError(
      `${JSON.stringify(text)}: a registry reference has no ${scheme[1]}:// scheme; write HOST/REPO[:TAG] (plain HTTP is used for loopback and --insecure-registry hosts)`,
    );
  return text;
}

export function cliReference(text: string, options?: ParseOptions): Reference {
  return parseReference(registryText(text), options);
}

export function cliRepository(text: string): { registry: string; repository: string } {
  return parseRepository(registryText(text));
}

/** `oci:`, `oci-archive:` and `docker-archive:` locations, which the read commands take too. */
export function isLocalLocation(text: string): boolean {
  return /^(oci|oci-archive|docker-archive):/.test(text);
}
