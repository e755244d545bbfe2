import CalciTrackCore

/// An SVG body map, front and back, with one marker per lesion at its site and side, coloured
/// by status. Anatomical sides: on the front view the patient's right is on the viewer's left,
/// on the back view on the viewer's right. Elbow and buttock lesions (olecranon, sacral) are
/// drawn on the back view, every other site on the front.
enum BodyMap {
    static let colours = ["worsening": "#c8102e", "active": "#e07b00", "healed": "#1d8a45", "unknown": "#7a8691"]
    static let statusText = ["worsening": "worsening or recurred", "active": "open, not worsening", "healed": "healed", "unknown": "not measured"]

    /// Offset from the body's midline (positive = the figure's own right side) and height.
    static func point(_ site: BodySite?) -> (dx: Double, y: Double) {
        switch site {
        case .face: (0, 38)
        case .jaw: (0, 60)
        case .shoulder: (46, 84)
        case .upperArm: (53, 122)
        case .elbow: (55, 166)
        case .forearm: (59, 205)
        case .wrist: (61, 246)
        case .hand: (62, 266)
        case .thumb: (50, 276)
        case .finger: (65, 292)
        case .trunk: (18, 140)
        case .hip: (34, 222)
        case .buttock: (18, 236)
        case .thigh: (18, 276)
        case .knee: (18, 326)
        case .lowerLeg: (18, 368)
        case .ankle: (18, 404)
        case .foot: (18, 424)
        case .toe: (22, 442)
        case .other, nil: (0, 456)
        }
    }

    static func onBack(_ site: BodySite?) -> Bool { site == .elbow || site == .buttock }

    struct Marker { let x: Double; let y: Double; let lesion: PatientPageModel.LesionView }

    static func markers(_ lesions: [PatientPageModel.LesionView]) -> [Marker] {
        var markers: [Marker] = []
        var used: [String: Int] = [:]
        for lesion in lesions {
            let m = lesion.metrics
            let back = onBack(m.site)
            let centre = back ? 340.0 : 110.0
            let (dx, y) = point(m.site)
            // Patient's right: viewer's left on the front, viewer's right on the back.
            let rightSign = back ? 1.0 : -1.0
            var xs: [Double]
            switch m.laterality {
            case .right: xs = [centre + rightSign * dx]
            case .left: xs = [centre - rightSign * dx]
            case .bilateral: xs = [centre + dx, centre - dx]
            case .midline, nil: xs = [centre]
            }
            for x in xs {
                let key = "\(Int(x)):\(Int(y))"
                let n = used[key, default: 0]
                used[key] = n + 1
                markers.append(Marker(x: x + Double(n) * 9, y: y - Double(n) * 9, lesion: lesion))
            }
        }
        return markers
    }

    static func svg(_ lesions: [PatientPageModel.LesionView]) -> String {
        let description = lesions.isEmpty ? "No lesions recorded."
            : lesions.map { "\($0.label): \($0.place), \(statusText[$0.status] ?? $0.status)" }.joined(separator: "; ")
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 450 470" role="group" aria-labelledby="bodymap-title" aria-describedby="bodymap-desc" class="bodymap-svg">
        <title id="bodymap-title">Body map: lesion sites, front and back</title>
        <desc id="bodymap-desc">\(escapeXML(description))</desc>
        <text x="110" y="14" text-anchor="middle" font-size="13" fill="#1a1a1a">Front</text>
        <text x="340" y="14" text-anchor="middle" font-size="13" fill="#1a1a1a">Back</text>
        \(figure(110))\(figure(340))
        <text x="40" y="466" font-size="11" fill="#4a5560">R</text><text x="172" y="466" font-size="11" fill="#4a5560">L</text>
        <text x="270" y="466" font-size="11" fill="#4a5560">L</text><text x="402" y="466" font-size="11" fill="#4a5560">R</text>
        """
        for marker in markers(lesions) {
            let l = marker.lesion
            // Labels point away from the body's midline, so two legs' labels do not cross.
            let centre = marker.x > 225 ? 340.0 : 110.0
            let outward = marker.x < centre ? -1 : 1
            s += """
            <a href="#lesion-\(escapeXML(l.recordID))" class="marker status-\(l.status)" data-lesion="\(escapeXML(l.label))" data-status="\(l.status)" aria-label="Lesion \(escapeXML(l.label)), \(escapeXML(l.place)), \(statusText[l.status] ?? l.status)">\
            <title>Lesion \(escapeXML(l.label)): \(escapeXML(l.place)), \(statusText[l.status] ?? l.status)</title>\
            <circle cx="\(formatNumber(marker.x))" cy="\(formatNumber(marker.y))" r="8" fill="\(colours[l.status] ?? "#7a8691")" stroke="#111" stroke-width="1.5"/>\
            <text x="\(formatNumber(marker.x + (outward < 0 ? -11 : 11)))" y="\(formatNumber(marker.y + 4))" text-anchor="\(outward < 0 ? "end" : "start")" font-size="11" fill="#111">\(escapeXML(l.label))</text></a>
            """
        }
        return s + "</svg>"
    }

    /// A plain outline: head, neck, torso, arms, hands, legs, feet.
    private static func figure(_ c: Double) -> String {
        func f(_ v: Double) -> String { formatNumber(v) }
        var parts = ["<circle cx=\"\(f(c))\" cy=\"42\" r=\"24\"/>", "<rect x=\"\(f(c - 8))\" y=\"64\" width=\"16\" height=\"12\"/>",
                     "<rect x=\"\(f(c - 38))\" y=\"74\" width=\"76\" height=\"150\" rx=\"18\"/>"]
        for side in [-1.0, 1.0] {
            let armX = c + side * 54
            parts.append("<rect x=\"\(f(armX - 10))\" y=\"80\" width=\"20\" height=\"88\" rx=\"9\"/>")
            parts.append("<rect x=\"\(f(c + side * 59 - 9))\" y=\"166\" width=\"18\" height=\"84\" rx=\"8\"/>")
            parts.append("<ellipse cx=\"\(f(c + side * 62))\" cy=\"270\" rx=\"10\" ry=\"16\"/>")
            parts.append("<rect x=\"\(f(c + side * 18 - 14))\" y=\"222\" width=\"28\" height=\"106\" rx=\"12\"/>")
            parts.append("<rect x=\"\(f(c + side * 18 - 12))\" y=\"326\" width=\"24\" height=\"84\" rx=\"10\"/>")
            parts.append("<ellipse cx=\"\(f(c + side * 20))\" cy=\"426\" rx=\"12\" ry=\"18\"/>")
        }
        return "<g fill=\"#eef1f4\" stroke=\"#5b6670\" stroke-width=\"1.5\" aria-hidden=\"true\">" + parts.joined() + "</g>"
    }
}
