import { RotatingTokenCredential } from './rotatingTokenCredential';

describe('RotatingTokenCredential', () => {
  it('builds its inner credential once per credential version', async () => {
    let version = 1;
    const built: number[] = [];
    const credential = new RotatingTokenCredential(
      () => version,
      () => {
        const v = version;
        built.push(v);
        return {
          getToken: async () => ({
            token: `token-${v}`,
            expiresOnTimestamp: 0,
          }),
        };
      },
    );
    expect((await credential.getToken('s'))?.token).toBe('token-1');
    expect((await credential.getToken('s'))?.token).toBe('token-1');
    version = 2;
    expect((await credential.getToken('s'))?.token).toBe('token-2');
    expect(built).toEqual([1, 2]);
  });
});
