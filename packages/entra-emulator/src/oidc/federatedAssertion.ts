import { compactVerify, errors as joseErrors } from 'jose';
import { AppCredentials } from '../credentials/appCredentials';
import {
  audiencesOf,
  checkAssertionTime,
  DecodedAssertion,
} from './assertionClaims';
import { aadsts } from './errors';
import { ExternalIssuerError, ExternalIssuerKeys } from './externalIssuerKeys';

/**
 * Verifies a token of an external issuer presented as client assertion
 * (workload identity federation), in Entra's order: a federated identity
 * credential of the app names the token's `iss` (AADSTS700211); the
 * issuer's published keys verify the signature (AADSTS50166 when they cannot
 * be read, AADSTS7000272 when the key id is not among them); the token is
 * within its lifetime (AADSTS700024); a credential of that issuer names its
 * `sub`, compared case-sensitively (AADSTS700213), and one of its `aud`
 * values (AADSTS700212).
 */
export async function verifyFederatedAssertion(
  issuerKeys: ExternalIssuerKeys,
  creds: AppCredentials,
  assertion: string,
  decoded: DecodedAssertion,
): Promise<void> {
  const { header, claims } = decoded;
  const issuer = typeof claims.iss === 'string' ? claims.iss : '';
  const byIssuer = creds.federated.filter(f => f.issuer === issuer);
  if (!issuer || byIssuer.length === 0) throw aadsts.federatedIssuer(issuer);

  let keys;
  try {
    keys = await issuerKeys.keysOf(issuer);
  } catch (e) {
    if (e instanceof ExternalIssuerError) throw aadsts.externalOidcFailed();
    throw e;
  }
  try {
    await compactVerify(assertion, keys, {
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384'],
    });
  } catch (e) {
    if (e instanceof joseErrors.JWKSNoMatchingKey) {
      throw aadsts.federatedKeyNotFound(String(header.kid ?? ''), issuer);
    }
    if (
      e instanceof joseErrors.JWSSignatureVerificationFailed ||
      e instanceof joseErrors.JWKSMultipleMatchingKeys ||
      e instanceof joseErrors.JOSEAlgNotAllowed
    ) {
      throw aadsts.federatedBadSignature(issuer);
    }
    if (e instanceof joseErrors.JWSInvalid) throw aadsts.malformedAssertion();
    // Anything else is the key set's fetch: unreachable, not 200, not JSON.
    throw aadsts.externalOidcFailed();
  }
  checkAssertionTime(claims);

  const subject = typeof claims.sub === 'string' ? claims.sub : '';
  const bySubject = byIssuer.filter(f => f.subject === subject);
  if (bySubject.length === 0) {
    const caseOnly = byIssuer.some(
      f => f.subject.toLowerCase() === subject.toLowerCase(),
    );
    throw caseOnly
      ? aadsts.federatedSubjectCase(subject)
      : aadsts.federatedSubject(subject);
  }
  const audiences = audiencesOf(claims);
  const matches = bySubject.some(f =>
    f.audiences.some(a => audiences.includes(a)),
  );
  if (!matches) throw aadsts.federatedAudience(audiences.join(', '));
}
