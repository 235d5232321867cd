import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import express, { NextFunction, Request, Response } from 'express';
import { EmulatorContext } from './context';
import {
  DeployCall,
  EmulatorSeed,
  FaultRule,
  GraphRequest,
  LoadedSeed,
  PipelineRun,
  TokenRequest,
} from './types';
import { loadSeed } from './seed/loadSeed';
import { Directory } from './seed/directory';
import { loadOrCreateDevTls } from './tls/devCa';
import { loadOrCreateSigningKey } from './oidc/signingKey';
import { ResourceRegistry } from './oidc/resources';
import { GrantStore } from './oidc/grantStore';
import { ExternalIssuerKeys } from './oidc/externalIssuerKeys';
import { CredentialStore } from './credentials/appCredentials';
import { createOidcRouter } from './oidc/router';
import { FaultSwitch } from './faults/faultSwitch';
import { faultMiddleware } from './faults/faultMiddleware';
import { createGraphRouter } from './graph/router';
import { graphRequestLog } from './graph/requestLog';
import { createDeployApiRouter, DEPLOY_SCOPE } from './deployApi/router';
import { createAdminRouter } from './admin/router';
import { createAzureDevOpsRouter } from './azureDevOps/router';
import { JwtClaims, signJwt } from './oidc/jwt';
import { PACKAGE_ROOT } from './paths';

/** Options of {@link createEntraEmulator}. */
export interface EntraEmulatorOptions {
  /** Plain HTTP port (browser-facing pages, plain clients). Default 8400; 0 picks a free port. */
  httpPort?: number;
  /** HTTPS port (token endpoints for MSAL/@azure/identity, Graph). Default 8401; 0 picks a free port. */
  httpsPort?: number;
  /** Path to a seed YAML or a seed object. Default: the bundled `seed/tenant.yaml`. */
  seed?: string | EmulatorSeed;
  /** Where the signing key and dev CA persist. Default `<repo>/.entra-emulator`. */
  dataDir?: string;
  /** Faults active from start. */
  faults?: FaultRule[];
  /** Lifetime of issued tokens. Default 3600. */
  tokenLifetimeSeconds?: number;
}

/** A running emulator. */
export interface EntraEmulator {
  tenantId: string;
  /** `http://localhost:<httpPort>` */
  httpUrl: string;
  /** `https://localhost:<httpsPort>` */
  httpsUrl: string;
  /** `${httpsUrl}/${tenantId}`: what MSAL and @azure/identity take. */
  authority: string;
  /** `${httpsUrl}/${tenantId}/v2.0` */
  issuer: string;
  /** The v2.0 discovery document URL (also served on httpUrl). */
  metadataUrl: string;
  /** `${httpsUrl}/v1.0` (Graph is also served on httpUrl). */
  graphBaseUrl: string;
  /** PEM of the development CA, for NODE_EXTRA_CA_CERTS. */
  caCertPath: string;
  apps: {
    portal: {
      clientId: string;
      /** The seed's first secret; still this value after `removeClientSecrets`, though refused then. */
      clientSecret: string;
      redirectUris: string[];
      apiScope: string;
    };
    deployApi: { clientId: string; scope: string };
  };
  /** Base URL of the sample deploy API. */
  deployApiUrl: string;
  /**
   * What stands in for `https://dev.azure.com`: organisations and projects
   * below it, e.g. `${azureDevOpsUrl}/contoso/portal/_apis/pipelines/7/runs`.
   */
  azureDevOpsUrl: string;
  /** The parsed seed (the start state; credentials changed at runtime are not written back). */
  seed: LoadedSeed;
  setFaults(rules: FaultRule[]): void;
  clearFaults(): void;
  /** Calls the deploy API recorded, oldest first. */
  deployCalls(): DeployCall[];
  /** Azure DevOps pipeline runs created, oldest first. */
  pipelineRuns(): PipelineRun[];
  /**
   * Requests the token endpoint received, oldest first (grant type, client,
   * scope; never a secret), e.g. to assert that no on-behalf-of exchange
   * (`urn:ietf:params:oauth:grant-type:jwt-bearer`) happened.
   */
  tokenRequests(): TokenRequest[];
  /**
   * Requests received under the Graph base path, oldest first (method, path
   * with query, time, calling client), e.g. to count the reads one
   * ingestion run made across replicas.
   */
  graphRequests(): GraphRequest[];
  /** Forgets the recorded Graph requests. */
  clearGraphRequests(): void;
  /**
   * Signs `claims` with the emulator's key, for tests that need a token
   * Entra would never issue as asked (expired, or altered claims) yet whose
   * signature verifies.
   */
  signToken(claims: JwtClaims): string;
  /**
   * Registers a certificate (PEM, public part) on an app (appId or seed key);
   * answers its SHA-1 thumbprint, hex upper case. Same as
   * `POST /_emulator/apps/:clientId/certificates`.
   */
  addAppCertificate(
    clientId: string,
    certificatePem: string,
  ): { thumbprint: string };
  /** Removes a certificate by SHA-1 thumbprint; its key is refused at once. */
  removeAppCertificate(clientId: string, thumbprint: string): void;
  /** Trusts an external issuer's tokens about `subject` (default audience `api://AzureADTokenExchange`). */
  addFederatedCredential(
    clientId: string,
    credential: {
      issuer: string;
      subject: string;
      audiences?: string[];
      name?: string;
    },
  ): void;
  clearFederatedCredentials(clientId: string): void;
  /** Removes every client secret of the app. */
  removeClientSecrets(clientId: string): void;
  /** Adds a client secret (generated unless given; expires in two years unless `endDateTime`). */
  addClientSecret(
    clientId: string,
    opts?: { value?: string; endDateTime?: string },
  ): { value: string; endDateTime: string };
  /** Changes the directory while running, as an Entra admin would; Graph answers follow. */
  directory: Pick<
    Directory,
    | 'addUser'
    | 'removeUser'
    | 'restoreUser'
    | 'purgeDeletedUser'
    | 'updateUser'
    | 'addGroup'
    | 'removeGroup'
    | 'addMember'
    | 'removeMember'
    | 'moveMember'
    | 'setAccountEnabled'
    | 'expireDeltaTokens'
  > & {
    /**
     * Disables or re-enables a seeded service principal (object id, app id
     * or seed key): Graph shows `accountEnabled`, and a disabled one gets no
     * tokens (AADSTS7000112).
     */
    setServicePrincipalEnabled(idOrAppId: string, enabled: boolean): void;
  };
  close(): Promise<void>;
}

/** `<repo>/.entra-emulator`, resolved from this package's location. */
export const DEFAULT_DATA_DIR = path.resolve(
  PACKAGE_ROOT,
  '..',
  '..',
  '.entra-emulator',
);

/** Loopback only: the emulator must never be reachable from another machine. */
const BIND_ADDRESS = '127.0.0.1';

/**
 * Starts an offline Microsoft Entra ID (OIDC v2.0) and Microsoft Graph v1.0
 * for a seeded home tenant (plus the seed's `otherTenants` for multi-tenant
 * sign-in), with a sample deploy API.
 */
export async function createEntraEmulator(
  options: EntraEmulatorOptions = {},
): Promise<EntraEmulator> {
  const seed = loadSeed(options.seed);
  const directory = new Directory(seed);
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  const tls = loadOrCreateDevTls(dataDir);
  const portal = requireApp(seed, 'portal');
  const deployApp = requireApp(seed, 'deployApi');
  // Optional, so seeds written before it existed still start.
  const azureDevOpsApp = seed.apps.find(a => a.key === 'azureDevOps');

  const ctx: EmulatorContext = {
    directory,
    key: loadOrCreateSigningKey(dataDir),
    resources: undefined as unknown as ResourceRegistry,
    urls: { httpUrl: '', httpsUrl: '', issuer: '', graphBaseUrl: '' },
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    grants: new GrantStore(),
    credentials: new CredentialStore([
      ...seed.apps,
      ...(seed.otherTenants ?? []).flatMap(t => t.apps),
    ]),
    issuerKeys: new ExternalIssuerKeys(),
    faults: new FaultSwitch(options.faults ?? []),
    deployCalls: [],
    pipelineRuns: [],
    tokenRequests: [],
    graphRequests: [],
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use('/_emulator', createAdminRouter(ctx));
  // Before faults, so that throttled and failed reads are counted too.
  app.use('/v1.0', graphRequestLog(ctx));
  app.use(faultMiddleware(ctx.faults));
  app.use('/v1.0', createGraphRouter(ctx));
  app.use('/deploy-api', createDeployApiRouter(ctx, deployApp));
  if (azureDevOpsApp) {
    app.use('/azure-devops', createAzureDevOpsRouter(ctx, azureDevOpsApp));
  }
  app.use(createOidcRouter(ctx));
  app.use((_req, res) => {
    res.status(404).json({
      error: { code: 'NotFound', message: 'No such emulator route.' },
    });
  });
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    res
      .status(500)
      .json({ error: { code: 'InternalServerError', message: err.message } });
  });

  const httpServer = http.createServer(app);
  const httpsServer = https.createServer(
    { cert: tls.certPem, key: tls.keyPem },
    app,
  );
  await listen(httpServer, options.httpPort ?? 8400);
  try {
    await listen(httpsServer, options.httpsPort ?? 8401);
  } catch (e) {
    await closeServer(httpServer);
    throw e;
  }
  const httpUrl = `http://localhost:${
    (httpServer.address() as AddressInfo).port
  }`;
  const httpsUrl = `https://localhost:${
    (httpsServer.address() as AddressInfo).port
  }`;
  const tenantId = directory.tenantId;
  Object.assign(ctx.urls, {
    httpUrl,
    httpsUrl,
    issuer: `${httpsUrl}/${tenantId}/v2.0`,
    graphBaseUrl: `${httpsUrl}/v1.0`,
  });
  ctx.resources = new ResourceRegistry(directory, [httpUrl, httpsUrl]);

  return {
    tenantId,
    httpUrl,
    httpsUrl,
    authority: `${httpsUrl}/${tenantId}`,
    issuer: ctx.urls.issuer,
    metadataUrl: `${httpsUrl}/${tenantId}/v2.0/.well-known/openid-configuration`,
    graphBaseUrl: ctx.urls.graphBaseUrl,
    caCertPath: tls.caCertPath,
    apps: {
      portal: {
        clientId: portal.clientId,
        clientSecret: portal.clientSecrets?.[0] ?? '',
        redirectUris: portal.redirectUris ?? [],
        apiScope: `api://${portal.clientId}/${
          portal.scopes?.[0]?.value ?? 'access_as_user'
        }`,
      },
      deployApi: {
        clientId: deployApp.clientId,
        scope: `api://${deployApp.clientId}/${DEPLOY_SCOPE}`,
      },
    },
    deployApiUrl: `${httpsUrl}/deploy-api`,
    azureDevOpsUrl: `${httpsUrl}/azure-devops`,
    seed,
    setFaults: rules => ctx.faults.set(rules),
    clearFaults: () => ctx.faults.clear(),
    deployCalls: () => [...ctx.deployCalls],
    pipelineRuns: () => ctx.pipelineRuns.map(r => ({ ...r })),
    tokenRequests: () => [...ctx.tokenRequests],
    graphRequests: () => ctx.graphRequests.map(r => ({ ...r })),
    clearGraphRequests: () => {
      ctx.graphRequests.length = 0;
    },
    signToken: claims => signJwt(ctx.key, claims),
    addAppCertificate: (clientId, pem) => ({
      thumbprint: ctx.credentials.addCertificate(clientId, pem)
        .thumbprintSha1Hex,
    }),
    removeAppCertificate: (clientId, thumbprint) =>
      ctx.credentials.removeCertificate(clientId, thumbprint),
    addFederatedCredential: (clientId, credential) => {
      ctx.credentials.addFederated(clientId, credential);
    },
    clearFederatedCredentials: clientId =>
      ctx.credentials.clearFederated(clientId),
    removeClientSecrets: clientId => ctx.credentials.removeSecrets(clientId),
    addClientSecret: (clientId, opts) => {
      const s = ctx.credentials.addSecret(clientId, opts);
      return { value: s.value, endDateTime: s.endDateTime };
    },
    directory: {
      addUser: (user, groupIds) => directory.addUser(user, groupIds),
      removeUser: (id, opts) => directory.removeUser(id, opts),
      restoreUser: id => directory.restoreUser(id),
      purgeDeletedUser: id => directory.purgeDeletedUser(id),
      updateUser: (id, patch) => directory.updateUser(id, patch),
      addGroup: group => directory.addGroup(group),
      removeGroup: id => directory.removeGroup(id),
      addMember: (groupId, memberId) => directory.addMember(groupId, memberId),
      removeMember: (groupId, memberId) =>
        directory.removeMember(groupId, memberId),
      expireDeltaTokens: () => directory.expireDeltaTokens(),
      moveMember: (memberId, from, to) =>
        directory.moveMember(memberId, from, to),
      setAccountEnabled: (idOrUpn, enabled) =>
        directory.setAccountEnabled(idOrUpn, enabled),
      setServicePrincipalEnabled: (idOrAppId, enabled) => {
        directory.setServicePrincipalEnabled(idOrAppId, enabled);
      },
    },
    close: async () => {
      await Promise.all([closeServer(httpServer), closeServer(httpsServer)]);
    },
  };
}

function requireApp(seed: LoadedSeed, key: string) {
  const app = seed.apps.find(a => a.key === key);
  if (!app)
    throw new Error(`Seed must register an application with key '${key}'`);
  return app;
}

function listen(
  server: http.Server | https.Server,
  port: number,
): Promise<void> {
  // Idle keep-alive sockets stay open for a minute (Node's default is 5 s).
  // A client whose event loop is busy (RSA key generation in a test, a
  // loaded CI machine) past the server's timeout reuses a socket the server
  // has just closed and gets ECONNRESET; Entra's front ends keep idle
  // connections far longer than 5 s too. close() ends them all at once.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, BIND_ADDRESS, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise(resolve => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
