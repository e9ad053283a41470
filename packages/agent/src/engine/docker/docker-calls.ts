import { InfrastructureError } from '@kiln/shared';

/** A Docker call whose failure becomes an InfrastructureError naming what was attempted. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new InfrastructureError(`Docker: cannot ${what}: ${messageOf(err)}`, { cause: err });
  }
}

/** Removal of something already gone (or going) is not a failure. */
export async function ignoreMissing(fn: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const status = statusOf(err);
    // 404: already gone; 409: removal already in progress (another cleanup got there first).
    if (status === 404 || status === 409) return;
    throw new InfrastructureError(`Docker: cannot ${what}: ${messageOf(err)}`, { cause: err });
  }
}

export function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err
    ? (err as { statusCode?: number }).statusCode
    : undefined;
}

export function messageOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'json' in err) {
    const json = (err as { json?: { message?: string } }).json;
    if (json?.message) return json.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export function toList(value: string | string[] | undefined | null): string[] | null {
  if (value === undefined || value === null) return null;
  return Array.isArray(value) ? value : [value];
}
