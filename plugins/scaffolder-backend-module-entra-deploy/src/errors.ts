import { AuthenticationError } from '@backstage/errors';

/**
 * The person's delegation is no longer good (their token expired, or Entra
 * refused the exchange as it does after a sign-out, a password change or a
 * revoked session). Only signing in again helps, so the message says so.
 */
export class SignInAgainError extends AuthenticationError {
  constructor(why: string) {
    super(
      `${why} Sign in to the portal again (sign out, then sign in) and run the template again; ` +
        'the form then asks Entra for a fresh token.',
    );
  }
}

/** The AADSTS code of an Entra error message, e.g. `AADSTS50173`, if any. */
export function aadstsCode(message: unknown): string | undefined {
  return /AADSTS\d+/.exec(String(message ?? ''))?.[0];
}
