/**
 * Checks what a provider fake answers against the official descriptions
 * copied into `test/reference/` (sources and licences in its README):
 * OpenAPI component schemas (Docker Hub, GitHub Packages), Google discovery
 * documents (Artifact Registry, Container
 * Analysis) and JSON Schemas (GitHub webhook payloads). A fake that drifts
 * from the real API shape fails its contract test.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { parse as parseYaml } from "yaml";

export const REFERENCE = join(import.meta.dirname, "..", "reference");

export interface Contract {
  /** Validates `value` against the named schema; `errors` says where it differs. */
  check(schema: string, value: unknown): { ok: boolean; errors: string[] };
  schemas(): string[];
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "invalid"}`);
}

function contract(ajv: Ajv, names: string[], resolve: (name: string) => string): Contract {
  const cache = new Map<string, ValidateFunction>();
  return {
    schemas: () => names,
    check(schema, value) {
      if (!names.includes(schema)) throw new Error(`no schema named ${schema}`);
      let validate = cache.get(schema);
      if (!validate) {
        validate = ajv.getSchema(resolve(schema)) ?? ajv.compile({ $ref: resolve(schema) });
        cache.set(schema, validate);
      }
      const ok = validate(value) as boolean;
      return { ok, errors: ok ? [] : describe(validate.errors) };
    },
  };
}

/**
 * OpenAPI 3.0's `nullable` without a `type` (GitHub's `allOf` + `nullable`
 * user) is not JSON Schema: it becomes `anyOf: [schema, null]`.
 */
function nullableWithoutType(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableWithoutType);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node as Record<string, unknown>))
    out[key] = nullableWithoutType(value);
  if (out.nullable === true && out.type === undefined) {
    delete out.nullable;
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

/** `components.schemas` of an OpenAPI 3 description (YAML). */
export async function openApiContract(file: string): Promise<Contract> {
  const doc = parseYaml(await readFile(join(REFERENCE, file), "utf8")) as {
    components: { schemas: Record<string, unknown> };
  };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ ...(nullableWithoutType(doc) as object), $id: "openapi" });
  return contract(ajv, Object.keys(doc.components.schemas), (name) => `openapi#/components/schemas/${name}`);
}

/** Turns discovery-format schemas (`$ref: "Name"`, int64 as strings) into JSON Schema. */
function fromDiscovery(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(fromDiscovery);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === "$ref" && typeof value === "string") out.$ref = `#/definitions/${value}`;
    else if (key === "id" || key === "description" || key === "enumDescriptions") continue;
    else out[key] = fromDiscovery(value);
  }
  // Discovery's "any" is JSON Schema's absence of a type.
  if (out.type === "any") delete out.type;
  // int64/uint64/google-datetime values travel as JSON strings in Google APIs.
  if (out.type === "string" || out.format === "int64" || out.format === "uint64") {
    if (out.format === "int64" || out.format === "uint64") out.type = ["string", "number"];
    delete out.format;
  }
  return out;
}

/** `schemas` of a Google API discovery document (JSON). */
export async function discoveryContract(file: string): Promise<Contract> {
  const doc = JSON.parse(await readFile(join(REFERENCE, file), "utf8")) as {
    schemas: Record<string, unknown>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: "discovery", definitions: fromDiscovery(doc.schemas) });
  return contract(ajv, Object.keys(doc.schemas), (name) => `discovery#/definitions/${name}`);
}

/** Every `*.schema.json` under a folder, addressed by its path (`registry_package/published`). */
export async function jsonSchemaContract(folder: string): Promise<Contract> {
  const root = join(REFERENCE, folder);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const names: string[] = [];
  const byName = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith(".schema.json")) {
        const id = relative(root, path);
        const schema = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
        // Their own `$id`s ("common/user.schema.json", "registry_package$published"), made
        // absolute, are what their relative `$ref`s resolve against.
        ajv.addSchema({ ...schema, $id: `https://schemas.invalid/${String(schema.$id ?? id)}` });
        byName.set(id.replace(/\.schema\.json$/, ""), `https://schemas.invalid/${String(schema.$id ?? id)}`);
        names.push(id.replace(/\.schema\.json$/, ""));
      }
    }
  };
  await walk(root);
  return contract(ajv, names.sort(), (name) => byName.get(name)!);
}
