import type { MessageConsumerHandle } from '@conveyor/broker';
import { silentLogger } from '@conveyor/platform';
import { PausableConsumer, type PauseSignal } from './pausable-consumer.js';

/** Paused kinds a test sets, told to subscribers as a watcher would. */
function pauses(initial: string[] = []) {
  const paused = new Set(initial);
  const subscribers: ((paused: ReadonlySet<string>) => void)[] = [];
  const signal: PauseSignal = {
    isPaused: (kind) => paused.has(kind),
    subscribe: (subscriber) => void subscribers.push(subscriber),
  };
  const set = (kind: string, on: boolean) => {
    if (on) paused.add(kind);
    else paused.delete(kind);
    for (const subscriber of subscribers) subscriber(new Set(paused));
  };
  return { signal, set };
}

/** Handles that record what was done to them; a drain waits until the test releases it. */
function handles() {
  const log: string[] = [];
  let release: () => void = () => undefined;
  let opened = 0;
  const open = (): MessageConsumerHandle => {
    const id = ++opened;
    log.push(`open ${id}`);
    return {
      queue: 'q',
      drain: () => {
        log.push(`drain ${id}`);
        return new Promise<void>((resolve) => (release = resolve));
      },
      cancel: async () => {
        log.push(`cancel ${id}`);
        release();
      },
    };
  };
  return { log, open, release: () => release() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PausableConsumer', () => {
  it('does not consume a kind paused at start, and consumes once resumed', async () => {
    const { signal, set } = pauses(['factorize']);
    const { log, open } = handles();
    const consumer = new PausableConsumer('factorize', open, signal, silentLogger());
    consumer.start();
    await settle();
    expect(log).toEqual([]);
    set('factorize', false);
    await settle();
    expect(log).toEqual(['open 1']);
    await consumer.stop();
    expect(log).toEqual(['open 1', 'cancel 1']);
  });

  it('drains on pause, opens a new consumer on resume after the drain, and ignores other kinds', async () => {
    const { signal, set } = pauses();
    const { log, open, release } = handles();
    const consumer = new PausableConsumer('factorize', open, signal, silentLogger());
    consumer.start();
    await settle();
    set('csv-sum', true);
    set('factorize', true);
    await settle();
    expect(log).toEqual(['open 1', 'drain 1']);
    set('factorize', false);
    await settle();
    expect(log).toEqual(['open 1', 'drain 1']);
    release();
    await settle();
    await settle();
    expect(log).toEqual(['open 1', 'drain 1', 'open 2']);
    await consumer.stop();
  });

  it('a stop during a drain cancels the draining consumer (its grace starts) and opens nothing more', async () => {
    const { signal, set } = pauses();
    const { log, open } = handles();
    const consumer = new PausableConsumer('factorize', open, signal, silentLogger());
    consumer.start();
    await settle();
    set('factorize', true);
    set('factorize', false);
    await settle();
    await consumer.stop();
    expect(log).toEqual(['open 1', 'drain 1', 'cancel 1']);
  });
});
