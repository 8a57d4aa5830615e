/** Attaches an artifact (signature, SBOM, scan result) to an image, as cosign, oras or Trivy do. */
import { createHash } from "node:crypto";
import type { Digest } from "../../src/core/digest.js";
import { MediaType } from "../../src/core/mediaTypes.js";
import type { Repository } from "../../src/registry/repository.js";

const sha = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}` as Digest;

/**
 * Pushes an OCI artifact manifest whose one layer is `payload`: with a
 * `subject` (found through the referrers API), or under `tag` (cosign's
 * `sha256-<hex>.sig|.att` schema) when one is given. Answers its digest.
 */
export async function attach(
  repo: Repository,
  options: {
    subject?: { digest: Digest; mediaType: string; size: number };
    tag?: string;
    artifactType: string;
    layerMediaType: string;
    payload: unknown;
  },
): Promise<Digest> {
  const layer = Buffer.from(
    typeof options.payload === "string" ? options.payload : JSON.stringify(options.payload),
  );
  const config = Buffer.from("{}");
  for (const bytes of [config, layer])
    await repo.uploads.upload(bytes, { digest: sha(bytes), size: bytes.length });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: options.artifactType,
      config: { mediaType: MediaType.OciEmpty, digest: sha(config), size: config.length },
      layers: [{ mediaType: options.layerMediaType, digest: sha(layer), size: layer.length }],
      ...(options.subject ? { subject: options.subject } : {}),
    }),
  );
  const digest = sha(manifest);
  await repo.pushManifest(options.tag ?? digest, manifest, MediaType.OciManifest);
  return digest;
}

/** A DSSE envelope around an in-toto statement, as cosign attest writes it. */
export function dsse(statement: unknown): unknown {
  return {
    payloadType: "application/vnd.in-toto+json",
    payload: Buffer.from(JSON.stringify(statement)).toString("base64"),
    signatures: [{ keyid: "", sig: "MEUCIQ==" }],
  };
}
