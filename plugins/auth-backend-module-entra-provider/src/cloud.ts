import { InputError } from '@backstage/errors';
import {
  ENTRA_CLOUDS,
  EntraCloud,
  isMicrosoftGraphUrl,
} from '@internal/entra-cloud';

/** Sign-in host and Graph URL of a cloud, named by its config value. */
export function resolveCloud(
  name: string | undefined,
  key: string,
): { loginHost: string; graphUrl: string } {
  const cloud = ENTRA_CLOUDS[(name ?? 'public') as EntraCloud];
  if (!cloud) {
    throw new InputError(
      `Invalid ${key} '${name}': use one of ${Object.keys(ENTRA_CLOUDS).join(
        ', ',
      )}`,
    );
  }
  return cloud;
}

/** True for a Graph scope written as a URL, e.g. https://graph.microsoft.com/User.Read */
export function isGraphScope(scope: string): boolean {
  return scope.includes('://') && isMicrosoftGraphUrl(scope);
}
