/** A failure the user should see, as role=alert so a screen reader says it. */
export function ErrorNote({ error }: { error: string | null }) {
  return error === null ? null : (
    <p class="note error" role="alert">
      {error}
    </p>
  );
}
