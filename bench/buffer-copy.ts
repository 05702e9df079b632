/**
 * Micro-benchmark behind the compactor's segment copy (agent/src/background/compactor.ts): copying a
 * view of a larger buffer with Buffer.from(view) against Buffer.allocUnsafe + copy, at segment sizes
 * of 1 KiB, 64 KiB and 1 MiB. Prints the time for the same number of bytes copied each way.
 *
 *   npx tsx bench/buffer-copy.ts
 */
const source = Buffer.alloc(8 * 1024 * 1024, 7);
const TOTAL_BYTES = 2e8;

function time(fn: () => void, n: number): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

for (const size of [1024, 64 * 1024, 1024 * 1024]) {
  const n = Math.floor(TOTAL_BYTES / size);
  const viaFrom = time(() => Buffer.from(source.subarray(0, size)), n);
  const viaCopy = time(() => {
    const target = Buffer.allocUnsafe(size);
    source.copy(target, 0, 0, size);
  }, n);
  process.stdout.write(
    `${String(size).padStart(8)} B × ${n}: Buffer.from(view) ${viaFrom.toFixed(0)} ms, allocUnsafe + copy ${viaCopy.toFixed(0)} ms (${(viaFrom / viaCopy).toFixed(1)}×)\n`,
  );
}
