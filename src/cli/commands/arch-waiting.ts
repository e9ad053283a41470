import { archQueueName, connectAmqp, type Config } from '@kiln/shared';

/**
 * Why queued builds of each arch wait: "no agent serves arm64" when nothing
 * consumes the arch's queue (`<queue>.<arch>`). Arches whose queue has a
 * consumer are left out; so is everything when the broker cannot be asked
 * (status reads the database first, and says what it knows).
 */
export async function archWaitReasons(
  config: Pick<Config, 'KILN_AMQP_URL' | 'KILN_QUEUE'>,
  arches: readonly string[],
): Promise<Map<string, string>> {
  const reasons = new Map<string, string>();
  if (arches.length === 0) return reasons;
  let connection;
  try {
    connection = await connectAmqp(config.KILN_AMQP_URL, { timeoutMs: 3_000 });
  } catch {
    return reasons;
  }
  try {
    for (const arch of new Set(arches)) {
      const queue = archQueueName(config.KILN_QUEUE, arch);
      // A queue that does not exist closes the channel: one channel per question.
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      const state = await channel.checkQueue(queue).catch(() => null);
      if (!state || state.consumerCount === 0) {
        reasons.set(
          arch,
          `no agent serves ${arch} (nothing consumes ${queue}; start one with KILN_ARCHS including ${arch}, or register its qemu binfmt handler)`,
        );
      }
      await channel.close().catch(() => undefined);
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
  return reasons;
}
