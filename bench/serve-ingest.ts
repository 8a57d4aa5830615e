/**
 * `npm run bench:serve`: only the ingest rows of bench/serve.ts, for work on
 * `regkit serve`'s request path: crane (CRANE=path, else skopeo) pushing a
 * 4 × BENCH_LAYER_MIB MiB layout into `regkit serve` in memory and with
 * `--storage`, BENCH_ROUNDS (default 3) fresh servers each. Prints each
 * run's server CPU seconds, CPU seconds per GiB and peak RSS: under load,
 * wall time is noise and these are the figures to compare. REGKIT_CLI
 * points at another build (e.g. a copy of dist/ from before a change).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateImage, writeOciLayout } from "../src/sim/images.js";
import { type Server, serveRows } from "./serve.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LAYER_MIB = Number(process.env.BENCH_LAYER_MIB ?? 64);
const CRANE = process.env.CRANE || undefined;
const CLI = process.env.REGKIT_CLI ?? join(import.meta.dirname, "..", "dist", "cli", "main.js");
const log = (line: string) => process.stderr.write(`${line}\n`);

const work = await mkdtemp(join(tmpdir(), "regkit-bench-serve-"));
try {
  const image = await generateImage({ seed: "bench", layers: 4, layerSize: LAYER_MIB * 1024 * 1024 });
  const layout = join(work, "layout");
  await writeOciLayout(layout, image, "v1");
  const gib = [image.config, ...image.layers].reduce((sum, blob) => sum + blob.size, 0) / 2 ** 30;
  const servers: Server[] = (process.env.BENCH_SERVERS?.split(",") as Server[] | undefined) ?? [
    "regkit serve",
    "regkit serve --storage",
  ];
  const rows = await serveRows({
    cli: CLI,
    layout,
    ...(CRANE ? { crane: CRANE, pushers: ["crane"] } : { pushers: ["skopeo"] }),
    servers,
    rounds: ROUNDS,
    log,
  });
  for (const [name, samples] of Object.entries(rows)) {
    const cells = samples.map(
      (s) =>
        `${((s.serverCpuMs ?? 0) / 1000).toFixed(2)} CPU-s (${((s.serverCpuMs ?? 0) / 1000 / gib).toFixed(1)}/GiB), ` +
        `${Math.round((s.rssKiB ?? 0) / 1024)} MB, ${Math.round(s.wallMs)} ms`,
    );
    process.stdout.write(`${name}: ${cells.join(" | ")}\n`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
