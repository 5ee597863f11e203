"""Chart legibility measured in a real browser: text inside its SVG, no text over text, thresholds drawn.

:data:`CHART_PROBLEMS_JS` runs in a page (log.html or signoff.html) and returns one line per
problem found in every visible ``svg.wsr-chart``:

* a text element whose rendered box (``getBoundingClientRect``, rotation included) is not
  inside its SVG's box: a label cut off at the edge;
* two text elements whose boxes overlap (by more than a pixel each way): text over text;
* a legend entry for a threshold (``g.legend-item[data-kind=threshold]``) while the chart
  draws no threshold (``.threshold`` with a non-empty box): a legend naming a line that is
  not there.

Boxes come from the browser's layout of the real fonts, so the check holds whatever width a
label estimate in the chart code assumed.
"""

from __future__ import annotations

from typing import Any

CHART_PROBLEMS_JS = r"""
(() => {
  const problems = [];
  const charts = Array.from(document.querySelectorAll('svg.wsr-chart'))
      .filter(svg => svg.getBoundingClientRect().width > 0);
  charts.forEach((svg, index) => {
    const name = `chart ${index + 1} "${svg.querySelector('title').textContent}"`;
    const box = svg.getBoundingClientRect();
    const texts = Array.from(svg.querySelectorAll('text'))
        .filter(t => t.getComputedTextLength() > 0)
        .map(t => ({text: t.textContent, r: t.getBoundingClientRect()}));
    for (const t of texts) {
      if (t.r.left < box.left - 0.5 || t.r.right > box.right + 0.5 ||
          t.r.top < box.top - 0.5 || t.r.bottom > box.bottom + 0.5) {
        problems.push(`${name}: text "${t.text}" runs outside the chart ` +
          `(text ${Math.round(t.r.left - box.left)}..${Math.round(t.r.right - box.left)} x ` +
          `${Math.round(t.r.top - box.top)}..${Math.round(t.r.bottom - box.top)}, chart ` +
          `${Math.round(box.width)} x ${Math.round(box.height)})`);
      }
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].r, b = texts[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) {
          problems.push(`${name}: text "${texts[i].text}" overlaps "${texts[j].text}" ` +
                        `(${Math.round(w)} x ${Math.round(h)} px)`);
        }
      }
    }
    const legendThresholds = Array.from(svg.querySelectorAll('g.legend-item[data-kind="threshold"]'));
    const drawn = Array.from(svg.querySelectorAll('.threshold'))
        .filter(g => { const r = g.getBoundingClientRect(); return r.width > 0 || r.height > 0; });
    for (const item of legendThresholds) {
      if (!drawn.length) {
        problems.push(`${name}: the legend names "${item.dataset.label}" but no threshold is drawn`);
      }
    }
  });
  return {charts: charts.length, problems};
})()
"""


def chart_problems(page: Any) -> tuple[int, list[str]]:
    """How many charts the page shows, and every legibility problem found in them."""
    result = page.evaluate(CHART_PROBLEMS_JS)
    return int(result["charts"]), list(result["problems"])
