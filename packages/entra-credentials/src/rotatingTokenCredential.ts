import type {
  AccessToken,
  GetTokenOptions,
  TokenCredential,
} from '@azure/identity';

/**
 * A `TokenCredential` that builds its inner credential again when the
 * credential material's version changes, so a client holding it for good
 * (the Graph client) follows a rotated secret or certificate without a
 * restart. The inner credential's token cache goes with it, so the first
 * request after a rotation is authenticated with the new key.
 */
export class RotatingTokenCredential implements TokenCredential {
  #inner: TokenCredential | undefined;
  #builtFor: number | undefined;

  constructor(
    private readonly version: () => number,
    private readonly build: () => TokenCredential,
  ) {}

  getToken(
    scopes: string | string[],
    options?: GetTokenOptions,
  ): Promise<AccessToken | null> {
    const version = this.version();
    if (!this.#inner || this.#builtFor !== version) {
      this.#inner = this.build();
      this.#builtFor = version;
    }
    return this.#inner.getToken(scopes, options);
  }
}
