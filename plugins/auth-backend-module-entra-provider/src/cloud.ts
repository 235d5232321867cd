import { InputError } from '@backstage/errors';

/** The Microsoft clouds a portal can be deployed against. */
export type EntraCloud = 'public' | 'usgov' | 'china';

const CLOUDS: Record<EntraCloud, { loginHost: string; graphUrl: string }> = {
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

/** Sign-in host and Graph URL of a cloud, named by its config value. */
export function resolveCloud(
  name: string | undefined,
  key: string,
): { loginHost: string; graphUrl: string } {
  const cloud = CLOUDS[(name ?? 'public') as EntraCloud];
  if (!cloud) {
    throw new InputError(
      `Invalid ${key} '${name}': use one of ${Object.keys(CLOUDS).join(', ')}`,
    );
  }
  return cloud;
}

/** True for a Graph scope written as a URL, e.g. https://graph.microsoft.com/User.Read */
export function isGraphScope(scope: string): boolean {
  return Object.values(CLOUDS).some(c => scope.startsWith(`${c.graphUrl}/`));
}
