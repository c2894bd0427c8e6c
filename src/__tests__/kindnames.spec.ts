/**
 * The panel names no kind of env: it asks a kind what it can do (`IKind`,
 * from `GET kinds`). A new kind is one module and one line on the server,
 * nothing here; this guard reads every module of src/ and fails on any
 * code that asks which kind an env is.
 *
 * `conda` is also a package source and a search source (`PackageSource`,
 * `SearchSource`): compared with a `source`, or in a union of sources, it is
 * not a kind's name.
 */
import * as ts from 'typescript';

// Node's modules as jest runs the test (the panel's tsconfig has no Node types).
declare const require: (name: string) => unknown;
declare const __dirname: string;
const fs = require('fs') as {
  readFileSync(file: string, encoding: 'utf-8'): string;
  readdirSync(
    dir: string,
    options: { withFileTypes: true }
  ): Array<{ name: string; isDirectory(): boolean }>;
};
const path = require('path') as {
  join(...parts: string[]): string;
  resolve(...parts: string[]): string;
  relative(from: string, to: string): string;
};

const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');

/** The kinds' names, from the server's registry (`KINDS` in core/kinds/__init__.py). */
function kindNames(): string[] {
  const registry = fs.readFileSync(
    path.join(ROOT, 'jupyter_userpkg', 'core', 'kinds', '__init__.py'),
    'utf-8'
  );
  const table = /^KINDS[^=]*=\s*\{([\s\S]*?)^\}/m.exec(registry);
  if (!table) {
    throw new Error('KINDS not found in core/kinds/__init__.py');
  }
  const names: string[] = [];
  const entry = /^\s*"([^"]+)"\s*:/gm;
  for (let m = entry.exec(table[1]); m !== null; m = entry.exec(table[1])) {
    names.push(m[1]);
  }
  return names;
}

const KIND_NAMES = kindNames();
/** Values of `PackageSource` and `SearchSource`: names a source may have. */
const SOURCE_NAMES = ['conda', 'pypi', 'base'];
/** Kind names nothing else is called. */
const ONLY_KINDS = KIND_NAMES.filter(n => !SOURCE_NAMES.includes(n));
/**
 * The one module allowed to name kinds, for labels; none needs to: the
 * create form shows each kind's name and `summary` as the server gives them.
 */
const LABELS: string[] = [];

const COMPARISONS = [
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken
];

function literalText(node: ts.Node): string | null {
  return ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)
    ? node.text
    : null;
}

/** `pkg.source`, `props.source`, `source`: a package's or a search's source. */
function isSource(node: ts.Node): boolean {
  let inner: ts.Node = node;
  while (ts.isNonNullExpression(inner) || ts.isParenthesizedExpression(inner)) {
    inner = inner.expression;
  }
  const name = ts.isIdentifier(inner)
    ? inner.text
    : ts.isPropertyAccessExpression(inner)
      ? inner.name.text
      : '';
  return /source$/i.test(name);
}

/**
 * The lines of `text` that ask which kind an env is, each with why: a kind's
 * name compared (`env.kind === 'conda'`, a `case`), a union type of kinds'
 * names, a flag named for a kind (`isConda`), or a literal or key that can
 * only be a kind's name (`'layer'`, `{ venv: ... }`).
 */
export function kindQuestions(text: string, fileName = 'x.tsx'): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const at = (node: ts.Node, why: string) =>
    found.push(`${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${why}`);
  const flags = new Set(KIND_NAMES.map(n => `is${n[0].toUpperCase()}${n.slice(1)}`));
  const visit = (node: ts.Node): void => {
    if (ts.isBinaryExpression(node) && COMPARISONS.includes(node.operatorToken.kind)) {
      for (const [side, other] of [
        [node.left, node.right],
        [node.right, node.left]
      ]) {
        const value = literalText(side);
        if (value !== null && KIND_NAMES.includes(value) && !isSource(other)) {
          at(node, `compares with the kind name '${value}'`);
        }
      }
    } else if (ts.isCaseClause(node)) {
      const value = literalText(node.expression);
      const subject = node.parent.parent.expression;
      if (value !== null && KIND_NAMES.includes(value) && !isSource(subject)) {
        at(node, `a case of the kind name '${value}'`);
      }
    } else if (ts.isUnionTypeNode(node)) {
      const names = node.types
        .filter(ts.isLiteralTypeNode)
        .map(t => literalText(t.literal));
      if (names.some(n => n !== null && ONLY_KINDS.includes(n))) {
        at(node, 'a union type of kind names');
      }
    } else if (ts.isIdentifier(node) && flags.has(node.text)) {
      at(node, `a flag named for a kind (${node.text})`);
    } else if (literalText(node) !== null && ONLY_KINDS.includes(literalText(node)!)) {
      if (!ts.isLiteralTypeNode(node.parent)) {
        at(node, `the kind name '${literalText(node)}'`);
      }
    } else if (
      (ts.isPropertyAssignment(node) || ts.isPropertySignature(node)) &&
      ts.isIdentifier(node.name) &&
      ONLY_KINDS.includes(node.name.text)
    ) {
      at(node, `a key named for a kind (${node.name.text})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function modules(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      found.push(...(entry.name === '__tests__' ? [] : modules(full)));
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      found.push(full);
    }
  }
  return found;
}

describe('no kind names in the panel', () => {
  it('reads the kinds from the server registry', () => {
    expect(KIND_NAMES).toEqual(expect.arrayContaining(['layer', 'venv', 'conda']));
  });

  it('catches the ways the panel used to name kinds', () => {
    const old = [
      "export type EnvKind = 'layer' | 'venv' | 'conda' | 'broken';",
      "interface R { kind?: 'layer' | 'venv' | 'conda'; }",
      "type Kind = 'layer' | 'venv' | 'conda';",
      "const c = this.selectedEnv?.kind === 'conda';",
      "this.search.setSource(env.kind === 'conda' ? 'conda' : 'pypi');",
      "const layer = kind === 'layer';",
      "const x = <ListOptions layer={kind === 'layer'} />;",
      "const refused = format === 'requirements' && env?.kind === 'conda';",
      "if ('venv' !== k.name) {}",
      "switch (env.kind) { case 'conda': break; }",
      "const o = [{ value: 'layer', label: trans.__('layer: over the base environment') }];",
      "const [kind, setKind] = React.useState<Kind>('layer');",
      "const p = <PlanView conda={model.isConda} />;",
      "const labels = { venv: 'isolated', conda: 'conda packages' };"
    ];
    for (const line of old) {
      expect([line, kindQuestions(line).length > 0]).toEqual([line, true]);
    }
  });

  it('leaves package and search sources alone', () => {
    const fine = [
      "if (pkg.source === 'conda') {}",
      "const where = props.source === 'conda' ? 'conda channels' : 'PyPI';",
      "export type SearchSource = 'pypi' | 'conda';",
      "export type PackageSource = 'conda' | 'pypi' | 'base';",
      "const s = hit.source === 'pypi' ? 'PyPI' : 'conda';",
      "this.search.setSource(this.selectedKind?.channels ? 'conda' : 'pypi');",
      "const usable = env !== null && env.kind !== 'broken';",
      "if (pending.kind === 'rollback') {}",
      "const o = [{ value: 'conda', label: trans.__('conda channels') }];"
    ];
    for (const line of fine) {
      expect([line, kindQuestions(line)]).toEqual([line, []]);
    }
  });

  it('finds none in src/', () => {
    const files = modules(SRC).filter(file => !LABELS.includes(path.relative(ROOT, file)));
    expect(files.length).toBeGreaterThan(20);
    const found: string[] = [];
    for (const file of files) {
      for (const where of kindQuestions(fs.readFileSync(file, 'utf-8'), file)) {
        found.push(`${path.relative(ROOT, file)}:${where}`);
      }
    }
    expect(found).toEqual([]);
  });
});
