import { isIPv6 } from "node:net";
import { type Digest, parseDigest } from "./digest.js";
import { InvalidReferenceError, isRegkitError } from "./errors.js";

/** Canonical registry name for Docker Hub in references. */
export const DOCKER_HUB = "docker.io";
/** Host that serves Docker Hub's registry API. */
export const DOCKER_HUB_ENDPOINT = "registry-1.docker.io";
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, "index.docker.io", DOCKER_HUB_ENDPOINT]);
const OFFICIAL_NAMESPACE = "library";

/** A normalized image reference. */
export interface Reference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export interface ParseOptions {
  /** Registry for names without one (default `docker.io`). */
  defaultRegistry?: string;
  /** Tag when neither tag nor digest is given (default `latest`); `false` keeps it unset. */
  defaultTag?: string | false;
}

// The distribution reference grammar (distribution/reference/regexp.go, OCI distribution spec "Pulling manifests").
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DOMAIN_COMPONENT = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const IPV6_CHARS = /^[0-9a-fA-F:.]+$/;
/** Docker's NameTotalLengthMax: the whole `registry/repository`, as the OCI spec notes clients limit it. */
const MAX_NAME_LENGTH = 255;
const MAX_INPUT_LENGTH = 1024;

export function isValidTag(tag: string): boolean {
  return typeof tag === "string" && TAG.test(tag);
}

export function parseTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw new InvalidReferenceError(
      String(tag),
      "a tag is 1-128 characters of letters, digits, '_', '.', '-', not starting with '.' or '-'",
    );
  }
  return tag;
}

/** A repository path (no registry): lowercase components joined by `/`, at most 255 characters. */
export function isValidRepository(name: string): boolean {
  return (
    typeof name === "string" &&
    name.length > 0 &&
    name.length <= MAX_NAME_LENGTH &&
    name.split("/").every((c) => PATH_COMPONENT.test(c))
  );
}

function isValidPort(port: string): boolean {
  return /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535;
}

/** `host[:port]` where host is a DNS name, an IPv4 address or a bracketed IPv6 address. */
function isValidRegistryHost(host: string): boolean {
  let name: string;
  let port: string | undefined;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close < 0) return false;
    name = host.slice(1, close);
    const rest = host.slice(close + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(":")) return false;
      port = rest.slice(1);
    }
    if (!IPV6_CHARS.test(name) || !isIPv6(name)) return false;
  } else {
    const colon = host.indexOf(":");
    name = colon >= 0 ? host.slice(0, colon) : host;
    port = colon >= 0 ? host.slice(colon + 1) : undefined;
    if (name.length === 0 || name.length > 253) return false;
    if (!name.split(".").every((c) => DOMAIN_COMPONENT.test(c))) return false;
  }
  return port === undefined || isValidPort(port);
}

/**
 * Docker's rule for telling a registry from a namespace: the first component
 * names a registry when it contains `.` or `:`, is `localhost`, or is a
 * bracketed IPv6 address. Docker also takes an uppercase first component for
 * a host; we do not, so `MyUser/app` reports "must be lowercase" instead of
 * failing later to resolve a host called `myuser`.
 */
function looksLikeRegistry(component: string): boolean {
  return /[.:]/.test(component) || component.toLowerCase() === "localhost" || component.startsWith("[");
}

function splitRegistry(name: string, defaultRegistry: string): { registry: string; path: string } {
  const slash = name.indexOf("/");
  if (slash < 0 || !looksLikeRegistry(name.slice(0, slash))) return { registry: defaultRegistry, path: name };
  return { registry: name.slice(0, slash), path: name.slice(slash + 1) };
}

function normalizeRegistry(registry: string): string {
  const lower = registry.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

function parseName(
  input: string,
  name: string,
  defaultRegistry: string,
): { registry: string; repository: string } {
  if (name.length === 0) throw new InvalidReferenceError(input, "repository name is empty");
  const split = splitRegistry(name, defaultRegistry);
  if (!isValidRegistryHost(split.registry)) throw new InvalidReferenceError(input, "invalid registry host");
  const registry = normalizeRegistry(split.registry);
  let repository = split.path;
  if (repository.length === 0) throw new InvalidReferenceError(input, "repository name is empty");
  const components = repository.split("/");
  // Structure first: `BAD//ref` is wrong for its empty component, whatever its case.
  for (const component of components) {
    if (component.length === 0) throw new InvalidReferenceError(input, "empty path component");
    if (!PATH_COMPONENT.test(component.toLowerCase())) {
      throw new InvalidReferenceError(
        input,
        `invalid path component ${JSON.stringify(component.slice(0, 64))}`,
      );
    }
  }
  if (repository !== repository.toLowerCase()) {
    throw new InvalidReferenceError(input, "repository name must be lowercase");
  }
  if (registry === DOCKER_HUB && components.length === 1) repository = `${OFFICIAL_NAMESPACE}/${repository}`;
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw new InvalidReferenceError(
      input,
      `repository name longer than ${MAX_NAME_LENGTH} characters (registry/repository)`,
    );
  }
  return { registry, repository };
}

function checkInput(input: string): void {
  if (typeof input !== "string") throw new InvalidReferenceError(String(input), "not a string");
  if (input.length === 0) throw new InvalidReferenceError(input, "empty");
  if (input.length > MAX_INPUT_LENGTH) throw new InvalidReferenceError(input, "too long");
  if (/[\s\u0000-\u001f\u007f]/.test(input)) {
    throw new InvalidReferenceError(input, "contains whitespace or control characters");
  }
}

/**
 * Parses and normalizes a Docker-style reference: `alpine` →
 * `docker.io/library/alpine:latest`, Docker Hub aliases → `docker.io`.
 * Throws InvalidReferenceError (never anything else) on bad input.
 */
export function parseReference(input: string, options: ParseOptions = {}): Reference {
  checkInput(input);
  const defaultRegistry = options.defaultRegistry ?? DOCKER_HUB;
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    try {
      digest = parseDigest(rest.slice(at + 1));
    } catch (error) {
      if (isRegkitError(error)) throw new InvalidReferenceError(input, `invalid digest: ${error.message}`);
      throw error;
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0 && colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) {
      throw new InvalidReferenceError(
        input,
        "invalid tag (1-128 of [A-Za-z0-9_.-], not starting with . or -)",
      );
    }
  }
  const { registry, repository } = parseName(input, rest, defaultRegistry);
  if (tag === undefined && digest === undefined && options.defaultTag !== false) {
    tag = parseTag(options.defaultTag ?? "latest");
  }
  return {
    registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** A repository without tag or digest, e.g. for `regkit ls`. */
export function parseRepository(
  input: string,
  options: { defaultRegistry?: string } = {},
): { registry: string; repository: string } {
  checkInput(input);
  if (input.includes("@") || input.lastIndexOf(":") > input.lastIndexOf("/")) {
    throw new InvalidReferenceError(input, "expected a repository without tag or digest");
  }
  return parseName(input, input, options.defaultRegistry ?? DOCKER_HUB);
}

function suffix(ref: Reference): string {
  return `${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/**
 * The full form, `registry/repository[:tag][@digest]`. It parses back to the
 * same reference whenever the registry is recognisable as one (has a `.` or
 * `:`, or is `localhost`), which every registry written in an input is.
 */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${suffix(ref)}`;
}

/**
 * Docker's short form: `alpine:3.20`, `user/app:v1` on Docker Hub; the full
 * form elsewhere, and also for Hub repositories whose first component would
 * read as a registry (`docker.io/localhost/x`), so the result parses back.
 */
export function familiarReference(ref: Reference): string {
  if (ref.registry !== DOCKER_HUB) return formatReference(ref);
  const components = ref.repository.split("/");
  if (components.length === 2 && components[0] === OFFICIAL_NAMESPACE)
    return `${components[1]}${suffix(ref)}`;
  if (components.length > 1 && looksLikeRegistry(components[0] ?? "")) return formatReference(ref);
  return `${ref.repository}${suffix(ref)}`;
}

/** The host that serves a registry's API: Docker Hub's lives at registry-1.docker.io. */
export function registryEndpoint(registry: string): string {
  return DOCKER_HUB_ALIASES.has(registry.toLowerCase()) ? DOCKER_HUB_ENDPOINT : registry;
}

/** The same repository at another tag; a digest is dropped so the tag is what the result targets. */
export function withTag(ref: Reference, tag: string): Reference {
  return { registry: ref.registry, repository: ref.repository, tag: parseTag(tag) };
}

/** The same repository pinned to a digest; the tag is kept for display. */
export function withDigest(ref: Reference, digest: Digest): Reference {
  let checked: Digest;
  try {
    checked = parseDigest(digest);
  } catch (error) {
    if (isRegkitError(error)) {
      throw new InvalidReferenceError(formatReference(ref), `invalid digest: ${error.message}`);
    }
    throw error;
  }
  return {
    registry: ref.registry,
    repository: ref.repository,
    ...(ref.tag !== undefined ? { tag: ref.tag } : {}),
    digest: checked,
  };
}

/** What goes in `/manifests/<target>`: the digest when pinned, else the tag. */
export function referenceTarget(ref: Reference): string {
  if (ref.digest) return ref.digest;
  if (ref.tag !== undefined) return ref.tag;
  throw new InvalidReferenceError(formatReference(ref), "needs a tag or a digest");
}
