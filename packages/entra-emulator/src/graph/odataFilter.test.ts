import { ODataError, parseFilter } from './odataFilter';

describe('parseFilter', () => {
  const user = {
    displayName: "O'Brien Test",
    mail: null,
    userType: 'Member',
    proxyAddresses: ['SMTP:a@x.example'],
  };

  it('evaluates eq/ne/startswith/in/any/not with precedence and quotes', () => {
    expect(parseFilter("displayName eq 'o''brien test'").matches(user)).toBe(
      true,
    );
    expect(
      parseFilter(
        "userType eq 'Guest' or startswith(displayName,'o''b') and mail eq null",
      ).matches(user),
    ).toBe(true);
    expect(
      parseFilter("not (userType in ('Member','Guest'))").matches(user),
    ).toBe(false);
    expect(
      parseFilter("proxyAddresses/any(p:startswith(p,'smtp:a@'))").matches(
        user,
      ),
    ).toBe(true);
  });

  it('reports advanced-only operators', () => {
    expect(parseFilter("userType ne 'Guest'").advancedOperators).toEqual([
      'ne',
    ]);
    expect(parseFilter("endswith(mail,'@x')").advancedOperators).toEqual([
      'endsWith',
    ]);
    expect(parseFilter("displayName eq 'a'").advancedOperators).toEqual([]);
  });

  it('rejects malformed filters', () => {
    expect(() => parseFilter('displayName eq')).toThrow(ODataError);
    expect(() => parseFilter("displayName like 'a'")).toThrow(
      "Unsupported operator 'like'.",
    );
  });
});
