/**
 * Go-style flags on top of commander. WarpStream's documented flags are spelt the Go way
 * (`-bucketURL value`, `-bucketURL=value`); commander only knows GNU long options. normaliseFlagArgs
 * rewrites every KNOWN flag, in any of the four spellings, to `--name=value` before commander sees the
 * arguments, and rejects unknown flags with a message naming them. Values are kept as strings: the flag
 * tables' parsers own validation.
 */
import { Command, Option } from "commander";
import type { FlagSpec } from "../common/flags/spec.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const FLAG = /^(-{1,2})([A-Za-z][A-Za-z0-9]*)(?:=([\s\S]*))?$/;
const HELP = new Set(["-h", "--help", "-help"]);

/**
 * Rewrites `-name value`, `-name=value`, `--name value`, `--name=value` (and a bare boolean `-name`) into
 * `--name=value`. `-h`, `-help` and `--help` become `--help`. Arguments after `--` are left alone.
 * Throws UsageError for an unknown flag or a missing value.
 */
export function normaliseFlagArgs(args: readonly string[], flags: readonly FlagSpec[]): string[] {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (HELP.has(arg)) {
      out.push("--help");
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      out.push(arg);
      continue;
    }
    const m = FLAG.exec(arg);
    const spec = m ? byName.get(m[2]!) : undefined;
    if (!m || !spec) {
      const name = arg.split("=", 1)[0]!;
      throw new UsageError(`unknown flag ${name}`);
    }
    const inline = m[3];
    if (inline !== undefined) {
      out.push(`--${spec.name}=${inline}`);
      continue;
    }
    const next = args[i + 1];
    if (spec.boolean) {
      // Go accepts only -flag or -flag=value for booleans; a following true/false/1/0 is also taken here.
      if (next !== undefined && /^(true|false|1|0)$/i.test(next)) {
        out.push(`--${spec.name}=${next}`);
        i++;
      } else {
        out.push(`--${spec.name}=true`);
      }
      continue;
    }
    if (next === undefined) throw new UsageError(`flag -${spec.name} needs a value (<${spec.valueName}>)`);
    out.push(`--${spec.name}=${next}`);
    i++;
  }
  return out;
}

/** Help text of one flag: its description, environment twin and default. */
export function flagHelp(spec: FlagSpec): string {
  const dflt = spec.defaultText === "" ? "" : `; default: ${spec.defaultText}`;
  return `${spec.help} (env: ${spec.env}${dflt})`;
}

/** Declares every flag on a commander command as `--name <value>` with its help text. */
export function addFlagOptions(command: Command, flags: readonly FlagSpec[]): Command {
  for (const spec of flags) {
    command.addOption(new Option(`--${spec.name} <${spec.valueName}>`, flagHelp(spec)));
  }
  return command;
}

/** Reads the flags commander parsed back into a record keyed by flag name (only the flags given). */
export function givenFlags(command: Command, flags: readonly FlagSpec[]): Record<string, string> {
  const values = command.opts<Record<string, unknown>>();
  const out: Record<string, string> = {};
  for (const spec of flags) {
    const option = command.options.find((o) => o.long === `--${spec.name}`);
    const value = option ? values[option.attributeName()] : undefined;
    if (typeof value === "string") out[spec.name] = value;
  }
  return out;
}
