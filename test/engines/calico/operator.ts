import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../support/paths.js';

// The operator as users run it (`cnp-operator run`, the built CLI), so the objects Felix
// enforces are the ones the shipped program wrote.

export class OperatorProcess {
  private exit: string | undefined;
  private tail = '';

  private constructor(private readonly child: ChildProcess, private readonly log: WriteStream) {
    const keep = (d: Buffer): void => {
      log.write(d);
      this.tail = (this.tail + d.toString('utf8')).slice(-6000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => (this.exit = `cnp-operator exited (${code ?? signal})`));
  }

  static start(kubeconfig: string, logFile: string): OperatorProcess {
    const cli = join(REPO, 'bin', 'cnp-operator');
    if (!existsSync(join(REPO, 'dist', 'cnp-operator.js'))) throw new Error('dist/ is missing: run `npm run build` first (hack/test.sh does)');
    const args = [cli, 'run', '--kubeconfig', kubeconfig, '--backend', 'calico', '--leader-elect=false', '--health-port', '0', '--metrics-port', '-1'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: kubeconfig } });
    return new OperatorProcess(child, createWriteStream(logFile, { flags: 'a' }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  assertRunning(): void {
    if (this.exit !== undefined) throw new Error(`${this.exit}; last log lines:\n${this.tail.split('\n').slice(-20).join('\n')}`);
  }

  logTail(lines = 20): string {
    return this.tail.split('\n').slice(-lines).join('\n');
  }

  async stop(): Promise<void> {
    if (this.exit === undefined && this.child.exitCode === null) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}
