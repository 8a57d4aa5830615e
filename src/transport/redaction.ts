/**
 * What a cassette must never hold: credentials in headers, JSON fields,
 * OAuth2 form bodies (`password`, `refresh_token` grants) and query strings.
 * Each is replaced by `[REDACTED]`, keeping the shape of what was sent.
 */
const REDACTED = "[REDACTED]";
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);
const SECRET_FIELDS =
  /("(?:token|access_token|refresh_token|login_2fa_token|password|identitytoken|secret)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;
const SECRET_FORM = /((?:^|&)(?:password|refresh_token|access_token|token)=)[^&]*/gi;
const SECRET_QUERY = /^(token|access_token|refresh_token|password|client_secret)$/i;

/** JSON string fields and form fields that carry secrets, redacted in any text body. */
export function redactText(text: string): string {
  return text.replace(SECRET_FIELDS, `$1"${REDACTED}"`).replace(SECRET_FORM, `$1${REDACTED}`);
}

/** The URL with the values of secret query parameters redacted. */
export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  for (const key of [...copy.searchParams.keys()])
    if (SECRET_QUERY.test(key)) copy.searchParams.set(key, REDACTED);
  return copy.href;
}

/** A header's value as a cassette may keep it. */
export function redactHeader(name: string, value: string): string {
  return SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : value;
}
