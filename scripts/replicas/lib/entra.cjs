/*
 * The Entra emulator, in this process, registered for the load balancer's
 * callback URL; the browser's side of a sign-in (with start and callback
 * sent to chosen replicas); and which replica made each Graph request.
 */
const dc = require('node:diagnostics_channel');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createEntraEmulator, loadSeed } = require('@internal/entra-emulator');
const {
  signInThroughBrowser,
  trustCa,
} = require('@internal/entra-emulator/testUtils');
const {
  cookieHeader,
  readPopupResponse,
} = require('@internal/portal-test-utils');
const { pidOfLocalPort } = require('./ports.cjs');

/** Starts the emulator with the seeded tenant; the portal app also accepts `callbackUrl`. */
async function startEmulator({ callbackUrl }) {
  const seed = loadSeed();
  const portal = seed.apps.find(a => a.key === 'portal');
  portal.redirectUris = [...(portal.redirectUris ?? []), callbackUrl];
  // Its signing key and dev CA, for this run only (removed by cleanup).
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'replicas-emulator-'));
  const emulator = await createEntraEmulator({
    httpPort: 0,
    httpsPort: 0,
    seed,
    dataDir,
  });
  trustCa(emulator.caCertPath);
  return { emulator, dataDir };
}

/**
 * Attributes Graph requests to the process that sent them: the emulator's
 * server sees the client's local port, `ss` names the pid that owns it.
 * Returns a list that fills as requests arrive: { path, pid, at }.
 */
function attributeGraphRequests() {
  const seen = [];
  const channel = dc.channel('http.server.request.start');
  const listener = ({ request, socket }) => {
    if (!request.url?.startsWith('/v1.0/')) return;
    let pid;
    try {
      pid = pidOfLocalPort(socket.remotePort);
    } catch {
      pid = undefined;
    }
    seen.push({ path: request.url, pid, at: Date.now() });
  };
  channel.subscribe(listener);
  return { seen, stop: () => channel.unsubscribe(listener) };
}

/** A full ingestion round starts with the first page of `GET /users`. */
const isUsersFirstPage = p =>
  /^\/v1\.0\/users\?/.test(p) && !/skiptoken|delta/i.test(p);

/**
 * A browser's sign-in where `/start` goes to `startBase` and the callback
 * (`handler/frame`) to `callbackBase`: the load balancer may send the two
 * to different replicas. Returns the popup's response and the session cookie.
 */
async function signInAcross(startBase, callbackBase, upn) {
  const start = await fetch(
    `${startBase}/api/auth/microsoft/start?env=production`,
    { redirect: 'manual' },
  );
  if (start.status !== 302)
    throw new Error(
      `start answered ${start.status}: ${(await start.text()).slice(0, 300)}`,
    );
  const cookie = cookieHeader(start);
  const login = await signInThroughBrowser(start.headers.get('location'), upn);
  const location = login.headers.get('location');
  if (!location) throw new Error(`emulator login answered ${login.status}`);
  const callback = new URL(location);
  const frame = await fetch(
    `${callbackBase}/api/auth/microsoft/handler/frame${callback.search}`,
    {
      headers: { cookie },
      redirect: 'manual',
    },
  );
  const body = await frame.text();
  const { response, error } = readPopupResponse(body);
  if (!response)
    throw new Error(`sign-in of ${upn} failed: ${JSON.stringify(error)}`);
  return {
    token: response.backstageIdentity.token,
    userEntityRef: response.backstageIdentity.identity.userEntityRef,
    sessionCookie: cookieHeader(frame),
  };
}

/** What the app does on load: a refresh with the session cookie, at `base`. */
async function refreshAt(base, sessionCookie) {
  const res = await fetch(
    `${base}/api/auth/microsoft/refresh?env=production&optional`,
    {
      headers: { cookie: sessionCookie, 'x-requested-with': 'XMLHttpRequest' },
    },
  );
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`refresh answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

module.exports = {
  startEmulator,
  attributeGraphRequests,
  isUsersFirstPage,
  signInAcross,
  refreshAt,
};
