/** A control-plane failure the user can act on; `exitCode` is what the CLI should return. */
export class ControlPlaneError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

/** Exit codes shared with hack/controlplane/build.sh. */
export const ExitCode = {
  failure: 1,
  goMissing: 3,
  buildFailed: 4,
  startFailed: 5,
  notRunning: 6,
} as const;
