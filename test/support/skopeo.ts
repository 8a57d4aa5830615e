/** skopeo as an interop peer: typed wrappers with timeouts, plain HTTP for our loopback registries. */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";

const TIMEOUT_MS = 120_000;
/** skopeo turns later copies into mounts using this cache; tests that care start cold. */
export const SKOPEO_BLOB_CACHE = "/var/lib/containers/cache/blob-info-cache-v1.boltdb";

function skopeo(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "skopeo",
      args,
      { encoding: "buffer", timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`skopeo ${args.join(" ")} failed: ${stderr.toString().trim() || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

export async function skopeoCopy(src: string, dst: string, extraArgs: string[] = []): Promise<void> {
  await rm(SKOPEO_BLOB_CACHE, { force: true });
  await skopeo([
    "copy",
    "--quiet",
    "--src-tls-verify=false",
    "--dest-tls-verify=false",
    ...extraArgs,
    src,
    dst,
  ]);
}

/** The exact manifest bytes skopeo reads for `ref`. */
export function skopeoInspectRaw(ref: string, extraArgs: string[] = []): Promise<Buffer> {
  return skopeo(["inspect", "--raw", "--tls-verify=false", ...extraArgs, ref]);
}
