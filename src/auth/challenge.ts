import { InvalidInputError } from "../core/errors.js";

/** One `WWW-Authenticate` challenge: a scheme and its parameters (names lower-cased). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
const MAX_HEADER = 16 * 1024;

/**
 * Parses RFC 7235 challenges: several per header (`Bearer realm="…", Basic
 * realm="…"`), quoted strings with escapes and commas, token68 values.
 * Throws InvalidInputError on malformed input; never anything else.
 */
export function parseChallenges(header: string): Challenge[] {
  if (header.length > MAX_HEADER) throw new InvalidInputError("WWW-Authenticate header too long");
  const challenges: Challenge[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new InvalidInputError(`malformed WWW-Authenticate header: ${why}`);
  };
  const skipSpace = () => {
    while (i < header.length && (header[i] === " " || header[i] === "\t")) i++;
  };
  const readToken = (): string | undefined => {
    const match = TOKEN.exec(header.slice(i));
    if (!match) return undefined;
    i += match[0].length;
    return match[0];
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let value = "";
    while (i < header.length) {
      const c = header[i++];
      if (c === "\\") {
        if (i >= header.length) fail("unterminated escape");
        value += header[i++];
      } else if (c === '"') {
        return value;
      } else {
        value += c;
      }
    }
    return fail("unterminated quoted string");
  };

  while (i < header.length) {
    skipSpace();
    if (header[i] === ",") {
      i++;
      continue;
    }
    if (i >= header.length) break;
    const scheme = readToken();
    if (!scheme) fail(`unexpected character at ${i}`);
    const challenge: Challenge = { scheme: scheme!.toLowerCase(), params: {} };
    challenges.push(challenge);
    skipSpace();
    // Parameters: name=value pairs separated by commas, until the next scheme.
    for (;;) {
      skipSpace();
      const start = i;
      const name = readToken();
      if (!name) break;
      skipSpace();
      if (header[i] !== "=") {
        // Not a parameter: either token68 (value of its own) or the next challenge's scheme.
        if (Object.keys(challenge.params).length === 0 && (header[i] === undefined || header[i] === ",")) {
          challenge.params.token68 = name;
          break;
        }
        i = start;
        break;
      }
      i++;
      skipSpace();
      const value = header[i] === '"' ? readQuoted() : readToken();
      if (value === undefined) {
        // token68 ending in '=' padding, e.g. `Basic YWxhZGRpbjpvcGVuc2VzYW1l==`
        if (/^=*\s*(,|$)/.test(header.slice(i - 1))) {
          while (header[i] === "=") i++;
          challenge.params.token68 = `${name}=`;
          break;
        }
        fail(`missing value for ${name}`);
      }
      challenge.params[name.toLowerCase()] = value!;
      skipSpace();
      if (header[i] === ",") {
        i++;
        continue;
      }
      if (i >= header.length) break;
      fail(`unexpected character at ${i}`);
    }
  }
  if (challenges.length === 0) fail("no challenge");
  return challenges;
}

/** The challenge regkit will answer: Bearer before Basic; unknown schemes alone are an error. */
export function pickChallenge(challenges: Challenge[]): Challenge {
  const bearer = challenges.find((c) => c.scheme === "bearer");
  if (bearer) {
    if (!bearer.params.realm) throw new InvalidInputError("Bearer challenge without a realm");
    return bearer;
  }
  const basic = challenges.find((c) => c.scheme === "basic");
  if (basic) return basic;
  throw new InvalidInputError(
    `unsupported authentication scheme ${challenges.map((c) => c.scheme).join(", ")} (regkit speaks Basic and Bearer)`,
  );
}
