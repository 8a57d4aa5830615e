/**
 * `npm run bench`: regkit against skopeo and (with `CRANE=/path/to/crane`)
 * crane on the same work, on local CNCF distribution registries.
 *
 * Whole commands (bench/commands.ts): each tool as a child process, start-up
 * included, a fresh destination registry per run, skopeo's blob-info cache
 * removed, tools interleaved in rotating order, medians of BENCH_ROUNDS
 * (default 5) with the child's own CPU, peak RSS and the requests the
 * registries logged. Registries people run in CI (bench/serve.ts): crane and
 * skopeo pushing into distribution, `regkit serve` and `regkit serve
 * --storage`, with each server's ingest CPU per GiB. In process (below):
 * what library users meet, without start-up: copies, pulls and pushes
 * through the library, a re-copy (zero blob bytes is the goal), 100
 * sequential manifest GETs, the middleware chain against a bare transport,
 * and curl's pull as the physical limit. A measurement, never a pass/fail
 * test. Results also go to bench/results/latest.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { copy } from "../src/copy/copy.js";
import { Registry } from "../src/registry/registry.js";
import { generateImage, generateIndex, writeLargeImageLayout, writeOciLayout } from "../src/sim/images.js";
import { OciLayoutStore } from "../src/store/ociLayoutStore.js";
import { RemoteStore } from "../src/store/remoteStore.js";
import { createTransport } from "../src/transport/index.js";
import { startDistribution } from "../test/support/distribution.js";
import { clientRows } from "./clients.js";
import { commandRows, type Tool } from "./commands.js";
import { child, median, medianOf, ratio, rounded, type Sample, skopeo, timed } from "./measure.js";
import { serveRows } from "./serve.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LAYER_MIB = Number(process.env.BENCH_LAYER_MIB ?? 64);
const BIG_MIB = Number(process.env.BENCH_BIG_MIB ?? 1024);
const CRANE = process.env.CRANE || undefined;
const RESULTS = join(import.meta.dirname, "results", "latest.json");
const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const log = (line: string) => process.stderr.write(`${line}\n`);

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
  const sample: Sample = { ...outer };
  for (const key of ["cpuMs", "rssKiB", "bytes"] as const)
    if (typeof inner[key] === "number") sample[key] = inner[key];
  await new Promise((resolve) => setTimeout(resolve, 100)); // access-log lines trail the responses
  return { ...sample, requests: served() - before };
}
const registry = new Registry({ credentials: false });
const bareTransport = createTransport();
const bare = new Registry({ transport: bareTransport });
const remote = (client: Registry, host: string, name: string) =>
  new RemoteStore(client.repository(host, name));

try {
  log(`generating a 4 × ${LAYER_MIB} MiB image and a two-platform index…`);
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
    log(`generating a 1 × ${BIG_MIB} MiB image (streamed to disk)…`);
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

  type Row = { skopeo: Sample[]; regkit: Sample[]; limit: number[]; bytes?: number };
  const row = (bytes?: number): Row => ({ skopeo: [], regkit: [], limit: [], ...(bytes ? { bytes } : {}) });
  const COPY = `copy registry → registry (4 × ${LAYER_MIB} MiB)`;
  const PULL = "pull registry → OCI layout (4 concurrent verified downloads)";
  const GETS = "100 sequential manifest GETs";
  const CHAIN = "middleware chain: full vs bare (pull)";
  const rows: Record<string, Row> = {
    [COPY]: row(totalBytes),
    "copy index registry → registry": row(),
    "re-copy: destination already has it": row(),
    [PULL]: row(totalBytes),
    "push OCI layout → registry": row(totalBytes),
    [GETS]: row(),
    [CHAIN]: row(),
  };
  const record = (name: string, skopeoRun: Sample, regkit: Sample) => {
    rows[name]!.skopeo.push(skopeoRun);
    rows[name]!.regkit.push(regkit);
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

  // In process: what library users meet (no start-up).
  for (let round = 0; round < ROUNDS; round++) {
    log(`library: round ${round + 1}/${ROUNDS}`);
    const r = `r${round}`;
    const src = (name: string) => remote(registry, a.host, name);
    const skopeoCopy = (from: string, to: string, extra: string[] = []) =>
      counted(() => skopeo(["copy", "-q", ...extra, ...flags, from, to]));
    const registryRow = async (name: string, repo: string, dest: string, extra: string[] = []) =>
      record(
        name,
        await skopeoCopy(`docker://${a.host}/${repo}:v1`, `docker://${b.host}/skopeo-${r}/${dest}:v1`, extra),
        await counted(() => copy(src(repo), "v1", remote(registry, b.host, `regkit-${r}/${dest}`), "v1")),
      );
    await registryRow(COPY, "bench/image", "image");
    await registryRow("copy index registry → registry", "bench/index", "index", ["--all"]);
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
    record(
      "push OCI layout → registry",
      await skopeoCopy(`oci:${layout}:v1`, `docker://${b.host}/skopeo-push-${r}/image:v1`),
      await counted(() =>
        copy(new OciLayoutStore(layout), "v1", remote(registry, b.host, `regkit-push-${r}/image`), "v1"),
      ),
    );
    const repo = registry.repository(a.host, "bench/image");
    record(
      GETS,
      { wallMs: Number.NaN, cpuMs: Number.NaN },
      await counted(async () => {
        for (let i = 0; i < 100; i++) await repo.manifests.get("v1");
        return undefined;
      }),
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
    record(CHAIN, bareRun, full);
    for (const dir of ["skopeo-pull", "regkit-pull", "curl", "full", "bare"])
      await rm(join(work, `${dir}-${r}`), { recursive: true, force: true });
  }
  const library = Object.entries(rows).map(([name, r]) => {
    const regkitMs = medianOf(r.regkit, "wallMs");
    return {
      work: name,
      regkitMs: rounded(regkitMs),
      skopeoMs: rounded(medianOf(r.skopeo, "wallMs")),
      ratio: ratio(regkitMs, medianOf(r.skopeo, "wallMs")),
      regkitCpuMs: rounded(medianOf(r.regkit, "cpuMs")),
      regkitMBps: r.bytes ? Math.round(r.bytes / 1e6 / (regkitMs / 1000)) : undefined,
      requests: `${median(r.regkit.map((s) => s.requests ?? Number.NaN))} vs ${median(r.skopeo.map((s) => s.requests ?? Number.NaN))}`,
      curlMs: rounded(median(r.limit)),
      blobBytes: r.regkit.some((s) => s.bytes !== undefined) ? medianOf(r.regkit, "bytes") : undefined,
    };
  });
  log("in process (library; the skopeo column runs skopeo as a command):");
  console.table(library);

  const clients = Object.entries(
    await clientRows({
      host: a.host,
      repo: "bench/image",
      tag: "v1",
      layerDigests: image.layers.map((layer) => layer.digest),
      layerMiB: LAYER_MIB,
      work,
      rounds: ROUNDS,
      log,
    }),
  ).map(([name, byClient]) => ({
    work: name,
    regkitMs: rounded(medianOf(byClient.regkit, "wallMs")),
    regkitCpuMs: rounded(medianOf(byClient.regkit, "cpuMs")),
    regkitRssMB: rounded(medianOf(byClient.regkit, "rssKiB") / 1024),
    snykMs: rounded(medianOf(byClient.snyk, "wallMs")),
    snykCpuMs: rounded(medianOf(byClient.snyk, "cpuMs")),
    snykRssMB: rounded(medianOf(byClient.snyk, "rssKiB") / 1024),
    vsSnyk: ratio(medianOf(byClient.regkit, "wallMs"), medianOf(byClient.snyk, "wallMs")),
  }));
  log("library against @snyk/docker-registry-v2-client (each in a process of its own; work timed inside):");
  console.table(clients);

  const commands = await commandRows({
    source: a,
    layout,
    work,
    cli: CLI,
    ...(CRANE ? { crane: CRANE } : {}),
    rounds: ROUNDS,
    bigMiB: BIG_MIB,
    log,
  });
  const tools: Tool[] = ["regkit", "skopeo", "crane"];
  const floor = medianOf(Object.values(commands)[0]?.regkit ?? [], "wallMs");
  const whole = Object.entries(commands).map(([name, byTool]) => {
    const out: Record<string, unknown> = { work: name };
    for (const tool of tools) {
      if (byTool[tool].length === 0) continue;
      out[`${tool}Ms`] = rounded(medianOf(byTool[tool], "wallMs"));
      out[`${tool}CpuMs`] = rounded(medianOf(byTool[tool], "cpuMs"));
      out[`${tool}RssMB`] = rounded(medianOf(byTool[tool], "rssKiB") / 1024);
      out[`${tool}Requests`] = medianOf(byTool[tool], "requests");
    }
    out.vsCrane = ratio(medianOf(byTool.regkit, "wallMs"), medianOf(byTool.crane, "wallMs"));
    out.cpuVsCrane = ratio(medianOf(byTool.regkit, "cpuMs"), medianOf(byTool.crane, "cpuMs"));
    out.vsSkopeo = ratio(medianOf(byTool.regkit, "wallMs"), medianOf(byTool.skopeo, "wallMs"));
    // Start-up's goal is a multiple of a bare Node start (the first row).
    out.vsNode = ratio(medianOf(byTool.regkit, "wallMs"), floor);
    return out;
  });
  log("whole commands (medians; CPU and RSS are the child's own):");
  console.table(whole);

  const ingest = Object.entries(
    await serveRows({ cli: CLI, layout, ...(CRANE ? { crane: CRANE } : {}), rounds: ROUNDS, log }),
  ).map(([name, samples]) => ({
    work: name,
    pushMs: rounded(medianOf(samples, "wallMs")),
    serverCpuMs: rounded(medianOf(samples, "serverCpuMs")),
    serverCpuSPerGiB: Number((medianOf(samples, "serverCpuMs") / 1000 / (totalBytes / 2 ** 30)).toFixed(2)),
    serverPeakRssMB: rounded(medianOf(samples, "rssKiB") / 1024),
  }));
  log("registries receiving a push of the 4-layer layout:");
  console.table(ingest);

  const results = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
    node: process.version,
    rounds: ROUNDS,
    imageBytes: totalBytes,
    bigLayerBytes: bigBytes,
    commands: whole,
    serve: ingest,
    library,
    clients,
  };
  const json = `${JSON.stringify(results, null, 2)}\n`;
  process.stdout.write(json);
  await mkdir(join(RESULTS, ".."), { recursive: true });
  await writeFile(RESULTS, json);
  log(`results written to ${RESULTS}`);
} finally {
  await registry.close();
  await bare.close();
  await bareTransport.close();
  await a.stop();
  await b.stop();
  await rm(work, { recursive: true, force: true });
}
