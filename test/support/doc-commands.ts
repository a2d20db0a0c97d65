// The shell commands a Markdown document shows, as a reader would type them: every ```sh block
// (also bash, shell, console), backslash continuations joined, comments stripped, a here-document
// kept with its command. Pure: no I/O.

export interface DocCommand {
  /** The document, e.g. docs/admin-guide.md. */
  readonly file: string;
  /** The nearest heading above the block (without the #s). */
  readonly section: string;
  /** 1-based line of the command's first line in the document. */
  readonly line: number;
  /** The command, one line, or several for a here-document (its body and terminator included). */
  readonly text: string;
}

/** A fenced block that is not shell (output, YAML) and the line it starts at. */
export interface DocBlock {
  readonly file: string;
  readonly section: string;
  readonly line: number;
  readonly info: string;
  readonly text: string;
}

const SHELL = new Set(['sh', 'bash', 'shell', 'console']);

/** Every fenced block of the document with its info string, section and position. */
export function fencedBlocks(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split('\n');
  const out: DocBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) section = heading[1]!.trim();
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j]!)) body.push(lines[j++]!);
    out.push({ file, section, line: i + 2, info: fence[1]!, text: body.join('\n') });
    i = j;
  }
  return out;
}

/** The text before an unquoted `#` that starts a word (a shell comment); quotes and escapes respected. */
export function stripComment(line: string): string {
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** The here-document terminator a command line opens (<<EOF, <<'EOF', <<-"EOF"), if any. */
function hereDocument(line: string): string | undefined {
  return /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(line)?.[2];
}

/** The commands of one shell block; `line` is the document line of the block's first line. */
export function commandsOfBlock(block: Pick<DocBlock, 'file' | 'section' | 'line' | 'text'>): DocCommand[] {
  const lines = block.text.split('\n');
  const out: DocCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = stripComment(lines[i]!).trimEnd();
    while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1).trimEnd()} ${stripComment(lines[++i]!).trim()}`;
    text = text.trim();
    if (text === '') continue;
    const terminator = hereDocument(text);
    if (terminator !== undefined) {
      const body: string[] = [];
      while (i + 1 < lines.length && lines[i + 1]!.trim() !== terminator) body.push(lines[++i]!);
      if (i + 1 >= lines.length) throw new Error(`${block.file}:${block.line + start}: here-document without its terminator ${terminator}`);
      i++;
      text = [text, ...body, terminator].join('\n');
    }
    out.push({ file: block.file, section: block.section, line: block.line + start, text });
  }
  return out;
}

/** Every command of every shell block of the document, in order. */
export function extractCommands(markdown: string, file: string): DocCommand[] {
  return fencedBlocks(markdown, file)
    .filter((b) => SHELL.has(b.info))
    .flatMap((b) => commandsOfBlock(b));
}
