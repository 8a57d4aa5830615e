/**
 * `npm run chaos`: the full chaos run (test/chaos.test.ts runs a bounded one).
 * Starts its own CNCF distribution registry, copies CHAOS_IMAGES (default 80)
 * images of mixed sizes up to CHAOS_MAX_LAYER bytes per layer (default 4 MiB)
 * concurrently through seeded faults (CHAOS_SEED, default 1515) on the source,
 * the destination and both, and prints the report. Exits 1 when a blob is
 * corrupted, a failure is untyped or leaves a tag, or the re-run does not finish.
 */

import { runChaos } from "../test/support/chaos.js";
import { startDistribution } from "../test/support/distribution.js";

const registry = await startDistribution();
try {
  const report = await runChaos({
    registry,
    seed: Number(process.env.CHAOS_SEED ?? 1515),
    images: Number(process.env.CHAOS_IMAGES ?? 80),
    maxLayerSize: Number(process.env.CHAOS_MAX_LAYER ?? 4 << 20),
    intensity: Number(process.env.CHAOS_INTENSITY ?? 1),
  });
  const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;
  console.log(
    [
      `seed ${report.seed}, ${report.seconds} s`,
      `copies attempted ${report.attempted}, completed ${report.completed}, failed cleanly ${report.failedCleanly}, failed uncleanly ${report.failedUncleanly}`,
      `blobs corrupted ${report.corruptedBlobs}`,
      `bytes re-sent ${mib(report.bytesResent)} of ${mib(report.bytesNeeded)} needed`,
      `faults applied ${JSON.stringify(report.faultsApplied)}`,
      `failures ${JSON.stringify(report.failures)}`,
      `re-run: attempted ${report.rerun.attempted}, completed ${report.rerun.completed}, finished blobs re-sent ${report.rerun.finishedBlobsResent}`,
    ].join("\n"),
  );
  const ok =
    report.corruptedBlobs === 0 &&
    report.failedUncleanly === 0 &&
    report.rerun.completed === report.rerun.attempted &&
    report.rerun.finishedBlobsResent === 0;
  process.exitCode = ok ? 0 : 1;
} finally {
  await registry.stop();
}
