import {
  DeployCall,
  FaultRule,
  GraphRequest,
  TokenRequest,
} from '../types';

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
