/**
 * What a session needs to log in with OAuth2 (XOAUTH2 / OAUTHBEARER). Defined here, below the
 * token manager (relay/oauth/token-manager.ts implements it), so the IMAP layer does not import
 * the layers above it.
 */
export interface OAuthLogin {
  /** A live access token: the cached one, or a fresh one when it expires within the margin. */
  accessToken(): Promise<string>;
  /** After the server refused `rejected`: a newer token (renewed once, shared by concurrent callers). */
  renew(rejected: string): Promise<string>;
}
