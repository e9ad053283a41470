import { formatMailbox, mailboxFromAuthor, parseMailbox } from './mailbox.js';

describe('parseMailbox', () => {
  test.each([
    ['jane@example.org', { address: 'jane@example.org' }],
    ['  jane@Example.ORG  ', { address: 'jane@example.org' }],
    ['Jane Doe <jane@example.org>', { name: 'Jane Doe', address: 'jane@example.org' }],
    ['"Doe, Jane" <jane@example.org>', { name: 'Doe, Jane', address: 'jane@example.org' }],
    ['José Müller <jose+kiln@mail.example.de>', { name: 'José Müller', address: 'jose+kiln@mail.example.de' }],
    ['<jane@example.org>', { address: 'jane@example.org' }],
    ["J. R. O'Neil-Smith <j.oneil@example.org>", { name: "J. R. O'Neil-Smith", address: 'j.oneil@example.org' }],
    ['kiln@localhost', { address: 'kiln@localhost' }],
  ])('accepts %j', (input, mailbox) => {
    expect(parseMailbox(input)).toEqual({ ok: true, mailbox });
  });

  test.each([
    ['a@example.org\r\nBcc: evil@example.org', /line break/],
    ['a@example.org\nBcc: evil@example.org', /line break/],
    ['Jane <a@example.org>\r\n', /line break/],
    ['a@example.org\u0000evil@example.org', /control/],
    ['a@example.org, evil@example.org', /several addresses/],
    ['a@example.org; evil@example.org', /several addresses/],
    ['Jane <a@example.org>, evil@example.org', /text after|several/],
    ['Jane, Evil <a@example.org>', /several addresses/],
    ['friends: a@example.org, b@example.org;', /several addresses|group/],
    ['"evil@attacker.org"@example.org', /quoted local part/],
    ['"a@example.org>evil"@example.org', /quoted|bracket/],
    ['<@relay.example.org:evil@attacker.org>', /source route/],
    ['@relay.example.org:evil@attacker.org', /source route/],
    ['evil%attacker.org@relay.example.org', /relaying/],
    ['attacker.org!evil@relay.example.org', /relaying/],
    ['Jane <<a@example.org>>', /nested/],
    ['Jane <a@example.org> <evil@example.org>', /nested|text after/],
    ['Jane <a@example.org', /text after/],
    ['a@example.org>', /unbalanced/],
    ['a@b@example.org', /more than one/],
    ['a(comment)@example.org', /comment/],
    ['a@[127.0.0.1]', /literal/],
    ['a@-example.org', /domain/],
    ['a@example..org', /domain/],
    ['a@', /domain/],
    ['@example.org', /source route/],
    ['example.org', /no "@"/],
    ['a b@example.org', /spaces/],
    ['.a@example.org', /local part/],
    ['', /empty/],
    [`${'a'.repeat(65)}@example.org`, /local part/],
    [`a@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(10)}.org`, /longer than/],
    [`${'x'.repeat(400)} <a@example.org>`, /longer than/],
    ['Jane@Home <a@example.org>', /must be quoted/],
    ['"Jane <a@example.org>', /unterminated|nested/],
    ['"Ja"ne" <a@example.org>', /quotes/],
  ])('refuses %j', (input, reason) => {
    const check = parseMailbox(input);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });
});

describe('mailboxFromAuthor', () => {
  test('uses the git name as display text only', () => {
    expect(mailboxFromAuthor({ name: 'Jane "JD" Doe <x>', email: 'jane@example.org' })).toEqual({
      ok: true,
      mailbox: { name: 'Jane JD Doe x', address: 'jane@example.org' },
    });
    expect(mailboxFromAuthor({ name: '', email: 'jane@example.org' })).toEqual({
      ok: true,
      mailbox: { address: 'jane@example.org' },
    });
  });

  test('refuses an email that is not one bare address', () => {
    expect(mailboxFromAuthor({ name: 'J', email: 'Other <o@example.org>' }).ok).toBe(false);
    expect(mailboxFromAuthor({ name: 'J', email: 'a@example.org, b@example.org' }).ok).toBe(false);
  });
});

test('formatMailbox writes what parseMailbox reads back', () => {
  expect(formatMailbox({ address: 'a@example.org' })).toBe('a@example.org');
  expect(formatMailbox({ name: 'A', address: 'a@example.org' })).toBe('A <a@example.org>');
  expect(formatMailbox({ name: 'Doe, Jane', address: 'a@example.org' })).toBe('"Doe, Jane" <a@example.org>');
  for (const author of [
    { name: 'Doe; Jane: the @maintainer', email: 'a@example.org' },
    { name: 'x'.repeat(200), email: 'a@example.org' },
    { name: 'Zoë (ZZ)', email: 'a@example.org' },
  ]) {
    const check = mailboxFromAuthor(author);
    if (!check.ok) throw new Error(check.reason);
    expect(parseMailbox(formatMailbox(check.mailbox))).toEqual(check);
  }
});
