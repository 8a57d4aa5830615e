import type { Digest } from "../../core/digest.js";
import { InvalidReferenceError, UsageError } from "../../core/errors.js";
import { garLocation } from "../../core/providers.js";
import { parseReference } from "../../core/reference.js";
import { checkLocation } from "./locations.js";

/** An Artifact Registry repository: `LOCATION-docker.pkg.dev/PROJECT/REPO`. */
export interface GarRepository {
  project: string;
  location: string;
  repository: string;
}

/** A Docker image in Artifact Registry: `LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE[:TAG|@DIGEST]`. */
export interface GarImage extends GarRepository {
  /** The image path inside the repository (the REST API's package id), may contain `/`. */
  image: string;
  tag?: string;
  digest?: Digest;
}

const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.-]+:[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const REPOSITORY = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/** The Docker host of a location: `LOCATION-docker.pkg.dev`. */
export function dockerHost(location: string): string {
  return `${location}-docker.pkg.dev`;
}

/** `projects/P/locations/L/repositories/R`, the REST API's resource name. */
export function repositoryName(r: GarRepository): string {
  return `projects/${r.project}/locations/${r.location}/repositories/${r.repository}`;
}

/** A package's resource name; `/` in an image path is `%2F` in Artifact Registry's ids. */
export function packageName(image: GarRepository & { image: string }): string {
  return `${repositoryName(image)}/packages/${encodeURIComponent(image.image)}`;
}

/** The Docker reference of an image version, as Container Analysis names its resource. */
export function imageUrl(image: GarRepository & { image: string }, digest: Digest): string {
  return `https://${dockerHost(image.location)}/${image.project}/${image.repository}/${image.image}@${digest}`;
}

function checkParts(project: string, repository: string, text: string): void {
  if (!PROJECT.test(project))
    throw new InvalidReferenceError(text, `invalid Google Cloud project id ${JSON.stringify(project)}`);
  if (!REPOSITORY.test(repository) || repository.length > 63)
    throw new InvalidReferenceError(text, `invalid repository id ${JSON.stringify(repository)}`);
}

/** Parses `LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE[:TAG|@DIGEST]` (no tag means none, not `latest`). */
export function parseGarImage(text: string): GarImage {
  const ref = parseReference(text, { defaultTag: false });
  const location = garLocation(ref.registry);
  if (location === undefined)
    throw new InvalidReferenceError(text, "not an Artifact Registry image (LOCATION-docker.pkg.dev/…)");
  const [project, repository, ...rest] = ref.repository.split("/");
  if (!project || !repository || rest.length === 0)
    throw new InvalidReferenceError(text, "expected LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE");
  checkParts(project, repository, text);
  return {
    project,
    location: checkLocation(location),
    repository,
    image: rest.join("/"),
    ...(ref.tag ? { tag: ref.tag } : {}),
    ...(ref.digest ? { digest: ref.digest } : {}),
  };
}

/**
 * A repository as `LOCATION-docker.pkg.dev/PROJECT/REPO`, or a bare REPO id
 * with `--project` and `--location`.
 */
export function parseGarRepository(
  text: string,
  options: { project?: string; location?: string } = {},
): GarRepository {
  if (!text.includes("/")) {
    if (!options.project || !options.location)
      throw new UsageError(
        `${text}: name the repository as LOCATION-docker.pkg.dev/PROJECT/REPO, or give --project and --location`,
      );
    checkParts(options.project, text, text);
    return { project: options.project, location: checkLocation(options.location), repository: text };
  }
  const [host, project, repository, ...rest] = text.split("/");
  const location = garLocation(host ?? "");
  if (location === undefined || !project || !repository || rest.length > 0)
    throw new InvalidReferenceError(text, "expected LOCATION-docker.pkg.dev/PROJECT/REPO");
  checkParts(project, repository, text);
  return { project, location: checkLocation(location), repository };
}
