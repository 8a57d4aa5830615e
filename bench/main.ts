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
 * A re-copy to a destination that already has the image shows the blob bytes
 * moved (zero is the goal). The pull rows also name the physical limit: curl
 * fetching the same blobs to files, four at once. A single-layer image of
 * BENCH_BIG_MIB (default 1024; 0 skips it) is copied by both CLIs as child
 * processes, whose peak RSS (`/usr/bin/time -f %M`) is reported, as it is
 * for every row that runs children. Results also go to bench/results/latest.json.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { copy } from "../src/copy/copy.js";
import { Registry } from "../src/registry/registry.js";
import { generateImage, generateIndex, writeLargeImageLayout, writeOciLayout } from "../src/sim/images.js";
import { OciLayoutStore } from "../src/store/ociLayoutStore.js";
import { RemoteStore } from "../src/store/remoteStore.js";
import { createTransport } from "../src/transport/index.js";
import { startDistribution } from "../test/support/distribution.js";

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LAYER_MIB = Number(process.env.BENCH_LAYER_MIB ?? 64);
const BIG_MIB = Number(process.env.BENCH_BIG_MIB ?? 1024);
const RESULTS = join(import.meta.dirname, "results", "latest.json");
const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const SKOPEO_CACHE = "/var/lib/containers/cache/blob-info-cache-v1.boltdb";

interface Sample {
  wallMs: number;
  cpuMs: number;
  /** Peak resident set of the child process, when the work ran in one. */
  rssKiB?: number;
  /** Blob bytes moved, when the copy reports it. */
  bytes?: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

/** Runs a command as a child under `/usr/bin/time`, timed, with its peak RSS. */
async function child(command: string, args: string[]): Promise<Sample> {
  let rssKiB = 0;
  let cpuMs = 0;
  const sample = await timed(async () => {
    const { stderr } = await run("/usr/bin/time", ["-f", "%M %U %S", command, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const [rss, user, system] = (stderr.trim().split("\n").pop() ?? "").split(" ").map(Number);
    rssKiB = rss ?? Number.NaN;
    cpuMs = ((user ?? Number.NaN) + (system ?? Number.NaN)) * 1000;
  });
  // The child's own CPU time: the bench process only waits.
  return { ...sample, cpuMs, rssKiB };
}

async function skopeo(args: string[]): Promise<Sample> {
  await rm(SKOPEO_CACHE, { force: true });
  return child("skopeo", args);
}

const regkitCli = (args: string[]) => child(process.execPath, [CLI, ...args]);

function pick(from: Partial<Sample>, keys: Array<keyof Sample>): Partial<Sample> {
  const out: Partial<Sample> = {};
  for (const key of keys) if (typeof from[key] === "number") out[key] = from[key];
  return out;
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
async function counted(
  fn: () => Promise<Partial<Sample> | object | undefined>,
): Promise<Sample & { requests: number }> {
  const before = served();
  let inner: Partial<Sample> = {};
  const outer = await timed(async () => {
    inner = ((await fn()) ?? {}) as Partial<Sample>;
  });
  // A child's CPU and RSS are its own; a copy's result says how many blob bytes it moved.
  const sample: Sample = { ...outer, ...pick(inner, ["cpuMs", "rssKiB", "bytes"]) };
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
  let bigBytes = 0;
  if (BIG_MIB > 0) {
    process.stderr.write(`generating a 1 × ${BIG_MIB} MiB image (streamed to disk)…\n`);
    const big = await writeLargeImageLayout(join(work, "big-layout"), {
      seed: "bench-big",
      layerSize: BIG_MIB * 1024 * 1024,
      tag: "v1",
    });
    bigBytes = big.layer.size;
    await copy(
      new OciLayoutStore(join(work, "big-layout")),
      "v1",
      remote(registry, a.host, "bench/big"),
      "v1",
    );
    await rm(join(work, "big-layout"), { recursive: true, force: true });
  }

  type Row = {
    skopeo: Sample[];
    regkit: Sample[];
    skopeoReq: number[];
    regkitReq: number[];
    /** The physical limit of the same transfer (curl), where there is one. */
    limit: number[];
    bytes?: number;
  };
  const row = (bytes?: number): Row => ({
    skopeo: [],
    regkit: [],
    skopeoReq: [],
    regkitReq: [],
    limit: [],
    ...(bytes ? { bytes } : {}),
  });
  const COPY = `copy registry → registry (4 × ${LAYER_MIB} MiB)`;
  const PULL = "pull registry → OCI layout";
  const PULL_CLI = "pull, as commands (regkit pull vs skopeo copy)";
  const BIG = `copy 1 × ${BIG_MIB} MiB layer, as commands`;
  const rows: Record<string, Row> = {
    [COPY]: row(totalBytes),
    "copy index registry → registry": row(),
    "re-copy: destination already has it": row(),
    [PULL]: row(totalBytes),
    [PULL_CLI]: row(totalBytes),
    "push OCI layout → registry": row(totalBytes),
    "digest (whole command)": row(),
    ...(BIG_MIB > 0 ? { [BIG]: row(bigBytes) } : {}),
    "middleware chain: full vs bare (pull)": row(),
  };
  const record = (
    name: string,
    skopeoRun: Sample & { requests?: number },
    regkit: Sample & { requests?: number },
  ) => {
    const r = rows[name]!;
    r.skopeo.push(skopeoRun);
    r.regkit.push(regkit);
    if (skopeoRun.requests !== undefined) r.skopeoReq.push(skopeoRun.requests);
    if (regkit.requests !== undefined) r.regkitReq.push(regkit.requests);
  };
  const flags = ["--src-tls-verify=false", "--dest-tls-verify=false"];
  // The physical limit of a pull: the same blobs fetched to files by curl, four at once.
  const blobUrls = [image.config, ...image.layers].map(
    (blob) => `${a.url}/v2/bench/image/blobs/${blob.digest}`,
  );
  const curlPull = async (dir: string) => {
    await mkdir(dir, { recursive: true });
    const outputs = blobUrls.flatMap((url, i) => ["-o", join(dir, `blob${i}`), url]);
    return child("curl", ["-sSf", "--parallel", "--parallel-max", "4", ...outputs]);
  };

  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
    const r = `r${round}`;
    const src = (name: string) => remote(registry, a.host, name);
    const skopeoCopy = (from: string, to: string, extra: string[] = []) =>
      counted(() => skopeo(["copy", "-q", ...extra, ...flags, from, to]));
    // Registry A → B by both, each into its own repository of this round.
    const registryRow = async (name: string, repo: string, dest: string, extra: string[] = []) =>
      record(
        name,
        await skopeoCopy(`docker://${a.host}/${repo}:v1`, `docker://${b.host}/skopeo-${r}/${dest}:v1`, extra),
        await counted(() => copy(src(repo), "v1", remote(registry, b.host, `regkit-${r}/${dest}`), "v1")),
      );
    await registryRow(COPY, "bench/image", "image");
    await registryRow("copy index registry → registry", "bench/index", "index", ["--all"]);
    // The same copy again: both destinations already hold the image.
    await registryRow("re-copy: destination already has it", "bench/image", "image");
    const image = `docker://${a.host}/bench/image:v1`;
    rows[PULL]!.limit.push((await curlPull(join(work, `curl-${r}`))).wallMs);
    record(
      PULL,
      await skopeoCopy(image, `oci:${join(work, `skopeo-pull-${r}`)}:v1`),
      await counted(() =>
        copy(src("bench/image"), "v1", new OciLayoutStore(join(work, `regkit-pull-${r}`)), "v1"),
      ),
    );
    rows[PULL_CLI]!.limit.push((await curlPull(join(work, `curl-cli-${r}`))).wallMs);
    record(
      PULL_CLI,
      await skopeoCopy(image, `oci:${join(work, `skopeo-cli-${r}`)}:v1`),
      await counted(() => regkitCli(["pull", `${a.host}/bench/image:v1`, join(work, `regkit-cli-${r}`)])),
    );
    record(
      "push OCI layout → registry",
      await skopeoCopy(`oci:${layout}:v1`, `docker://${b.host}/skopeo-push-${r}/image:v1`),
      await counted(() =>
        copy(new OciLayoutStore(layout), "v1", remote(registry, b.host, `regkit-push-${r}/image`), "v1"),
      ),
    );
    record(
      "digest (whole command)",
      await counted(() => child("skopeo", ["inspect", "--raw", "--tls-verify=false", image])),
      await counted(() => regkitCli(["digest", `${a.host}/bench/image:v1`])),
    );
    if (BIG_MIB > 0)
      record(
        BIG,
        await skopeoCopy(`docker://${a.host}/bench/big:v1`, `docker://${b.host}/skopeo-${r}/big:v1`),
        await counted(() => regkitCli(["copy", `${a.host}/bench/big:v1`, `${b.host}/regkit-${r}/big:v1`])),
      );
    // Alternated per round: whichever runs first pays for a colder page cache and heap.
    const pullFull = () =>
      timed(() => copy(src("bench/image"), "v1", new OciLayoutStore(join(work, `full-${r}`)), "v1"));
    const pullBare = () =>
      timed(() =>
        copy(remote(bare, a.host, "bench/image"), "v1", new OciLayoutStore(join(work, `bare-${r}`)), "v1"),
      );
    const [full, bareRun] =
      round % 2 === 0
        ? [await pullFull(), await pullBare()]
        : await pullBare().then(async (b) => [await pullFull(), b] as const);
    record("middleware chain: full vs bare (pull)", bareRun, full);
    // Pulled layouts are not needed again; keep the disk use of a run bounded.
    for (const dir of [
      "skopeo-pull",
      "regkit-pull",
      "skopeo-cli",
      "regkit-cli",
      "curl",
      "curl-cli",
      "full",
      "bare",
    ])
      await rm(join(work, `${dir}-${r}`), { recursive: true, force: true });
  }

  const of = (samples: Sample[], key: keyof Sample) =>
    median(samples.map((s) => s[key]).filter((v): v is number => typeof v === "number"));
  const rounded = (value: number) => (Number.isFinite(value) ? Math.round(value) : undefined);
  const table = Object.entries(rows).map(([name, r]) => {
    const regkitMs = of(r.regkit, "wallMs");
    const limitMs = median(r.limit);
    return {
      work: name,
      skopeoMs: Math.round(of(r.skopeo, "wallMs")),
      regkitMs: Math.round(regkitMs),
      ratio: Number((regkitMs / of(r.skopeo, "wallMs")).toFixed(2)),
      regkitCpuMs: rounded(of(r.regkit, "cpuMs")),
      skopeoCpuMs: rounded(of(r.skopeo, "cpuMs")),
      regkitMBps: r.bytes ? Math.round(r.bytes / 1e6 / (regkitMs / 1000)) : undefined,
      requests: r.regkitReq.length ? `${median(r.regkitReq)} vs ${median(r.skopeoReq)}` : undefined,
      curlMs: rounded(limitMs),
      vsCurl: Number.isFinite(limitMs) ? Number((regkitMs / limitMs).toFixed(2)) : undefined,
      rssMB: r.regkit.some((s) => s.rssKiB)
        ? `${Math.round(of(r.regkit, "rssKiB") / 1024)} vs ${Math.round(of(r.skopeo, "rssKiB") / 1024)}`
        : undefined,
      blobBytes: r.regkit.some((s) => s.bytes !== undefined) ? of(r.regkit, "bytes") : undefined,
    };
  });
  console.table(table);
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    rounds: ROUNDS,
    imageBytes: totalBytes,
    bigLayerBytes: bigBytes,
    rows: table,
  };
  const json = `${JSON.stringify(results, null, 2)}\n`;
  process.stdout.write(json);
  await mkdir(join(RESULTS, ".."), { recursive: true });
  await writeFile(RESULTS, json);
  process.stderr.write(`results written to ${RESULTS}\n`);
} finally {
  await registry.close();
  await bare.close();
  await bareTransport.close();
  await a.stop();
  await b.stop();
  await rm(work, { recursive: true, force: true });
}
