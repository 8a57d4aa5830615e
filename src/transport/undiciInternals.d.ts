// undici's own files behind its index (see httpClient.ts); typed there at the point of use.
declare module "undici/lib/dispatcher/agent.js" {
  const agent: unknown;
  export default agent;
}
declare module "undici/lib/api/api-request.js" {
  const request: unknown;
  export default request;
}
