import { isMicrosoftGraphUrl, isMicrosoftLoginUrl } from './index';

describe('Microsoft cloud hosts', () => {
  it('recognises the sign-in hosts of every cloud, and nothing else', () => {
    expect(isMicrosoftLoginUrl('https://login.microsoftonline.com/tid')).toBe(
      true,
    );
    expect(isMicrosoftLoginUrl('https://login.microsoftonline.us')).toBe(true);
    expect(isMicrosoftLoginUrl('https://login.chinacloudapi.cn/')).toBe(true);
    expect(isMicrosoftLoginUrl('https://localhost:8401/tid')).toBe(false);
    expect(isMicrosoftLoginUrl('http://login.microsoftonline.com')).toBe(false);
    expect(
      isMicrosoftLoginUrl('https://login.microsoftonline.com.evil.example'),
    ).toBe(false);
    expect(isMicrosoftLoginUrl('not a url')).toBe(false);
  });

  it('recognises Graph of every cloud, and nothing else', () => {
    expect(isMicrosoftGraphUrl('https://graph.microsoft.com/v1.0')).toBe(true);
    expect(
      isMicrosoftGraphUrl('https://microsoftgraph.chinacloudapi.cn/v1.0'),
    ).toBe(true);
    expect(isMicrosoftGraphUrl('https://localhost:8401/v1.0')).toBe(false);
  });
});
