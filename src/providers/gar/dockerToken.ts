/** The username Artifact Registry's Docker endpoint takes with an OAuth2 access token as password. */
export const DOCKER_TOKEN_USER = "oauth2accesstoken";
