/**
 * The Microsoft clouds the portal can run against. Sign-in, org ingestion,
 * the production guard and the doctor all derive their hosts from here, so
 * one `cloud` setting moves every part together.
 *
 * @packageDocumentation
 */

/** A Microsoft cloud, as named in configuration. */
export type EntraCloud = 'public' | 'usgov' | 'china';

/** Sign-in host and Graph URL of each cloud. */
export const ENTRA_CLOUDS: Record<
  EntraCloud,
  { loginHost: string; graphUrl: string }
> = {
  public: {
    loginHost: 'https://login.microsoftonline.com',
    graphUrl: 'https://graph.microsoft.com',
  },
  usgov: {
    loginHost: 'https://login.microsoftonline.us',
    graphUrl: 'https://graph.microsoft.us',
  },
  china: {
    loginHost: 'https://login.chinacloudapi.cn',
    graphUrl: 'https://microsoftgraph.chinacloudapi.cn',
  },
};

const origin = (url: string) => {
  try {
    return new URL(url).origin.toLowerCase();
  } catch {
    return undefined;
  }
};

/** True when the URL is on a Microsoft cloud's sign-in host. */
export function isMicrosoftLoginUrl(url: string): boolean {
  const o = origin(url);
  return Object.values(ENTRA_CLOUDS).some(c => c.loginHost === o);
}

/** True when the URL is on a Microsoft cloud's Graph host. */
export function isMicrosoftGraphUrl(url: string): boolean {
  const o = origin(url);
  return Object.values(ENTRA_CLOUDS).some(c => c.graphUrl === o);
}
