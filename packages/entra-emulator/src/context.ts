import { Directory } from './seed/directory';
import { SigningKey } from './oidc/signingKey';
import { ResourceRegistry } from './oidc/resources';
import { GrantStore } from './oidc/grantStore';
import { FaultSwitch } from './faults/faultSwitch';
import { CredentialStore } from './credentials/appCredentials';
import { ExternalIssuerKeys } from './oidc/externalIssuerKeys';
import { DeployCall, GraphRequest, PipelineRun, TokenRequest } from './types';

/** URLs of a running emulator; filled in once the listeners have ports. */
export interface EmulatorUrls {
  httpUrl: string;
  httpsUrl: string;
  /** Always the https one, whichever listener served the request. */
  issuer: string;
  graphBaseUrl: string;
}

/** State shared by every route of one emulator instance. */
export interface EmulatorContext {
  directory: Directory;
  key: SigningKey;
  resources: ResourceRegistry;
  urls: EmulatorUrls;
  tokenLifetimeSeconds: number;
  grants: GrantStore;
  /** Secrets, certificates and federated credentials of every app. */
  credentials: CredentialStore;
  /** Signing keys of external issuers trusted through federated credentials. */
  issuerKeys: ExternalIssuerKeys;
  faults: FaultSwitch;
  deployCalls: DeployCall[];
  pipelineRuns: PipelineRun[];
  tokenRequests: TokenRequest[];
  /** Every Graph request, oldest first (bounded, see GRAPH_REQUEST_LOG_LIMIT). */
  graphRequests: GraphRequest[];
}
