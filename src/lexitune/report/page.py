"""The HTML page around a report: inline CSS and a few lines of JS (sortable tables, a filter).

Everything is inline so a report opens from disk, offline, and can be mailed as one file.

    python -c "from lexitune.report.page import page; print(page('t', '<p>hi</p>'))"
"""

from __future__ import annotations

from html import escape

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f8fafc;color:#0f172a;font-size:14px}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
.sub{color:#64748b;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 14px;min-width:150px}
.card .k{color:#64748b;font-size:12px}.card .v{font-size:22px;font-weight:600}
.card .d{font-size:12px}.up{color:#15803d}.down{color:#b91c1c}
.charts{display:flex;flex-wrap:wrap;gap:14px}
.chart-box{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:8px}
.chart-box h3{font-size:13px;margin:2px 4px 6px;color:#334155}
svg .label{font-size:12px;fill:#0f172a}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border:1px solid #e2e8f0;padding:5px 7px;text-align:left;vertical-align:top}
th{background:#f1f5f9;position:sticky;top:0;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.wrong{background:#fee2e2}td.right{background:#dcfce7}
tr.best td{font-weight:600}
.muted{color:#94a3b8}
pre{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px;overflow:auto;font-size:12px}
.note{color:#64748b;font-size:12px}
label.filter{display:inline-block;margin:0 0 8px}
"""

# Click a header to sort by it (numbers by their data-v value); the checkbox hides right answers.
JS = """
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var desc = !th.classList.contains('sorted-desc');
      table.querySelectorAll('th').forEach(function(h){ h.classList.remove('sorted-asc', 'sorted-desc'); });
      th.classList.add(desc ? 'sorted-desc' : 'sorted-asc');
      function key(row){ var c = row.cells[col], v = c.getAttribute('data-v');
        if (v !== null && v !== '' && !isNaN(v)) return parseFloat(v); return c.textContent.trim().toLowerCase(); }
      rows.sort(function(a, b){ var x = key(a), y = key(b);
        if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
        return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1); });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
var only = document.getElementById('only-wrong');
if (only) only.addEventListener('change', function(){
  document.querySelectorAll('tr.answer').forEach(function(r){
    r.style.display = (only.checked && !r.classList.contains('after-wrong')) ? 'none' : ''; });
});
"""


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>{body}</main>"
        f"<script>{JS}</script></body></html>"
    )


def chart_box(title: str, svg: str) -> str:
    return f'<div class="chart-box"><h3>{escape(title)}</h3>{svg}</div>'


def num(value, digits: int = 3) -> str:
    """A numeric table cell that sorts by its value."""
    if value is None:
        return '<td class="num muted" data-v="">—</td>'
    if isinstance(value, bool):
        return f'<td class="num" data-v="{int(value)}">{"✓" if value else "✗"}</td>'
    text = f"{value:.{digits}g}" if isinstance(value, float) else str(value)
    return f'<td class="num" data-v="{value}">{escape(text)}</td>'
