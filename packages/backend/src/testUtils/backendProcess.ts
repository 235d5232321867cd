/*
 * Starts the real backend as a child process, the way `node packages/backend`
 * runs in the container, so integration tests exercise the same wiring and
 * configuration files a deployment uses.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root: the working directory the image runs the backend in. */
// eslint-disable-next-line no-restricted-syntax -- test-only, never bundled
export const repoRoot = resolve(__dirname, '../../../..');

export interface BackendProcess {
  baseUrl: string;
  /** Everything the process printed, for assertions and failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Starts packages/backend from TypeScript source with the given config files
 * (relative to the repo root) plus `extraConfig`, written to a temporary file
 * layered last. Resolves once the readiness endpoint answers 200.
 */
export async function startBackendProcess(
  options: BackendProcessOptions & { readinessTimeoutMs?: number },
): Promise<BackendProcess> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const { child, output } = spawnBackend(options, port);

  // Graceful first, as an orchestrator would; then a deadline, so a slow
  // shutdown cannot hang the test run.
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + (options.readinessTimeoutMs ?? 90_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `backend exited with code ${
          child.exitCode
        } before it was ready:\n${output()}`,
      );
    }
    try {
      const res = await fetch(`${baseUrl}/.backstage/health/v1/readiness`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    // A failed start may log for a while before it exits; do not wait it out.
    if (/Unhandled rejection|Backend failed to start/.test(output())) {
      await stop();
      throw new Error(`backend failed to start:\n${output()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`backend not ready in time:\n${output()}`);
    }
    await new Promise(r => setTimeout(r, 250));
  }
  return { baseUrl, output, stop };
}

export interface BackendProcessOptions {
  configFiles: string[];
  extraConfig: (port: number) => object;
  env?: Record<string, string>;
}

/**
 * Starts the backend on a free port and waits for it to exit by itself, while
 * trying to connect to the port the whole time: what an orchestrator sees of
 * a start that must be refused. Killed after `timeoutMs` (exit code null).
 */
export async function runBackendUntilExit(
  options: BackendProcessOptions & { timeoutMs?: number },
): Promise<{
  exitCode: number | null;
  output: string;
  acceptedConnections: number;
}> {
  const port = await freePort();
  const { child, output } = spawnBackend(options, port);
  // 'close', not 'exit': the output is complete once stdio has closed.
  let running = true;
  once(child, 'close').then(() => (running = false));
  const timer = setTimeout(
    () => child.kill('SIGKILL'),
    options.timeoutMs ?? 90_000,
  );
  let acceptedConnections = 0;
  while (running) {
    const accepted = await new Promise<boolean>(resolvePromise => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolvePromise(true);
      });
      socket.once('error', () => resolvePromise(false));
    });
    if (accepted) acceptedConnections++;
    await new Promise(r => setTimeout(r, 20));
  }
  clearTimeout(timer);
  return { exitCode: child.exitCode, output: output(), acceptedConnections };
}

function spawnBackend(
  options: BackendProcessOptions,
  port: number,
): { child: ChildProcess; output: () => string } {
  const extraFile = join(
    mkdtempSync(join(tmpdir(), 'backend-config-')),
    'extra.json',
  );
  writeFileSync(extraFile, JSON.stringify(options.extraConfig(port)));

  const configArgs = [...options.configFiles, extraFile].flatMap(f => [
    '--config',
    f,
  ]);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--enable-source-maps',
      '--require',
      require.resolve('@backstage/cli-node/config/nodeTransform.cjs'),
      join(repoRoot, 'packages/backend/src/index.ts'),
      ...configArgs,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', d => (output += d));
  child.stderr!.on('data', d => (output += d));
  return { child, output: () => output };
}
