/**
 * Group commit for directory fsyncs. A rename is durable once its directory has been synced by a
 * sync that started after the rename; when several writers rename into the same directory at
 * about the same time, one sync covers them all. A sync asked for while one is running waits for
 * the next one, which starts as soon as the running one ends and covers every request made
 * before it started, so nobody is told "durable" by a sync that began before their rename.
 */
export class DirectorySyncs {
  private readonly states = new Map<string, { running: Promise<void>; queued: Promise<void> | undefined }>();

  constructor(private readonly syncOnce: (directory: string) => Promise<void>) {}

  /** Resolves once `directory` has been synced by a sync that started after this call. */
  sync(directory: string): Promise<void> {
    const state = this.states.get(directory);
    if (state === undefined) return this.start(directory);
    // Whatever the running sync's fate, the queued one is a fresh attempt with its own result.
    state.queued ??= state.running.then(
      () => this.start(directory),
      () => this.start(directory),
    );
    return state.queued;
  }

  private start(directory: string): Promise<void> {
    const running = this.syncOnce(directory);
    const state = { running, queued: undefined as Promise<void> | undefined };
    this.states.set(directory, state);
    const settle = () => {
      // A queued sync replaces this state when it starts; only an idle directory is forgotten.
      if (this.states.get(directory) === state && state.queued === undefined) this.states.delete(directory);
    };
    running.then(settle, settle);
    return running;
  }
}
