import { gzipSync } from "node:zlib";
import { type Digest, digestOf } from "../core/digest.js";
import { MediaType } from "../core/mediaTypes.js";
import type { RegistryStorage } from "./storage.js";

/** Where hostile mode's `gzip-bomb` puts its image. */
export const GZIP_BOMB_REFERENCE = { repository: "hostile/bomb", tag: "v1" } as const;

const MEMBER_BYTES = 16 * 1024 * 1024;

/**
 * A gzip stream of `members` identical members of 16 MiB of zeros each (gzip
 * allows concatenated members): about 16 KiB per member that gunzips to
 * 16 MiB, so 128 members are 2 MiB that inflate to 2 GiB.
 */
export function gzipBomb(members: number): Buffer {
  const member = gzipSync(Buffer.alloc(MEMBER_BYTES), { level: 9 });
  return Buffer.concat(Array.from({ length: members }, () => member));
}

/** The bytes of an image whose one layer is `layer`: config, layer and manifest, as blobs. */
export function imageWithLayer(layer: Buffer): {
  config: { digest: Digest; bytes: Buffer };
  layer: { digest: Digest; bytes: Buffer };
  manifest: { digest: Digest; bytes: Buffer; mediaType: string };
} {
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [digestOf("not the real diff id")] },
    }),
  );
  const descriptor = (mediaType: string, bytes: Buffer) => ({
    mediaType,
    digest: digestOf(bytes),
    size: bytes.byteLength,
  });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: descriptor(MediaType.OciConfig, config),
      layers: [descriptor(MediaType.OciLayerGzip, layer)],
    }),
  );
  return {
    config: { digest: digestOf(config), bytes: config },
    layer: { digest: digestOf(layer), bytes: layer },
    manifest: { digest: digestOf(manifest), bytes: manifest, mediaType: MediaType.OciManifest },
  };
}

/** Stores `hostile/bomb:v1`, an image whose layer is a 2 MiB gzip bomb (2 GiB inflated). */
export async function storeGzipBomb(storage: RegistryStorage): Promise<void> {
  const { repository, tag } = GZIP_BOMB_REFERENCE;
  const image = imageWithLayer(gzipBomb(128));
  for (const blob of [image.config, image.layer]) {
    const upload = await storage.createUpload(repository, 60 * 60 * 1000);
    await storage.appendUpload(upload.id, blob.bytes);
    await storage.completeUpload(upload.id, blob.digest);
  }
  await storage.putManifest(repository, {
    digest: image.manifest.digest,
    mediaType: image.manifest.mediaType,
    kind: "image",
    bytes: image.manifest.bytes,
    references: [image.config.digest, image.layer.digest],
  });
  await storage.setTag(repository, tag, image.manifest.digest);
}
