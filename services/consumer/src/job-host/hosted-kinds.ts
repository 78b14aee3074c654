import { isBuiltInJobKind } from '@conveyor/contracts';
import { AppError } from '@conveyor/platform';
import { loadJobModules, type LoadedJobKind } from '@conveyor/worker';

/** The job kinds of every module this process hosts; one kind in two modules is a start-up error. */
export async function loadHostedKinds(specifiers: readonly string[]): Promise<LoadedJobKind[]> {
  const kinds = (await Promise.all(specifiers.map((specifier) => loadJobModules(specifier)))).flat();
  const seen = new Map<string, string>();
  for (const kind of kinds) {
    if (isBuiltInJobKind(kind.kind)) {
      throw new AppError(
        'reserved_kind',
        `job kind "${kind.kind}" in ${kind.specifier} is a built-in kind's name: give the module's kind another name`,
      );
    }
    const earlier = seen.get(kind.kind);
    if (earlier !== undefined) {
      throw new AppError(
        'duplicate_kind',
        `job kind "${kind.kind}" is defined by both ${earlier} and ${kind.specifier}: host it from one module`,
      );
    }
    seen.set(kind.kind, kind.specifier);
  }
  return kinds;
}
