/**
 * `npm run bench`: regkit against skopeo on the same local CNCF distribution
 * registry, interleaved in one run, reported as ratios (regkit / skopeo; below
 * 1 means regkit is faster). A measurement, never a pass/fail test.
 *
 * Work measured (the foundation's operations; copy/pull/push commands come
 * with the copy engine): push of a 4 × 64 MiB gzip-layer image from an OCI
 * layout, pull of its blobs to disk, and `digest` vs `skopeo inspect --raw`
 * as whole commands including Node's start-up. One row compares regkit with
 * itself: the same pull with the full middleware chain and with a bare
 * transport (its "skopeo" column is the bare pull).
 */
import { execFile } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { digestHex } from "../src/core/digest.js";
import { Registry } from "../src/registry/registry.js";
import { generateImage, writeOciLayout } from "../src/sim/images.js";
import { createTransport } from "../src/transport/index.js";
import { startDistribution } from "../test/support/distribution.js";

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LAYER_MIB = Number(process.env.BENCH_LAYER_MIB ?? 64);
const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const SKOPEO_CACHE = "/var/lib/containers/cache/blob-info-cache-v1.boltdb";

interface Sample {
  wallMs: number;
  cpuMs: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

/** Child-process CPU is not in our cpuUsage; time external commands by wall clock only. */
async function command(file: string, args: string[]): Promise<void> {
  await run(file, args, { maxBuffer: 64 * 1024 * 1024 });
}

async function skopeo(args: string[]): Promise<void> {
  await rm(SKOPEO_CACHE, { force: true });
  await command("skopeo", args);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const work = await mkdtemp(join(tmpdir(), "regkit-bench-"));
const distribution = await startDistribution();
const registry = new Registry();
const bareTransport = createTransport();
const bareRegistry = new Registry({ transport: bareTransport });

/** Pulls an image's blobs into DIR/blobs/sha256 (temp file + rename, verified), four at a time. */
async function pullTo(client: Registry, repository: string, out: string): Promise<void> {
  const repo = client.repository(distribution.host, repository);
  const dir = join(out, "blobs", "sha256");
  await mkdir(dir, { recursive: true });
  const manifest = await repo.manifests.get("v1");
  if (manifest.kind !== "image") throw new Error("expected an image");
  await writeFile(join(dir, digestHex(manifest.digest)), manifest.bytes);
  await Promise.all(
    [manifest.manifest.config, ...manifest.manifest.layers].map(async (d) => {
      const fetched = await repo.blobs.fetch(d.digest, { size: d.size });
      const final = join(dir, digestHex(d.digest));
      await pipeline(fetched.stream, createWriteStream(`${final}.part`));
      await rename(`${final}.part`, final);
    }),
  );
}

try {
  process.stderr.write(`generating a 4 × ${LAYER_MIB} MiB image…\n`);
  const image = await generateImage({ seed: "bench", layers: 4, layerSize: LAYER_MIB * 1024 * 1024 });
  const layout = join(work, "layout");
  await writeOciLayout(layout, image, "v1");
  const totalBytes = [image.config, ...image.layers].reduce((sum, b) => sum + b.size, 0);
  const blobPath = (digest: string) => join(layout, "blobs", "sha256", digestHex(digest as never));

  const results: Record<string, { skopeo: number[]; regkit: number[]; regkitCpu: number[] }> = {
    "push (OCI layout → registry)": { skopeo: [], regkit: [], regkitCpu: [] },
    "pull (registry → files)": { skopeo: [], regkit: [], regkitCpu: [] },
    "digest (whole command)": { skopeo: [], regkit: [], regkitCpu: [] },
    "middleware chain: full vs bare (pull)": { skopeo: [], regkit: [], regkitCpu: [] },
  };
  const host = distribution.host;

  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
    const push = results["push (OCI layout → registry)"]!;
    push.skopeo.push(
      (
        await timed(() =>
          skopeo([
            "copy",
            "-q",
            "--dest-tls-verify=false",
            `oci:${layout}:v1`,
            `docker://${host}/bench/skopeo-${round}:v1`,
          ]),
        )
      ).wallMs,
    );
    const pushed = await timed(async () => {
      const repo = registry.repository(host, `bench/regkit-${round}`);
      await Promise.all(
        [image.config, ...image.layers].map((blob) =>
          repo.uploads.upload(() => createReadStream(blobPath(blob.digest), { highWaterMark: 1 << 20 }), {
            digest: blob.digest,
            size: blob.size,
          }),
        ),
      );
      await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    });
    push.regkit.push(pushed.wallMs);
    push.regkitCpu.push(pushed.cpuMs);

    const pull = results["pull (registry → files)"]!;
    pull.skopeo.push(
      (
        await timed(() =>
          skopeo([
            "copy",
            "-q",
            "--src-tls-verify=false",
            `docker://${host}/bench/skopeo-${round}:v1`,
            `oci:${join(work, `skopeo-pull-${round}`)}:v1`,
          ]),
        )
      ).wallMs,
    );
    const pulled = await timed(() =>
      pullTo(registry, `bench/regkit-${round}`, join(work, `regkit-pull-${round}`)),
    );
    pull.regkit.push(pulled.wallMs);
    pull.regkitCpu.push(pulled.cpuMs);
    // The same pull through a bare transport (no breaker, rate limits, retry, auth, tracing):
    // the cost of the middleware chain when nothing goes wrong.
    const chain = results["middleware chain: full vs bare (pull)"]!;
    chain.regkit.push(pulled.wallMs);
    chain.skopeo.push(
      (await timed(() => pullTo(bareRegistry, `bench/regkit-${round}`, join(work, `bare-pull-${round}`))))
        .wallMs,
    );

    const digest = results["digest (whole command)"]!;
    digest.skopeo.push(
      (
        await timed(() =>
          command("skopeo", [
            "inspect",
            "--raw",
            "--tls-verify=false",
            `docker://${host}/bench/skopeo-${round}:v1`,
          ]),
        )
      ).wallMs,
    );
    digest.regkit.push(
      (await timed(() => command(process.execPath, [CLI, "digest", `${host}/bench/regkit-${round}:v1`])))
        .wallMs,
    );
  }

  const rows = Object.entries(results).map(([work, r]) => ({
    work,
    skopeoMs: Math.round(median(r.skopeo)),
    regkitMs: Math.round(median(r.regkit)),
    ratio: Number((median(r.regkit) / median(r.skopeo)).toFixed(2)),
    regkitCpuMs: r.regkitCpu.length > 0 ? Math.round(median(r.regkitCpu)) : undefined,
    regkitMBps: work.startsWith("digest")
      ? undefined
      : Math.round(totalBytes / 1e6 / (median(r.regkit) / 1000)),
  }));
  console.table(rows);
  process.stdout.write(`${JSON.stringify({ rounds: ROUNDS, imageBytes: totalBytes, rows }, null, 2)}\n`);
} finally {
  await registry.close();
  await bareTransport.close();
  await distribution.stop();
  await rm(work, { recursive: true, force: true });
}
