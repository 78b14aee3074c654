import { useState } from 'preact/hooks';
import { messageOf } from '../api/api-client.js';

interface ConfirmActionProps {
  /** The button's word: `Cancel job`, `Redrive all`. */
  label: string;
  /** What the second click does, asked in full: `Cancel job 6f0c…?` */
  question: string;
  /** Runs on confirmation; its answer is the outcome shown next to the button. */
  run(): Promise<string>;
  danger?: boolean;
  disabled?: boolean;
}

type ActionState =
  | { step: 'idle' }
  | { step: 'confirming' }
  | { step: 'running' }
  | { step: 'done'; outcome: string; ok: boolean };

/**
 * A button that asks before it acts (in the page, not window.confirm, so it can be read and
 * tested like the rest) and then says what happened, the API's message on a refusal.
 */
export function ConfirmAction({
  label,
  question,
  run,
  danger = false,
  disabled = false,
}: ConfirmActionProps) {
  const [state, setState] = useState<ActionState>({ step: 'idle' });
  const confirm = () => {
    setState({ step: 'running' });
    run().then(
      (outcome) => setState({ step: 'done', outcome, ok: true }),
      (error: unknown) => setState({ step: 'done', outcome: messageOf(error), ok: false }),
    );
  };
  return (
    <span class="action">
      {state.step === 'confirming' ? (
        <span class="confirm" role="group" aria-label={question}>
          <span>{question}</span>
          <button type="button" class={danger ? 'danger' : 'primary'} onClick={confirm}>
            Yes, {label.toLowerCase()}
          </button>
          <button type="button" onClick={() => setState({ step: 'idle' })}>
            No
          </button>
        </span>
      ) : (
        <button
          type="button"
          class={danger ? 'danger' : ''}
          disabled={disabled || state.step === 'running'}
          onClick={() => setState({ step: 'confirming' })}
        >
          {state.step === 'running' ? `${label}…` : label}
        </button>
      )}
      {state.step === 'done' && (
        <span class={`outcome ${state.ok ? 'ok' : 'error'}`} role={state.ok ? 'status' : 'alert'}>
          {state.outcome}
        </span>
      )}
    </span>
  );
}
