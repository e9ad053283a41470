import { chooseRecipient } from './queue-failure-notification.js';

describe('chooseRecipient', () => {
  const author = { name: 'Sam Author', email: 'sam@example.org' };

  test('the maintainer first, else the commit author', () => {
    expect(chooseRecipient({ maintainer: 'Jane <jane@example.org>', commitAuthor: author })).toMatchObject({
      ok: true,
      shown: 'Jane <jane@example.org>',
    });
    expect(chooseRecipient({ maintainer: '  ', commitAuthor: author })).toMatchObject({
      ok: true,
      shown: 'Sam Author <sam@example.org>',
    });
    expect(chooseRecipient({ commitAuthor: 'Doe, Sam <sam@example.org>' })).toMatchObject({
      ok: true,
      shown: '"Doe, Sam" <sam@example.org>',
    });
    expect(chooseRecipient({ commitAuthor: 'sam@example.org' })).toMatchObject({ ok: true, shown: 'sam@example.org' });
  });

  test('an invalid maintainer is refused, not replaced by the author', () => {
    const choice = chooseRecipient({ maintainer: 'a@example.org\r\nBcc: evil@example.org', commitAuthor: author });
    expect(choice).toEqual({
      ok: false,
      reason: 'package.maintainer contains a line break or another control character',
      shown: 'a@example.org\\r\\nBcc: evil@example.org',
    });
  });

  test('an author whose email hides a line break is refused', () => {
    expect(chooseRecipient({ commitAuthor: 'Sam <sam@example.org\nBcc: evil@example.org>' })).toMatchObject({
      ok: false,
    });
    expect(chooseRecipient({ commitAuthor: { name: 'Sam', email: 'sam@example.org\r\n' } })).toMatchObject({
      ok: false,
    });
  });

  test('nobody to tell', () => {
    expect(chooseRecipient({})).toMatchObject({
      ok: false,
      shown: null,
      reason: expect.stringMatching(/^no recipient/),
    });
  });
});
