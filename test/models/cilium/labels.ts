import { readFileSync } from 'node:fs';

// The identity label filter of the Cilium model, taken from Cilium's own source of each
// release (label-filters.json, written by hack/cilium-label-filters.mjs), never from the
// translator. Semantics of pkg/labelsfilter: every prefix is `[source:][!]regexp`, matched
// at the start of the label key; a label stays when nothing inclusive is configured and no
// ignore matches, or when the longest inclusive match is longer than the shortest ignore
// match. `labels` from cilium-config is appended to the defaults; an inclusive entry there
// makes the filter an allow-list.

export type Release = '1.16' | '1.17' | '1.18' | '1.19' | '1.20';

interface Table {
  readonly releases: Record<Release, { readonly expressions: readonly string[] }>;
}

const TABLE = JSON.parse(readFileSync(new URL('./label-filters.json', import.meta.url), 'utf8')) as Table;

export function defaultExpressions(release: Release): readonly string[] {
  return TABLE.releases[release].expressions;
}

interface Prefix {
  readonly source: string;
  readonly ignore: boolean;
  readonly re: RegExp;
}

function parse(text: string): Prefix {
  const i = text.indexOf(':');
  let body = i < 0 ? text : text.slice(i + 1);
  const ignore = body.startsWith('!');
  if (ignore) body = body.slice(1);
  return { source: i < 0 ? '' : text.slice(0, i), ignore, re: new RegExp(body) };
}

export class IdentityFilter {
  private readonly prefixes: Prefix[];
  private readonly allowList: boolean;

  constructor(defaults: readonly string[], user: readonly string[]) {
    const extra = user.filter((u) => u !== '').map(parse);
    this.prefixes = [...defaults.map(parse), ...extra];
    this.allowList = extra.some((p) => !p.ignore);
  }

  keeps(source: string, key: string): boolean {
    let longestInclude = 0;
    let shortestIgnore = 0;
    for (const p of this.prefixes) {
      if (p.source !== '' && p.source !== source) continue;
      const m = p.re.exec(key);
      if (m === null || m.index !== 0 || m[0].length === 0) continue;
      if (p.ignore) shortestIgnore = shortestIgnore === 0 ? m[0].length : Math.min(shortestIgnore, m[0].length);
      else longestInclude = Math.max(longestInclude, m[0].length);
    }
    return (!this.allowList && shortestIgnore === 0) || longestInclude > shortestIgnore;
  }
}
