import { DeployCall, FaultRule, GraphRequest, TokenRequest } from '../types';

/** A federated identity credential as the admin route answers it. */
export interface FederatedCredentialInfo {
  id: string;
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

/** What `PATCH /_emulator/users/{id}` answers. */
export interface AccountState {
  id: string;
  accountEnabled: boolean;
}

/**
 * A typed client for the emulator's `/_emulator` admin routes, for tests that
 * drive an emulator in another process (Playwright, a started backend) as
 * well as in-process ones. Pass the emulator's `httpUrl` (or `httpsUrl`).
 */
export class EmulatorAdminClient {
  private readonly base: string;

  constructor(emulatorUrl: string | { httpUrl: string }) {
    const url =
      typeof emulatorUrl === 'string' ? emulatorUrl : emulatorUrl.httpUrl;
    this.base = `${url.replace(/\/+$/, '')}/_emulator`;
  }

  /**
   * Disables an account (object id or UPN): its sign-in and refresh tokens are
   * refused with AADSTS50057 and Graph shows `accountEnabled: false`.
   */
  disableAccount(idOrUpn: string): Promise<AccountState> {
    return this.setAccountEnabled(idOrUpn, false);
  }

  /** Re-enables an account; its unspent refresh tokens work again. */
  enableAccount(idOrUpn: string): Promise<AccountState> {
    return this.setAccountEnabled(idOrUpn, true);
  }

  async setAccountEnabled(
    idOrUpn: string,
    accountEnabled: boolean,
  ): Promise<AccountState> {
    return this.call('PATCH', `/users/${encodeURIComponent(idOrUpn)}`, {
      accountEnabled,
    });
  }

  /**
   * Disables or re-enables a seeded service principal (object id, app id or
   * seed key, e.g. `payments-pipeline`): a disabled one gets no tokens
   * (AADSTS7000112) and Graph shows `accountEnabled: false`.
   */
  async setServicePrincipalEnabled(
    idOrAppId: string,
    accountEnabled: boolean,
  ): Promise<{ id: string; appId: string; accountEnabled: boolean }> {
    return this.call(
      'PATCH',
      `/servicePrincipals/${encodeURIComponent(idOrAppId)}`,
      { accountEnabled },
    );
  }

  async setFaults(faults: FaultRule[]): Promise<FaultRule[]> {
    return (await this.call('POST', '/faults', { faults })).faults;
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  async deployCalls(): Promise<DeployCall[]> {
    return (await this.call('GET', '/deploy-calls')).calls;
  }

  async clearDeployCalls(): Promise<void> {
    await this.call('DELETE', '/deploy-calls');
  }

  /** Graph requests the emulator received, oldest first. */
  async graphRequests(): Promise<GraphRequest[]> {
    return (await this.call('GET', '/graph-requests')).requests;
  }

  async clearGraphRequests(): Promise<void> {
    await this.call('DELETE', '/graph-requests');
  }

  /** Token endpoint requests, oldest first (never a secret or assertion). */
  async tokenRequests(): Promise<TokenRequest[]> {
    return (await this.call('GET', '/token-requests')).requests;
  }

  /**
   * Registers a certificate (PEM, public part only) on an app (appId or seed
   * key, e.g. `portal`); its key may then sign client assertions.
   * Answers the SHA-1 thumbprint, hex upper case, as Graph's
   * `customKeyIdentifier`.
   */
  async addAppCertificate(
    clientId: string,
    certificatePem: string,
  ): Promise<{ thumbprint: string }> {
    return this.call(
      'POST',
      `/apps/${encodeURIComponent(clientId)}/certificates`,
      {
        certificatePem,
      },
    );
  }

  /** Removes a certificate: assertions signed with its key are refused at once. */
  async removeAppCertificate(
    clientId: string,
    thumbprint: string,
  ): Promise<void> {
    await this.call(
      'DELETE',
      `/apps/${encodeURIComponent(clientId)}/certificates/${encodeURIComponent(
        thumbprint,
      )}`,
    );
  }

  /**
   * Trusts tokens of `issuer` about `subject` (workload identity
   * federation); `audiences` default to `api://AzureADTokenExchange`.
   */
  async addFederatedCredential(
    clientId: string,
    credential: {
      issuer: string;
      subject: string;
      audiences?: string[];
      name?: string;
    },
  ): Promise<FederatedCredentialInfo> {
    return this.call(
      'POST',
      `/apps/${encodeURIComponent(clientId)}/federated-credentials`,
      credential,
    );
  }

  async clearFederatedCredentials(clientId: string): Promise<void> {
    await this.call(
      'DELETE',
      `/apps/${encodeURIComponent(clientId)}/federated-credentials`,
    );
  }

  /** Removes every client secret of the app: it then has none at all. */
  async removeClientSecrets(clientId: string): Promise<void> {
    await this.call(
      'DELETE',
      `/apps/${encodeURIComponent(clientId)}/client-secrets`,
    );
  }

  /** Adds a client secret (generated unless `value` is given; expiry default two years). */
  async addClientSecret(
    clientId: string,
    opts: { value?: string; endDateTime?: string } = {},
  ): Promise<{ value: string; endDateTime: string }> {
    return this.call(
      'POST',
      `/apps/${encodeURIComponent(clientId)}/client-secrets`,
      opts,
    );
  }

  private async call(method: string, path: string, body?: unknown) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        message = JSON.parse(text).error?.message ?? text;
      } catch {
        // not JSON; keep the text
      }
      throw new Error(
        `Emulator admin ${method} ${path} answered ${res.status}: ${message}`,
      );
    }
    return res.status === 204 ? undefined : res.json();
  }
}
