"""The inline stylesheet and the few lines of script of the HTML report.

Kept apart from the markup so the page layout reads as structure.  Everything is
inline (no fonts, no CDN, no framework): the report must open offline, from a CI
artifact or a mail attachment, years later.  The script only adds a "problems only"
filter and expand/collapse buttons; the page is complete without it.
"""

from __future__ import annotations

CSS = """
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; --card:#fff;
  --green:#1a7f37; --green-bg:#dafbe1; --red:#cf222e; --red-bg:#ffebe9; --grey:#57606a; --grey-bg:#eaeef2;
  --amber:#9a6700; --amber-bg:#fff8c5; --blue:#0969da; --blue-bg:#ddf4ff; --purple:#8250df;
  --purple-bg:#fbefff; }
* { box-sizing:border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width:1200px; margin:0 auto; padding:24px 20px 64px; }
h1 { font-size:22px; margin:0 0 4px; }
h2 { font-size:19px; margin:0; } h3 { font-size:14px; margin:16px 0 6px; }
a { color:var(--blue); text-decoration:none; } a:hover { text-decoration:underline; }
code, pre, .diff, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;
  font-size:12.5px; }
.muted { color:var(--muted); }
.toolbar { display:flex; gap:12px; align-items:center; margin:12px 0 20px; color:var(--muted); }
.toolbar button { font:inherit; background:var(--card); border:1px solid var(--line); border-radius:6px;
  padding:2px 10px; cursor:pointer; }
.badge { display:inline-block; padding:1px 9px; border-radius:999px; font-size:12px; font-weight:600;
  white-space:nowrap; vertical-align:middle; border:1px solid transparent; }
.b-reproduced, .b-same { color:var(--green); background:var(--green-bg); }
.b-drift { color:var(--red); background:var(--red-bg); }
.b-error-nb, .b-skipped { color:var(--grey); background:var(--grey-bg); }
.b-error { color:var(--purple); background:var(--purple-bg); }
.b-benign { color:var(--blue); background:var(--blue-bg); }
.b-within_tolerance { color:var(--amber); background:var(--amber-bg); }
.b-flaky { color:var(--amber); background:transparent; border-color:var(--amber); }
.overview { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line);
  border-radius:8px; overflow:hidden; margin-bottom:24px; }
.overview td, .overview th, .env td, .env th, .deltas td, .deltas th { padding:5px 10px;
  border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
.overview th, .env th, .deltas th { background:var(--bg); font-weight:600; font-size:12px;
  color:var(--muted); }
section.notebook { margin:0 0 40px; }
.nb-head { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px 18px;
  margin-bottom:14px; border-left:5px solid var(--grey); }
.nb-head.s-reproduced { border-left-color:var(--green); } .nb-head.s-drift { border-left-color:var(--red); }
.nb-head .title { display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
.reason { margin:6px 0 0; }
.counts { display:flex; flex-wrap:wrap; gap:6px; margin:10px 0 0; padding:0; list-style:none; }
.counts li { font-size:12px; padding:1px 8px; border-radius:6px; background:var(--bg); }
.counts li.zero { opacity:.45; }
.counts b { font-variant-numeric:tabular-nums; }
.meta { margin:8px 0 0; font-size:12px; color:var(--muted); }
.env { border-collapse:collapse; background:var(--card); border:1px solid var(--line); width:100%;
  margin-bottom:14px; }
.env td { vertical-align:baseline; font-size:13px; }
.env td.old { color:var(--red); } .env td.new { color:var(--green); }
details.cell { background:var(--card); border:1px solid var(--line); border-radius:8px; margin:10px 0;
  border-left:4px solid var(--line); }
details.cell.st-drift { border-left-color:var(--red); }
details.cell.st-error { border-left-color:var(--purple); }
details.cell.st-within_tolerance { border-left-color:#d4a72c; }
details.cell.st-unverified { border-left-color:#bf8700; }
details.cell.st-benign { border-left-color:#54aeff; }
details.cell.st-same { border-left-color:#4ac26b; }
details.cell > summary { cursor:pointer; padding:9px 14px; display:flex; gap:10px; align-items:center;
  list-style:none; }
details.cell > summary::-webkit-details-marker { display:none; }
details.cell > summary::before { content:"▸"; color:var(--muted); width:10px; }
details.cell[open] > summary::before { content:"▾"; }
details.cell > summary .headline { color:var(--muted); overflow:hidden; text-overflow:ellipsis;
  white-space:nowrap; flex:1; min-width:0; }
details.cell > summary .dur { color:var(--muted); font-size:12px; margin-left:auto; white-space:nowrap; }
.cell-body { padding:0 14px 14px; border-top:1px solid var(--line); }
pre.src { background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:8px 10px;
  margin:10px 0 0; max-height:18em; overflow:auto; white-space:pre-wrap; overflow-wrap:anywhere; }
.causes { list-style:none; padding:0; margin:0; }
.causes li { display:grid; grid-template-columns:84px 40px 190px 1fr; gap:8px; align-items:center;
  padding:2px 0; }
.bar { height:8px; background:var(--grey-bg); border-radius:4px; overflow:hidden; }
.bar > span { display:block; height:100%; background:#e16f24; border-radius:4px; }
.causes .score { font-variant-numeric:tabular-nums; color:var(--muted); font-size:12px; }
.causes .kind { font-weight:600; font-size:12.5px; }
.difference { margin:14px 0 0; }
.difference .what { margin:0 0 6px; }
.sev { font-size:11px; text-transform:uppercase; letter-spacing:.04em; font-weight:600; color:var(--muted); }
.sev-drift { color:var(--red); }
.sev-within_tolerance { color:var(--amber); } .sev-benign { color:var(--blue); }
.diff { width:100%; border-collapse:collapse; table-layout:fixed; border:1px solid var(--line); }
.diff col.ln { width:38px; }
.diff th { background:var(--bg); font:600 12px system-ui,sans-serif; color:var(--muted); text-align:left;
  padding:3px 8px; border-bottom:1px solid var(--line); }
.diff th + th { border-left:1px solid var(--line); }
.diff td { padding:0 8px; white-space:pre-wrap; overflow-wrap:anywhere; vertical-align:top; }
.diff td.ln { color:#8c959f; text-align:right; user-select:none; padding:0 6px; background:var(--bg); }
.diff td.r, .diff td.ln + td.ln { border-left:1px solid var(--line); }
.diff tr.chg td.l, .diff tr.del td.l { background:#fff5f5; }
.diff tr.chg td.r, .diff tr.ins td.r { background:#f0fff4; }
.diff td.empty { background:repeating-linear-gradient(135deg,#f6f8fa 0 4px,#fff 4px 8px) !important; }
.diff span.del { background:#ffcecb; border-radius:2px; }
.diff span.ins { background:#abf2bc; border-radius:2px; }
.diff tr.fold td { color:var(--muted); background:var(--bg); font:12px system-ui,sans-serif; padding:2px 8px;
  text-align:center; }
mark { border-radius:3px; padding:0 2px; cursor:help; }
mark.moved { background:#ffd8b5; outline:1px solid #e16f24; color:inherit; }
mark.tol { background:var(--amber-bg); outline:1px solid #d4a72c; color:inherit; }
.numeric { font-size:12.5px; margin:6px 0; }
.deltas { border-collapse:collapse; margin:6px 0; font-size:12.5px; }
.deltas td { font-variant-numeric:tabular-nums; }
.images { display:flex; gap:14px; flex-wrap:wrap; align-items:flex-start; }
.images figure { margin:0; background:var(--bg); border:1px solid var(--line); border-radius:6px;
  padding:8px; }
.images img { display:block; max-width:360px; max-height:300px; image-rendering:auto; background:#fff; }
.images figcaption { font-size:12px; color:var(--muted); margin-top:4px; }
.noimg { width:160px; height:100px; display:grid; place-items:center; color:var(--muted); font-size:12px; }
.ssim { margin:0 0 8px; } .ssim.bad b { color:var(--red); } .ssim.ok b { color:var(--green); }
.vars code { background:var(--bg); padding:0 4px; border-radius:4px; }
body.only-problems details.cell:not(.st-drift):not(.st-error):not(.st-unverified) { display:none; }
footer { color:var(--muted); font-size:12px; text-align:center; margin-top:40px; }
"""

SCRIPT = """
(function () {
  var box = document.getElementById("only-problems");
  if (box) box.addEventListener("change", function () {
    document.body.classList.toggle("only-problems", box.checked);
  });
  function setAll(open) {
    document.querySelectorAll("details.cell").forEach(function (d) { d.open = open; });
  }
  var more = document.getElementById("expand-all"), less = document.getElementById("collapse-all");
  if (more) more.addEventListener("click", function () { setAll(true); });
  if (less) less.addEventListener("click", function () { setAll(false); });
  document.querySelectorAll('a[href^="#"]').forEach(function (a) {
    a.addEventListener("click", function () {
      var target = document.getElementById(a.getAttribute("href").slice(1));
      if (target && target.tagName === "DETAILS") target.open = true;
    });
  });
})();
"""
