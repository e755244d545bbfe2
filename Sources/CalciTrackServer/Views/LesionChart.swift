import CalciTrackCore

/// A lesion's area over time as SVG: one point per measurement, healed points marked (green
/// ring, "healed"), the first open measurement after a healed one marked "recurred" (red), and
/// the percent area reduction at 4 weeks (PAR) drawn at its day when the engine computed it.
enum LesionChart {
    struct Point { let date: LocalDate; let area: Double; let healed: Bool; let recurred: Bool }

    static func points(_ m: LesionMetrics) -> [Point] {
        var points: [Point] = []
        var wasHealed = false
        for a in m.areas {
            let recurred = wasHealed && !a.healed
            points.append(Point(date: a.date, area: a.healed ? 0 : a.areaCm2, healed: a.healed, recurred: recurred))
            if a.healed { wasHealed = true } else if recurred { wasHealed = false }
        }
        return points
    }

    static func svg(_ lesion: PatientPageModel.LesionView) -> String {
        let m = lesion.metrics
        let pts = points(m)
        let id = "chart-\(escapeXML(lesion.recordID))"
        let w = 520.0, h = 230.0, left = 52.0, right = 16.0, top = 18.0, bottom = 40.0
        guard let first = pts.first, let last = pts.last else {
            return "<p class=\"muted\">No measurements of lesion \(escapeXML(lesion.label)) yet.</p>"
        }
        let span = max(1, first.date.days(until: last.date))
        let maxArea = max(1, (pts.map(\.area).max() ?? 1) * 1.15)
        func x(_ d: LocalDate) -> Double { left + (w - left - right) * Double(first.date.days(until: d)) / Double(span) }
        func y(_ a: Double) -> Double { top + (h - top - bottom) * (1 - a / maxArea) }
        func f(_ v: Double) -> String { formatNumber(v, decimals: 1) }
        let summary = "Area of lesion \(lesion.label) from \(first.date) to \(last.date): " + pts.map { "\($0.date) \($0.healed ? "healed" : formatNumber($0.area) + " cm²")\($0.recurred ? " (recurred)" : "")" }.joined(separator: ", ")
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(f(w)) \(f(h))" role="img" aria-labelledby="\(id)-t \(id)-d" class="lesion-chart" data-lesion="\(escapeXML(lesion.label))">
        <title id="\(id)-t">Lesion \(escapeXML(lesion.label)) area over time</title><desc id="\(id)-d">\(escapeXML(summary))</desc>
        <g stroke="#c9d1d9" stroke-width="1">
        """
        for i in 0...4 {
            let a = maxArea * Double(i) / 4
            s += "<line x1=\"\(f(left))\" x2=\"\(f(w - right))\" y1=\"\(f(y(a)))\" y2=\"\(f(y(a)))\"/>"
        }
        s += "</g><g font-size=\"11\" fill=\"#4a5560\">"
        for i in 0...4 {
            let a = maxArea * Double(i) / 4
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(a) + 4))\" text-anchor=\"end\">\(formatNumber(a, decimals: 1))</text>"
        }
        s += "<text x=\"12\" y=\"\(f(top + (h - top - bottom) / 2))\" transform=\"rotate(-90 12 \(f(top + (h - top - bottom) / 2)))\" text-anchor=\"middle\">area cm²</text>"
        s += "<text x=\"\(f(left))\" y=\"\(f(h - 22))\">\(first.date)</text>"
        if pts.count > 1 { s += "<text x=\"\(f(w - right))\" y=\"\(f(h - 22))\" text-anchor=\"end\">\(last.date)</text>" }
        s += "</g>"
        // PAR at 4 weeks: a dashed line at the day it was measured.
        if let par = m.par4w {
            let day = m.par4wDay ?? 28
            let d = first.date.adding(days: day)
            if d <= last.date {
                s += "<line class=\"par\" x1=\"\(f(x(d)))\" x2=\"\(f(x(d)))\" y1=\"\(f(top))\" y2=\"\(f(h - bottom))\" stroke=\"#1f4e79\" stroke-dasharray=\"4 3\"/>"
            }
            s += "<text class=\"par-label\" x=\"\(f(w - right))\" y=\"\(f(h - 6))\" text-anchor=\"end\" font-size=\"12\" fill=\"#1f4e79\">PAR at 4 weeks (day \(day)): \(formatNumber(par, decimals: 0)) %</text>"
        }
        let line = pts.map { "\(f(x($0.date))),\(f(y($0.area)))" }.joined(separator: " ")
        s += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"#0b4f8a\" stroke-width=\"2\"/>"
        for p in pts {
            let cx = f(x(p.date)), cy = f(y(p.area))
            let label = "\(p.date): \(p.healed ? "healed" : formatNumber(p.area) + " cm²")\(p.recurred ? ", recurred" : "")"
            if p.healed {
                s += "<g class=\"point healed\"><title>\(escapeXML(label))</title><circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"7\" fill=\"#fff\" stroke=\"#1d8a45\" stroke-width=\"3\"/>"
                s += "<text x=\"\(cx)\" y=\"\(f(y(p.area) - 11))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1d6b35\">healed</text></g>"
            } else if p.recurred {
                s += "<g class=\"point recurred\"><title>\(escapeXML(label))</title><circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"7\" fill=\"#c8102e\" stroke=\"#111\"/>"
                s += "<text x=\"\(cx)\" y=\"\(f(y(p.area) - 11))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#a40e26\">recurred</text></g>"
            } else {
                s += "<g class=\"point\"><title>\(escapeXML(label))</title><circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"4.5\" fill=\"#0b4f8a\"/></g>"
            }
        }
        return s + "</svg>"
    }
}
