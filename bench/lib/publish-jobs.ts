import { connectAmqp, declareBuildQueue } from '@kiln/shared';

/** Drops jobs on build_queue as a person would (persistent JSON), waiting for the broker's confirms. */
export async function publishJobs(url: string, jobs: Array<Record<string, unknown>>): Promise<void> {
  const connection = await connectAmqp(url);
  try {
    const channel = await connection.createConfirmChannel();
    await declareBuildQueue(channel, { queue: 'build_queue', deliveryLimit: 5 });
    for (const job of jobs) {
      channel.sendToQueue('build_queue', Buffer.from(JSON.stringify(job)), {
        persistent: true,
        contentType: 'application/json',
      });
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close().catch(() => undefined);
  }
}
