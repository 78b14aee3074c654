import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** One rendered Kubernetes object, as kustomize prints it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

function answers(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The real kustomize: its own binary when installed, else the one built into kubectl (v5 in
 * kubectl 1.27+). Debian's kubectl 1.20 embeds kustomize 2, which predates `labels`,
 * `replacements` and `patches`; infra/k8s/README.md says where to get a current one.
 */
function kustomizeCommand(): [string, string[]] {
  if (answers('kustomize', ['version'])) return ['kustomize', ['build']];
  if (answers('kubectl', ['version', '--client'])) return ['kubectl', ['kustomize']];
  throw new Error('neither kustomize nor kubectl is on PATH; see infra/k8s/README.md, "Validation"');
}

/** Renders a kustomization directory offline (no cluster, no remote bases) into its objects. */
export function render(directory: string): Manifest[] {
  const [command, args] = kustomizeCommand();
  const output = execFileSync(command, [...args, directory], { encoding: 'utf8' });
  return parseAllDocuments(output).map((document) => {
    if (document.errors.length > 0) throw document.errors[0];
    return document.toJS() as Manifest;
  });
}
