import { once } from 'node:events';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { mockServices } from '@backstage/backend-test-utils';
import {
  logRequestsWithoutOAuthSecrets,
  redactOAuthSecrets,
} from './requestLog';

describe('redactOAuthSecrets', () => {
  it('hides the code and state of a sign-in callback, keeping the rest', () => {
    expect(
      redactOAuthSecrets(
        '/api/auth/microsoft/handler/frame?code=0.AXoA-secret&state=eyJub25jZSI6&session_state=5f1c&env=development',
      ),
    ).toBe(
      '/api/auth/microsoft/handler/frame?code=***&state=***&session_state=***&env=development',
    );
  });

  it('hides tokens and client credentials, however the name is encoded', () => {
    expect(
      redactOAuthSecrets(
        'https://portal.example/cb?id_token=a.b.c&access_token=t&refresh_token=r&client_secret=s&client_assertion=j&%63ode=x&Code=y&scope=openid',
      ),
    ).toBe(
      'https://portal.example/cb?id_token=***&access_token=***&refresh_token=***&client_secret=***&client_assertion=***&%63ode=***&Code=***&scope=openid',
    );
  });

  it('leaves URLs without secrets alone', () => {
    for (const url of [
      '/api/catalog/entities?filter=kind=user&limit=20',
      '/api/auth/microsoft/start?env=development&scope=openid%20profile',
      '/code=in-the-path/state',
      '/api/auth/microsoft/handler/frame?code=&state=',
    ]) {
      expect(redactOAuthSecrets(url)).toBe(url);
    }
  });
});

describe('logRequestsWithoutOAuthSecrets', () => {
  it('writes the request line with its status, size, referrer and agent, minus the secrets', async () => {
    const logger = mockServices.logger.mock();
    const middleware = { logging: (): any => undefined };
    logRequestsWithoutOAuthSecrets({ middleware, logger });
    const log = middleware.logging();
    const server = createServer((req, res) =>
      log(req, res, () => res.end('done')),
    ).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      await fetch(
        `http://127.0.0.1:${port}/api/auth/microsoft/handler/frame?code=the-code&state=the-state&env=development`,
        {
          headers: {
            referer: 'http://localhost:3000/?code=the-code',
            'user-agent': 'test-agent',
          },
        },
      );
    } finally {
      server.close();
      await once(server, 'close');
    }
    expect(logger.info).toHaveBeenCalledTimes(1);
    const [message, meta] = logger.info.mock.calls[0];
    expect(message).toBe(
      '"GET /api/auth/microsoft/handler/frame?code=***&state=***&env=development HTTP/1.1" 200 0 "http://localhost:3000/?code=***" "test-agent"',
    );
    expect(meta).toEqual({
      type: 'incomingRequest',
      method: 'GET',
      url: '/api/auth/microsoft/handler/frame?code=***&state=***&env=development',
      status: 200,
      httpVersion: '1.1',
      userAgent: 'test-agent',
      referrer: 'http://localhost:3000/?code=***',
    });
    expect(JSON.stringify(logger.info.mock.calls)).not.toMatch(
      /the-code|the-state/,
    );
  });
});
