import v8 from "node:v8";

/**
 * For commands that stream blobs: keeps V8's young generation at the size it
 * has instead of letting it grow (to 16 MiB semi-spaces). A transfer
 * allocates a Buffer per socket read that dies at once; with a large young
 * generation the dead ones pile up outside the heap until V8's external-memory
 * limit forces a GC. Measured on a 1 GiB registry→registry copy: peak RSS
 * 175 → 120 MB, and a third less CPU. Set at run time (a node flag would be
 * lost on `node dist/cli/main.js …`): V8 reads it at each young-generation GC.
 * Short commands leave it alone, where the extra GCs would slow start-up.
 */
export function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString("--semi-space-growth-factor=1");
}
