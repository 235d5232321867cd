import { once } from 'node:events';
import {
  createServer,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { acceptEntraAppTokens } from './middleware';

const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** Shaped like an Entra token (`tid`); the stand-in provider below decides about it. */
const entraLike = (name: string, exp = Math.floor(Date.now() / 1000) + 3600) =>
  `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({
    tid: 't',
    name,
    exp,
  })}.sig-${name}`;
const backstageLike = `${enc({
  alg: 'ES256',
  typ: 'vnd.backstage.user',
})}.${enc({
  sub: 'user:default/ada',
  aud: 'backstage',
})}.sig`;

/**
 * A root server with the middleware and a stand-in for the entra-app
 * provider: it answers `good-*` tokens with a Backstage token and refuses
 * the rest; other routes echo the Authorization header they received.
 */
async function startServer(withEntraApp = true) {
  const logger = mockServices.logger.mock();
  const providerCalls: string[] = [];
  const middleware = {
    rateLimit: () => (_q: any, _s: any, next: any) => next(),
  };
  const provider = (req: IncomingMessage, res: ServerResponse) => {
    const token = req.headers.authorization!.slice('Bearer '.length);
    const name = JSON.parse(
      Buffer.from(token.split('.')[1], 'base64url').toString(),
    ).name;
    providerCalls.push(name);
    res.setHeader('content-type', 'application/json');
    if (!String(name).startsWith('good')) {
      res.statusCode = 401;
      res.end(
        JSON.stringify({
          error: { name: 'AuthenticationError', message: `refused ${name}` },
          request: {},
        }),
      );
      return;
    }
    res.end(
      JSON.stringify({
        backstageIdentity: {
          token: `backstage-for-${name}`,
          expiresInSeconds: 3600,
          identity: { type: 'user', userEntityRef: `user:default/app-${name}` },
        },
        providerInfo: {
          appId: 'app-id',
          objectId: 'sp-oid',
          tenantId: 't',
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
  };
  const server: Server = createServer((req, res) => {
    const chain = middleware.rateLimit();
    chain(req, res, () => {
      if (req.url!.startsWith('/api/auth/entra-app/')) {
        provider(req, res);
        return;
      }
      res.end(
        JSON.stringify({ authorization: req.headers.authorization ?? null }),
      );
    });
  });
  acceptEntraAppTokens({
    middleware,
    server,
    logger,
    config: new ConfigReader(
      withEntraApp ? { auth: { providers: { 'entra-app': {} } } } : {},
    ),
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const call = (path: string, authorization?: string) =>
    fetch(`http://127.0.0.1:${port}${path}`, {
      headers: authorization ? { authorization } : {},
    });
  return { server, call, providerCalls, logger };
}

describe('acceptEntraAppTokens', () => {
  let ctx: Awaited<ReturnType<typeof startServer>>;
  afterEach(() => ctx?.server.close());

  it("replaces an Entra token by the service principal's Backstage token, exchanging once", async () => {
    ctx = await startServer();
    const token = entraLike('good-a');
    for (let i = 0; i < 3; i++) {
      const res = await ctx.call('/api/catalog/entities', `Bearer ${token}`);
      expect(await res.json()).toEqual({
        authorization: 'Bearer backstage-for-good-a',
      });
    }
    expect(ctx.providerCalls).toEqual(['good-a']);
    expect(ctx.logger.info).toHaveBeenCalledWith(
      expect.stringContaining('pipeline-call user:default/app-good-a'),
      expect.objectContaining({
        type: 'pipeline-call',
        method: 'GET',
        path: '/api/catalog/entities',
        status: 200,
      }),
    );
  });

  it("answers a refused token with the provider's 401 at once, and never logs the token", async () => {
    ctx = await startServer();
    const token = entraLike('bad');
    const res = await ctx.call('/api/catalog/entities', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { name: 'AuthenticationError', message: 'refused bad' },
    });
    expect(JSON.stringify(ctx.logger.info.mock.calls)).not.toContain(token);
  });

  it('leaves Backstage tokens, other paths, the provider itself and requests without a token alone', async () => {
    ctx = await startServer();
    const entra = entraLike('good-b');
    expect(
      await (
        await ctx.call('/api/catalog/entities', `Bearer ${backstageLike}`)
      ).json(),
    ).toEqual({
      authorization: `Bearer ${backstageLike}`,
    });
    expect(
      await (await ctx.call('/catalog', `Bearer ${entra}`)).json(),
    ).toEqual({ authorization: `Bearer ${entra}` });
    expect(await (await ctx.call('/api/catalog/entities')).json()).toEqual({
      authorization: null,
    });
    // The provider receives the Entra token itself: no loop through the middleware.
    const direct = await ctx.call(
      '/api/auth/entra-app/refresh',
      `Bearer ${entra}`,
    );
    expect((await direct.json()).backstageIdentity.token).toBe(
      'backstage-for-good-b',
    );
    expect(ctx.providerCalls).toEqual(['good-b']);
  });

  it('does nothing unless auth.providers.entra-app is set', async () => {
    ctx = await startServer(false);
    const entra = entraLike('good-c');
    expect(
      await (await ctx.call('/api/catalog/entities', `Bearer ${entra}`)).json(),
    ).toEqual({
      authorization: `Bearer ${entra}`,
    });
    expect(ctx.providerCalls).toEqual([]);
  });
});
