import { SeedUser } from '../types';

/** HTML-escapes text for the emulator's pages. */
export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    c =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[
        c
      ]!),
  );
}

/** A stable, readable test id for a person's sign-in button. */
export function signInTestId(user: SeedUser): string {
  return `sign-in-${user.userPrincipalName
    .split('@')[0]
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')}`;
}

/**
 * The login page: one button per seeded person (accessible name "Sign in as
 * <name>", so Playwright's getByRole finds it) and a username field. The
 * original authorize parameters ride along as hidden fields.
 */
export function renderLoginPage(opts: {
  action: string;
  params: Record<string, string>;
  users: SeedUser[];
  loginHint?: string;
  error?: string;
  tenantName: string;
}): string {
  const hidden = Object.entries(opts.params)
    .map(
      ([k, v]) =>
        `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(
          v,
        )}">`,
    )
    .join('\n');
  const people = opts.users
    .map(u => {
      const hinted =
        opts.loginHint &&
        u.userPrincipalName.toLowerCase() === opts.loginHint.toLowerCase();
      const notes = [
        u.userType === 'Guest' ? 'guest' : '',
        u.accountEnabled === false ? 'disabled' : '',
      ]
        .filter(Boolean)
        .join(', ');
      return `<li${
        hinted ? ' class="hinted"' : ''
      }><button type="submit" name="user" value="${escapeHtml(
        u.id,
      )}" data-testid="${signInTestId(u)}" aria-label="Sign in as ${escapeHtml(
        u.displayName,
      )}"><strong>${escapeHtml(u.displayName)}</strong> <span>${escapeHtml(
        u.userPrincipalName,
      )}</span>${notes ? ` <em>(${notes})</em>` : ''}</button></li>`;
    })
    .join('\n');
  const error = opts.error
    ? `<p role="alert" class="error">${escapeHtml(opts.error)}</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Sign in to ${escapeHtml(opts.tenantName)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
ul{list-style:none;padding:0}li{margin:.3rem 0}
button{width:100%;text-align:left;padding:.5rem;cursor:pointer}
li.hinted button{outline:2px solid #0067b8}.error{color:#a80000}
.banner{background:#fff4ce;padding:.5rem}
</style></head>
<body>
<p class="banner">Entra emulator: a development stand-in for Microsoft Entra ID. Not a real sign-in.</p>
<h1>Sign in to ${escapeHtml(opts.tenantName)}</h1>
${error}
<form method="post" action="${escapeHtml(opts.action)}">
${hidden}
<label for="login">Username (user principal name)</label>
<input id="login" name="login" type="text" autocomplete="username" value="${escapeHtml(
    opts.loginHint ?? '',
  )}">
<button type="submit" data-testid="sign-in-username">Sign in</button>
<h2>Or pick a person</h2>
<ul>
${people}
</ul>
</form>
</body></html>`;
}

/** Entra's error page for requests that cannot be redirected back. */
export function renderErrorPage(message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in error</title></head>
<body><h1>Sorry, but we're having trouble signing you in.</h1>
<p role="alert">${escapeHtml(message)}</p></body></html>`;
}
