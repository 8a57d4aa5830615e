/**
 * Naming rules of the three big registries, stricter than the OCI grammar.
 * Checked before a request so a bad name is a clear local error rather than
 * a registry's NAME_INVALID, a 404 or a half-finished repository creation.
 */
import { InvalidInputError, truncate } from "./errors.js";
import { garLocation } from "./providers.js";
import { isValidRepository } from "./reference.js";

function invalid(what: string, value: string, reason: string): InvalidInputError {
  return new InvalidInputError(`invalid ${what} ${JSON.stringify(truncate(String(value), 80))}: ${reason}`, {
    code: "NAME_INVALID",
  });
}

function requireString(what: string, value: string): void {
  if (typeof value !== "string" || value.length === 0) throw invalid(what, String(value), "empty");
}

// Docker Hub (dockerhub-specification.md §4.1 "Repository Operations": /repositories/{namespace}/{repo}).
// A namespace is a Docker ID or an organization. Docker's account rules ("Create a
// Docker ID"): 4-30 characters, lowercase letters and digits only. The looser sketch
// in dockerhub-refinement.md §4.3 (2-255, hyphens) accepts names Hub refuses.
const HUB_NAMESPACE = /^[a-z0-9]{4,30}$/;
// Hub API reference, repo_creation_request.name: 2-255 characters, lowercase
// alphanumerics separated by single '.', '_' or '-'.
const HUB_REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function validateDockerHubNamespace(namespace: string): string {
  requireString("Docker Hub namespace", namespace);
  if (namespace.length < 4 || namespace.length > 30) {
    throw invalid("Docker Hub namespace", namespace, "must be 4-30 characters");
  }
  if (!HUB_NAMESPACE.test(namespace)) {
    throw invalid("Docker Hub namespace", namespace, "only lowercase letters and digits are allowed");
  }
  return namespace;
}

export function validateDockerHubRepositoryName(name: string): string {
  requireString("Docker Hub repository name", name);
  if (name.length < 2 || name.length > 255) {
    throw invalid("Docker Hub repository name", name, "must be 2-255 characters");
  }
  if (!HUB_REPOSITORY.test(name)) {
    throw invalid(
      "Docker Hub repository name",
      name,
      "lowercase letters and digits, separated by single '.', '_' or '-'",
    );
  }
  return name;
}

/** `namespace/name` as the Hub API addresses a repository (`library/alpine`, `user/app`). */
export function parseDockerHubRepository(repository: string): { namespace: string; name: string } {
  requireString("Docker Hub repository", repository);
  const parts = repository.split("/");
  if (parts.length !== 2) {
    throw invalid("Docker Hub repository", repository, "expected NAMESPACE/NAME (Hub has no nested names)");
  }
  const [namespace, name] = parts as [string, string];
  return { namespace: validateDockerHubNamespace(namespace), name: validateDockerHubRepositoryName(name) };
}

// GHCR (ghcr-specification.md §3.3 "Image Reference Format": ghcr.io/{owner}/{image}).
// The owner is a GitHub account: at most 39 letters, digits and hyphens, not starting
// or ending with a hyphen (GitHub's sign-up rule; consecutive hyphens are let through
// because older accounts have them). In an image name it must be lowercase, as all
// OCI names are; the image part follows the OCI path grammar and may be nested.
const GITHUB_OWNER = /^[a-z0-9](?:[a-z0-9-]{0,37}[a-z0-9])?$/;

export function validateGhcrImageName(name: string): string {
  requireString("GHCR image name", name);
  const slash = name.indexOf("/");
  if (slash < 0) throw invalid("GHCR image name", name, "expected OWNER/IMAGE");
  const owner = name.slice(0, slash);
  if (owner !== owner.toLowerCase()) {
    throw invalid("GHCR image name", name, "the owner must be written in lowercase");
  }
  if (!GITHUB_OWNER.test(owner)) {
    throw invalid(
      "GHCR image name",
      name,
      "the owner is 1-39 letters, digits or hyphens, not starting or ending with a hyphen",
    );
  }
  if (name !== name.toLowerCase()) throw invalid("GHCR image name", name, "must be lowercase");
  if (!isValidRepository(name)) {
    throw invalid("GHCR image name", name, "the image name breaks the OCI name grammar");
  }
  return name;
}

// Artifact Registry (gar-specification.md §4.2 "Docker Registry API" and §4.4
// "Regional Endpoints"): LOCATION-docker.pkg.dev/PROJECT-ID/REPOSITORY/IMAGE.
export interface GarHost {
  host: string;
  /** Region (`us-central1`) or multi-region (`us`, `europe`, `asia`). */
  location: string;
}

export function parseGarHost(host: string): GarHost {
  requireString("Artifact Registry host", host);
  const lower = host.toLowerCase();
  const location = garLocation(lower);
  if (location === undefined) {
    throw invalid("Artifact Registry host", host, "expected LOCATION-docker.pkg.dev");
  }
  return { host: lower, location };
}

export interface GarImagePath {
  /** The project ID; a domain-scoped one comes back as `example.com:project`. */
  project: string;
  repository: string;
  /** The image name inside the repository; may contain `/`. */
  image: string;
}

// Google Cloud project IDs: 6-30 lowercase letters, digits and hyphens, starting with
// a letter, not ending with a hyphen. A domain-scoped ID (`example.com:proj`) is
// written `example.com/proj` in Docker names, since `:` cannot appear there
// (Artifact Registry "Repository and image names", domain-scoped projects).
const GCP_PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;
// Repository IDs: lowercase letters, digits and hyphens, starting with a letter, not
// ending with a hyphen, at most 63 characters.
const GAR_REPOSITORY = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Splits and checks `PROJECT/REPOSITORY/IMAGE` (the repository path on a `*-docker.pkg.dev` host). */
export function validateGarImagePath(path: string): GarImagePath {
  requireString("Artifact Registry image path", path);
  if (path !== path.toLowerCase()) throw invalid("Artifact Registry image path", path, "must be lowercase");
  const parts = path.split("/");
  let project: string;
  let rest: string[];
  if (parts[0]?.includes(".")) {
    const [domain, id, ...tail] = parts as [string, string | undefined, ...string[]];
    if (!DOMAIN.test(domain) || id === undefined || !GCP_PROJECT.test(id)) {
      throw invalid("Artifact Registry image path", path, "bad domain-scoped project DOMAIN/PROJECT-ID");
    }
    project = `${domain}:${id}`;
    rest = tail;
  } else {
    const [id = "", ...tail] = parts;
    if (!GCP_PROJECT.test(id)) {
      throw invalid(
        "Artifact Registry image path",
        path,
        "the project ID is 6-30 lowercase letters, digits or hyphens, starting with a letter",
      );
    }
    project = id;
    rest = tail;
  }
  const [repository, ...image] = rest;
  if (repository === undefined || image.length === 0) {
    throw invalid("Artifact Registry image path", path, "expected PROJECT-ID/REPOSITORY/IMAGE");
  }
  if (!GAR_REPOSITORY.test(repository)) {
    throw invalid(
      "Artifact Registry image path",
      path,
      "the repository is up to 63 lowercase letters, digits or hyphens, starting with a letter",
    );
  }
  const imageName = image.join("/");
  if (!isValidRepository(imageName)) {
    throw invalid("Artifact Registry image path", path, "the image name breaks the OCI name grammar");
  }
  return { project, repository, image: imageName };
}
