/**
 * Minimal SVG charts (line chart with a log or linear y axis, grouped bar chart), rendered to PNG with
 * @resvg/resvg-js using the system's DejaVu fonts. No network, no browser.
 */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dash?: string;
  /** y per x position (NaN = no point). */
  readonly values: readonly number[];
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xTicks: readonly string[];
  readonly series: readonly Series[];
  readonly logY?: boolean;
}

export interface BarChart {
  readonly title: string;
  readonly yLabel: string;
  readonly groups: readonly string[];
  /** One bar per series in every group. */
  readonly series: readonly Series[];
}

const W = 900;
const H = 520;
const M = { left: 80, right: 260, top: 50, bottom: 110 };
const FONT = `font-family="DejaVu Sans"`;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function niceTicks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++)
      for (const m of [1, 2, 5]) out.push(m * 10 ** e);
    return out.filter((t) => t >= min * 0.999 && t <= max * 1.001);
  }
  const step = 10 ** Math.floor(Math.log10(max / 5 || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => max / s <= 8) ?? step * 10;
  const out: number[] = [];
  for (let t = 0; t <= max * 1.0001; t += nice) out.push(Math.round(t * 1000) / 1000);
  return out;
}

function frame(title: string, yLabel: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${M.left}" y="28" ${FONT} font-size="17" font-weight="bold">${esc(title)}</text>`,
    `<text transform="translate(20 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle" ${FONT} font-size="13">${esc(yLabel)}</text>`,
    ...body,
    `</svg>`,
  ].join("\n");
}

function legend(series: readonly Series[], bars: boolean): string[] {
  return series.flatMap((s, i) => {
    const y = M.top + 10 + i * 22;
    const x = W - M.right + 20;
    const mark = bars
      ? `<rect x="${x}" y="${y - 8}" width="24" height="12" fill="${s.color}"/>`
      : `<line x1="${x}" y1="${y - 2}" x2="${x + 24}" y2="${y - 2}" stroke="${s.color}" stroke-width="2.5" ${s.dash ? `stroke-dasharray="${s.dash}"` : ""}/>`;
    return [mark, `<text x="${x + 32}" y="${y + 3}" ${FONT} font-size="12">${esc(s.name)}</text>`];
  });
}

export function lineChartSvg(c: LineChart): string {
  const all = c.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && (!c.logY || v > 0));
  const log = c.logY === true;
  const min = log ? Math.max(0.5, Math.min(...all)) : 0;
  const max = Math.max(...all, 1) * (log ? 1.3 : 1.1);
  const lo = log ? 10 ** Math.floor(Math.log10(min)) : 0;
  const ph = H - M.top - M.bottom;
  const pw = W - M.left - M.right;
  const y = (v: number): number =>
    M.top + ph - (log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(max) - Math.log10(lo)) : v / max) * ph;
  const x = (i: number): number => M.left + (c.xTicks.length === 1 ? pw / 2 : (i / (c.xTicks.length - 1)) * pw);
  const body: string[] = [`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`];
  for (const t of niceTicks(lo, max, log)) {
    body.push(`<line x1="${M.left}" y1="${y(t)}" x2="${M.left + pw}" y2="${y(t)}" stroke="#e4e4e4"/>`);
    body.push(`<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" ${FONT} font-size="11">${t}</text>`);
  }
  c.xTicks.forEach((t, i) =>
    body.push(`<text x="${x(i)}" y="${M.top + ph + 20}" text-anchor="middle" ${FONT} font-size="13">${esc(t)}</text>`),
  );
  body.push(
    `<text x="${M.left + pw / 2}" y="${M.top + ph + 45}" text-anchor="middle" ${FONT} font-size="13">${esc(c.xLabel)}</text>`,
  );
  for (const s of c.series) {
    const pts = s.values.map((v, i) => [i, v] as const).filter(([, v]) => Number.isFinite(v) && (!log || v > 0));
    if (pts.length === 0) continue;
    body.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2.5" ${s.dash ? `stroke-dasharray="${s.dash}"` : ""} points="${pts.map(([i, v]) => `${x(i)},${y(v)}`).join(" ")}"/>`,
    );
    for (const [i, v] of pts) body.push(`<circle cx="${x(i)}" cy="${y(v)}" r="3.5" fill="${s.color}"/>`);
  }
  return frame(c.title, c.yLabel, [...body, ...legend(c.series, false)]);
}

export function barChartSvg(c: BarChart): string {
  const all = c.series.flatMap((s) => s.values).filter(Number.isFinite);
  const max = Math.max(...all, 1) * 1.1;
  const ph = H - M.top - M.bottom;
  const pw = W - M.left - M.right;
  const gw = pw / c.groups.length;
  const bw = (gw * 0.8) / c.series.length;
  const y = (v: number): number => M.top + ph - (v / max) * ph;
  const body: string[] = [`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`];
  for (const t of niceTicks(0, max, false)) {
    body.push(`<line x1="${M.left}" y1="${y(t)}" x2="${M.left + pw}" y2="${y(t)}" stroke="#e4e4e4"/>`);
    body.push(`<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" ${FONT} font-size="11">${t}</text>`);
  }
  c.groups.forEach((g, gi) => {
    const gx = M.left + gi * gw + gw * 0.1;
    c.series.forEach((s, si) => {
      const v = s.values[gi] ?? NaN;
      if (!Number.isFinite(v)) return;
      body.push(
        `<rect x="${gx + si * bw}" y="${y(v)}" width="${bw - 2}" height="${M.top + ph - y(v)}" fill="${s.color}"/>`,
      );
    });
    const cx = M.left + gi * gw + gw / 2;
    body.push(
      `<text transform="translate(${cx} ${M.top + ph + 12}) rotate(30)" ${FONT} font-size="11">${esc(g)}</text>`,
    );
  });
  return frame(c.title, c.yLabel, [...body, ...legend(c.series, true)]);
}

/** Renders SVG text to PNG bytes. */
export async function svgToPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  const r = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" }, background: "white" });
  return Buffer.from(r.render().asPng());
}
