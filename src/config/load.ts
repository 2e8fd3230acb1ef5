import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors';
import { RecoverConfig, type Topology } from './topology';

type PathKey = PropertyKey;

/** Parse and validate a YAML file against a zod schema; every problem names file, path and line. */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    ]);
  }
  return parseYamlText(file, text, schema);
}

export function parseYamlText<S extends z.ZodType>(file: string, text: string, schema: S): z.infer<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return `${file}:${pos.line}:${pos.col}: YAML: ${firstLine(e.message)}`;
      }),
    );
  }
  const result = schema.safeParse(doc.toJS());
  if (result.success) return result.data;
  throw new ConfigError(
    file,
    result.error.issues.map((issue) => {
      const where = formatPath(doc, issue.path);
      const line = lineOf(doc, lineCounter, issue.path);
      return `${file}${line ? `:${line}` : ''}: ${where || '(top level)'}: ${messageOf(doc, issue)}`;
    }),
  );
}

/** Load the topology file and apply the cross-field rules zod cannot express field by field. */
export function loadConfig(file: string): RecoverConfig {
  const config = loadYamlFile(file, RecoverConfig);
  const problems = crossCheck(config).map((p) => `${file}: ${p}`);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return config;
}

export function crossCheck(config: RecoverConfig): string[] {
  const problems: string[] = [];
  const seenTopologies = new Set<string>();
  config.topologies.forEach((t, ti) => {
    if (seenTopologies.has(t.name))
      problems.push(`topologies[${ti}].name: duplicate topology name "${t.name}"`);
    seenTopologies.add(t.name);
    const seenNodes = new Set<string>();
    t.nodes.forEach((n, ni) => {
      if (seenNodes.has(n.name))
        problems.push(`topologies[${ti}].nodes[${ni}].name: duplicate node name "${n.name}" in "${t.name}"`);
      seenNodes.add(n.name);
    });
    if (!seenNodes.has(t.master))
      problems.push(
        `topologies[${ti}].master: "${t.master}" is not among the nodes of "${t.name}" (${[...seenNodes].join(', ')})`,
      );
  });
  return problems;
}

export function findTopology(config: RecoverConfig, name: string | undefined): Topology | undefined {
  if (name === undefined) return config.topologies.length === 1 ? config.topologies[0] : undefined;
  return config.topologies.find((t) => t.name === name);
}

function formatPath(_doc: Document, path: readonly PathKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

/** The line of the deepest node on the path that exists in the document (a missing key points at its parent). */
function lineOf(doc: Document, lineCounter: LineCounter, path: readonly PathKey[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** zod says "expected string, received undefined" for a missing key; say "missing" instead. */
function messageOf(doc: Document, issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.path.length > 0 && !doc.hasIn(issue.path as unknown[]))
    return `missing (expected ${issue.expected})`;
  return issue.message;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
