/**
 * `npm run bench`: regkit against skopeo on the same work, interleaved in
 * one run, on two local CNCF distribution registries, reported as ratios
 * (regkit / skopeo; below 1 means regkit is faster). A measurement, never a
 * pass/fail test. skopeo's blob-info cache is removed before each of its
 * runs so both start cold.
 *
 * Work: registry → registry copy of a 4 × 64 MiB gzip-layer image and of a
 * two-platform index, pull to an OCI layout, push from an OCI layout, and
 * `digest` vs `skopeo inspect --raw` as whole commands including start-up.
 * One row compares regkit with itself: the same pull through the full
 * middleware chain and through a bare transport (its "skopeo" column).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { copy } from "../src/copy/copy.js";
import { Registry } from "../src/registry/registry.js";
import { generateImage, generateIndex, writeOciLayout } from "../src/sim/images.js";
import { OciLayoutStore } from "../src/store/ociLayoutStore.js";
import { RemoteStore } from "../src/store/remoteStore.js";
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

async function skopeo(args: string[]): Promise<void> {
  await rm(SKOPEO_CACHE, { force: true });
  await run("skopeo", args, { maxBuffer: 64 * 1024 * 1024 });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const work = await mkdtemp(join(tmpdir(), "regkit-bench-"));
const a = await startDistribution({ accessLog: true });
const b = await startDistribution({ accessLog: true });
const served = () => a.requests() + b.requests();

/** Runs `fn`, timed, and counts the requests both registries logged for it. */
async function counted(fn: () => Promise<unknown>): Promise<Sample & { requests: number }> {
  const before = served();
  const sample = await timed(fn);
  await new Promise((resolve) => setTimeout(resolve, 100)); // access-log lines trail the responses
  return { ...sample, requests: served() - before };
}
const registry = new Registry({ credentials: false });
const bareTransport = createTransport();
const bare = new Registry({ transport: bareTransport });
const remote = (client: Registry, host: string, name: string) =>
  new RemoteStore(client.repository(host, name));

try {
  process.stderr.write(`generating a 4 × ${LAYER_MIB} MiB image and a two-platform index…\n`);
  const image = await generateImage({ seed: "bench", layers: 4, layerSize: LAYER_MIB * 1024 * 1024 });
  const index = await generateIndex({
    seed: "bench-index",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 1 << 20,
  });
  const layout = join(work, "layout");
  await writeOciLayout(layout, image, "v1");
  await writeOciLayout(join(work, "index-layout"), index, "v1");
  const totalBytes = [image.config, ...image.layers].reduce((sum, blob) => sum + blob.size, 0);
  // The source images live in registry A; every round copies them to fresh repositories.
  await copy(new OciLayoutStore(layout), "v1", remote(registry, a.host, "bench/image"), "v1");
  await copy(
    new OciLayoutStore(join(work, "index-layout")),
    "v1",
    remote(registry, a.host, "bench/index"),
    "v1",
  );

  type Row = {
    skopeo: number[];
    regkit: number[];
    cpu: number[];
    skopeoReq: number[];
    regkitReq: number[];
    bytes?: number;
  };
  const row = (bytes?: number): Row => ({
    skopeo: [],
    regkit: [],
    cpu: [],
    skopeoReq: [],
    regkitReq: [],
    ...(bytes ? { bytes } : {}),
  });
  const rows: Record<string, Row> = {
    "copy registry → registry (4 × 64 MiB)": row(totalBytes),
    "copy index registry → registry": row(),
    "pull registry → OCI layout": row(totalBytes),
    "pull, as commands (regkit pull vs skopeo copy)": row(totalBytes),
    "push OCI layout → registry": row(totalBytes),
    "digest (whole command)": row(),
    "middleware chain: full vs bare (pull)": row(),
  };
  const record = (
    name: string,
    skopeoRun: Sample & { requests?: number },
    regkit: Sample & { requests?: number },
  ) => {
    const r = rows[name]!;
    r.skopeo.push(skopeoRun.wallMs);
    r.regkit.push(regkit.wallMs);
    r.cpu.push(regkit.cpuMs);
    if (skopeoRun.requests !== undefined) r.skopeoReq.push(skopeoRun.requests);
    if (regkit.requests !== undefined) r.regkitReq.push(regkit.requests);
  };
  const flags = ["--src-tls-verify=false", "--dest-tls-verify=false"];

  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
    const r = `r${round}`;
    const src = (name: string) => remote(registry, a.host, name);
    record(
      "copy registry → registry (4 × 64 MiB)",
      await counted(() =>
        skopeo([
          "copy",
          "-q",
          ...flags,
          `docker://${a.host}/bench/image:v1`,
          `docker://${b.host}/skopeo-${r}/image:v1`,
        ]),
      ),
      await counted(() =>
        copy(src("bench/image"), "v1", remote(registry, b.host, `regkit-${r}/image`), "v1"),
      ),
    );
    record(
      "copy index registry → registry",
      await counted(() =>
        skopeo([
          "copy",
          "-q",
          "--all",
          ...flags,
          `docker://${a.host}/bench/index:v1`,
          `docker://${b.host}/skopeo-${r}/index:v1`,
        ]),
      ),
      await counted(() =>
        copy(src("bench/index"), "v1", remote(registry, b.host, `regkit-${r}/index`), "v1"),
      ),
    );
    record(
      "pull registry → OCI layout",
      await counted(() =>
        skopeo([
          "copy",
          "-q",
          ...flags,
          `docker://${a.host}/bench/image:v1`,
          `oci:${join(work, `skopeo-pull-${r}`)}:v1`,
        ]),
      ),
      await counted(() =>
        copy(src("bench/image"), "v1", new OciLayoutStore(join(work, `regkit-pull-${r}`)), "v1"),
      ),
    );
    record(
      "pull, as commands (regkit pull vs skopeo copy)",
      await counted(() =>
        skopeo([
          "copy",
          "-q",
          ...flags,
          `docker://${a.host}/bench/image:v1`,
          `oci:${join(work, `skopeo-cli-${r}`)}:v1`,
        ]),
      ),
      await counted(() =>
        run(process.execPath, [CLI, "pull", `${a.host}/bench/image:v1`, join(work, `regkit-cli-${r}`)]),
      ),
    );
    record(
      "push OCI layout → registry",
      await counted(() =>
        skopeo(["copy", "-q", ...flags, `oci:${layout}:v1`, `docker://${b.host}/skopeo-push-${r}/image:v1`]),
      ),
      await counted(() =>
        copy(new OciLayoutStore(layout), "v1", remote(registry, b.host, `regkit-push-${r}/image`), "v1"),
      ),
    );
    record(
      "digest (whole command)",
      await counted(() =>
        run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${a.host}/bench/image:v1`]),
      ),
      await counted(() => run(process.execPath, [CLI, "digest", `${a.host}/bench/image:v1`])),
    );
    const full = await timed(() =>
      copy(src("bench/image"), "v1", new OciLayoutStore(join(work, `full-${r}`)), "v1"),
    );
    const bareRun = await timed(() =>
      copy(remote(bare, a.host, "bench/image"), "v1", new OciLayoutStore(join(work, `bare-${r}`)), "v1"),
    );
    record("middleware chain: full vs bare (pull)", bareRun, full);
  }

  const table = Object.entries(rows).map(([name, r]) => ({
    work: name,
    skopeoMs: Math.round(median(r.skopeo)),
    regkitMs: Math.round(median(r.regkit)),
    ratio: Number((median(r.regkit) / median(r.skopeo)).toFixed(2)),
    regkitCpuMs: name.startsWith("digest") ? undefined : Math.round(median(r.cpu)),
    regkitMBps: r.bytes ? Math.round(r.bytes / 1e6 / (median(r.regkit) / 1000)) : undefined,
    requests: r.regkitReq.length ? `${median(r.regkitReq)} vs ${median(r.skopeoReq)}` : undefined,
  }));
  console.table(table);
  process.stdout.write(
    `${JSON.stringify({ rounds: ROUNDS, imageBytes: totalBytes, rows: table }, null, 2)}\n`,
  );
} finally {
  await registry.close();
  await bare.close();
  await bareTransport.close();
  await a.stop();
  await b.stop();
  await rm(work, { recursive: true, force: true });
}
