import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { ClientCertificate, parseClientCertificate } from './certificate';
import {
  CertificateCredential,
  CredentialSource,
  describeCredentialText,
  EntraAppCredential,
  FederatedCredential,
  SecretCredential,
} from './credential';
import {
  DEFAULT_FEDERATED_AUDIENCE,
  FederatedToken,
  parseFederatedToken,
} from './federatedToken';
import { CredentialLogger, WatchedFile } from './watchedFile';

/** The config keys that each select one kind of credential. */
export const CREDENTIAL_KEYS = [
  'clientSecret',
  'clientSecretFile',
  'clientCertificatePath',
  'federatedTokenFile',
] as const;

export type CredentialKey = (typeof CREDENTIAL_KEYS)[number];

/** Options of {@link readEntraAppCredential}. */
export interface ReadEntraAppCredentialOptions {
  /** The application (client) id the credential belongs to. */
  clientId: string;
  /**
   * How errors name a key: by default `<keyPrefix>.<key>`; `yarn doctor`
   * names the environment variables instead.
   */
  keyPrefix?: string;
  keyName?: (key: string) => string;
  /** Receives rotations and refused files; never credential material. */
  logger?: CredentialLogger;
}

const silentLogger: CredentialLogger = { info() {}, warn() {} };

/**
 * Reads the app credential from a provider's config block: exactly one of
 * `clientSecret`, `clientSecretFile`, `clientCertificatePath` (with
 * `clientCertificateSendX5c`) or `federatedTokenFile` (with
 * `federatedTokenAudience`). Files are read now, so a missing or wrong file
 * fails startup naming the key and the path (never the content), and again
 * whenever they change.
 */
export function readEntraAppCredential(
  config: Config,
  options: ReadEntraAppCredentialOptions,
): EntraAppCredential {
  const name =
    options.keyName ??
    ((key: string) =>
      options.keyPrefix ? `${options.keyPrefix}.${key}` : key);
  const logger = options.logger ?? silentLogger;
  // An empty value (a variable set to '') counts as not set.
  const value = (key: string) => {
    const raw = config.getOptional(key);
    if (raw === undefined || (typeof raw === 'string' && !raw.trim())) {
      return undefined;
    }
    return config.getString(key);
  };
  const set = CREDENTIAL_KEYS.filter(key => value(key) !== undefined);
  if (set.length === 0) {
    throw new InputError(
      `The portal's Entra app has no credential: set one of ${CREDENTIAL_KEYS.map(
        name,
      ).join(', ')} (docs/entra-setup.md, "Credentials without a secret").`,
    );
  }
  if (set.length > 1) {
    throw new InputError(
      `The portal's Entra app has more than one credential: ${set
        .map(name)
        .join(' and ')} are set; keep exactly one of them.`,
    );
  }
  const [key] = set;
  // The secret itself for clientSecret, a file path for the other keys.
  const configured = value(key)!;
  const watch = <T>(
    parse: (content: Buffer) => T,
    onChange: (v: T) => string,
  ) => {
    try {
      return new WatchedFile(configured, name(key), parse, logger, onChange);
    } catch (error) {
      throw new InputError((error as Error).message);
    }
  };

  switch (key) {
    case 'clientSecret':
      return new SecretCredential(options.clientId, name(key), {
        current: () => ({ value: configured, version: 1 }),
      });
    case 'clientSecretFile':
      return new SecretCredential(
        options.clientId,
        name(key),
        watch(readSecret, () => 'a new client secret'),
      );
    case 'clientCertificatePath': {
      const source = watch(readCertificate, cert =>
        describeCredentialText({
          kind: 'certificate',
          key: name(key),
          thumbprint: cert.thumbprintSha1Hex,
          notAfter: cert.notAfter,
        }),
      );
      const { notAfter } = source.current().value;
      if (notAfter.getTime() <= Date.now()) {
        throw new InputError(
          `${name(
            key,
          )} names ${configured}, whose certificate expired on ${notAfter.toISOString()}; ` +
            'create a new certificate, register it on the app registration and mount it there.',
        );
      }
      return new CertificateCredential(
        options.clientId,
        name(key),
        source,
        config.getOptionalBoolean('clientCertificateSendX5c') ?? false,
      );
    }
    case 'federatedTokenFile': {
      const audience =
        value('federatedTokenAudience') ?? DEFAULT_FEDERATED_AUDIENCE;
      const source: CredentialSource<FederatedToken> = watch(
        content => parseFederatedToken(content.toString('utf8'), audience),
        token =>
          `a token for ${
            token.subject
          }, expiring ${token.expiresAt.toISOString()}`,
      );
      return new FederatedCredential(options.clientId, name(key), source);
    }
    default:
      throw new Error(`unknown credential key ${key satisfies never}`);
  }
}

function readSecret(content: Buffer): string {
  // Secrets written with `echo` or an editor end in a newline Entra would
  // not accept as part of the secret.
  const secret = content.toString('utf8').trim();
  if (!secret) throw new Error('it is empty');
  return secret;
}

function readCertificate(content: Buffer): ClientCertificate {
  return parseClientCertificate(content.toString('utf8'));
}
