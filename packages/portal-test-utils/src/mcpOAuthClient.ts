import fs from 'node:fs';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPClientTransportOptions,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { EntraEmulator } from '@internal/entra-emulator';

/**
 * Where an agent's client ID metadata document (CIMD) is served. Backstage
 * and the MCP SDK both insist on https for a client_id URL (http localhost
 * passes Backstage only under NODE_ENV=development, and never the SDK), so
 * the document is served over TLS with the emulator's localhost certificate,
 * whose CA the test process already trusts.
 */
export interface AgentClientHost {
  /** The client_id: the document's https URL. */
  clientId: string;
  /** The loopback redirect URI the document registers (nothing listens). */
  redirectUrl: string;
  /** The client name the document declares (what consent shows). */
  clientName: string;
  close(): Promise<void>;
}

/**
 * Serves one agent's client ID metadata document at
 * `https://localhost:<port>/agents/<slug>/client.json`.
 */
export async function startAgentClientHost(
  emulator: EntraEmulator,
  clientName: string,
): Promise<AgentClientHost> {
  // The emulator keeps its localhost leaf next to the CA it generated.
  const dir = path.dirname(emulator.caCertPath);
  const server = https.createServer({
    cert: fs.readFileSync(path.join(dir, 'localhost.pem')),
    key: fs.readFileSync(path.join(dir, 'localhost-key.pem')),
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const slug = clientName.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const clientId = `https://localhost:${port}/agents/${slug}/client.json`;
  const redirectUrl = 'http://127.0.0.1:33418/callback';
  const document = {
    client_id: clientId,
    client_name: clientName,
    redirect_uris: [redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  server.on('request', (req, res) => {
    if (req.url === new URL(clientId).pathname) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(document));
    } else {
      res.writeHead(404).end();
    }
  });
  return {
    clientId,
    redirectUrl,
    clientName,
    close: () =>
      new Promise<void>(r => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * An OAuth client provider for the SDK that keeps everything in memory and,
 * instead of opening a browser, records the authorization URL for the test
 * to walk.
 */
export class HeadlessOAuthProvider implements OAuthClientProvider {
  authorizationUrl?: URL;
  private savedTokens?: OAuthTokens;
  private client?: OAuthClientInformationMixed;
  private verifier?: string;
  private readonly expectedState = crypto.randomUUID();

  constructor(private readonly host: AgentClientHost) {}

  get clientMetadataUrl() {
    return this.host.clientId;
  }
  get redirectUrl() {
    return this.host.redirectUrl;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.host.clientName,
      redirect_uris: [this.host.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    return this.expectedState;
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }
  saveClientInformation(client: OAuthClientInformationMixed) {
    // With CIMD the SDK saves { client_id: clientMetadataUrl }.
    this.client = client;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    if (!this.verifier) throw new Error('No PKCE verifier saved');
    return this.verifier;
  }
  /** The `code` of a redirect URL, after checking its `state`. */
  codeFrom(redirect: string): string {
    const url = new URL(redirect);
    const error = url.searchParams.get('error');
    if (error) {
      throw new Error(
        `Authorization refused: ${error} ${url.searchParams.get(
          'error_description',
        )}`,
      );
    }
    if (url.searchParams.get('state') !== this.expectedState) {
      throw new Error('Authorization redirect carries another state');
    }
    const code = url.searchParams.get('code');
    if (!code) throw new Error(`No code in ${url.origin}${url.pathname}`);
    return code;
  }
}

/**
 * Approves an authorization session as the person would on the consent page
 * and returns the redirect URL (with `code`) the page would send the agent to.
 */
export type ApproveSession = (sessionId: string) => Promise<string>;

/** An MCP client connected as an agent, and what it holds. */
export interface ConnectedAgent {
  client: Client;
  provider: HeadlessOAuthProvider;
  /** The authorization session the person approved. */
  sessionId: string;
  close(): Promise<void>;
}

/**
 * Connects an MCP client (the official SDK) to the portal's MCP server as an
 * agent: the SDK discovers the portal's OAuth server, the authorization URL
 * is walked without a browser, the person's approval comes from `approve`,
 * and the SDK redeems the code (PKCE) and connects with the token.
 */
export async function connectAgent(options: {
  baseUrl: string;
  host: AgentClientHost;
  approve: ApproveSession;
  transport?: StreamableHTTPClientTransportOptions;
}): Promise<ConnectedAgent> {
  const { baseUrl, host, approve } = options;
  const url = new URL(`${baseUrl}/api/mcp-actions/v1`);
  const provider = new HeadlessOAuthProvider(host);
  const newTransport = () =>
    new StreamableHTTPClientTransport(url, {
      ...options.transport,
      authProvider: provider,
    });
  const newClient = () =>
    new Client({ name: host.clientName, version: '1.0.0' });

  const first = newTransport();
  try {
    await newClient().connect(first);
    throw new Error('The MCP server accepted a client without a token');
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  if (!provider.authorizationUrl) {
    throw new Error('The SDK did not start authorization');
  }
  const authorize = await fetch(provider.authorizationUrl, {
    redirect: 'manual',
  });
  const consentUrl = authorize.headers.get('location');
  if (authorize.status !== 302 || !consentUrl) {
    throw new Error(
      `Authorize answered ${authorize.status}: ${await authorize.text()}`,
    );
  }
  // An error goes back to the agent's redirect URI; success to consent.
  const sessionId = /\/oauth2\/authorize\/([^/?#]+)$/.exec(
    new URL(consentUrl).pathname,
  )?.[1];
  if (!sessionId) provider.codeFrom(consentUrl);
  const code = provider.codeFrom(await approve(sessionId!));
  await first.finishAuth(code);
  await first.close();

  const client = newClient();
  await client.connect(newTransport());
  return {
    client,
    provider,
    sessionId: sessionId!,
    close: () => client.close(),
  };
}

/**
 * The person's approval through upstream's consent API, as the consent page
 * calls it with the person's Backstage token.
 */
export function approveAs(baseUrl: string, token: string): ApproveSession {
  return async sessionId => {
    const res = await fetch(
      `${baseUrl}/api/auth/v1/sessions/${sessionId}/approve`,
      { method: 'POST', headers: { authorization: `Bearer ${token}` } },
    );
    const body = await res.json();
    if (res.status !== 200) {
      throw new Error(
        `Approve answered ${res.status}: ${JSON.stringify(body)}`,
      );
    }
    return body.redirectUrl;
  };
}
