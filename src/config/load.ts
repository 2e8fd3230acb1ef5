import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors';
import { RecoverConfig, type Topology } from './topology';
import { flavourOf, isSupportedFlavour, UnsupportedFlavourError } from '../flavours/registry';

type PathKey = PropertyKey;

/** Parse and validate a YAML file against a zod schema; every problem names file, path and line. */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  return parseYamlText(file, readText(file), schema);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const hint =
      code === 'ENOENT'
        ? ': no such file. Pass --config FILE (or set RECOVER_CONFIG); recover.example.yaml is a start, and `npm run demo` needs none'
        : `: cannot read (${code})`;
    throw new ConfigError(file, [`${file}${hint}`]);
  }
}

export function parseYamlText<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
  crossChecks: (raw: unknown) => Problem[] = () => [],
  /** Rules on the validated value (e.g. each topology's flavour); run only when the schema passed. */
  semanticChecks: (value: z.infer<S>) => Problem[] = () => [],
): z.infer<S> {
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
  const raw: unknown = doc.toJS();
  const result = schema.safeParse(raw);
  const problems: Problem[] = result.success
    ? []
    : result.error.issues.map((issue) => ({ path: issue.path, message: messageOf(doc, issue) }));
  // Cross-field rules run on the raw document too, so one run shows every mistake.
  problems.push(...crossChecks(raw));
  if (result.success) problems.push(...semanticChecks(result.data));
  if (problems.length === 0 && result.success) return result.data;
  const line = (p: Problem) => lineOf(doc, lineCounter, p.path) ?? 0;
  throw new ConfigError(
    file,
    problems
      .map((p) => ({ ...p, line: line(p) }))
      .sort((a, b) => a.line - b.line)
      .map(
        (p) => `${file}${p.line ? `:${p.line}` : ''}: ${formatPath(p.path) || '(top level)'}: ${p.message}`,
      ),
  );
}

export interface Problem {
  path: readonly PathKey[];
  message: string;
}

/** Load the topology file: schema and cross-field rules (unique names, master among nodes). */
export function loadConfig(file: string): RecoverConfig {
  const text = readText(file);
  return parseYamlText(file, text, RecoverConfig, crossCheck, flavourChecks);
}

/** Each topology against its flavour: supported at all, and the sections that flavour needs. */
export function flavourChecks(config: RecoverConfig): Problem[] {
  return config.topologies.flatMap((t, ti) => {
    if (!isSupportedFlavour(t.flavour))
      return [
        { path: ['topologies', ti, 'flavour'], message: new UnsupportedFlavourError(t.flavour).message },
      ];
    return flavourOf(t.flavour)
      .checkTopology(t)
      .map((p) => ({ path: ['topologies', ti, ...p.path], message: p.message }));
  });
}

/** Rules across fields, on the raw document: tolerant of shapes the schema rejects. */
export function crossCheck(raw: unknown): Problem[] {
  const problems: Problem[] = [];
  const topologies = arrayAt(raw, 'topologies');
  const seenTopologies = new Set<string>();
  topologies.forEach((t, ti) => {
    const name = stringAt(t, 'name');
    if (name !== undefined && seenTopologies.has(name))
      problems.push({ path: ['topologies', ti, 'name'], message: `duplicate topology name "${name}"` });
    if (name !== undefined) seenTopologies.add(name);
    const seenNodes = new Set<string>();
    arrayAt(t, 'nodes').forEach((n, ni) => {
      const nodeName = stringAt(n, 'name');
      if (nodeName === undefined) return;
      if (seenNodes.has(nodeName))
        problems.push({
          path: ['topologies', ti, 'nodes', ni, 'name'],
          message: `duplicate node name "${nodeName}" in "${name ?? '?'}"`,
        });
      seenNodes.add(nodeName);
    });
    // A run waits for an approver at its first destructive step: with nobody allowed, forever.
    const access = (t && typeof t === 'object' ? (t as Record<string, unknown>).access : undefined) as
      Record<string, unknown> | undefined;
    const approvers = access?.approvers;
    if (!Array.isArray(approvers) || approvers.length === 0)
      problems.push({
        path: ['topologies', ti, 'access', 'approvers'],
        message:
          'no approvers: every destructive step needs a second person, so runs would wait forever. ' +
          'List who may approve (Slack user or user-group ids, or names used in the terminal with --as)',
      });
    const master = stringAt(t, 'master');
    if (master !== undefined && seenNodes.size > 0 && !seenNodes.has(master))
      problems.push({
        path: ['topologies', ti, 'master'],
        message: `"${master}" is not among the nodes of "${name ?? '?'}" (${[...seenNodes].join(', ')})`,
      });
  });
  return problems;
}

function arrayAt(value: unknown, key: string): unknown[] {
  const v = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return Array.isArray(v) ? v : [];
}

function stringAt(value: unknown, key: string): string | undefined {
  const v = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export function findTopology(config: RecoverConfig, name: string | undefined): Topology | undefined {
  if (name === undefined) return config.topologies.length === 1 ? config.topologies[0] : undefined;
  return config.topologies.find((t) => t.name === name);
}

function formatPath(path: readonly PathKey[]): string {
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
  if (issue.path.at(-1) === 'engine' && /^maria/i.test(String(doc.getIn(issue.path as unknown[]))))
    return `${issue.message}: for MariaDB write "engine: mysql" (same protocol and client)`;
  return issue.message;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
