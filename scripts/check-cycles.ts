/**
 * Folder-level import cycles: every folder of the project is a node, an import from a file in folder A
 * of a file in folder B (A ≠ B) is an edge A → B, and a strongly connected component of more than one
 * folder is a cycle. Imports are found and resolved by the TypeScript compiler itself, with the
 * options of tsconfig.json, so `.js` specifiers, `import type` and dynamic `import()` count alike.
 *
 *   npx tsx scripts/check-cycles.ts          # exit 1 and list the cycles, with one import per edge
 *   npx tsx scripts/check-cycles.ts --graph  # also print the folder graph
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** An edge A → B, with one import that makes it, so a reported cycle says where to look. */
interface Edge {
  to: string;
  example: string;
}

function loadProject(): ts.ParsedCommandLine {
  const configPath = path.join(root, "tsconfig.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error(`cannot read ${configPath}`);
  return parsed;
}

/** Folder → folders it imports from, built from every project file's resolved imports. */
export function folderGraph(project: ts.ParsedCommandLine): Map<string, Map<string, Edge>> {
  const graph = new Map<string, Map<string, Edge>>();
  const host = ts.createCompilerHost(project.options);
  for (const file of project.fileNames) {
    const from = path.relative(root, path.dirname(file));
    if (!graph.has(from)) graph.set(from, new Map());
    const info = ts.preProcessFile(ts.sys.readFile(file) ?? "", true, true);
    for (const imported of info.importedFiles) {
      const resolved = ts.resolveModuleName(imported.fileName, file, project.options, host).resolvedModule;
      if (!resolved || resolved.isExternalLibraryImport) continue;
      const target = path.relative(root, resolved.resolvedFileName);
      if (target.startsWith("..") || target.split(path.sep).includes("node_modules")) continue;
      const to = path.dirname(target);
      if (to === from) continue;
      const edges = graph.get(from)!;
      if (!edges.has(to)) edges.set(to, { to, example: `${path.relative(root, file)} imports ${imported.fileName}` });
    }
  }
  return graph;
}

/** Tarjan's strongly connected components; only those with more than one folder are returned. */
export function cycles(graph: Map<string, Map<string, Edge>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

function main(): void {
  const graph = folderGraph(loadProject());
  if (process.argv.includes("--graph")) {
    for (const [from, edges] of [...graph].sort(([a], [b]) => a.localeCompare(b)))
      console.log(`${from || "."} -> ${[...edges.keys()].sort().join(", ") || "(nothing)"}`);
  }
  const found = cycles(graph);
  if (found.length === 0) {
    console.log(`check-cycles: no folder-level import cycles among ${graph.size} folders`);
    return;
  }
  for (const component of found) {
    console.error(`check-cycles: folders import each other: ${component.join(", ")}`);
    const members = new Set(component);
    for (const from of component)
      for (const edge of graph.get(from)?.values() ?? [])
        if (members.has(edge.to)) console.error(`  ${from} -> ${edge.to}: ${edge.example}`);
  }
  process.exitCode = 1;
}

main();
