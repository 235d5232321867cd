import { EntraEmulator } from '../emulator';
import { startTestEmulator } from '../testUtils/testEmulator';
import {
  decodeJwt,
  graphAppToken,
  obtainCode,
  postToken,
  redeem,
} from '../testUtils/tokens';

const ADA = 'f8efe4b8-7e3a-44e7-b513-87eab4796311';
const MAYA = '6ea9abb1-6a4b-4b9e-bc96-767dfd4606a2';
const NOAH = '624c2e31-89ca-4f90-97d7-07c6c7c29a6a';

function expectGraphError(body: any, code: string) {
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
}

describe('Graph v1.0 routes, queries and error shapes', () => {
  let emulator: EntraEmulator;
  let appToken: string;
  let adaToken: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    appToken = await graphAppToken(emulator);
    const { code, verifier } = await obtainCode(emulator, ADA);
    adaToken = (await redeem(emulator, code, verifier)).body.access_token;
  });
  afterAll(() => emulator.close());

  async function get(
    path: string,
    token = appToken,
    headers: Record<string, string> = {},
  ) {
    const res = await fetch(`${emulator.httpUrl}/v1.0${path}`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      body: type.includes('json')
        ? await res.json()
        : Buffer.from(await res.arrayBuffer()),
      type,
    };
  }
  const eventual = { ConsistencyLevel: 'eventual' };

  it('no token: 401 InvalidAuthenticationToken', async () => {
    const res = await fetch(`${emulator.httpUrl}/v1.0/users`);
    expect(res.status).toBe(401);
    expectGraphError(await res.json(), 'InvalidAuthenticationToken');
  });

  it('a token for another audience: 401', async () => {
    const { body } = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      scope: `${emulator.apps.deployApi.scope.replace('/deploy', '')}/.default`,
    });
    const res = await get('/users', body.access_token);
    expect(res.status).toBe(401);
  });

  it('a Graph token without directory roles: 403 Authorization_RequestDenied', async () => {
    const token = await graphAppToken(
      emulator,
      emulator.apps.deployApi.clientId,
      'emulator-only-deploy-api-secret',
    );
    expect(decodeJwt(token).roles).toEqual([]);
    const res = await get('/users', token);
    expect(res.status).toBe(403);
    expectGraphError(res.body, 'Authorization_RequestDenied');
  });

  it('$select, $top and $skiptoken paging with absolute nextLinks', async () => {
    const first = await get('/users?$select=id,displayName&$top=5');
    expect(first.body.value).toHaveLength(5);
    expect(Object.keys(first.body.value[0])).toEqual(['id', 'displayName']);
    const next = new URL(first.body['@odata.nextLink']);
    expect(next.origin).toBe(emulator.httpUrl);
    expect(next.searchParams.get('$skiptoken')).toBeTruthy();
    const ids = [...first.body.value.map((u: any) => u.id)];
    let link: string | undefined = first.body['@odata.nextLink'];
    while (link) {
      const page = await (
        await fetch(link, { headers: { authorization: `Bearer ${appToken}` } })
      ).json();
      ids.push(...page.value.map((u: any) => u.id));
      link = page['@odata.nextLink'];
    }
    expect(ids).toEqual(emulator.seed.users.map(u => u.id));
  });

  it('$top above 999: 400', async () => {
    const res = await get('/users?$top=1000');
    expect(res.status).toBe(400);
    expectGraphError(res.body, 'Request_BadRequest');
  });

  it('$filter eq, startswith, in, any, and/or (basic mode)', async () => {
    const eq = await get(
      "/users?$filter=userPrincipalName eq 'ADA.ADMIN@contoso.example'&$select=id",
    );
    expect(eq.body.value).toEqual([{ id: ADA }]);
    const sw = await get(
      "/users?$filter=startswith(displayName,'gr') or displayName eq 'Ivy Ito'&$select=displayName",
    );
    expect(sw.body.value.map((u: any) => u.displayName)).toEqual([
      'Grace Green',
      'Ivy Ito',
    ]);
    const inList = await get(
      "/groups?$filter=displayName in ('payments','search') and securityEnabled eq true&$select=displayName",
    );
    expect(inList.body.value.map((g: any) => g.displayName)).toEqual([
      'payments',
      'search',
    ]);
    const any = await get(
      "/users?$filter=businessPhones/any(p:startswith(p,'+1'))",
    );
    expect(any.body.value).toEqual([]);
  });

  it('advanced-only operators need ConsistencyLevel + $count, as Graph requires', async () => {
    const refused = await get("/users?$filter=userType ne 'Guest'");
    expect(refused.status).toBe(400);
    expectGraphError(refused.body, 'Request_UnsupportedQuery');
    const notRefused = await get(
      "/users?$filter=not(userType eq 'Guest')&$count=true",
    );
    expect(notRefused.status).toBe(400);
    const ok = await get(
      "/users?$filter=userType ne 'Guest' and endswith(mail,'@contoso.example')&$count=true",
      appToken,
      eventual,
    );
    expect(ok.status).toBe(200);
    expect(ok.body['@odata.count']).toBe(ok.body.value.length);
    expect(ok.body.value.map((u: any) => u.id)).not.toContain(MAYA); // no mail
  });

  it('$search needs ConsistencyLevel: eventual', async () => {
    const refused = await get('/groups?$search="displayName:pay"');
    expect(refused.status).toBe(400);
    expectGraphError(refused.body, 'Request_BadRequest');
    const ok = await get(
      '/groups?$search="displayName:pay"&$select=displayName',
      appToken,
      eventual,
    );
    expect(ok.body.value.map((g: any) => g.displayName).sort()).toEqual([
      'payments',
      'payments-api',
    ]);
  });

  it('$count without ConsistencyLevel: 400', async () => {
    const res = await get('/users?$count=true');
    expect(res.status).toBe(400);
  });

  it('/users/$count and /groups/$count answer a plain integer with ConsistencyLevel: eventual', async () => {
    const users = await get('/users/$count', appToken, eventual);
    expect(users.status).toBe(200);
    expect(users.type).toMatch(/^text\/plain/);
    expect((users.body as Buffer).toString()).toBe(
      String(emulator.seed.users.length),
    );
    const groups = await get('/groups/$count', appToken, eventual);
    expect(groups.status).toBe(200);
    expect((groups.body as Buffer).toString()).toBe(
      String(emulator.seed.groups.length),
    );
  });

  it('/$count counts the filtered set, advanced operators included', async () => {
    const disabled = emulator.seed.users.filter(
      u => u.accountEnabled === false,
    ).length;
    expect(disabled).toBeGreaterThan(0);
    const res = await get(
      '/users/$count?$filter=accountEnabled eq false',
      appToken,
      eventual,
    );
    expect((res.body as Buffer).toString()).toBe(String(disabled));
    const members = emulator.seed.users.filter(
      u => u.userType !== 'Guest',
    ).length;
    const ne = await get(
      "/users/$count?$filter=userType ne 'Guest'",
      appToken,
      eventual,
    );
    expect((ne.body as Buffer).toString()).toBe(String(members));
    const payments = 'ad013c4b-ba4d-441e-841e-1063643c3aec';
    const memberCount = await get(
      `/groups/${payments}/members/microsoft.graph.user/$count`,
      appToken,
      eventual,
    );
    expect((memberCount.body as Buffer).toString()).toBe('3');
  });

  it('/users/$count without ConsistencyLevel: 400 Request_BadRequest, as Graph answers', async () => {
    const res = await get('/users/$count');
    expect(res.status).toBe(400);
    expectGraphError(res.body, 'Request_BadRequest');
    expect(res.body.error.message).toBe('$count is not currently supported.');
  });

  it('$count on a single object is not a route', async () => {
    const res = await get(`/users/${ADA}/$count`, appToken, eventual);
    expect(res.status).toBe(400);
    expectGraphError(res.body, 'BadRequest');
  });

  it('members carry @odata.type; the user cast returns users only; $expand=members', async () => {
    const payments = 'ad013c4b-ba4d-441e-841e-1063643c3aec';
    const members = await get(`/groups/${payments}/members?$select=id`);
    expect(members.body.value.map((m: any) => m['@odata.type']).sort()).toEqual(
      [
        '#microsoft.graph.group',
        '#microsoft.graph.servicePrincipal',
        '#microsoft.graph.user',
        '#microsoft.graph.user',
        '#microsoft.graph.user',
      ],
    );
    const users = await get(
      `/groups/${payments}/members/microsoft.graph.user/`,
    );
    expect(users.body.value).toHaveLength(3);
    const expanded = await get(
      `/groups?$filter=displayName eq 'payments'&$expand=members($select=id)`,
    );
    expect(expanded.body.value[0].members).toHaveLength(5);
  });

  it('/organization/{id}, /me and /me/memberOf', async () => {
    const org = await get(`/organization/${emulator.tenantId}`);
    expect(org.body).toMatchObject({
      id: emulator.tenantId,
      displayName: 'Contoso (Entra emulator)',
    });
    const me = await get('/me', adaToken);
    expect(me.body).toMatchObject({
      id: ADA,
      userPrincipalName: 'ada.admin@contoso.example',
    });
    const memberOf = await get('/me/memberOf?$select=displayName', adaToken);
    expect(memberOf.body.value.map((g: any) => g.displayName).sort()).toEqual([
      'platform-admins',
      'platform-team',
    ]);
    const meAsApp = await get('/me');
    expect(meAsApp.status).toBe(400);
    expectGraphError(meAsApp.body, 'BadRequest');
  });

  it('photos: sizes, bytes, /me/photos, and ImageNotFound', async () => {
    const list = await get(`/users/${ADA}/photos`);
    expect(list.body.value.map((p: any) => p.id)).toContain('120x120');
    const photo = await get(`/users/${ADA}/photos/120x120/$value`);
    expect(photo.type).toBe('image/png');
    expect((photo.body as Buffer).subarray(1, 4).toString()).toBe('PNG');
    const mine = await get('/me/photos/48x48/$value', adaToken);
    expect(mine.status).toBe(200);
    const none = await get(`/users/${MAYA}/photos`);
    expect(none.status).toBe(404);
    expectGraphError(none.body, 'ImageNotFound');
  });

  it('unknown user: 404 Request_ResourceNotFound', async () => {
    const res = await get('/users/nobody@contoso.example');
    expect(res.status).toBe(404);
    expectGraphError(res.body, 'Request_ResourceNotFound');
  });

  it('getMemberObjects resolves the groups overage', async () => {
    const res = await fetch(
      `${emulator.graphBaseUrl}/users/${NOAH}/getMemberObjects`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${appToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ securityEnabledOnly: false }),
      },
    );
    expect((await res.json()).value.length).toBe(212);
  });
});
