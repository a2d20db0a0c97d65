import { run } from './exec.js';
import type { Dataplane } from './felix.js';

// The lab needs root, network namespaces and the tools Felix drives. A machine without them
// fails these tests with a message saying what is missing: they never skip, since a skipped
// real-engine suite would look like a passing one.

const TOOLS: Record<Dataplane, string[]> = {
  iptables: ['ip', 'iptables-nft-save', 'iptables-nft-restore', 'ipset'],
  // Felix runs the nft of hack/nftables/fetch.sh (Debian 12's is too old); apt fetches it.
  nftables: ['ip', 'apt-get', 'dpkg-deb'],
};

export async function preflight(dataplane: Dataplane): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the real-Felix tests need root (network namespaces, netfilter); run them as root (CI does)');
  const missing: string[] = [];
  for (const tool of TOOLS[dataplane]) {
    try {
      await run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      missing.push(tool);
    }
  }
  if (missing.length > 0) {
    throw new Error(`the real-Felix tests need ${missing.join(', ')} (Debian: apt-get install -y iproute2 iptables nftables ipset; .ci/run installs them)`);
  }
  const probe = `cnpl-preflight-${process.pid}`;
  try {
    await run('ip', ['netns', 'add', probe]);
  } catch (err) {
    throw new Error(`cannot create a network namespace (${(err as Error).message}); the real-Felix tests need CAP_SYS_ADMIN and netns support`);
  }
  await run('ip', ['netns', 'del', probe]);
}
