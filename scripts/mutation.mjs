#!/usr/bin/env node
// `npm run mutation [module…]`: StrykerJS per module (scripts/mutation-modules.mjs), one
// after the other, each with only the tests that cover it; then the score per module and
// every surviving mutant. Reports: reports/mutation/<module>.{html,json}.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { MODULES } from "./mutation-modules.mjs";

const wanted = process.argv.slice(2);
for (const name of wanted)
  if (!MODULES[name]) {
    console.error(`unknown module ${name}; one of ${Object.keys(MODULES).join(", ")}`);
    process.exit(2);
  }
const names = wanted.length > 0 ? wanted : Object.keys(MODULES);
const rows = [];
let failed = false;
for (const name of names) {
  const run = spawnSync("npx", ["stryker", "run", "stryker.config.mjs"], {
    stdio: "inherit",
    env: { ...process.env, MUTATION_MODULE: name, MUTATION_TESTS: MODULES[name].tests.join(",") },
  });
  if (run.status !== 0) {
    failed = true;
    rows.push({ name, error: `stryker exited ${run.status}` });
    continue;
  }
  const report = JSON.parse(readFileSync(`reports/mutation/${name}.json`, "utf8"));
  const count = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
  const survivors = [];
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const lines = source.split("\n");
    for (const mutant of mutants) {
      if (mutant.status in count) count[mutant.status]++;
      if (mutant.status === "Survived" || mutant.status === "NoCoverage") {
        const { line, column } = mutant.location.start;
        survivors.push(
          `${file}:${line}:${column} ${mutant.status} ${mutant.mutatorName}: ${JSON.stringify(mutant.replacement ?? "")} in ${JSON.stringify(lines[line - 1]?.trim().slice(0, 100))}`,
        );
      }
    }
  }
  const detected = count.Killed + count.Timeout;
  const total = detected + count.Survived + count.NoCoverage;
  rows.push({ name, ...count, score: total ? ((100 * detected) / total).toFixed(1) : "n/a", survivors });
}
console.log(
  "\n| module | killed | timeout | survived | no coverage | score % |\n| --- | ---: | ---: | ---: | ---: | ---: |",
);
for (const row of rows)
  console.log(
    row.error
      ? `| ${row.name} | ${row.error} |||||`
      : `| ${row.name} | ${row.Killed} | ${row.Timeout} | ${row.Survived} | ${row.NoCoverage} | ${row.score} |`,
  );
for (const row of rows)
  if (row.survivors?.length) console.log(`\nSurvivors in ${row.name}:\n${row.survivors.join("\n")}`);
process.exit(failed ? 1 : 0);
