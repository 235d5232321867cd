import { ConfigReader } from '@backstage/config';
import { UserEntity } from '@backstage/catalog-model';
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  decodeJwt,
  delegatedToken,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import { readEntraDeployConfig } from './config';
import { DelegatedTokenVerifier } from './delegation';

const CARLA = '5a9214bd-9425-4fb9-9a9d-bbdfb8789017';
const FABRIKAM = '0b583716-e27a-46fe-bfd6-34162f9d604e';

const carla = (annotations: Record<string, string>): UserEntity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name: 'carla.chen', annotations },
  spec: {},
});

describe('DelegatedTokenVerifier against the emulator', () => {
  let emulator: EntraEmulator;
  let verifier: DelegatedTokenVerifier;
  let claims: Record<string, any>;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    const { entra } = readEntraDeployConfig(
      new ConfigReader({
        auth: {
          environment: 'development',
          providers: {
            microsoft: {
              development: {
                clientId: emulator.apps.portal.clientId,
                clientSecret: emulator.apps.portal.clientSecret,
                tenantId: emulator.tenantId,
                authority: emulator.authority,
              },
            },
          },
        },
      }),
    );
    verifier = new DelegatedTokenVerifier(entra);
    claims = decodeJwt(await delegatedToken(emulator, CARLA));
  });
  afterAll(() => emulator.close());

  const annotated = carla({ 'graph.microsoft.com/user-id': CARLA });
  const now = () => Math.floor(Date.now() / 1000);

  it("accepts the person's own token, and one issued a little ahead of the portal's clock", async () => {
    await expect(
      verifier.verify(await delegatedToken(emulator, CARLA), annotated),
    ).resolves.toMatchObject({ oid: CARLA, tid: emulator.tenantId });
    const ahead = emulator.signToken({ ...claims, nbf: now() + 30 });
    await expect(verifier.verify(ahead, annotated)).resolves.toMatchObject({
      oid: CARLA,
    });
  });

  it('refuses a token not valid for minutes yet, naming the clock', async () => {
    const later = emulator.signToken({ ...claims, nbf: now() + 600 });
    await expect(verifier.verify(later, annotated)).rejects.toThrow(
      "The delegated Entra token is not valid yet or malformed (nbf claim); check the portal's clock",
    );
  });

  it('refuses a token of a tenant the portal does not admit, even with a valid signature', async () => {
    const other = emulator.signToken({
      ...claims,
      tid: FABRIKAM,
      iss: `${emulator.httpsUrl}/${FABRIKAM}/v2.0`,
    });
    await expect(verifier.verify(other, annotated)).rejects.toThrow(
      `issued by tenant ${FABRIKAM}, which this portal does not admit`,
    );
  });

  it('refuses a token whose issuer is not the tenant’s', async () => {
    const v1 = emulator.signToken({
      ...claims,
      iss: `https://sts.windows.net/${emulator.tenantId}/`,
    });
    await expect(verifier.verify(v1, annotated)).rejects.toThrow(
      '"requestedAccessTokenVersion": 2',
    );
  });

  it('refuses a token without access_as_user', async () => {
    const other = emulator.signToken({ ...claims, scp: 'User.Read' });
    await expect(verifier.verify(other, annotated)).rejects.toThrow(
      "lacks the 'access_as_user' scope",
    );
  });

  it('refuses when the catalog User has no object id, or another tenant', async () => {
    const token = await delegatedToken(emulator, CARLA);
    await expect(verifier.verify(token, carla({}))).rejects.toThrow(
      'user:default/carla.chen has no graph.microsoft.com/user-id annotation',
    );
    await expect(
      verifier.verify(
        token,
        carla({
          'graph.microsoft.com/user-id': CARLA,
          'graph.microsoft.com/tenant-id': FABRIKAM,
        }),
      ),
    ).rejects.toThrow('belongs to another person');
    await expect(verifier.verify(token, undefined)).rejects.toThrow(
      'no initiating user in the catalog',
    );
  });

  it('refuses a token signed by another key', async () => {
    const forged = await startTestEmulator();
    try {
      const token = forged.signToken(claims);
      await expect(verifier.verify(token, annotated)).rejects.toThrow(
        "is not signed by your tenant's keys",
      );
    } finally {
      await forged.close();
    }
  });
});
