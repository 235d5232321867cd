import { randomUUID } from 'node:crypto';
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  TokenCredential,
} from '@azure/identity';
import { SignJWT } from 'jose';
import { ClientCertificate } from './certificate';
import { FederatedToken } from './federatedToken';
import { RotatingTokenCredential } from './rotatingTokenCredential';

/** How the portal's Entra app proves who it is at the token endpoint. */
export type EntraCredentialKind = 'secret' | 'certificate' | 'federated';

/** What a log line or `yarn doctor` may show of a credential: never its material. */
export interface EntraCredentialDescription {
  kind: EntraCredentialKind;
  /** The config key (or variable) it was read from. */
  key: string;
  /** The file it is read from, when it is a file. */
  path?: string;
  /** Certificate: SHA-1 thumbprint, upper-case hex, as Entra lists it. */
  thumbprint?: string;
  /** Certificate: its subject. */
  subject?: string;
  /** Certificate: the end of its validity. */
  notAfter?: Date;
  /** Federated: the current token's issuer, subject and expiry. */
  tokenIssuer?: string;
  tokenSubject?: string;
  tokenExpiresAt?: Date;
}

/** The `auth` options `@azure/msal-node` takes for each kind (besides clientId and authority). */
export type MsalCredentialAuth =
  | { clientSecret: string }
  | {
      clientCertificate: {
        thumbprintSha256: string;
        privateKey: string;
        x5c?: string;
      };
    }
  | { clientAssertion: () => Promise<string> };

/** Options for the `@azure/identity` credential built from this one. */
export interface AzureIdentityOptions {
  authorityHost?: string;
  disableInstanceDiscovery?: boolean;
}

/** Lifetime of a certificate assertion: Entra refuses ones valid for long. */
const ASSERTION_LIFETIME_SECONDS = 5 * 60;

/**
 * The portal's Entra app credential, one of a client secret (inline or from
 * a file), a certificate, or a federated workload identity token. Files are
 * re-read when they change; {@link EntraAppCredential.currentVersion} tells
 * consumers that cache an MSAL or `@azure/identity` object built from it
 * when to build a new one.
 */
export interface EntraAppCredential {
  readonly kind: EntraCredentialKind;
  readonly clientId: string;
  /**
   * Changes when the secret or certificate was replaced (checked with a
   * `stat` of the file, cheap). A federated token's own refresh does not
   * change it: every use reads the current token anyway.
   */
  currentVersion(): number;
  describe(): EntraCredentialDescription;
  /**
   * The client authentication parameters of a token request to
   * `tokenEndpoint`: `client_secret`, or a `client_assertion` (a fresh
   * certificate-signed JWT for that endpoint, or the current federated token).
   */
  tokenEndpointAuth(tokenEndpoint: string): Promise<Record<string, string>>;
  /** The `auth` part of an MSAL confidential client configuration. */
  msalAuth(): MsalCredentialAuth;
  /**
   * An `@azure/identity` credential that follows rotation: it builds a new
   * inner credential when {@link EntraAppCredential.currentVersion} changes.
   */
  azureIdentityCredential(
    tenantId: string,
    options?: AzureIdentityOptions,
  ): TokenCredential;
}

/** One line for logs: kind, where from, and for a certificate its thumbprint and expiry. */
export function describeCredentialText(d: EntraCredentialDescription): string {
  const parts: string[] = [`${d.kind} from ${d.key}`];
  if (d.path) parts.push(`file ${d.path}`);
  if (d.thumbprint) parts.push(`thumbprint ${d.thumbprint}`);
  if (d.notAfter) parts.push(`valid until ${d.notAfter.toISOString()}`);
  if (d.tokenIssuer) parts.push(`token issuer ${d.tokenIssuer}`);
  if (d.tokenSubject) parts.push(`subject ${d.tokenSubject}`);
  if (d.tokenExpiresAt)
    parts.push(`token expires ${d.tokenExpiresAt.toISOString()}`);
  return parts.join(', ');
}

/** Where a credential's material comes from: a fixed value or a watched file. */
export interface CredentialSource<T> {
  readonly path?: string;
  current(): { value: T; version: number };
}

abstract class BaseCredential<T> implements EntraAppCredential {
  abstract readonly kind: EntraCredentialKind;

  constructor(
    readonly clientId: string,
    protected readonly key: string,
    protected readonly source: CredentialSource<T>,
  ) {}

  currentVersion(): number {
    return this.source.current().version;
  }

  protected get material(): T {
    return this.source.current().value;
  }

  abstract describe(): EntraCredentialDescription;
  abstract tokenEndpointAuth(
    tokenEndpoint: string,
  ): Promise<Record<string, string>>;
  abstract msalAuth(): MsalCredentialAuth;
  protected abstract buildAzureIdentity(
    tenantId: string,
    options: AzureIdentityOptions,
  ): TokenCredential;

  azureIdentityCredential(
    tenantId: string,
    options: AzureIdentityOptions = {},
  ): TokenCredential {
    return new RotatingTokenCredential(
      () => this.currentVersion(),
      () => this.buildAzureIdentity(tenantId, options),
    );
  }
}

/** A client secret, from config or from a file (e.g. a mounted Kubernetes Secret). */
export class SecretCredential extends BaseCredential<string> {
  readonly kind = 'secret' as const;

  describe(): EntraCredentialDescription {
    return { kind: this.kind, key: this.key, path: this.source.path };
  }

  async tokenEndpointAuth() {
    return { client_secret: this.material };
  }

  msalAuth(): MsalCredentialAuth {
    return { clientSecret: this.material };
  }

  protected buildAzureIdentity(
    tenantId: string,
    options: AzureIdentityOptions,
  ) {
    return new ClientSecretCredential(
      tenantId,
      this.clientId,
      this.material,
      options,
    );
  }
}

/** A certificate whose private key signs a client assertion per token request. */
export class CertificateCredential extends BaseCredential<ClientCertificate> {
  readonly kind = 'certificate' as const;

  constructor(
    clientId: string,
    key: string,
    source: CredentialSource<ClientCertificate>,
    /** Send the chain (`x5c`) for subject name + issuer authentication. */
    private readonly sendX5c: boolean,
  ) {
    super(clientId, key, source);
  }

  describe(): EntraCredentialDescription {
    const cert = this.material;
    return {
      kind: this.kind,
      key: this.key,
      path: this.source.path,
      thumbprint: cert.thumbprintSha1Hex,
      subject: cert.subject,
      notAfter: cert.notAfter,
    };
  }

  async tokenEndpointAuth(tokenEndpoint: string) {
    const cert = this.material;
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({
        alg: 'PS256',
        typ: 'JWT',
        x5t: cert.x5t,
        'x5t#S256': cert.x5tS256,
        ...(this.sendX5c && { x5c: cert.x5c }),
      })
      .setIssuer(this.clientId)
      .setSubject(this.clientId)
      .setAudience(tokenEndpoint)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
      .sign(cert.privateKey);
    return {
      client_assertion_type:
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
  }

  msalAuth(): MsalCredentialAuth {
    const cert = this.material;
    return {
      clientCertificate: {
        thumbprintSha256: cert.thumbprintSha256Hex,
        privateKey: cert.privateKeyPem,
        ...(this.sendX5c && { x5c: cert.certificatesPem.join('\n') }),
      },
    };
  }

  protected buildAzureIdentity(
    tenantId: string,
    options: AzureIdentityOptions,
  ) {
    const cert = this.material;
    return new ClientCertificateCredential(
      tenantId,
      this.clientId,
      { certificate: [cert.privateKeyPem, ...cert.certificatesPem].join('\n') },
      { ...options, sendCertificateChain: this.sendX5c },
    );
  }
}

/**
 * A federated workload identity token (e.g. a projected Kubernetes
 * service-account token) that Entra trusts through the app's federated
 * identity credential. The file is refreshed by its issuer (the kubelet);
 * each use reads the current token.
 */
export class FederatedCredential extends BaseCredential<FederatedToken> {
  readonly kind = 'federated' as const;

  override currentVersion(): number {
    // Touch the file so a refresh is picked up, but keep clients: they ask
    // for the current token on every request.
    this.source.current();
    return 1;
  }

  describe(): EntraCredentialDescription {
    const token = this.material;
    return {
      kind: this.kind,
      key: this.key,
      path: this.source.path,
      tokenIssuer: token.issuer,
      tokenSubject: token.subject,
      tokenExpiresAt: token.expiresAt,
    };
  }

  async tokenEndpointAuth() {
    return {
      client_assertion_type:
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: this.material.token,
    };
  }

  msalAuth(): MsalCredentialAuth {
    return { clientAssertion: async () => this.material.token };
  }

  protected buildAzureIdentity(
    tenantId: string,
    options: AzureIdentityOptions,
  ) {
    return new ClientAssertionCredential(
      tenantId,
      this.clientId,
      async () => this.material.token,
      options,
    );
  }
}
