import { escapeCell, neutralise } from './terminal-text.js';

describe('neutralise', () => {
  it.each([
    ['window title', '\u001b]0;pwned\u0007after', '^[]0;pwned^Gafter'],
    ['clear screen', 'a\u001b[2Jb\u001b[H', 'a^[[2Jb^[[H'],
    ['OSC 52 clipboard write', '\u001b]52;c;ZWNobyBoaQ==\u0007', '^[]52;c;ZWNobyBoaQ==^G'],
    ['C1 CSI', 'x\u009b2Jy', 'x\\x9b2Jy'],
    ['backspace and bell', 'ab\bc\u0007', 'ab^Hc^G'],
    ['carriage returns become line breaks', 'one\r\ntwo\rthree', 'one\ntwo\nthree'],
  ])('shows %s as text', (_name, input, shown) => {
    expect(neutralise(input, true)).toBe(shown);
    expect(neutralise(input, false)).toBe(shown);
  });

  it('keeps colour on a terminal only', () => {
    const red = '\u001b[31mred\u001b[0m';
    expect(neutralise(red, true)).toBe(red);
    expect(neutralise(red, false)).toBe('^[[31mred^[[0m');
  });

  it('keeps line breaks, tabs and other text', () => {
    expect(neutralise('a\tb\nc ünï', false)).toBe('a\tb\nc ünï');
  });
});

describe('escapeCell', () => {
  it('keeps a name with a line break on one row', () => {
    expect(escapeCell('/usr/bin/evil\nname\t\u001b[2J')).toBe('/usr/bin/evil\\nname\\t^[[2J');
    expect(escapeCell('back\\slash')).toBe('back\\\\slash');
  });
});
