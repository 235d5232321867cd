import { randomBytes } from 'node:crypto';

/** What an authorization code stands for until it is redeemed. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  userId: string;
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  authTime: number;
  expiresAt: number;
  redeemed: boolean;
}

/** What a refresh token stands for; rotated on every use. */
export interface RefreshGrant {
  clientId: string;
  userId: string;
  scope: string;
  authTime: number;
  rotated: boolean;
}

/** Codes live ten minutes, like Entra's. */
const CODE_LIFETIME_MS = 10 * 60 * 1000;

/**
 * In-memory codes, refresh tokens and browser sessions. They do not survive a
 * restart, which matches what a relying party must cope with anyway.
 */
export class GrantStore {
  private readonly codes = new Map<string, CodeGrant>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private readonly sessions = new Map<string, string>();

  issueCode(grant: Omit<CodeGrant, 'expiresAt' | 'redeemed'>): string {
    const code = `emu.code.${randomBytes(24).toString('base64url')}`;
    this.codes.set(code, {
      ...grant,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      redeemed: false,
    });
    return code;
  }

  code(code: string): CodeGrant | undefined {
    return this.codes.get(code);
  }

  issueRefreshToken(grant: Omit<RefreshGrant, 'rotated'>): string {
    const token = `emu.rt.${randomBytes(32).toString('base64url')}`;
    this.refreshTokens.set(token, { ...grant, rotated: false });
    return token;
  }

  refreshToken(token: string): RefreshGrant | undefined {
    return this.refreshTokens.get(token);
  }

  createSession(userId: string): string {
    const sid = randomBytes(18).toString('base64url');
    this.sessions.set(sid, userId);
    return sid;
  }

  sessionUser(sid: string | undefined): string | undefined {
    return sid ? this.sessions.get(sid) : undefined;
  }

  endSession(sid: string | undefined) {
    if (sid) this.sessions.delete(sid);
  }
}
