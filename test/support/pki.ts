/**
 * Certificates for the real registry's TLS and token modes, made with the
 * system's openssl: a throwaway CA with a server certificate for 127.0.0.1,
 * and a self-signed certificate for the token-signing key (distribution's
 * `rootcertbundle`).
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export interface ServerTls {
  caPem: string;
  certPath: string;
  keyPath: string;
}

export async function makeServerTls(dir: string): Promise<ServerTls> {
  const ca = join(dir, "ca");
  await run("openssl", [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${ca}.key`,
    "-out",
    `${ca}.crt`,
    "-days",
    "2",
    "-subj",
    "/CN=regkit test CA",
  ]);
  const server = join(dir, "server");
  await run("openssl", [
    "req",
    ...EC,
    "-keyout",
    `${server}.key`,
    "-out",
    `${server}.csr`,
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await writeFile(`${server}.ext`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    `${server}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${server}.crt`,
    "-days",
    "2",
    "-extfile",
    `${server}.ext`,
  ]);
  return { caPem: await readFile(`${ca}.crt`, "utf8"), certPath: `${server}.crt`, keyPath: `${server}.key` };
}

export interface SigningKey {
  keyPem: string;
  certPath: string;
}

export async function makeSigningKey(dir: string): Promise<SigningKey> {
  const base = join(dir, "token");
  await run("openssl", [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${base}.key`,
    "-out",
    `${base}.crt`,
    "-days",
    "2",
    "-subj",
    "/CN=regkit token signer",
  ]);
  return { keyPem: await readFile(`${base}.key`, "utf8"), certPath: `${base}.crt` };
}
