/** The job's progress as the job reports it; an ARIA progressbar, so it can be read and tested. */
export function ProgressBar({ fraction, message }: { fraction: number; message: string | null }) {
  const percent = Math.round(fraction * 100);
  return (
    <div class="progress">
      <div
        class="progress-track"
        role="progressbar"
        aria-label="Progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div class="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span>
        {percent} %{message === null ? '' : ` — ${message}`}
      </span>
    </div>
  );
}
