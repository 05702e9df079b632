/**
 * helm and kubectl, as the tests use them: the binaries built by ensureKubeBinaries() (cached under
 * ~/.cache/warp), run as child processes. Failures throw with the command's output.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCommand } from "../processes.js";
import type { RunResult } from "../processes.js";
import { ensureKubeBinaries } from "./build.js";

async function run(tool: "helm" | "kubectl", args: readonly string[], input?: string): Promise<RunResult> {
  const bins = await ensureKubeBinaries();
  const bin = tool === "helm" ? bins.helm : bins.kubectl;
  if (bin === undefined)
    throw new Error("kubectl was not built (WARP_BUILD_KUBECTL=0?): run `npx tsx e2e/support/kube/build.ts`");
  // helm keeps caches and config under $HOME by default: keep them out of the user's.
  const home = path.join(path.dirname(bin), "..", "helm-home");
  const env = {
    HELM_CACHE_HOME: path.join(home, "cache"),
    HELM_CONFIG_HOME: path.join(home, "config"),
    HELM_DATA_HOME: path.join(home, "data"),
  };
  return runCommand(bin, args, { env, timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
}

function check(what: string, r: RunResult): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface HelmTemplateOptions {
  readonly release: string;
  readonly namespace: string;
  readonly valuesFiles?: readonly string[];
  /** --set-string key=value pairs. */
  readonly set?: Readonly<Record<string, string>>;
  /** Render the chart's crds/ too. */
  readonly includeCrds?: boolean;
}

/** A values file holding `yaml`, in a fresh temporary directory (for values --set-string cannot type). */
export function writeValuesFile(yaml: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "warp-values-")), "values.yaml");
  fs.writeFileSync(file, yaml);
  return file;
}

/** `helm template`: the rendered manifests as one multi-document YAML text. */
export async function helmTemplate(chartDir: string, o: HelmTemplateOptions): Promise<string> {
  const args = ["template", o.release, chartDir, "--namespace", o.namespace];
  if (o.includeCrds) args.push("--include-crds");
  for (const f of o.valuesFiles ?? []) args.push("--values", f);
  for (const [k, v] of Object.entries(o.set ?? {})) args.push("--set-string", `${k}=${v}`);
  return check(`helm ${args.join(" ")}`, await run("helm", args));
}

/** `helm lint --strict`: returns its output; throws when it reports an error or a warning. */
export async function helmLint(chartDir: string, valuesFiles: readonly string[] = []): Promise<string> {
  const args = ["lint", "--strict", chartDir, ...valuesFiles.flatMap((f) => ["--values", f])];
  return check(`helm ${args.join(" ")}`, await run("helm", args));
}

export interface KubectlApplyOptions {
  readonly kubeconfig: string;
  /** --dry-run=server: validated and admitted by the apiserver, nothing stored. */
  readonly dryRun?: boolean;
  readonly namespace?: string;
}

/**
 * `kubectl apply --server-side` of a YAML text (kubectl keeps a CRD's defaults and x-kubernetes-*
 * keys, which client-node's typed serializer drops).
 */
export async function kubectlApply(yamlText: string, o: KubectlApplyOptions): Promise<string> {
  const args = [
    "--kubeconfig",
    o.kubeconfig,
    "apply",
    "--server-side",
    "--force-conflicts",
    "--field-manager",
    "warp-e2e",
    "-f",
    "-",
  ];
  if (o.dryRun) args.push("--dry-run=server");
  if (o.namespace) args.push("--namespace", o.namespace);
  return check(`kubectl ${args.join(" ")}`, await run("kubectl", args, yamlText));
}

/** Any kubectl command, e.g. ["wait", "--for=condition=Established", "crd/x"]. */
export async function kubectl(kubeconfig: string, args: readonly string[]): Promise<string> {
  return check(`kubectl ${args.join(" ")}`, await run("kubectl", ["--kubeconfig", kubeconfig, ...args]));
}
