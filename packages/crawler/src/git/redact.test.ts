import { redactUrls } from './redact.js';

test('redactUrls removes user info from every URL in a message', () => {
  expect(redactUrls("fatal: unable to access 'https://x-token:ghp_abc@github.com/a/b.git/': 403 and ssh://git:pw@h/x")).toBe(
    "fatal: unable to access 'https://***@github.com/a/b.git/': 403 and ssh://***@h/x",
  );
});
