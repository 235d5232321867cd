import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('entra-emulator command', () => {
  it('starts, prints URLs, tenant id, client ids, CA path and people, and stops on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-cli-'));
    const child = spawn(
      process.execPath,
      [
        path.resolve(__dirname, '..', 'bin', 'entra-emulator'),
        '--http-port',
        '0',
        '--https-port',
        '0',
        '--data-dir',
        dataDir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', d => (out += d));
    child.stderr.on('data', d => (out += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no banner: ${out}`)),
        60_000,
      );
      child.stdout.on('data', () => {
        if (out.includes('Tara Thompson')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', code => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect(out).toContain(
      'tenant id        b19432bf-159f-4ebf-861f-91de48b5e4d2',
    );
    expect(out).toMatch(/https\s+https:\/\/localhost:\d+/);
    expect(out).toContain('7bc4a39a-e36e-411a-932c-a52950fa7769');
    expect(out).toContain(
      `NODE_EXTRA_CA_CERTS=${path.join(dataDir, 'dev-ca.pem')}`,
    );
    expect(out).toContain('Maya Mora');
    expect(out).toMatch(/_emulator\/graph-requests/);
    expect(out).toMatch(
      /app credentials\s+http:\/\/localhost:\d+\/_emulator\/apps\//,
    );
    expect(out).toContain('POST certificates {certificatePem}');
    expect(out).toMatch(
      /other tenant\s+0b583716-e27a-46fe-bfd6-34162f9d604e Fabrikam/,
    );
    const httpUrl = /http\s+(http:\/\/localhost:\d+)/.exec(out)![1];
    const res = await fetch(
      `${httpUrl}/b19432bf-159f-4ebf-861f-91de48b5e4d2/v2.0/.well-known/openid-configuration`,
    );
    expect((await res.json()).x_entra_emulator).toBe(true);
    const exited = new Promise(resolve => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);
});
