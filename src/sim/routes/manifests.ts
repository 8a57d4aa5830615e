import type { Context, Hono } from "hono";
import { type Digest, digestAlgorithm, digestOf, isDigest } from "../../core/digest.js";
import { isRegkitError } from "../../core/errors.js";
import { artifactTypeOf, MAX_MANIFEST_BYTES, manifestChildren, parseManifest } from "../../core/manifest.js";
import { baseMediaType } from "../../core/mediaTypes.js";
import { isValidTag } from "../../core/reference.js";
import { ociError, repositoryParam, type SimContext } from "../context.js";
import { readBody } from "../requestBody.js";
import type { StoredManifest } from "../storage.js";

const PATH = "/v2/:name{.+}/manifests/:reference";

export function mountManifests(app: Hono, sim: SimContext): void {
  app.on(["GET", "HEAD"], PATH, async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const reference = c.req.param("reference");
    const found = await lookup(sim, name, reference);
    if (!found) {
      const known = await sim.storage.hasRepository(name);
      return known
        ? ociError(c, 404, "MANIFEST_UNKNOWN", "manifest unknown", { reference })
        : ociError(c, 404, "NAME_UNKNOWN", "repository name not known to registry", { name });
    }
    const headers = {
      "content-type": found.mediaType,
      "docker-content-digest": found.digest,
      "content-length": String(found.bytes.byteLength),
      etag: `"${found.digest}"`,
    };
    if (c.req.method === "HEAD") return c.body(null, 200, headers);
    return c.body(new Uint8Array(found.bytes), 200, headers);
  });

  app.put(PATH, async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const reference = c.req.param("reference");
    const byDigest = isDigest(reference);
    if (!byDigest && !isValidTag(reference))
      return ociError(c, 400, "TAG_INVALID", "invalid tag", { tag: reference });
    const chunks: Buffer[] = [];
    const body = await readBody(c, async (chunk) => void chunks.push(chunk), MAX_MANIFEST_BYTES);
    if (!body) return ociError(c, 400, "MANIFEST_INVALID", "manifest body incomplete");
    if (body.overflow)
      return ociError(c, 413, "SIZE_INVALID", `manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
    const bytes = Buffer.concat(chunks);
    const contentType = baseMediaType(c.req.header("content-type"));
    let stored: StoredManifest;
    try {
      stored = describe(bytes, contentType, byDigest ? digestAlgorithm(reference) : "sha256");
    } catch (error) {
      const message = isRegkitError(error) ? error.message : "invalid manifest";
      return ociError(c, 400, "MANIFEST_INVALID", message);
    }
    if (byDigest && stored.digest !== reference) {
      return ociError(c, 400, "DIGEST_INVALID", "manifest digest does not match the reference", {
        digest: stored.digest,
      });
    }
    const missing = await firstMissing(sim, name, stored);
    if (missing) return missing(c);
    await sim.storage.putManifest(name, stored);
    if (!byDigest) await sim.storage.setTag(name, reference, stored.digest);
    return c.body(null, 201, {
      location: `/v2/${name}/manifests/${stored.digest}`,
      "docker-content-digest": stored.digest,
      ...(stored.subject ? { "oci-subject": stored.subject } : {}),
    });
  });

  app.delete(PATH, async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const reference = c.req.param("reference");
    const deleted = isDigest(reference)
      ? await sim.storage.deleteManifest(name, reference)
      : await sim.storage.deleteTag(name, reference);
    if (!deleted) return ociError(c, 404, "MANIFEST_UNKNOWN", "manifest unknown", { reference });
    return c.body(null, 202);
  });
}

async function lookup(sim: SimContext, name: string, reference: string): Promise<StoredManifest | undefined> {
  const digest: Digest | undefined = isDigest(reference)
    ? reference
    : await sim.storage.resolveTag(name, reference);
  return digest ? sim.storage.getManifest(name, digest) : undefined;
}

function describe(
  bytes: Buffer,
  contentType: string | undefined,
  algorithm: "sha256" | "sha512",
): StoredManifest {
  const parsed = parseManifest(bytes, contentType);
  const artifactType = artifactTypeOf(parsed);
  const { subject, annotations } = parsed.manifest;
  return {
    digest: digestOf(bytes, algorithm),
    kind: parsed.kind,
    // Content-Type is what the client declared; it is what we serve back.
    mediaType: contentType ?? parsed.mediaType,
    bytes,
    references: manifestChildren(parsed).map((d) => d.digest),
    ...(subject ? { subject: subject.digest } : {}),
    ...(artifactType ? { artifactType } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

/** Like distribution: an image's blobs and an index's manifests must already be in the repository. */
async function firstMissing(sim: SimContext, name: string, manifest: StoredManifest) {
  for (const digest of manifest.references) {
    if (manifest.kind === "index") {
      if (!(await sim.storage.getManifest(name, digest))) {
        return (c: Context) =>
          ociError(c, 400, "MANIFEST_UNKNOWN", "index references an unknown manifest", { digest });
      }
    } else if ((await sim.storage.blobSize(name, digest)) === undefined) {
      return (c: Context) =>
        ociError(c, 400, "MANIFEST_BLOB_UNKNOWN", "manifest references an unknown blob", { digest });
    }
  }
  return undefined;
}
