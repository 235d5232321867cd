/** Reads the hidden fields and action of the emulator's login form. */
export function parseLoginForm(html: string): {
  action: string;
  fields: Record<string, string>;
} {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('No login form in page');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(
    /<input type="hidden" name="([^"]+)" value="([^"]*)">/g,
  )) {
    fields[m[1]] = unescape(m[2]);
  }
  return { action: unescape(action), fields };
}

function unescape(v: string): string {
  return v
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * Does what a person's browser does: opens the authorize URL, then submits the
 * login form as the chosen person. Returns the final response (not followed).
 */
export async function signInThroughBrowser(
  authorizeUrl: string,
  user: string,
  init: { cookie?: string; typed?: boolean } = {},
): Promise<Response> {
  const page = await fetch(authorizeUrl, {
    redirect: 'manual',
    headers: init.cookie ? { cookie: init.cookie } : {},
  });
  if (page.status !== 200) return page;
  const { action, fields } = parseLoginForm(await page.text());
  const origin = new URL(authorizeUrl).origin;
  return fetch(new URL(action, origin), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    // `typed` uses the username field instead of a person's button.
    body: new URLSearchParams(
      init.typed ? { ...fields, login: user } : { ...fields, user },
    ).toString(),
  });
}
