import { EntraAppCredential } from '@internal/entra-credentials';
import type { DoctorCheck } from './doctor';

/** A credential expiring within this many days is reported as a warning. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

function daysLeft(date: Date, now: number): number {
  return Math.floor((date.getTime() - now) / DAY_MS);
}

/** `ok` and `warning` for something valid until `end`. */
function expiryStatus(end: Date, now: number) {
  const days = daysLeft(end, now);
  return {
    ok: end.getTime() > now,
    warning: end.getTime() > now && days < EXPIRY_WARNING_DAYS,
    days,
  };
}

/**
 * Which credential is in use, read from its file: for a certificate its
 * thumbprint and expiry, for a federated token its issuer, subject and
 * expiry (decoded, never printed). Nothing secret is shown.
 */
export function credentialCheck(
  credential: EntraAppCredential,
  now = Date.now(),
): DoctorCheck {
  const d = credential.describe();
  const from = d.path ? `${d.key} = ${d.path}` : d.key;
  if (d.kind === 'certificate') {
    const { ok, warning, days } = expiryStatus(d.notAfter!, now);
    let advice = '';
    if (!ok) {
      advice = ': expired; create a new certificate and register it on the app';
    } else if (warning) {
      advice = ` (${days} days left): create the next certificate and register it beside this one`;
    }
    return {
      name: 'credential',
      ok,
      warning,
      detail: `certificate from ${from}: thumbprint ${d.thumbprint}, ${
        d.subject
      }, valid until ${d.notAfter!.toISOString()}${advice}`,
    };
  }
  if (d.kind === 'federated') {
    const ok = d.tokenExpiresAt!.getTime() > now;
    return {
      name: 'credential',
      ok,
      detail: `federated token from ${from}: issuer ${d.tokenIssuer}, subject ${
        d.tokenSubject
      }, expires ${d.tokenExpiresAt!.toISOString()}${
        ok
          ? ''
          : ': expired; the file is not being refreshed (check the projected service-account token volume)'
      }`,
    };
  }
  return { name: 'credential', ok: true, detail: `client secret from ${from}` };
}

interface GraphApplication {
  passwordCredentials?: Array<{
    displayName?: string | null;
    hint?: string | null;
    endDateTime?: string | null;
  }>;
  keyCredentials?: Array<{
    displayName?: string | null;
    customKeyIdentifier?: string | null;
    endDateTime?: string | null;
  }>;
}

/**
 * The expiry Entra has on record for the app's secrets and certificates
 * (Graph `applications(appId=...)`): a secret's lifetime is only known there.
 * The secret in use is found by its hint (its first three characters), the
 * certificate by its thumbprint; every other registered one is listed so
 * the next rotation is not a surprise.
 */
export async function credentialExpiryCheck(
  credential: EntraAppCredential,
  graphUrl: string,
  accessToken: string,
  now = Date.now(),
): Promise<DoctorCheck> {
  const name = 'credential expiry';
  if (credential.kind === 'federated') {
    return {
      name,
      ok: true,
      detail: 'a federated identity credential does not expire',
    };
  }
  const url = `${graphUrl}/applications(appId='${credential.clientId}')?$select=passwordCredentials,keyCredentials`;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
  } catch (error) {
    return {
      name,
      ok: false,
      detail: `${graphUrl} cannot be reached (${(error as Error).message})`,
    };
  }
  if (res.status === 403) {
    return {
      name,
      ok: true,
      warning: true,
      detail:
        'Graph refused to read the app registration (403): to let the doctor report when the credential expires, grant the app the application permission Application.Read.All (API permissions → Microsoft Graph → Application, admin consent)',
    };
  }
  if (!res.ok) {
    return {
      name,
      ok: false,
      detail: `${graphUrl}/applications answered ${res.status}`,
    };
  }
  const application = (await res.json()) as GraphApplication;
  const listed =
    credential.kind === 'secret'
      ? (application.passwordCredentials ?? []).map(p => ({
          label: `secret ${p.displayName ?? ''} (${p.hint ?? '?'}…)`.replace(
            '  ',
            ' ',
          ),
          inUse: !!p.hint && secretStartsWith(credential, p.hint),
          end: p.endDateTime ? new Date(p.endDateTime) : undefined,
        }))
      : (application.keyCredentials ?? []).map(k => ({
          label: `certificate ${k.customKeyIdentifier ?? k.displayName ?? ''}`,
          inUse:
            k.customKeyIdentifier?.toUpperCase() ===
            credential.describe().thumbprint,
          end: k.endDateTime ? new Date(k.endDateTime) : undefined,
        }));
  const inUse = listed.find(l => l.inUse);
  if (!inUse && credential.kind === 'certificate') {
    return {
      name,
      ok: false,
      detail: `the certificate ${
        credential.describe().thumbprint
      } is not registered on the app; registered: ${
        describeAll(listed) || 'none'
      }`,
    };
  }
  if (!inUse) {
    return {
      name,
      ok: listed.length > 0,
      warning: listed.length > 0,
      detail: listed.length
        ? `the secret in use is not among the app's secrets by its hint; registered: ${describeAll(
            listed,
          )}`
        : 'the app has no client secret registered',
    };
  }
  const others = listed.filter(l => l !== inUse);
  if (!inUse.end) {
    return { name, ok: true, detail: `${inUse.label} has no end date` };
  }
  const { ok, warning, days } = expiryStatus(inUse.end, now);
  return {
    name,
    ok,
    warning,
    detail: `${inUse.label}, in use, expires ${inUse.end.toISOString()} (${
      ok ? `${days} days left` : 'expired'
    })${
      warning
        ? ': create the next one now and switch to it before it expires'
        : ''
    }${others.length ? `; also registered: ${describeAll(others)}` : ''}`,
  };
}

function describeAll(listed: Array<{ label: string; end?: Date }>): string {
  return listed
    .map(l => `${l.label} until ${l.end?.toISOString() ?? 'no end date'}`)
    .join(', ');
}

function secretStartsWith(credential: EntraAppCredential, hint: string) {
  const auth = credential.msalAuth();
  return 'clientSecret' in auth && auth.clientSecret.startsWith(hint);
}
