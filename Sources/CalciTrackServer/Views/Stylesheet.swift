import Vapor

/// The one stylesheet, served by CalciTrack itself at /static/app.css (no CDN, no build step,
/// works the same from `swift run` and in tests because it is compiled in). Colours keep at
/// least 4.5:1 contrast; layout works from a 768 px tablet up; print hides navigation and forms.
enum Stylesheet {
    static let path = "/static/app.css"
    static let etag = "\"\(css.utf8.reduce(UInt64(5381)) { ($0 &* 33) &+ UInt64($1) })\""

    static func serve(req: Request) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "css", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=3600")
        headers.replaceOrAdd(name: .eTag, value: etag)
        if req.headers.first(name: .ifNoneMatch) == etag { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: .init(string: css))
    }

    static let css = """
    :root { --ink:#1a1a1a; --muted:#4a5560; --line:#c9d1d9; --bg:#f6f8fa; --brand:#0b4f8a; --link:#0b5cad;
      --urgent:#a40e26; --urgent-bg:#fde8eb; --warn:#7a4b00; --warn-bg:#fff4d6; --ok:#1d6b35; --ok-bg:#e6f4ea;
      --info:#1f4e79; --info-bg:#e8f1fb; --focus:#ffbf47; }
    * { box-sizing: border-box; }
    html { font-size: 16px; }
    body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; line-height: 1.45; }
    a { color: var(--link); }
    a:focus, button:focus, input:focus, select:focus, textarea:focus, summary:focus { outline: 3px solid var(--focus); outline-offset: 1px; }
    .skip { position: absolute; left: -9999px; top: 0; background: #fff; padding: .5rem 1rem; z-index: 10; }
    .skip:focus { left: .5rem; }
    .topbar { display: flex; align-items: center; gap: 1.5rem; padding: .5rem 1.25rem; background: var(--brand); color: #fff; flex-wrap: wrap; }
    .topbar a { color: #fff; }
    .brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; }
    .topbar nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
    .topbar nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
    .who { margin-left: auto; display: flex; align-items: center; gap: .75rem; }
    .role { background: #fff; color: var(--brand); border-radius: 999px; padding: .05rem .6rem; font-size: .85rem; font-weight: 600; }
    .who button { background: transparent; color: #fff; border: 1px solid #fff; border-radius: 4px; padding: .25rem .7rem; cursor: pointer; font: inherit; }
    main { padding: 1rem 1.25rem 3rem; max-width: 1280px; margin: 0 auto; }
    h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
    h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
    h3 { font-size: 1.05rem; margin: 1rem 0 .4rem; }
    .muted, .hint { color: var(--muted); }
    .hint { display: block; font-size: .85rem; }
    .notice { padding: .75rem 1rem; border-radius: 6px; margin: 0 0 1rem; border-left: 5px solid; }
    .notice.error { background: var(--urgent-bg); border-color: var(--urgent); color: var(--urgent); }
    .notice.ok { background: var(--ok-bg); border-color: var(--ok); color: var(--ok); }
    .notice.info { background: var(--info-bg); border-color: var(--info); color: var(--info); }
    .field { display: flex; flex-direction: column; gap: .2rem; margin-bottom: .75rem; }
    .field label { font-weight: 600; }
    input[type=text], input[type=password], input[type=search], input[type=number], input[type=date], select, textarea {
      font: inherit; padding: .4rem .5rem; border: 1px solid #6b7680; border-radius: 4px; min-height: 2.5rem; background: #fff; color: var(--ink); }
    .has-error input, .has-error select { border: 2px solid var(--urgent); }
    .error { color: var(--urgent); font-weight: 600; font-size: .9rem; }
    button, .button { font: inherit; background: var(--brand); color: #fff; border: 0; border-radius: 4px; padding: .5rem 1rem; cursor: pointer; text-decoration: none; display: inline-block; min-height: 2.5rem; }
    .button.secondary { background: #fff; color: var(--brand); border: 1px solid var(--brand); }
    .login { max-width: 24rem; margin: 4rem auto; padding: 1.5rem; border: 1px solid var(--line); border-radius: 8px; }
    .filters { display: flex; gap: 1rem; align-items: flex-end; flex-wrap: wrap; background: var(--bg); padding: .75rem 1rem; border-radius: 6px; margin-bottom: 1rem; }
    .filters .field { margin: 0; }
    .filters form { display: flex; gap: 1rem; align-items: flex-end; flex-wrap: wrap; }
    .filters form.search { margin-right: 1.5rem; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { background: var(--bg); font-size: .9rem; }
    tr.attention-urgent td:first-child { border-left: 5px solid var(--urgent); }
    tr.attention-warn td:first-child { border-left: 5px solid #b36b00; }
    .reason { display: inline-block; border-radius: 4px; padding: .05rem .45rem; margin: .1rem .25rem .1rem 0; font-size: .85rem; font-weight: 600; }
    .reason.urgent { background: var(--urgent-bg); color: var(--urgent); }
    .reason.warn { background: var(--warn-bg); color: var(--warn); }
    .reason.info { background: var(--info-bg); color: var(--info); }
    .reason.ok { background: var(--ok-bg); color: var(--ok); }
    .pager { display: flex; gap: 1rem; align-items: center; margin-top: 1rem; }
    .patient-head { background: var(--bg); padding: .5rem 1rem .75rem; border-radius: 6px; }
    .patient-head h1 { margin: .25rem 0 0; }
    .patient-head p { margin: 0 0 .5rem; }
    .patient-head .facts { display: flex; flex-wrap: wrap; gap: .5rem 2rem; }
    .patient-head dl { margin: 0; }
    .patient-head .fact.wide { flex-basis: 100%; }
    .patient-head dt { font-size: .8rem; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
    .patient-head dd { margin: 0; font-weight: 600; }
    td.nowrap { white-space: nowrap; }
    .actions { display: flex; gap: .75rem; margin: 1rem 0; flex-wrap: wrap; }
    .grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1.5rem; }
    @media (max-width: 1000px) { .grid { grid-template-columns: 1fr; } }
    .panel { border: 1px solid var(--line); border-radius: 8px; padding: .25rem 1rem 1rem; margin-bottom: 1rem; }
    .group h3 { padding: .25rem .5rem; border-radius: 4px; }
    .group.urgent h3 { background: var(--urgent-bg); color: var(--urgent); }
    .group.warnings h3 { background: var(--warn-bg); color: var(--warn); }
    .group.options h3 { background: var(--info-bg); color: var(--info); }
    .group.info h3 { background: var(--bg); }
    .group ul { list-style: none; margin: 0; padding: 0; }
    .group li { border-bottom: 1px solid var(--line); padding: .35rem 0; }
    details summary { cursor: pointer; }
    details .why { margin: .35rem 0 .25rem 1.2rem; font-size: .9rem; color: var(--muted); }
    details .why dt { font-weight: 600; color: var(--ink); }
    details .why dd { margin: 0 0 .3rem; }
    .bodymap svg, .chart svg { width: 100%; height: auto; max-width: 520px; }
    .legend { display: flex; gap: 1rem; flex-wrap: wrap; font-size: .9rem; list-style: none; padding: 0; }
    .dot { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%; margin-right: .3rem; vertical-align: middle; border: 1px solid #222; }
    .dot.worsening { background: #c8102e; } .dot.active { background: #e07b00; } .dot.healed { background: #1d8a45; } .dot.unknown { background: #7a8691; }
    .timeline { list-style: none; padding: 0; border-left: 3px solid var(--line); margin-left: .5rem; }
    .timeline li { margin: 0 0 .6rem; padding-left: 1rem; position: relative; }
    .timeline li::before { content: ""; position: absolute; left: -.55rem; top: .4rem; width: .8rem; height: .8rem; border-radius: 50%; background: var(--brand); }
    .timeline li.infection::before { background: #c8102e; } .timeline li.procedure::before { background: #6a3d9a; }
    .timeline li.medication::before { background: #1d8a45; } .timeline li.imaging::before { background: #7a8691; }
    .timeline time { font-weight: 600; margin-right: .5rem; font-variant-numeric: tabular-nums; }
    .kind { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); margin-right: .4rem; }
    fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 1rem; padding: .5rem 1rem 1rem; }
    legend { font-weight: 700; padding: 0 .4rem; }
    fieldset.findings { display: flex; flex-wrap: wrap; gap: .1rem 1.25rem; padding: .25rem .75rem .5rem; }
    fieldset.findings legend { font-weight: 600; font-size: .95rem; }
    fieldset.findings .field { margin: 0; }
    .field.check label { font-weight: 400; }
    .row { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: 0 1rem; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    .stats { display: flex; gap: 1rem; flex-wrap: wrap; }
    .stat { background: var(--bg); border-radius: 8px; padding: .75rem 1rem; min-width: 9rem; }
    .stat strong { display: block; font-size: 1.6rem; }
    @media print {
      .topbar, .actions, .filters, .pager, .no-print, form { display: none !important; }
      body { font-size: 11pt; } main { padding: 0; max-width: none; }
      details > *:not(summary) { display: block !important; }
      .grid { grid-template-columns: 1fr; } .panel { break-inside: avoid; }
      a { color: inherit; text-decoration: none; }
    }
    """
}
