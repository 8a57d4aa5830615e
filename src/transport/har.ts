/** The HAR 1.2 shapes a cassette writes (with regkit's `_digest`/`_sha256` content fields). */

export interface HarHeader {
  name: string;
  value: string;
}

export interface HarContent {
  size: number;
  mimeType: string;
  text?: string;
  /** regkit: body stored beside the cassette under this sha256 digest. */
  _digest?: string;
  /** regkit: sha256 of the inline text, checked on replay. */
  _sha256?: string;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    headers: HarHeader[];
    queryString: Array<{ name: string; value: string }>;
    headersSize: -1;
    bodySize: number;
    postData?: { mimeType: string; text: string; _digest?: string };
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    headers: HarHeader[];
    content: HarContent;
    redirectURL: string;
    headersSize: -1;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
}

export interface Har {
  log: { version: "1.2"; creator: { name: string; version: string }; entries: HarEntry[] };
}
