import { randomBytes, randomUUID } from 'node:crypto';
import { deterministicGuid } from '../seed/guid';
import { LoadedSeedApp, SeedFederatedIdentityCredential } from '../types';
import { parseCertificate, ParsedCertificate } from './certificates';

/** The audience Entra expects in federated tokens unless told otherwise. */
export const DEFAULT_FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';

const TWO_YEARS_MS = 2 * 365 * 24 * 3600 * 1000;

/** A client secret (Graph's `passwordCredential`, plus its value). */
export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  value: string;
  startDateTime: string;
  endDateTime: string;
}

/** A registered certificate (Graph's `keyCredential`). */
export interface KeyCredential extends ParsedCertificate {
  keyId: string;
  displayName: string;
}

/** A federated identity credential (Graph's `federatedIdentityCredential`). */
export interface FederatedIdentityCredential {
  id: string;
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  description: string | null;
}

/** Everything an application may authenticate with, changeable at runtime. */
export interface AppCredentials {
  app: LoadedSeedApp;
  /** Graph's object id of the application (not its appId). */
  objectId: string;
  passwords: PasswordCredential[];
  keys: KeyCredential[];
  federated: FederatedIdentityCredential[];
}

/** Why a credential change was refused (the admin routes answer 400/404). */
export class CredentialChangeError extends Error {
  constructor(message: string, readonly status: 400 | 404 = 400) {
    super(message);
  }
}

/**
 * The credentials of every seeded application, as an Entra admin manages
 * them under "Certificates & secrets": seeded at start, then added and
 * removed through the admin routes while the emulator runs.
 */
export class CredentialStore {
  private readonly byClientId = new Map<string, AppCredentials>();

  constructor(apps: LoadedSeedApp[], startedAt = new Date()) {
    for (const app of apps) {
      const creds: AppCredentials = {
        app,
        objectId: deterministicGuid(`application/${app.clientId}`),
        passwords: [],
        keys: [],
        federated: [],
      };
      this.byClientId.set(app.clientId.toLowerCase(), creds);
      for (const s of app.clientSecretDetails) {
        creds.passwords.push(
          newPassword(s.value, startedAt, s.endDateTime, s.displayName),
        );
      }
      for (const [i, c] of (app.certificates ?? []).entries()) {
        try {
          this.addCertificate(app.clientId, c?.certificatePem, c?.displayName);
        } catch (e) {
          throw new Error(
            `Seed app '${app.key}' certificates[${i}]: ${(e as Error).message}`,
          );
        }
      }
      for (const f of app.federatedIdentityCredentials ?? []) {
        this.addFederated(app.clientId, f);
      }
    }
  }

  /** The credentials of an app by appId, seed key (`portal`) or Graph object id. */
  find(idOrKey: string): AppCredentials | undefined {
    const lower = idOrKey.toLowerCase();
    const direct = this.byClientId.get(lower);
    if (direct) return direct;
    return [...this.byClientId.values()].find(
      c => c.app.key.toLowerCase() === lower || c.objectId === lower,
    );
  }

  all(): AppCredentials[] {
    return [...this.byClientId.values()];
  }

  private require(idOrKey: string): AppCredentials {
    const creds = this.find(idOrKey);
    if (!creds) {
      throw new CredentialChangeError(
        `No application '${idOrKey}': use a seeded app's appId or key.`,
        404,
      );
    }
    return creds;
  }

  addCertificate(
    idOrKey: string,
    certificatePem: string,
    displayName?: string,
  ): KeyCredential {
    const creds = this.require(idOrKey);
    const parsed = parseCertificate(certificatePem);
    const existing = creds.keys.find(
      k => k.thumbprintSha1Hex === parsed.thumbprintSha1Hex,
    );
    if (existing) return existing;
    const key: KeyCredential = {
      ...parsed,
      keyId: randomUUID(),
      displayName: displayName ?? parsed.subject,
    };
    creds.keys.push(key);
    return key;
  }

  /** Removes a certificate by SHA-1 thumbprint (hex, any case) or keyId. */
  removeCertificate(idOrKey: string, thumbprintOrKeyId: string): void {
    const creds = this.require(idOrKey);
    const wanted = thumbprintOrKeyId.replace(/:/g, '').toUpperCase();
    const index = creds.keys.findIndex(
      k => k.thumbprintSha1Hex === wanted || k.keyId.toUpperCase() === wanted,
    );
    if (index < 0) {
      throw new CredentialChangeError(
        `Application '${creds.app.clientId}' has no certificate '${thumbprintOrKeyId}'.`,
        404,
      );
    }
    creds.keys.splice(index, 1);
  }

  addFederated(
    idOrKey: string,
    fic: SeedFederatedIdentityCredential,
  ): FederatedIdentityCredential {
    const creds = this.require(idOrKey);
    if (typeof fic?.issuer !== 'string' || !fic.issuer) {
      throw new CredentialChangeError('issuer is required.');
    }
    if (typeof fic.subject !== 'string' || !fic.subject) {
      throw new CredentialChangeError('subject is required.');
    }
    const audiences = fic.audiences ?? [DEFAULT_FEDERATED_AUDIENCE];
    if (
      !Array.isArray(audiences) ||
      audiences.length === 0 ||
      audiences.some(a => typeof a !== 'string' || !a)
    ) {
      throw new CredentialChangeError(
        'audiences must be a non-empty list of strings.',
      );
    }
    const credential: FederatedIdentityCredential = {
      id: randomUUID(),
      name: fic.name ?? `fic-${creds.federated.length + 1}`,
      issuer: fic.issuer,
      subject: fic.subject,
      audiences: [...audiences],
      description: null,
    };
    creds.federated.push(credential);
    return credential;
  }

  clearFederated(idOrKey: string): void {
    this.require(idOrKey).federated.length = 0;
  }

  /** Removes every client secret: the app then has none at all. */
  removeSecrets(idOrKey: string): void {
    this.require(idOrKey).passwords.length = 0;
  }

  addSecret(
    idOrKey: string,
    opts: { value?: string; endDateTime?: string; displayName?: string } = {},
  ): PasswordCredential {
    const creds = this.require(idOrKey);
    if (
      opts.value !== undefined &&
      (typeof opts.value !== 'string' || !opts.value)
    ) {
      throw new CredentialChangeError('value must be a non-empty string.');
    }
    if (
      opts.endDateTime !== undefined &&
      Number.isNaN(Date.parse(opts.endDateTime))
    ) {
      throw new CredentialChangeError('endDateTime must be an ISO 8601 date.');
    }
    const password = newPassword(
      // Shaped like Entra's generated secrets: 40 characters, `~` after the hint.
      opts.value ?? generatedSecretValue(),
      new Date(),
      opts.endDateTime,
      opts.displayName,
    );
    creds.passwords.push(password);
    return password;
  }
}

function newPassword(
  value: string,
  start: Date,
  endDateTime?: string,
  displayName?: string,
): PasswordCredential {
  return {
    keyId: randomUUID(),
    displayName: displayName ?? null,
    value,
    startDateTime: start.toISOString(),
    endDateTime: endDateTime
      ? new Date(endDateTime).toISOString()
      : new Date(start.getTime() + TWO_YEARS_MS).toISOString(),
  };
}

function generatedSecretValue(): string {
  const body = randomBytes(30).toString('base64url').replace(/[-_]/g, 'x');
  return `${body.slice(0, 3)}8Q~${body.slice(3, 37)}`;
}
