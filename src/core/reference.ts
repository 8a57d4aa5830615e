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

// The distribution reference grammar (distribution/reference/regexp.go).
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6 = /^\[[0-9a-fA-F:.]+\]$/;
const MAX_NAME_LENGTH = 255;
const MAX_INPUT_LENGTH = 1024;

export function isValidTag(tag: string): boolean {
  return typeof tag === "string" && TAG.test(tag);
}

export function parseTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw new InvalidReferenceError(
      tag,
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

function isValidRegistryHost(host: string): boolean {
  const bracket = host.startsWith("[");
  const portAt = bracket ? host.indexOf("]:") + 1 : host.lastIndexOf(":");
  const name = portAt > 0 ? host.slice(0, portAt) : host;
  const port = portAt > 0 ? host.slice(portAt + 1) : undefined;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return false;
  if (IPV6.test(name)) return true;
  return name.length > 0 && name.length <= 253 && name.split(".").every((c) => DOMAIN_COMPONENT.test(c));
}

/**
 * Docker's rule: the first path component is a registry when it contains a
 * `.` or `:`, is `localhost`, or has uppercase letters (which a repository
 * path cannot).
 */
function splitRegistry(name: string, defaultRegistry: string): { registry: string; path: string } {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  if (
    slash < 0 ||
    !(/[.:]/.test(first) || first === "localhost" || first.startsWith("[") || first !== first.toLowerCase())
  ) {
    return { registry: defaultRegistry, path: name };
  }
  return { registry: first, path: name.slice(slash + 1) };
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
  if (repository !== repository.toLowerCase()) {
    throw new InvalidReferenceError(input, "repository name must be lowercase");
  }
  const components = repository.split("/");
  for (const component of components) {
    if (component.length === 0) throw new InvalidReferenceError(input, "empty path component");
    if (!PATH_COMPONENT.test(component)) {
      throw new InvalidReferenceError(
        input,
        `invalid path component ${JSON.stringify(component.slice(0, 64))}`,
      );
    }
  }
  if (registry === DOCKER_HUB && components.length === 1) repository = `${OFFICIAL_NAMESPACE}/${repository}`;
  if (repository.length > MAX_NAME_LENGTH) {
    throw new InvalidReferenceError(input, `repository name longer than ${MAX_NAME_LENGTH} characters`);
  }
  return { registry, repository };
}

function checkInput(input: string): void {
  if (typeof input !== "string") throw new InvalidReferenceError(String(input), "not a string");
  if (input.length === 0) throw new InvalidReferenceError(input, "empty");
  if (input.length > MAX_INPUT_LENGTH) throw new InvalidReferenceError(input, "too long");
  if (/[\s\u0000-\u001f\u007f]/.test(input))
    throw new InvalidReferenceError(input, "contains whitespace or control characters");
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
    if (!isValidTag(tag))
      throw new InvalidReferenceError(
        input,
        "invalid tag (1-128 of [A-Za-z0-9_.-], not starting with . or -)",
      );
  }
  const { registry, repository } = parseName(input, rest, defaultRegistry);
  if (tag === undefined && digest === undefined && options.defaultTag !== false)
    tag = options.defaultTag ?? "latest";
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

export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** Docker's short form: `alpine:3.20`, `user/app:v1` on Docker Hub; the full form elsewhere. */
export function familiarReference(ref: Reference): string {
  if (ref.registry !== DOCKER_HUB) return formatReference(ref);
  const name =
    ref.repository.startsWith(`${OFFICIAL_NAMESPACE}/`) && ref.repository.split("/").length === 2
      ? ref.repository.slice(OFFICIAL_NAMESPACE.length + 1)
      : ref.repository;
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The host that serves a registry's API: Docker Hub's lives at registry-1.docker.io. */
export function registryEndpoint(registry: string): string {
  return DOCKER_HUB_ALIASES.has(registry.toLowerCase()) ? DOCKER_HUB_ENDPOINT : registry;
}

export function withTag(ref: Reference, tag: string): Reference {
  return { registry: ref.registry, repository: ref.repository, tag: parseTag(tag) };
}

export function withDigest(ref: Reference, digest: Digest): Reference {
  return {
    registry: ref.registry,
    repository: ref.repository,
    ...(ref.tag !== undefined ? { tag: ref.tag } : {}),
    digest,
  };
}

/** What goes in `/manifests/<target>`: the digest when pinned, else the tag. */
export function referenceTarget(ref: Reference): string {
  if (ref.digest) return ref.digest;
  if (ref.tag !== undefined) return ref.tag;
  throw new InvalidReferenceError(formatReference(ref), "needs a tag or a digest");
}
