/*
 * Check 1: sign-in state lives in the shared database and cookies, not in a
 * pod. A sign-in started on one replica completes on the other; a session
 * created on one refreshes on the other; a Backstage token one issued is
 * accepted by the other (signing keys in the database key store).
 */
const { signInAcross, refreshAt } = require('../lib/entra.cjs');

const PERSON = 'ada.admin@contoso.example';

module.exports = async function signInAcrossReplicas({ report, replicas }) {
  report.section(
    '1. Sign-in across replicas (backends driven directly, not through haproxy)',
  );
  const { a, b } = replicas;
  const rounds = 3;
  for (const [from, to] of [
    [a, b],
    [b, a],
  ]) {
    let completed = 0;
    let refreshed = 0;
    let accepted = 0;
    const errors = [];
    for (let i = 0; i < rounds; i++) {
      try {
        const session = await signInAcross(from.url, to.url, PERSON);
        completed++;
        // The session (refresh cookie) was created by `to`; refresh it on `from`.
        const refresh = await refreshAt(from.url, session.sessionCookie);
        if (
          refresh.backstageIdentity?.identity?.userEntityRef ===
          session.userEntityRef
        )
          refreshed++;
        // The token `to` issued, read at `from`; the one `from` refreshed, read at `to`.
        const [kind, rest] = session.userEntityRef.split(':');
        const [namespace, name] = rest.split('/');
        const path = `/api/catalog/entities/by-name/${kind}/${namespace}/${name}`;
        const readAt = async (base, token) =>
          (
            await fetch(`${base}${path}`, {
              headers: { authorization: `Bearer ${token}` },
            })
          ).status;
        const s1 = await readAt(from.url, session.token);
        const s2 = await readAt(to.url, refresh.backstageIdentity.token);
        if (s1 === 200 && s2 === 200) accepted++;
        else errors.push(`catalog read ${s1}/${s2}`);
      } catch (error) {
        errors.push(error.message);
      }
    }
    const label = `${from.name} -> ${to.name}`;
    report.check(
      `sign-in started on ${from.name} completes on ${to.name}`,
      completed === rounds,
      `${completed}/${rounds} sign-ins as ${PERSON}${
        errors.length ? `; ${errors[0]}` : ''
      }`,
    );
    report.check(
      `session created on ${to.name} refreshes on ${from.name}`,
      refreshed === rounds,
      `${refreshed}/${rounds} refreshes (${label})`,
    );
    report.check(
      `Backstage token issued by ${to.name} accepted by ${from.name}, and back`,
      accepted === rounds,
      `${accepted}/${rounds} catalog reads with each token`,
    );
  }

  // Hostile: a sign-in whose callback carries no nonce cookie (another
  // browser) is refused by the other replica too.
  const start = await fetch(
    `${a.url}/api/auth/microsoft/start?env=production`,
    { redirect: 'manual' },
  );
  const {
    signInThroughBrowser,
  } = require('@internal/entra-emulator/testUtils');
  const login = await signInThroughBrowser(
    start.headers.get('location'),
    PERSON,
  );
  const callback = new URL(login.headers.get('location'));
  const frame = await fetch(
    `${b.url}/api/auth/microsoft/handler/frame${callback.search}`,
    { redirect: 'manual' },
  );
  const body = await frame.text();
  report.check(
    "a callback without the browser's nonce cookie is refused on the other replica",
    !/backstageIdentity/.test(body),
    `handler answered ${frame.status} without a Backstage identity`,
  );

  // Hostile: a token with a changed signature is refused by both.
  const session = await signInAcross(a.url, a.url, PERSON);
  const forged = `${session.token.slice(0, -4)}${
    session.token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'
  }`;
  const statuses = [];
  for (const r of [a, b]) {
    statuses.push(
      (
        await fetch(`${r.url}/api/catalog/entities?limit=1`, {
          headers: { authorization: `Bearer ${forged}` },
        })
      ).status,
    );
  }
  report.check(
    'a Backstage token with a forged signature is refused by both',
    statuses.every(s => s === 401),
    `answers ${statuses.join(', ')}`,
  );
};
