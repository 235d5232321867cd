/**
 * Pieces the backend plugins' integration tests share: signing a seeded
 * person in through the Entra emulator as the browser does, the emulator's
 * `auth.providers.microsoft` config block, and a catalog provider module
 * with a fixed set of entities.
 *
 * @packageDocumentation
 */
export {
  cookieHeader,
  emulatorAuthConfig,
  readPopupResponse,
  signIn,
} from './signIn';
export type { SignedIn } from './signIn';
export { fixedEntityProvider } from './fixedEntityProvider';
export type {
  ApplyEntities,
  FixedEntityProviderOptions,
} from './fixedEntityProvider';
