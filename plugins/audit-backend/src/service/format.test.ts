import { csvCell, csvLine } from './format';

describe('csvCell', () => {
  it('leaves plain values as they are', () => {
    expect(csvCell('scaffolder.deploy')).toBe('scaffolder.deploy');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('2026-12-01T00:00:00.000Z')).toBe(
      '2026-12-01T00:00:00.000Z',
    );
  });

  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('one\ntwo')).toBe('"one\ntwo"');
    expect(csvCell('one\r\ntwo')).toBe('"one\r\ntwo"');
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('\r=1')).toBe('"\'\r=1"');
    expect(csvCell('=HYPERLINK("x","y")')).toBe('"\'=HYPERLINK(""x"",""y"")"');
    // Only the first character makes a formula.
    expect(csvCell('a=1')).toBe('a=1');
  });

  it('ends a line with CRLF', () => {
    expect(csvLine(['a', undefined, 'b,c'])).toBe('a,,"b,c"\r\n');
  });
});
