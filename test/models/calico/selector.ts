// Calico's selector language, from the documented grammar (reference/calico.md §2.4):
//   k == 'v' | k != 'v' | has(k) | k in {'a','b'} | k not in {...} | k contains 's'
//   | k starts with 's' | k ends with 's' | all() | global() | !e | e && e | e || e | (e)
// Precedence: match operators > () > ! > && > ||. Strings in '…' or "…", no escapes.
// Label identifiers: [a-zA-Z0-9_./-], at most 512 characters.
// Semantics: `!=` and `not in` are true when the label is absent; `==`, `in`, `contains`,
// `starts with`, `ends with` are false then. `global()` is only meaningful as a whole
// namespaceSelector; it is kept as a node so the caller can check where it appears.

export type Labels = Readonly<Record<string, string>>;

export type SelectorNode =
  | { readonly op: 'all' }
  | { readonly op: 'global' }
  | { readonly op: 'has'; readonly key: string }
  | { readonly op: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notIn'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'not'; readonly operand: SelectorNode }
  | { readonly op: 'and' | 'or'; readonly left: SelectorNode; readonly right: SelectorNode };

export class SelectorParseError extends Error {}

type Token =
  | { t: 'label'; v: string }
  | { t: 'string'; v: string }
  | { t: 'sym'; v: '(' | ')' | '{' | '}' | ',' | '&&' | '||' | '==' | '!=' | '!' };

const LABEL_CHAR = /[a-zA-Z0-9_./-]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '&&' || two === '||' || two === '==' || two === '!=') {
      tokens.push({ t: 'sym', v: two });
      i += 2;
      continue;
    }
    if ('(){},!'.includes(c)) {
      tokens.push({ t: 'sym', v: c as '(' });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new SelectorParseError(`unterminated string at ${i} in ${JSON.stringify(text)}`);
      tokens.push({ t: 'string', v: text.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (LABEL_CHAR.test(c)) {
      let j = i;
      while (j < text.length && LABEL_CHAR.test(text[j]!)) j++;
      const label = text.slice(i, j);
      if (label.length > 512) throw new SelectorParseError(`label longer than 512 characters in ${JSON.stringify(text)}`);
      tokens.push({ t: 'label', v: label });
      i = j;
      continue;
    }
    throw new SelectorParseError(`unexpected character ${JSON.stringify(c)} at ${i} in ${JSON.stringify(text)}`);
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  parse(): SelectorNode {
    const node = this.or();
    if (this.pos !== this.tokens.length) this.fail('unexpected trailing input');
    return node;
  }

  private fail(why: string): never {
    throw new SelectorParseError(`${why} at token ${this.pos} in ${JSON.stringify(this.text)}`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isSym(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'sym' && t.v === v;
  }

  private isWord(v: string, offset = 0): boolean {
    const t = this.tokens[this.pos + offset];
    return t !== undefined && t.t === 'label' && t.v === v;
  }

  private expectSym(v: string): void {
    if (!this.isSym(v)) this.fail(`expected ${v}`);
    this.pos++;
  }

  private expectString(): string {
    const t = this.peek();
    if (t === undefined || t.t !== 'string') this.fail('expected a string literal');
    this.pos++;
    return t.v;
  }

  private or(): SelectorNode {
    let left = this.and();
    while (this.isSym('||')) {
      this.pos++;
      left = { op: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): SelectorNode {
    let left = this.unary();
    while (this.isSym('&&')) {
      this.pos++;
      left = { op: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): SelectorNode {
    if (this.isSym('!')) {
      this.pos++;
      return { op: 'not', operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): SelectorNode {
    if (this.isSym('(')) {
      this.pos++;
      const inner = this.or();
      this.expectSym(')');
      return inner;
    }
    const t = this.peek();
    if (t === undefined || t.t !== 'label') this.fail('expected a label, has(), all() or global()');
    // Function forms: has(k), all(), global().
    if ((t.v === 'has' || t.v === 'all' || t.v === 'global') && this.tokens[this.pos + 1]?.t === 'sym' && (this.tokens[this.pos + 1] as { v: string }).v === '(') {
      this.pos += 2;
      if (t.v === 'has') {
        const k = this.peek();
        if (k === undefined || k.t !== 'label') this.fail('expected a label in has()');
        this.pos++;
        this.expectSym(')');
        return { op: 'has', key: k.v };
      }
      this.expectSym(')');
      return { op: t.v === 'all' ? 'all' : 'global' };
    }
    this.pos++;
    const key = t.v;
    if (this.isSym('==')) {
      this.pos++;
      return { op: 'eq', key, value: this.expectString() };
    }
    if (this.isSym('!=')) {
      this.pos++;
      return { op: 'ne', key, value: this.expectString() };
    }
    if (this.isWord('in')) {
      this.pos++;
      return { op: 'in', key, values: this.set() };
    }
    if (this.isWord('not') && this.isWord('in', 1)) {
      this.pos += 2;
      return { op: 'notIn', key, values: this.set() };
    }
    if (this.isWord('contains')) {
      this.pos++;
      return { op: 'contains', key, value: this.expectString() };
    }
    if (this.isWord('starts') && this.isWord('with', 1)) {
      this.pos += 2;
      return { op: 'startsWith', key, value: this.expectString() };
    }
    if (this.isWord('ends') && this.isWord('with', 1)) {
      this.pos += 2;
      return { op: 'endsWith', key, value: this.expectString() };
    }
    return this.fail(`expected an operator after label ${JSON.stringify(key)}`);
  }

  private set(): string[] {
    this.expectSym('{');
    const values: string[] = [];
    if (this.isSym('}')) {
      this.pos++;
      return values;
    }
    for (;;) {
      values.push(this.expectString());
      if (this.isSym(',')) {
        this.pos++;
        continue;
      }
      this.expectSym('}');
      return values;
    }
  }
}

const cache = new Map<string, SelectorNode>();

/** Parses a selector; the empty (or blank) selector is `all()`. */
export function parseCalicoSelector(text: string): SelectorNode {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const tokens = tokenize(text);
  const node: SelectorNode = tokens.length === 0 ? { op: 'all' } : new Parser(tokens, text).parse();
  cache.set(text, node);
  return node;
}

export function containsGlobal(node: SelectorNode): boolean {
  switch (node.op) {
    case 'global':
      return true;
    case 'not':
      return containsGlobal(node.operand);
    case 'and':
    case 'or':
      return containsGlobal(node.left) || containsGlobal(node.right);
    default:
      return false;
  }
}

/** Evaluates a parsed selector against a label map. `global()` must have been rewritten away. */
export function evaluateSelector(node: SelectorNode, labels: Labels): boolean {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(labels, k);
  switch (node.op) {
    case 'all':
      return true;
    case 'global':
      throw new Error('global() is only valid as a whole namespaceSelector');
    case 'has':
      return has(node.key);
    case 'eq':
      return has(node.key) && labels[node.key] === node.value;
    case 'ne':
      return !has(node.key) || labels[node.key] !== node.value;
    case 'contains':
      return has(node.key) && labels[node.key]!.includes(node.value);
    case 'startsWith':
      return has(node.key) && labels[node.key]!.startsWith(node.value);
    case 'endsWith':
      return has(node.key) && labels[node.key]!.endsWith(node.value);
    case 'in':
      return has(node.key) && node.values.includes(labels[node.key]!);
    case 'notIn':
      return !has(node.key) || !node.values.includes(labels[node.key]!);
    case 'not':
      return !evaluateSelector(node.operand, labels);
    case 'and':
      return evaluateSelector(node.left, labels) && evaluateSelector(node.right, labels);
    case 'or':
      return evaluateSelector(node.left, labels) || evaluateSelector(node.right, labels);
  }
}

/**
 * The rewriting Calico applies to a `namespaceSelector` before ANDing it onto `selector`
 * (reference/calico.md §2.1, §2.3): label keys get the `pcns.` prefix (namespace labels are
 * inherited by endpoints through their namespace profile under that prefix), `all()` becomes
 * `has(projectcalico.org/namespace)` and a whole `global()` becomes `!has(projectcalico.org/namespace)`.
 */
export function rewriteNamespaceSelector(node: SelectorNode): SelectorNode {
  if (node.op === 'global') return { op: 'not', operand: { op: 'has', key: NAMESPACE_LABEL } };
  if (containsGlobal(node)) throw new Error('global() must be the whole namespaceSelector');
  const visit = (n: SelectorNode): SelectorNode => {
    switch (n.op) {
      case 'all':
        return { op: 'has', key: NAMESPACE_LABEL };
      case 'global':
        throw new Error('unreachable');
      case 'has':
        return { op: 'has', key: NAMESPACE_PREFIX + n.key };
      case 'eq':
      case 'ne':
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        return { ...n, key: NAMESPACE_PREFIX + n.key };
      case 'in':
      case 'notIn':
        return { ...n, key: NAMESPACE_PREFIX + n.key };
      case 'not':
        return { op: 'not', operand: visit(n.operand) };
      case 'and':
      case 'or':
        return { op: n.op, left: visit(n.left), right: visit(n.right) };
    }
  };
  return visit(node);
}

export const NAMESPACE_LABEL = 'projectcalico.org/namespace';
export const NAMESPACE_PREFIX = 'pcns.';
