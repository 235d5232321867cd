import path from 'node:path';

/**
 * The package's root directory, resolved through the package manager rather
 * than `__dirname`, so it is the same from source and from a build.
 */
export const PACKAGE_ROOT = path.dirname(
  require.resolve('@internal/entra-emulator/package.json'),
);
