import { html, type Html } from '../html.js';

export interface ChartPoint {
  label: string;
  value: number | null;
  text: string;
}

/**
 * A small bar chart as inline SVG, one bar per version, oldest on the left.
 * Every bar has a tooltip; the chart's label says the first and last value
 * (the table beside it has every figure).
 */
export function barChart(title: string, points: readonly ChartPoint[]): Html {
  const width = 320;
  const height = 96;
  const known = points.filter((p) => p.value !== null);
  const max = Math.max(1, ...known.map((p) => p.value!));
  const step = points.length > 0 ? width / points.length : width;
  const bar = Math.max(2, Math.min(28, step * 0.7));
  const first = known[0];
  const last = known[known.length - 1];
  const label =
    first && last ? `${title}: ${first.text} in ${first.label}, ${last.text} in ${last.label}` : `${title}: no data`;
  return html`<figure class="chart">
    <figcaption>${title} <span class="muted">max ${known.find((p) => p.value === max)?.text ?? '–'}</span></figcaption>
    <svg viewBox="0 0 ${width} ${height + 16}" role="img" aria-label="${label}" preserveAspectRatio="none">
      <line x1="0" y1="${height}" x2="${width}" y2="${height}" class="axis"></line>
      ${points.map((p, i) => {
        const h = p.value === null ? 0 : Math.max(1, (p.value / max) * (height - 4));
        const x = i * step + (step - bar) / 2;
        return html`<rect
          x="${x.toFixed(1)}"
          y="${(height - h).toFixed(1)}"
          width="${bar.toFixed(1)}"
          height="${h.toFixed(1)}"
          ><title>${p.label}: ${p.text}</title></rect
        >`;
      })}
      ${first ? html`<text x="0" y="${height + 13}" class="tick">${points[0]!.label}</text>` : ''}
      ${points.length > 1 ? html`<text x="${width}" y="${height + 13}" text-anchor="end" class="tick">${points[points.length - 1]!.label}</text>` : ''}
    </svg>
  </figure>`;
}
