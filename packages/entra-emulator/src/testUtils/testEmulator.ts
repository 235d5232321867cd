import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
  createEntraEmulator,
  EntraEmulator,
  EntraEmulatorOptions,
} from '../emulator';

const trusted = new Set<string>();

/**
 * Makes this process trust the emulator's dev CA, as NODE_EXTRA_CA_CERTS
 * does for a fresh process. Node 22.19+ can change the default CA list at
 * runtime, which covers https, undici's fetch, MSAL and @azure/identity alike
 * without changing how any client is built.
 */
export function trustCa(caCertPath: string) {
  const pem = fs.readFileSync(caCertPath, 'utf8');
  if (trusted.has(pem)) return;
  trusted.add(pem);
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), pem]);
}

/** Starts an emulator on free ports with a throwaway data directory, trusting its CA. */
export async function startTestEmulator(
  options: EntraEmulatorOptions = {},
): Promise<EntraEmulator> {
  const dataDir =
    options.dataDir ??
    fs.mkdtempSync(path.join(os.tmpdir(), 'entra-emulator-test-'));
  const emulator = await createEntraEmulator({
    httpPort: 0,
    httpsPort: 0,
    ...options,
    dataDir,
  });
  trustCa(emulator.caCertPath);
  return emulator;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Records the host of every outgoing TCP connection (http, https, fetch,
 * MSAL and @azure/identity all end in `net.Socket#connect`), so tests can
 * assert that nothing left loopback.
 */
export function recordConnections() {
  const hosts: string[] = [];
  const original = net.Socket.prototype.connect;
  const spy = jest
    .spyOn(net.Socket.prototype, 'connect')
    .mockImplementation(function patched(this: net.Socket, ...args: any[]) {
      const first = Array.isArray(args[0]) ? args[0][0] : args[0];
      let host: string | undefined;
      if (first && typeof first === 'object')
        host = first.host ?? (first.path ? 'unix' : 'localhost');
      else if (typeof args[1] === 'string') host = args[1];
      else host = 'localhost';
      hosts.push(String(host));
      return (original as any).apply(this, args);
    } as any);
  return {
    hosts,
    nonLoopback: () => hosts.filter(h => !LOOPBACK.has(h)),
    restore: () => spy.mockRestore(),
  };
}
