const FIELDS: Record<string, readonly string[]> = {
  // GitHub and Gitea
  repository: [
    'clone_url',
    'ssh_url',
    'git_url',
    'html_url',
    'url',
    'svn_url',
    'git_http_url',
    'git_ssh_url',
    'homepage',
  ],
  // GitLab
  project: ['git_http_url', 'git_ssh_url', 'web_url', 'http_url', 'ssh_url', 'url'],
};

/**
 * The URLs a push payload gives for its repository. They are only ever
 * compared with the watched list, never handed to git: a webhook says which
 * repository to look at, and the crawler then asks that repository itself
 * (the payload's commit ids are not trusted).
 */
export function payloadRepoUrls(payload: unknown): string[] {
  if (typeof payload !== 'object' || payload === null) return [];
  const urls: string[] = [];
  for (const [key, fields] of Object.entries(FIELDS)) {
    const section = (payload as Record<string, unknown>)[key];
    if (typeof section !== 'object' || section === null) continue;
    for (const field of fields) {
      const value = (section as Record<string, unknown>)[field];
      if (typeof value === 'string' && value.length > 0 && value.length <= 2048) urls.push(value);
    }
  }
  return urls;
}

/** GitHub can post `application/x-www-form-urlencoded` with the JSON in a `payload` field. */
export function parsePayload(body: Buffer, contentType: string | undefined): unknown {
  const text = body.toString('utf8');
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const field = new URLSearchParams(text).get('payload');
    return field === null ? null : JSON.parse(field);
  }
  return JSON.parse(text);
}
