import type { SeededRandom } from '../seeded-random.js';
import type { Farm } from './farm.js';

export type FaultKind =
  'kill-agent' | 'kill-crawler' | 'stop-rabbitmq' | 'restart-postgres' | 'partition' | 'smtp-down';

/** One fault of the schedule: when it starts, what it hits, how long the thing stays down. */
export interface Fault {
  atMs: number;
  kind: FaultKind;
  /** The agent's index, for kill-agent and partition. */
  target: number;
  downMs: number;
}

const KINDS: readonly FaultKind[] = [
  'kill-agent',
  'kill-agent',
  'partition',
  'partition',
  'kill-crawler',
  'stop-rabbitmq',
  'restart-postgres',
  'smtp-down',
];

/**
 * The run's faults, drawn from the seed and spread over `windowMs`: the same
 * seed gives the same kinds, targets, moments and durations. Every kind comes
 * at least once when `count` allows; faults overlap freely (only the same
 * thing is never hit twice at once; see `inject`).
 */
export function faultSchedule(random: SeededRandom, count: number, windowMs: number, agents: number): Fault[] {
  const faults: Fault[] = [];
  const distinct = [...new Set(KINDS)];
  for (let i = 0; i < count; i++) {
    const kind = i < distinct.length ? distinct[i]! : KINDS[random.between(0, KINDS.length - 1)]!;
    const downMs = {
      'kill-agent': random.between(500, 4_000),
      'kill-crawler': random.between(500, 3_000),
      'stop-rabbitmq': random.between(2_000, 8_000),
      'restart-postgres': random.between(1_000, 5_000),
      partition: random.between(6_000, 15_000),
      'smtp-down': random.between(5_000, 20_000),
    }[kind];
    faults.push({ atMs: random.between(0, windowMs), kind, target: random.between(0, agents - 1), downMs });
  }
  return faults.sort((a, b) => a.atMs - b.atMs);
}

/** Serialises the faults that hit one thing (an agent, the broker, the database, the mail server). */
class Locks {
  private readonly held = new Map<string, Promise<void>>();
  async with(key: string, work: () => Promise<void>): Promise<void> {
    const before = this.held.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    this.held.set(
      key,
      mine.catch(() => undefined),
    );
    await mine;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Injects one fault and undoes it after its time; resolves once the thing is back. */
export function faultInjector(farm: Farm, say: (line: string) => void) {
  const locks = new Locks();
  return (fault: Fault): Promise<void> => {
    const agent = farm.agents[fault.target]!;
    switch (fault.kind) {
      case 'kill-agent':
        return locks.with(agent.name, async () => {
          say(`fault: kill -9 ${agent.name}`);
          await agent.kill9();
          await pause(fault.downMs);
        });
      case 'partition':
        return locks.with(agent.name, async () => {
          say(`fault: partition ${agent.name} for ${fault.downMs} ms`);
          await agent.host.partition();
          await pause(fault.downMs);
          await agent.host.heal();
          say(`healed ${agent.name}`);
        });
      case 'kill-crawler':
        return locks.with('crawler', async () => {
          say('fault: kill -9 the crawler');
          await farm.crawler.kill9();
          await pause(fault.downMs);
        });
      case 'stop-rabbitmq':
        return locks.with('rabbitmq', async () => {
          say(`fault: RabbitMQ stopped for ${fault.downMs} ms`);
          await farm.rabbit.stop();
          await pause(fault.downMs);
          await farm.rabbit.start();
          say('RabbitMQ started');
        });
      case 'restart-postgres':
        return locks.with('postgres', async () => {
          say(`fault: PostgreSQL stopped for ${fault.downMs} ms`);
          await farm.pg.stop();
          await pause(fault.downMs);
          await farm.pg.start();
          say('PostgreSQL started');
        });
      case 'smtp-down':
        return locks.with('smtp', async () => {
          say(`fault: SMTP down for ${fault.downMs} ms`);
          await farm.smtp.stop();
          await pause(fault.downMs);
          await farm.smtp.start();
          say('SMTP up');
        });
    }
  };
}
