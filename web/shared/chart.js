// Charts drawn as inline SVG from the API's figures: no library, no network. Every chart comes
// with its figures as a table that screen readers read (the SVG itself is one labelled image).
import { el } from '/web/shared/dom.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

/** The figures of a chart as a visually hidden table. */
function figuresTable(caption, headers, rows) {
  return el('table', { class: 'visually-hidden' },
    el('caption', { text: caption }),
    el('tr', {}, ...headers.map((h) => el('th', { scope: 'col', text: h }))),
    ...rows.map((cells) => el('tr', {}, el('th', { scope: 'row', text: cells[0] }), ...cells.slice(1).map((c) => el('td', { text: c })))));
}

/**
 * One series over time: a line (cumulative figures) or bars (daily figures).
 * `points` are `{ label, value }`; returns the SVG and its table.
 */
export function seriesChart(points, kind, caption) {
  const width = 640; const height = 220; const pad = 44;
  const values = points.map((p) => p.value);
  const max = Math.max(1, ...values);
  const min = Math.min(0, ...values);
  const x = (i) => pad + (points.length <= 1 ? 0 : (i * (width - pad * 2)) / (points.length - 1));
  const y = (v) => height - pad - ((v - min) / (max - min)) * (height - pad * 2);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': caption, class: 'chart-svg' });
  root.append(svg('line', { x1: pad, y1: y(0), x2: width - pad, y2: y(0), class: 'axis' }));
  root.append(svg('text', { x: 4, y: y(max) + 4, class: 'tick' }, max.toLocaleString()));
  if (kind === 'line' && points.length) {
    root.append(svg('polyline', { points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(' '), class: 'series' }));
  } else {
    const w = Math.max(2, (width - pad * 2) / Math.max(points.length, 1) - 2);
    points.forEach((p, i) => root.append(svg('rect', { x: x(i) - w / 2, y: Math.min(y(p.value), y(0)), width: w, height: Math.abs(y(0) - y(p.value)), class: 'bar' })));
  }
  if (points.length) {
    root.append(svg('text', { x: pad, y: height - 12, class: 'tick' }, points[0].label));
    root.append(svg('text', { x: width - pad, y: height - 12, class: 'tick end' }, points[points.length - 1].label));
  }
  return [root, figuresTable(caption, ['', ''], points.map((p) => [p.label, p.value.toLocaleString()]))];
}

/** Rows of labelled meters: `{ label, value, text }`, scaled to the largest value. */
export function barList(rows, attrs = {}) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return el('ol', { class: 'bars', ...attrs }, ...rows.map((r) => el('li', {},
    el('span', { class: 'bar-label', text: r.label }),
    el('meter', { min: 0, max, value: r.value, 'aria-label': r.label }),
    el('span', { class: 'bar-value', text: r.text ?? r.value.toLocaleString() }))));
}

/**
 * Horizontal stacked bars, one per row, every bar on the same scale: how a whole divides into
 * its parts (e.g. doses delivered = administered + wasted + on hand). `segments` are
 * `{ key, label, tone }` (tone: a CSS class giving the colour); rows are
 * `{ label, values: { [key]: number } }`. Negative parts are drawn as zero and still listed in
 * the table. Returns a figure with its legend, the SVG and the table.
 */
export function stackedBars(rows, segments, caption, attrs = {}) {
  const rowHeight = 28; const labelWidth = 150; const width = 640; const gap = 10;
  const total = (row) => segments.reduce((sum, s) => sum + Math.max(0, row.values[s.key] ?? 0), 0);
  const max = Math.max(1, ...rows.map(total));
  const scale = (v) => (Math.max(0, v) / max) * (width - labelWidth - 70);
  const height = rows.length * (rowHeight + gap) + gap;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': caption, class: 'chart-svg stacked' });
  rows.forEach((row, i) => {
    const top = gap + i * (rowHeight + gap);
    root.append(svg('text', { x: labelWidth - 8, y: top + rowHeight * 0.68, class: 'tick end row-label' }, row.label));
    let left = labelWidth;
    for (const segment of segments) {
      const w = scale(row.values[segment.key] ?? 0);
      if (w > 0) {
        root.append(svg('rect', { x: left, y: top, width: w, height: rowHeight, class: `segment ${segment.tone}`, 'data-segment': segment.key },
          svg('title', {}, `${row.label} ${segment.label}: ${(row.values[segment.key] ?? 0).toLocaleString()}`)));
      }
      left += w;
    }
    root.append(svg('text', { x: left + 6, y: top + rowHeight * 0.68, class: 'tick' }, total(row).toLocaleString()));
  });
  const legend = el('ul', { class: 'legend', 'aria-hidden': 'true' },
    ...segments.map((s) => el('li', {}, el('span', { class: `swatch ${s.tone}` }), s.label)));
  const table = figuresTable(caption, ['', ...segments.map((s) => s.label)],
    rows.map((row) => [row.label, ...segments.map((s) => (row.values[s.key] ?? 0).toLocaleString())]));
  return el('figure', { class: 'chart', ...attrs }, el('figcaption', { text: caption }), legend, root, table);
}
