/**
 * Bundles the `regkit` command into dist/cli/main.js (run by `npm run build`
 * after tsc): one file for what every command needs, plus chunks for what
 * only some commands load through `import()`. A short command then pays for
 * a few file reads instead of resolving and reading ~100 modules, which was
 * most of its start-up. The chunks sit beside main.js so that paths written
 * relative to a module (`../../package.json`) resolve the same as in the tsc
 * output. pino (worker transports load its files by path), yaml and the
 * OpenTelemetry SDK (CommonJS packages loaded through `import()`, whose
 * named exports esbuild's interop would not carry) stay in node_modules.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const outdir = join(root, "dist", "cli");
const CHUNK_PREFIX = "bundle-";

for (const name of await readdir(outdir).catch(() => []))
  if (name.startsWith(CHUNK_PREFIX)) await rm(join(outdir, name));

// zod re-exports its 60-odd message locales as one namespace, so all of them (~370 KB,
// half of zod's chunk) would be read and compiled by every command that validates JSON.
// regkit's messages are English: the namespace keeps only `en`, which zod configures itself.
const englishZod = {
  name: "zod-english-only",
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: "js",
      resolveDir: join(root, "node_modules", "zod", "v4", "locales"),
    }));
  },
};

await build({
  entryPoints: { main: join(root, "src", "cli", "main.ts") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  sourcemap: true,
  chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
  entryNames: "[name]",
  external: [
    "pino",
    "yaml",
    "@opentelemetry/context-async-hooks",
    "@opentelemetry/resources",
    "@opentelemetry/sdk-*",
    "@opentelemetry/exporter-*",
    // CommonJS with lazily defined exports: bundled, `await import()` loses its named exports.
    "google-auth-library",
  ],
  allowOverwrite: true,
  plugins: [englishZod],
  // CommonJS packages in the bundle (commander) call require() for Node's own modules.
  banner: {
    js: 'import { createRequire as __regkitRequire } from "node:module"; const require = __regkitRequire(import.meta.url);',
  },
  logLevel: "warning",
});
