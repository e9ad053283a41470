import { redactCredentials } from './redact.js';

describe('redactCredentials', () => {
  it('removes user and token from every URL in a message', () => {
    const text = "fatal: unable to access 'https://bob:s3cret@git.example.org/x.git/': 403; also ssh://deploy@host/y";
    expect(redactCredentials(text)).toBe(
      "fatal: unable to access 'https://***@git.example.org/x.git/': 403; also ssh://***@host/y",
    );
  });

  it('leaves URLs without credentials alone', () => {
    expect(redactCredentials('https://git.example.org/x.git')).toBe('https://git.example.org/x.git');
  });
});
