import type { Broker, ConsumerHandle } from '@conveyor/broker';
import type { TopologyNames } from '@conveyor/contracts';
import { describeDeadLetter, type DeadLetterStore } from '@conveyor/jobs';
import { errorMessage, sleep, type Logger } from '@conveyor/platform';

/** Between a failed write and handing the message back (PostgreSQL is down: do not spin). */
const RETRY_PAUSE_MS = 1_000;

/**
 * Moves messages out of the dead-letter queue into PostgreSQL, where operators list and redrive
 * them: each is acked only once its row has committed (a redelivered one is stored once, by its
 * message id), so a crash in between keeps it in the queue. Several cleanups may consume at once.
 */
export function startDeadLetterIntake(deps: {
  broker: Broker;
  names: TopologyNames;
  store: DeadLetterStore;
  log: Logger;
  onStored: () => void;
}): ConsumerHandle {
  const { broker, names, store, log } = deps;
  return broker.consume(
    names.deadLetterQueue,
    async (delivery) => {
      const letter = describeDeadLetter(names, delivery);
      try {
        if (await store.add(letter)) {
          deps.onStored();
          log.warn('dead letter stored', {
            messageId: letter.messageId,
            kind: letter.kind,
            jobId: letter.jobId,
            code: letter.reason.code,
          });
        }
      } catch (error) {
        log.warn('could not store a dead letter; it stays in the queue', { error: errorMessage(error) });
        await sleep(RETRY_PAUSE_MS);
        delivery.reject(true);
        return;
      }
      delivery.ack();
    },
    { prefetch: 20 },
  );
}
