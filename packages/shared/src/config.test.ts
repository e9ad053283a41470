import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';

describe('loadConfig', () => {
  test('defaults point at services on this host', () => {
    const config = loadConfig({});
    expect(config.KILN_AMQP_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(config.KILN_DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/kiln');
    expect(config.KILN_SMTP_URL).toBe('smtp://127.0.0.1:1025');
    expect(config.KILN_REPOS).toEqual([]);
    expect(config.KILN_POLL_INTERVAL).toBe(60);
    expect(config.KILN_CONCURRENCY).toBeGreaterThanOrEqual(1);
    expect(config.KILN_ALLOW_INHERIT_ENV).toBe(false);
  });

  test('reads and converts values', () => {
    const config = loadConfig({
      KILN_REPOS: ' /srv/git/a.git, https://example.org/b.git ,',
      KILN_POLL_INTERVAL: '15',
      KILN_MEMORY_LIMIT: '512m',
      KILN_STAGE_TIMEOUT: '20m',
      KILN_ALLOW_INHERIT_ENV: 'true',
      KILN_CONCURRENCY: '',
    });
    expect(config.KILN_REPOS).toEqual(['/srv/git/a.git', 'https://example.org/b.git']);
    expect(config.KILN_POLL_INTERVAL).toBe(15);
    expect(config.KILN_MEMORY_LIMIT).toBe(512 * 1024 * 1024);
    expect(config.KILN_STAGE_TIMEOUT).toBe(1_200_000);
    expect(config.KILN_ALLOW_INHERIT_ENV).toBe(true);
  });

  test.each([
    [{ KILN_AMQP_URL: 'http://x' }, 'KILN_AMQP_URL (got "http://x"): must be a amqp or amqps URL'],
    [{ KILN_POLL_INTERVAL: 'often' }, 'KILN_POLL_INTERVAL (got "often"): must be a whole number from 1 to 86400'],
    [{ KILN_POLL_INTERVAL: '0' }, 'KILN_POLL_INTERVAL (got "0"): must be a whole number from 1 to 86400'],
    [{ KILN_CONCURRENCY: '2.5' }, 'KILN_CONCURRENCY (got "2.5"): must be a whole number from 1 to 256'],
    [{ KILN_MEMORY_LIMIT: 'lots' }, 'KILN_MEMORY_LIMIT (got "lots"): must be a size such as 512m or 2g'],
    [
      { KILN_STAGE_TIMEOUT: 'forever' },
      'KILN_STAGE_TIMEOUT (got "forever"): must be a duration such as 90s, 20m or 1h',
    ],
    [{ KILN_ALLOW_INHERIT_ENV: 'maybe' }, 'KILN_ALLOW_INHERIT_ENV (got "maybe"): must be true or false'],
    [{ KILN_WEBHOOK_SECRET: 'short' }, 'KILN_WEBHOOK_SECRET (got "***"): must be at least 8 characters'],
  ])('names the variable at fault: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('KILN_AMQP_URL takes a cluster: several URLs, each checked, no password shown', () => {
    const cluster = 'amqp://kiln:pw@mq1:5672, amqp://kiln:pw@mq2:5672,amqps://kiln:pw@mq3';
    expect(loadConfig({ KILN_AMQP_URL: cluster }).KILN_AMQP_URL).toBe(cluster);
    expect(() => loadConfig({ KILN_AMQP_URL: 'amqp://kiln:s3cret@mq1,http://kiln:s3cret@mq2' })).toThrow(
      'KILN_AMQP_URL (got "amqp://***@mq1,http://***@mq2"): URL 2 of 2 must be a amqp or amqps URL',
    );
    expect(() => loadConfig({ KILN_AMQP_URL: ' , ' })).toThrow('KILN_AMQP_URL (got " , "): must name at least one URL');
  });

  test('never prints a password from a URL', () => {
    expect(() => loadConfig({ KILN_DATABASE_URL: 'mysql://root:hunter2@db/kiln' })).toThrow(
      'KILN_DATABASE_URL (got "mysql://***@db/kiln")',
    );
  });
});
