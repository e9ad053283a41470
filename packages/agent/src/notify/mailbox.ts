/**
 * One email recipient, as Kiln will put it on the envelope and in `To:`.
 * Only `address` ever reaches RCPT TO; `name` is display text that the mailer
 * encodes itself.
 */
export interface Mailbox {
  name?: string;
  address: string;
}

export type MailboxCheck = { ok: true; mailbox: Mailbox } | { ok: false; reason: string };

export const MAX_MAILBOX_LENGTH = 320;
const MAX_ADDRESS_LENGTH = 254;
const MAX_LOCAL_LENGTH = 64;
const MAX_NAME_LENGTH = 128;

// Dot-atom local part without `%` and `!`: those are the old relay-routing
// hacks (`user%other@relay`, `host!user@relay`) that would send mail on from
// the first server to somewhere the manifest never named.
const LOCAL_PART = /^[A-Za-z0-9#$&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9#$&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// An unquoted display name: words of letters (any script), digits, spaces and
// a few harmless marks. Everything RFC 5322 calls "specials" must be quoted.
const PLAIN_NAME = /^[\p{L}\p{M}\p{N} .'_+-]+$/u;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Reads one mailbox, `addr@host` or `Name <addr@host>` (or `"Name, Jr." <addr@host>`),
 * and refuses anything that could reach someone else: line breaks and other
 * control characters (header injection), several addresses, group syntax,
 * quoted local parts, source routes (`<@a:b@c>`), `%`/`!` relaying, nested
 * angle brackets, comments, domain literals, over-long input.
 */
export function parseMailbox(input: string): MailboxCheck {
  if (CONTROL.test(input)) return refuse('contains a line break or another control character');
  if (input.length > MAX_MAILBOX_LENGTH) return refuse(`is longer than ${MAX_MAILBOX_LENGTH} characters`);
  const text = input.trim();
  if (text === '') return refuse('is empty');

  const open = text.indexOf('<');
  if (open === -1) {
    if (text.includes('>')) return refuse('has unbalanced angle brackets');
    return checkAddress(text);
  }
  if (!text.endsWith('>')) return refuse('has text after the address in angle brackets');
  const inner = text.slice(open + 1, -1);
  if (inner.includes('<') || inner.includes('>')) return refuse('has nested angle brackets');
  const phrase = text.slice(0, open).trim();
  const name = checkName(phrase);
  if (!name.ok) return name;
  const address = checkAddress(inner);
  if (!address.ok) return address;
  return name.name === undefined
    ? address
    : { ok: true, mailbox: { name: name.name, address: address.mailbox.address } };
}

/** A git author (name and email) as a mailbox; the name is display text only. */
export function mailboxFromAuthor(author: { name: string; email: string }): MailboxCheck {
  const address = parseMailbox(author.email);
  if (!address.ok) return address;
  if (address.mailbox.name !== undefined) return refuse('is a name and address where only an address belongs');
  // A git name may hold characters a display name may not; drop them rather
  // than refuse, since the address alone is what matters.
  const name = author.name
    .replace(CONTROL, '')
    .replace(/[<>"\\]/g, '')
    .trim()
    .slice(0, MAX_NAME_LENGTH);
  return { ok: true, mailbox: name ? { name, address: address.mailbox.address } : address.mailbox };
}

/**
 * `Name <addr>`, `"Name, Jr." <addr>` or `addr`: what `parseMailbox` reads back
 * to the same mailbox. For the database and logs; headers are the mailer's job.
 */
export function formatMailbox(mailbox: Mailbox): string {
  if (!mailbox.name) return mailbox.address;
  const name = PLAIN_NAME.test(mailbox.name) ? mailbox.name : `"${mailbox.name}"`;
  return `${name} <${mailbox.address}>`;
}

function checkName(phrase: string): { ok: true; name?: string } | { ok: false; reason: string } {
  if (phrase === '') return { ok: true };
  if (phrase.replace(/^"(.*)"$/, '$1').length > MAX_NAME_LENGTH) {
    return refuse(`has a name longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (phrase.startsWith('"')) {
    // A quoted name may hold commas ("Doe, Jane"); it stays one display name
    // because the mailer quotes it again. No escapes, no inner quotes.
    if (phrase.length < 2 || !phrase.endsWith('"')) return refuse('has an unterminated quoted name');
    const name = phrase.slice(1, -1);
    if (name.includes('"') || name.includes('\\')) return refuse('has quotes or backslashes inside the quoted name');
    return { ok: true, name: name.trim() || undefined };
  }
  if (/[,;]/.test(phrase)) return refuse('names several addresses (a comma or semicolon outside quotes)');
  if (phrase.includes(':')) return refuse('uses group syntax (":")');
  if (!PLAIN_NAME.test(phrase)) return refuse('has characters in the name that must be quoted ("Name" <address>)');
  return { ok: true, name: phrase.replace(/\s+/g, ' ') };
}

function checkAddress(address: string): MailboxCheck {
  if (/[,;]/.test(address)) return refuse('names several addresses (a comma or semicolon)');
  if (/\s/.test(address)) return refuse('has spaces in the address');
  if (address.startsWith('@')) return refuse('uses a source route ("@host:"), which would relay the mail');
  if (address.includes('"')) return refuse('has a quoted local part');
  if (address.includes('(') || address.includes(')')) return refuse('has a comment in the address');
  if (address.length > MAX_ADDRESS_LENGTH) return refuse(`has an address longer than ${MAX_ADDRESS_LENGTH} characters`);
  const at = address.lastIndexOf('@');
  if (at === -1) return refuse('is not an address (no "@")');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.includes('@')) return refuse('has more than one "@"');
  if (local.includes('%') || local.includes('!')) return refuse('uses "%" or "!" relaying in the local part');
  if (local.length === 0 || local.length > MAX_LOCAL_LENGTH || !LOCAL_PART.test(local)) {
    return refuse('has an invalid local part (before "@")');
  }
  if (domain.startsWith('[')) return refuse('uses an IP address literal instead of a domain');
  const labels = domain.split('.');
  if (domain.length === 0 || !labels.every((l) => DOMAIN_LABEL.test(l)))
    return refuse('has an invalid domain (after "@")');
  return { ok: true, mailbox: { address: `${local}@${domain.toLowerCase()}` } };
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
