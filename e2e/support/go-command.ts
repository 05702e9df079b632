/**
 * The go command for the harnesses that build test components from the Go module proxy (the
 * Kubernetes binaries, the bench's S3 server): $GO, else `go` on PATH, else the usual install places
 * (a non-interactive shell, as CI's, may not have /usr/local/go/bin on PATH when only ~/.bashrc adds it).
 */
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function goCommand(): string {
  if (process.env.GO) return process.env.GO;
  for (const d of (process.env.PATH ?? "").split(path.delimiter)) {
    if (d && existsSync(path.join(d, "go"))) return path.join(d, "go");
  }
  for (const c of ["/usr/local/go/bin/go", path.join(os.homedir(), "go", "bin", "go"), "/usr/lib/go/bin/go"]) {
    if (existsSync(c)) return c;
  }
  return "go";
}
