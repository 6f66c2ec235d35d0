/**
 * Reads the walkthrough out of the README: every ```sh block under "## Walkthrough" that is followed by a
 * ```text block is a step, the text block being the output it promises. A promised line must appear in the
 * real output as a substring, in order; a line of just `...` stands for anything.
 */
export interface ReadmeStep {
  /** The heading the step sits under. */
  heading: string;
  command: string;
  expected: string[];
}

const FENCE = /^```(\w*)\s*$/;

export function readmeWalkthrough(markdown: string): ReadmeStep[] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => /^## Walkthrough\b/.test(l));
  if (start < 0) throw new Error('README.md has no "## Walkthrough" section');
  const blocks: Array<{ lang: string; body: string[]; heading: string }> = [];
  let heading = "";
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^## /.test(line)) break;
    if (/^### /.test(line)) heading = line.replace(/^### /, "");
    const open = FENCE.exec(line);
    if (!open) continue;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ lang: open[1] ?? "", body, heading });
  }
  const steps: ReadmeStep[] = [];
  for (let b = 0; b < blocks.length - 1; b++) {
    const cmd = blocks[b]!;
    const out = blocks[b + 1]!;
    if (cmd.lang === "sh" && out.lang === "text") {
      steps.push({
        heading: cmd.heading,
        command: cmd.body.join("\n"),
        expected: out.body.filter((l) => l.trim()),
      });
      b++;
    }
  }
  return steps;
}

/** The first promised line missing from `output` (in order), or undefined when all are there. */
export function missingExpectedLine(output: string, expected: string[]): string | undefined {
  let from = 0;
  for (const line of expected) {
    if (line.trim() === "...") continue;
    const at = output.indexOf(line.trim(), from);
    if (at < 0) return line;
    from = at + line.trim().length;
  }
  return undefined;
}
