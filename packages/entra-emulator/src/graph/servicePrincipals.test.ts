import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ClientCertificateCredential,
  ClientSecretCredential,
} from '@azure/identity';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { EntraEmulator } from '../emulator';
import { createSelfSignedCertificate } from '../credentials/certificates';
import { startTestEmulator } from '../testUtils/testEmulator';
import { decodeJwt, graphAppToken } from '../testUtils/tokens';
import { pipelineApp, pipelineAppToken } from '../testUtils/pipelines';
import { EmulatorAdminClient } from '../testUtils/adminClient';

const PAYMENTS = 'ad013c4b-ba4d-441e-841e-1063643c3aec';
const SEARCH = '1182257f-7b71-4a5a-83f4-61955ece9273';
const FABRIKAM = '0b583716-e27a-46fe-bfd6-34162f9d604e';
const SP = '#microsoft.graph.servicePrincipal';

describe('service principals (pipeline apps)', () => {
  let emulator: EntraEmulator;
  let graphToken: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    graphToken = await graphAppToken(emulator);
  });
  afterAll(() => emulator.close());

  async function graph(p: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${emulator.graphBaseUrl}${p}`, {
      headers: { authorization: `Bearer ${graphToken}`, ...headers },
    });
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      body: type.includes('json') ? await res.json() : await res.text(),
    };
  }

  /** Follows nextLinks to the deltaLink; answers every item and the link. */
  async function walk(p: string) {
    const items: any[] = [];
    let next = p;
    for (;;) {
      const { body } = await graph(next.replace(emulator.graphBaseUrl, ''));
      items.push(...body.value);
      if (body['@odata.deltaLink']) {
        return { items, deltaLink: body['@odata.deltaLink'] as string };
      }
      next = body['@odata.nextLink'];
    }
  }

  function credential(key: 'payments-pipeline' | 'fabrikam-pipeline') {
    const app = pipelineApp(emulator, key);
    return new ClientSecretCredential(
      app.tenantId,
      app.appId,
      app.clientSecret,
      { authorityHost: emulator.httpsUrl, disableInstanceDiscovery: true },
    );
  }

  describe('Graph', () => {
    it("lists a pipeline among its group's members in Graph's servicePrincipal shape", async () => {
      const payments = pipelineApp(emulator, 'payments-pipeline');
      const { status, body } = await graph(
        `/groups/${PAYMENTS}/members?$top=999`,
      );
      expect(status).toBe(200);
      const sp = body.value.find((m: any) => m['@odata.type'] === SP);
      expect(sp).toMatchObject({
        id: payments.servicePrincipalId,
        appId: payments.appId,
        displayName: 'payments-pipeline',
        servicePrincipalType: 'Application',
        accountEnabled: true,
        appOwnerOrganizationId: emulator.tenantId,
      });
      expect(sp.servicePrincipalNames).toContain(payments.appId);
      // People stay people.
      expect(
        body.value.filter((m: any) => m['@odata.type'] === SP),
      ).toHaveLength(1);
    });

    it('the microsoft.graph.user cast and /users leave service principals out', async () => {
      const cast = await graph(
        `/groups/${PAYMENTS}/members/microsoft.graph.user?$top=999`,
      );
      expect(cast.status).toBe(200);
      const ids = cast.body.value.map((m: any) => m.id);
      expect(ids).not.toContain(
        pipelineApp(emulator, 'payments-pipeline').servicePrincipalId,
      );
      expect(ids.length).toBeGreaterThan(0);
      const users = await graph('/users?$top=999&$select=id');
      expect(users.body.value.map((u: any) => u.id)).not.toContain(
        pipelineApp(emulator, 'payments-pipeline').servicePrincipalId,
      );
    });

    it('$count counts service principal members; the servicePrincipal cast lists only them', async () => {
      const all = await graph(`/groups/${SEARCH}/members`);
      const count = await graph(`/groups/${SEARCH}/members/$count`, {
        ConsistencyLevel: 'eventual',
      });
      expect(Number(count.body)).toBe(all.body.value.length);
      const userCount = await graph(
        `/groups/${SEARCH}/members/microsoft.graph.user/$count`,
        { ConsistencyLevel: 'eventual' },
      );
      expect(Number(userCount.body)).toBe(all.body.value.length - 1);
      const sps = await graph(
        `/groups/${SEARCH}/members/microsoft.graph.servicePrincipal`,
      );
      expect(sps.body.value.map((m: any) => m.appId)).toEqual([
        pipelineApp(emulator, 'search-pipeline').appId,
      ]);
    });

    it('GET /servicePrincipals/{id} and its memberOf; an unknown id is 404 Request_ResourceNotFound', async () => {
      const payments = pipelineApp(emulator, 'payments-pipeline');
      const one = await graph(
        `/servicePrincipals/${payments.servicePrincipalId}?$select=id,appId,accountEnabled`,
      );
      expect(one.status).toBe(200);
      expect(one.body).toEqual({
        id: payments.servicePrincipalId,
        appId: payments.appId,
        accountEnabled: true,
      });
      const memberOf = await graph(
        `/servicePrincipals/${payments.servicePrincipalId}/memberOf`,
      );
      expect(memberOf.body.value.map((g: any) => g.id)).toEqual([PAYMENTS]);
      const stray = pipelineApp(emulator, 'stray-pipeline');
      const strayGroups = await graph(
        `/servicePrincipals/${stray.servicePrincipalId}/memberOf`,
      );
      expect(strayGroups.body.value).toEqual([]);
      const missing = await graph(
        '/servicePrincipals/00000000-0000-0000-0000-000000000001',
      );
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('Request_ResourceNotFound');
    });

    it("groups' members@delta types service principals; removal and disabling come as changes", async () => {
      const search = pipelineApp(emulator, 'search-pipeline');
      const first = await walk('/groups/delta?$select=displayName,members');
      const searchGroup = first.items.find((g: any) => g.id === SEARCH);
      expect(searchGroup['members@delta']).toContainEqual({
        '@odata.type': SP,
        id: search.servicePrincipalId,
      });
      const spFirst = await walk(
        '/servicePrincipals/delta?$select=appId,accountEnabled',
      );
      expect(spFirst.items).toContainEqual({
        id: search.servicePrincipalId,
        appId: search.appId,
        accountEnabled: true,
      });
      const groupsLink = first.deltaLink;
      const spLink = spFirst.deltaLink;

      emulator.directory.removeMember(SEARCH, search.servicePrincipalId);
      emulator.directory.setServicePrincipalEnabled('search-pipeline', false);
      try {
        const groups = await walk(groupsLink);
        expect(
          groups.items.find((g: any) => g.id === SEARCH)['members@delta'],
        ).toEqual([
          {
            '@odata.type': SP,
            id: search.servicePrincipalId,
            '@removed': { reason: 'deleted' },
          },
        ]);
        const sps = await walk(spLink);
        expect(sps.items).toEqual([
          {
            id: search.servicePrincipalId,
            appId: search.appId,
            accountEnabled: false,
          },
        ]);
      } finally {
        emulator.directory.addMember(SEARCH, search.servicePrincipalId);
        emulator.directory.setServicePrincipalEnabled('search-pipeline', true);
      }
    });
  });

  describe("tokens for the portal's API", () => {
    it('@azure/identity gets a v2.0 app-only token: aud the portal client id, oid = sub = the SP, azp, roles', async () => {
      const payments = pipelineApp(emulator, 'payments-pipeline');
      const portal = emulator.apps.portal.clientId;
      const token = await credential('payments-pipeline').getToken(
        `api://${portal}/.default`,
      );
      const jwks = createRemoteJWKSet(
        new URL(
          `${emulator.httpsUrl}/${emulator.tenantId}/discovery/v2.0/keys`,
        ),
      );
      const { payload, protectedHeader } = await jwtVerify(token.token, jwks, {
        issuer: emulator.issuer,
        audience: portal,
      });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload).toMatchObject({
        tid: emulator.tenantId,
        oid: payments.servicePrincipalId,
        sub: payments.servicePrincipalId,
        azp: payments.appId,
        azpacr: '1',
        idtyp: 'app',
        roles: ['Catalog.Registrar'],
        ver: '2.0',
      });
      expect(payload.scp).toBeUndefined();
    });

    it('an app without a role assignment gets no roles', async () => {
      const token = decodeJwt(
        await pipelineAppToken(emulator, 'search-pipeline'),
      );
      expect(token.roles).toEqual([]);
      expect(token.oid).toBe(
        pipelineApp(emulator, 'search-pipeline').servicePrincipalId,
      );
    });

    it('a certificate registered on a pipeline works too (azpacr 2)', async () => {
      const payments = pipelineApp(emulator, 'payments-pipeline');
      const cert = createSelfSignedCertificate({ commonName: 'payments-ci' });
      emulator.addAppCertificate(payments.appId, cert.certificatePem);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-cert-'));
      const file = path.join(dir, 'payments.pem');
      fs.writeFileSync(file, cert.pem, { mode: 0o600 });
      const token = await new ClientCertificateCredential(
        emulator.tenantId,
        payments.appId,
        { certificatePath: file },
        { authorityHost: emulator.httpsUrl, disableInstanceDiscovery: true },
      ).getToken(`api://${emulator.apps.portal.clientId}/.default`);
      expect(decodeJwt(token.token)).toMatchObject({
        oid: payments.servicePrincipalId,
        azpacr: '2',
        roles: ['Catalog.Registrar'],
      });
      fs.rmSync(dir, { recursive: true, force: true });
      // RSA key generation on a loaded machine can pass jest's 5 s default.
    }, 30_000);

    it("Fabrikam's pipeline gets a token of its own tenant, signed with the emulator's keys", async () => {
      const fabrikam = pipelineApp(emulator, 'fabrikam-pipeline');
      expect(fabrikam.tenantId).toBe(FABRIKAM);
      const portal = emulator.apps.portal.clientId;
      const token = await credential('fabrikam-pipeline').getToken(
        `api://${portal}/.default`,
      );
      const jwks = createRemoteJWKSet(
        new URL(`${emulator.httpsUrl}/${FABRIKAM}/discovery/v2.0/keys`),
      );
      const { payload } = await jwtVerify(token.token, jwks, {
        audience: portal,
      });
      expect(payload).toMatchObject({
        iss: `${emulator.httpsUrl}/${FABRIKAM}/v2.0`,
        tid: FABRIKAM,
        oid: fabrikam.servicePrincipalId,
        azp: fabrikam.appId,
        idtyp: 'app',
      });
    });

    it("Fabrikam's pipeline does not exist in Contoso: AADSTS700016", async () => {
      const fabrikam = pipelineApp(emulator, 'fabrikam-pipeline');
      await expect(
        pipelineAppToken(emulator, 'fabrikam-pipeline', {
          tenantId: emulator.tenantId,
        }),
      ).rejects.toThrow(/unauthorized_client: AADSTS700016/);
      expect(fabrikam.appId).not.toBe(emulator.apps.portal.clientId);
    });

    it('a service principal disabled over the admin API gets no token: AADSTS7000112', async () => {
      const admin = new EmulatorAdminClient(emulator);
      const stray = pipelineApp(emulator, 'stray-pipeline');
      await expect(
        admin.setServicePrincipalEnabled('stray-pipeline', false),
      ).resolves.toEqual({
        id: stray.servicePrincipalId,
        appId: stray.appId,
        accountEnabled: false,
      });
      try {
        await expect(
          pipelineAppToken(emulator, 'stray-pipeline'),
        ).rejects.toThrow(/unauthorized_client: AADSTS7000112/);
        const sp = await graph(
          `/servicePrincipals/${stray.servicePrincipalId}`,
        );
        expect(sp.body.accountEnabled).toBe(false);
      } finally {
        await admin.setServicePrincipalEnabled(stray.appId, true);
      }
      await expect(
        admin.setServicePrincipalEnabled('no-such-app', true),
      ).rejects.toThrow(/404/);
      await expect(
        pipelineAppToken(emulator, 'stray-pipeline'),
      ).resolves.toMatch(/^ey/);
    });
  });
});
