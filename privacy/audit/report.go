package audit

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// RenderJSON writes r as indented JSON (the schema is Result's JSON tags).
func RenderJSON(w io.Writer, r Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("audit: failed to write JSON report: %w", err)
	}
	return nil
}

// ReportOptions adds context to the HTML report.
type ReportOptions struct {
	Generated time.Time // shown in the header; zero omits it
}

// RenderHTML writes a self-contained HTML page for r: verification status,
// failures and notes, the ledger files, and per budget (ledger, tenant,
// unit) an inline SVG chart of cumulative ε over its spends against the cap
// (<svg class="eps-chart" data-tenant=…>) and a table of its rounds and
// mechanisms (<table class="rounds" data-tenant=…>). It loads nothing from
// the network: CSS is inline and there is no script.
func RenderHTML(w io.Writer, r Result, opt ReportOptions) error {
	type section struct {
		ID     int
		Budget Budget
		Chart  chart
	}
	var secs []section
	for i, b := range r.Budgets {
		secs = append(secs, section{ID: i + 1, Budget: b, Chart: buildChart(b)})
	}
	first, failed := r.First()
	gen := ""
	if !opt.Generated.IsZero() {
		gen = opt.Generated.UTC().Format(time.RFC3339)
	}
	data := struct {
		R         Result
		Sections  []section
		Failed    bool
		First     Failure
		Generated string
	}{r, secs, failed, first, gen}
	if err := reportTmpl.Execute(w, data); err != nil {
		return fmt.Errorf("audit: failed to write HTML report: %w", err)
	}
	return nil
}

func paramsText(p ledger.Params) string {
	var parts []string
	add := func(name string, v float64) {
		if v != 0 {
			parts = append(parts, name+"="+fmtNum(v))
		}
	}
	add("q", p.SamplingRate)
	add("z", p.NoiseMultiplier)
	add("C", p.ClipNorm)
	add("steps", float64(p.Steps))
	add("cohort", float64(p.CohortSize))
	add("bits", float64(p.Bits))
	return strings.Join(parts, " ")
}

func shortHash(h string) string {
	if len(h) > 10 {
		return h[:10] + "…"
	}
	return h
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":    fmtNum,
	"eps":    func(e ledger.Epsilon) string { return fmtNum(float64(e)) },
	"params": paramsText,
	"short":  shortHash,
	"f1":     func(v float64) string { return fmt.Sprintf("%.1f", v) },
}).Parse(reportHTML))

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fedb2b privacy audit</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}
.meta{color:#57606a;margin-bottom:16px}
.status{padding:12px 16px;border-radius:6px;font-weight:600;margin-bottom:16px}
.status.pass{background:#dafbe1;border:1px solid #4ac26b}.status.fail{background:#ffebe9;border:1px solid #ff8182}
.status .why{font-weight:400;display:block;margin-top:4px;font-family:ui-monospace,monospace;font-size:13px}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px;margin-bottom:12px}
section.budget,section.box{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:16px;margin-bottom:16px}
table{border-collapse:collapse;width:100%;font-size:13px}.scroll{overflow-x:auto}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa}td.nowrap,th{white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,monospace;font-size:12px}
.pending{color:#9a6700;font-weight:600}.released{color:#1a7f37}
.summary{margin:0 0 8px}svg{display:block;max-width:100%;height:auto;margin:8px 0}
ul{margin:4px 0 0 18px;padding:0}
</style>
</head>
<body>
<main>
<h1>fedb2b privacy audit</h1>
<div class="meta">{{len .R.Files}} ledger file(s), {{len .R.Budgets}} budget(s){{if .Generated}}, generated {{.Generated}}{{end}}</div>
{{if .Failed}}<div class="status fail" id="status" data-ok="false">Verification FAILED
<span class="why">{{.First.String}}</span></div>
{{else}}<div class="status pass" id="status" data-ok="true">Verification passed: chains intact{{if .R.SignaturesChecked}}, signatures valid{{end}}, every ε recomputed from the recorded parameters{{if not .R.SignaturesChecked}} (signatures not checked){{end}}</div>
{{end}}{{if not .R.SignaturesChecked}}<div class="warn">No trusted public keys were given: the signatures were <strong>not</strong> checked.</div>
{{end}}{{if .R.Failures}}<section class="box" id="failures"><h2>Failures</h2><ul>{{range .R.Failures}}<li><code>{{.String}}</code></li>{{end}}</ul></section>
{{end}}{{if .R.Notes}}<section class="box" id="notes"><h2>Notes</h2><ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul></section>
{{end}}<section class="box" id="files"><h2>Ledger files</h2>
<table class="files"><thead><tr><th>file</th><th>party</th><th>writer key</th><th>entries</th><th>verified</th></tr></thead><tbody>
{{range .R.Files}}<tr><td><code>{{.Path}}</code></td><td>{{.Party}}</td><td><code>{{.Writer}}</code></td><td class="num">{{.Entries}}</td><td>{{if .Verified}}yes{{else}}<strong>no</strong>{{end}}{{if .TornBytes}} (torn tail: {{.TornBytes}} bytes ignored){{end}}</td></tr>
{{end}}</tbody></table></section>
{{if .R.Received}}<section class="box" id="received"><h2>Received (evidence, not budgets)</h2>
<p class="summary">What a party records it received from each tenant: every release with its hash, and the tenant's signed ledger heads. Each tenant's own ledger was held to these.</p>
<table class="received"><thead><tr><th>recorded by</th><th>from tenant</th><th>received</th><th>tenant's ledger head up to seq</th><th>file</th></tr></thead><tbody>
{{range .R.Received}}<tr data-tenant="{{.Tenant}}"><td>{{.Party}}</td><td>{{.Tenant}}</td><td>{{range $k, $n := .Kinds}}{{$k}} {{$n}}; {{end}}</td><td class="num">{{.LastHead}}</td><td><code>{{.File}}</code></td></tr>
{{end}}</tbody></table></section>
{{end}}{{range .Sections}}{{$b := .Budget}}{{$c := .Chart}}<section class="budget" id="budget-{{.ID}}" data-tenant="{{$b.Tenant}}" data-unit="{{$b.Unit}}" data-party="{{$b.Party}}">
<h2>Tenant {{$b.Tenant}} · {{$b.Unit}}-level ({{$b.Unit.Adjacency}}) · {{if eq $b.Party $b.Tenant}}the tenant's own ledger{{else}}{{$b.Party}}'s view (not the tenant's budget){{end}}</h2>
<p class="summary">ε = <strong class="eps" data-infinite="{{$b.EpsilonInfinite}}">{{eps $b.Epsilon}}</strong>{{if $b.EpsilonInfinite}} (an exact release is on record: no finite ε holds){{end}} of cap {{num $b.Cap}} at δ = {{num $b.Delta}} over {{len $b.Points}} spend(s){{if $b.Pending}}, <span class="pending">{{$b.Pending}} pending (intent without release; counted)</span>{{end}} · <code>{{$b.File}}</code></p>
<svg class="eps-chart" id="chart-{{.ID}}" data-tenant="{{$b.Tenant}}" data-unit="{{$b.Unit}}" xmlns="http://www.w3.org/2000/svg" width="{{$c.W}}" height="{{$c.H}}" viewBox="0 0 {{$c.W}} {{$c.H}}" role="img">
<title>{{$c.Title}}</title>
{{range $c.YTicks}}<line x1="{{$c.PlotX0}}" x2="{{$c.PlotX1}}" y1="{{f1 .Pos}}" y2="{{f1 .Pos}}" stroke="{{$c.ColorGrid}}" stroke-width="1"/><text x="{{$c.PlotX0}}" dx="-6" y="{{f1 .Pos}}" dy="4" text-anchor="end" font-size="11" fill="{{$c.ColorText}}">{{.Label}}</text>
{{end}}{{range $c.XTicks}}<text x="{{f1 .Pos}}" y="{{$c.PlotY1}}" dy="16" text-anchor="middle" font-size="11" fill="{{$c.ColorText}}">{{.Label}}</text>
{{end}}<line x1="{{$c.PlotX0}}" x2="{{$c.PlotX0}}" y1="{{$c.PlotY0}}" y2="{{$c.PlotY1}}" stroke="{{$c.ColorText}}"/><line x1="{{$c.PlotX0}}" x2="{{$c.PlotX1}}" y1="{{$c.PlotY1}}" y2="{{$c.PlotY1}}" stroke="{{$c.ColorText}}"/>
<line class="cap" x1="{{$c.PlotX0}}" x2="{{$c.PlotX1}}" y1="{{f1 $c.CapY}}" y2="{{f1 $c.CapY}}" stroke="{{$c.ColorCap}}" stroke-width="2" stroke-dasharray="6 4"/>
<text x="{{$c.PlotX1}}" y="{{f1 $c.CapY}}" dy="-5" text-anchor="end" font-size="11" fill="{{$c.ColorCap}}">{{$c.CapLabel}}</text>
<polyline class="eps" points="{{$c.Line}}" fill="none" stroke="{{$c.ColorEps}}" stroke-width="2.5"/>
{{range $c.Dots}}<circle cx="{{f1 .X}}" cy="{{f1 .Y}}" r="4" fill="{{if .Pending}}#fff{{else}}{{$c.ColorEps}}{{end}}" stroke="{{if .Pending}}{{$c.ColorPend}}{{else}}{{$c.ColorEps}}{{end}}" stroke-width="2"><title>{{.Tip}}</title></circle>
{{end}}<text x="{{$c.PlotX0}}" y="{{$c.PlotY1}}" dy="34" font-size="11" fill="{{$c.ColorText}}">cumulative ε (recomputed) after each spend, by round</text>
</svg>
<div class="scroll"><table class="rounds" id="rounds-{{.ID}}" data-tenant="{{$b.Tenant}}" data-unit="{{$b.Unit}}">
<thead><tr><th>seq</th><th>time (UTC)</th><th>task</th><th>round</th><th>mechanism</th><th>parameters</th><th>δ</th><th>ε cumulative</th><th>cap</th><th>status</th><th>artefact</th></tr></thead><tbody>
{{range $b.Points}}<tr><td class="num">{{.Seq}}</td><td class="nowrap">{{.Time}}</td><td class="nowrap">{{.Task}}</td><td class="num">{{.Round}}</td><td class="nowrap">{{.Mechanism}}</td><td><code>{{params .Params}}</code></td><td class="num nowrap">{{num .Delta}}</td><td class="num">{{eps .Recomputed}}</td><td class="num">{{num .Cap}}</td><td>{{if .Released}}<span class="released">released</span>{{else}}<span class="pending">pending</span>{{end}}</td><td><code title="{{.ArtifactHash}}">{{short .ArtifactHash}}</code></td></tr>
{{end}}</tbody></table></div>
</section>
{{end}}</main>
</body>
</html>
`
