/*
 * The request log of the real backend through a real sign-in: the Entra
 * emulator and the backend run as their own processes, as with `yarn dev`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackendProcess,
  freePort,
  repoRoot,
  startBackendProcess,
} from './testUtils/backendProcess';

/** The callback URL registered for the portal app in the emulator's seed. */
const REGISTERED_CALLBACK =
  'http://localhost:7007/api/auth/microsoft/handler/frame';

interface Emulator {
  values: Record<string, string>;
  httpUrl: string;
  httpsUrl: string;
  stop(): Promise<void>;
}

/** Starts `entra-emulator` and reads what it prints about itself. */
async function startEmulator(): Promise<Emulator> {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repoRoot, 'packages/entra-emulator/bin/entra-emulator'),
      '--http-port',
      String(httpPort),
      '--https-port',
      String(httpsPort),
      '--data-dir',
      mkdtempSync(join(tmpdir(), 'request-log-emulator-')),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr!.on('data', d => (output += d));
  for await (const chunk of child.stdout!) {
    output += chunk;
    if (output.includes('Seeded people')) break;
  }
  const value = (label: string) =>
    new RegExp(`^ {2}${label} +(\\S+)`, 'm').exec(output)?.[1] ?? '';
  const values = {
    tenantId: value('tenant id'),
    authority: value('authority'),
    graph: value('graph'),
    ca: value('dev CA'),
    clientId: value('portal client'),
    clientSecret: /\(secret: (\S+), emulator-only\)/.exec(output)?.[1] ?? '',
  };
  if (Object.values(values).some(v => !v)) {
    child.kill();
    throw new Error(`emulator did not start:\n${output}`);
  }
  return {
    values,
    httpUrl: value('http'),
    httpsUrl: value('https'),
    async stop() {
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** The Cookie header a browser sends back (the last value of each wins). */
function cookieHeader(res: Response): string {
  const jar = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) {
    const pair = c.split(';')[0];
    const i = pair.indexOf('=');
    if (pair.slice(i + 1)) jar.set(pair.slice(0, i), pair.slice(i + 1));
    else jar.delete(pair.slice(0, i));
  }
  return [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
}

describe('the request log', () => {
  let emulator: Emulator;
  let backend: BackendProcess;

  beforeAll(async () => {
    emulator = await startEmulator();
    const { values } = emulator;
    backend = await startBackendProcess({
      configFiles: ['app-config.yaml'],
      env: {
        NODE_ENV: 'development',
        AZURE_TENANT_ID: values.tenantId,
        AZURE_CLIENT_ID: values.clientId,
        AZURE_CLIENT_SECRET: values.clientSecret,
        ENTRA_AUTHORITY: values.authority,
        ENTRA_AUTHORITY_HOST: emulator.httpsUrl,
        ENTRA_GRAPH_URL: values.graph,
        NODE_EXTRA_CA_CERTS: values.ca,
      },
      extraConfig: port => ({
        app: { baseUrl: `http://localhost:${port}` },
        backend: {
          baseUrl: `http://localhost:${port}`,
          listen: { port, host: '127.0.0.1' },
        },
        auth: {
          providers: {
            microsoft: { development: { callbackUrl: REGISTERED_CALLBACK } },
          },
        },
        catalog: {
          providers: {
            microsoftGraphOrg: {
              default: { schedule: { initialDelay: { hours: 1 } } },
            },
          },
        },
      }),
    });
  }, 150_000);

  afterAll(async () => {
    await backend?.stop();
    await emulator?.stop();
  }, 60_000);

  it('records a sign-in callback without its code and state', async () => {
    const start = await fetch(
      `${backend.baseUrl}/api/auth/microsoft/start?env=development`,
      { redirect: 'manual' },
    );
    expect(start.status).toBe(302);
    // The browser's side of the emulator, over its plain-HTTP port (this
    // test process does not trust the emulator's development CA).
    const authorize = start.headers
      .get('location')!
      .replace(emulator.httpsUrl, emulator.httpUrl);
    const page = await (await fetch(authorize)).text();
    const action = /<form method="post" action="([^"]+)"/.exec(page)![1];
    const fields: Record<string, string> = {};
    for (const m of page.matchAll(
      /<input type="hidden" name="([^"]+)" value="([^"]*)">/g,
    )) {
      fields[m[1]] = m[2].replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    }
    const login = await fetch(
      new URL(action.replace(/&amp;/g, '&'), emulator.httpUrl),
      {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          ...fields,
          user: 'ben.builder@contoso.example',
        }).toString(),
      },
    );
    const callback = new URL(login.headers.get('location')!);
    const code = callback.searchParams.get('code')!;
    const state = callback.searchParams.get('state')!;
    expect(code).toBeTruthy();
    expect(state).toBeTruthy();

    const frame = await fetch(
      `${backend.baseUrl}/api/auth/microsoft/handler/frame${callback.search}`,
      {
        headers: { cookie: cookieHeader(start), 'user-agent': 'log-test' },
      },
    );
    expect(frame.status).toBe(200);
    // The code was real: the backend redeemed it for Ben's verified ID
    // token (org ingestion has not run yet, so the catalog does not know him).
    expect(decodeURIComponent(await frame.text())).toContain(
      'Ben Builder (ben.builder@contoso.example), object id',
    );

    let line: string | undefined;
    while (!line) {
      line = backend
        .output()
        .split('\n')
        .find(l => l.includes('GET /api/auth/microsoft/handler/frame?'));
      if (!line) await new Promise(r => setTimeout(r, 100));
    }
    // The rest of the line is intact: method, path, status, agent.
    expect(line).toMatch(
      /"GET \/api\/auth\/microsoft\/handler\/frame\?\S*code=\*\*\*\S* HTTP\/1\.1" 200 \d+ "-" "log-test"/,
    );
    expect(line).toMatch(/[?&]state=\*\*\*/);
    // Nowhere in anything the backend wrote.
    expect(backend.output()).not.toContain(code);
    expect(backend.output()).not.toContain(state);
  }, 60_000);
});
