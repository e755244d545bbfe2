import CalciTrackCore
import Plot
import Vapor

// Small building blocks for the server-rendered pages (Plot), so views stay short and every
// input gets its label and its inline error the same way.

extension Response {
    /// An HTML page; pages carry patient data, so nothing is cached.
    static func html(_ page: HTML, status: HTTPResponseStatus = .ok) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: status, headers: headers, body: .init(string: page.render()))
    }

    /// 303 after a form post, so reloading the next page does not post again.
    static func seeOther(_ location: String) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .location, value: location)
        return Response(status: .seeOther, headers: headers)
    }
}

/// Plot escapes text but writes attribute values as given: every value that can hold data
/// (form values, labels, the `next` path) goes through `H.attr` (tested in WebUITests).
enum H {
    static func attr(_ value: String) -> String { escapeXML(value) }

    static func option<C>(_ value: String, _ text: String, selected: Bool) -> Node<C> {
        // The empty value must be written: without it the browser submits the option's text.
        var nodes: [Node<C>] = [.attribute(Attribute(name: "value", value: attr(value), ignoreIfValueIsEmpty: false))]
        if selected { nodes.append(.attribute(named: "selected")) }
        nodes.append(.text(text))
        return .element(named: "option", nodes: nodes)
    }

    /// A `<select>` with its options; `choices` are (value, text).
    static func select(id: String, name: String, _ choices: [(String, String)], selected: String?, describedBy: String? = nil, ariaLabel: String? = nil) -> Node<HTML.BodyContext> {
        var nodes: [Node<HTML.BodyContext>] = [.attribute(named: "id", value: attr(id)), .attribute(named: "name", value: attr(name))]
        if let ariaLabel { nodes.append(.attribute(named: "aria-label", value: attr(ariaLabel))) }
        if let describedBy { nodes.append(.attribute(named: "aria-describedby", value: attr(describedBy))) }
        nodes += choices.map { option($0.0, $0.1, selected: $0.0 == selected) }
        return .element(named: "select", nodes: nodes)
    }

    /// An `<input>` with free attributes (Plot's typed inputs lack step/min/max/inputmode).
    static func input(id: String, name: String, type: String = "text", value: String? = nil, _ extra: [(String, String)] = []) -> Node<HTML.BodyContext> {
        var attributes: [Attribute<HTML.BodyContext>] = [
            Attribute(name: "type", value: type), Attribute(name: "id", value: attr(id)), Attribute(name: "name", value: attr(name)),
        ]
        if let value { attributes.append(Attribute(name: "value", value: attr(value), ignoreIfValueIsEmpty: false)) }
        attributes += extra.map { Attribute(name: $0.0, value: attr($0.1), ignoreIfValueIsEmpty: false) }
        return .selfClosedElement(named: "input", attributes: attributes)
    }

    static func hidden(_ name: String, _ value: String) -> Node<HTML.BodyContext> {
        .selfClosedElement(named: "input", attributes: [
            Attribute<HTML.BodyContext>(name: "type", value: "hidden"), Attribute(name: "name", value: attr(name)), Attribute(name: "value", value: attr(value), ignoreIfValueIsEmpty: false),
        ])
    }

    static func label(_ text: String, for id: String, _ extra: Node<HTML.BodyContext> = .empty) -> Node<HTML.BodyContext> {
        .element(named: "label", nodes: [.attribute(named: "for", value: attr(id)), .text(text), extra])
    }

    /// Label, control and (when there is one) the error beside it, tied by aria-describedby.
    static func field(_ labelText: String, id: String, error: String?, hint: String? = nil, control: Node<HTML.BodyContext>) -> Node<HTML.BodyContext> {
        .div(.class(error == nil ? "field" : "field has-error"),
             label(labelText, for: id),
             control,
             .unwrap(hint) { .span(.class("hint"), .id("\(id)-hint"), .text($0)) },
             .unwrap(error) { .span(.class("error"), .id("\(id)-error"), .attribute(named: "role", value: "alert"), .text($0)) })
    }

    /// A `<form>` whose children are ordinary body content (Plot types form children apart).
    static func form(action: String, method: String = "post", _ attributes: [(String, String)] = [], _ nodes: Node<HTML.BodyContext>...) -> Node<HTML.BodyContext> {
        .element(named: "form", nodes: [.attribute(named: "action", value: attr(action)), .attribute(named: "method", value: method)]
                 + attributes.map { .attribute(Attribute(name: $0.0, value: attr($0.1), ignoreIfValueIsEmpty: false)) } + nodes)
    }

    static func element(_ name: String, _ nodes: Node<HTML.BodyContext>...) -> Node<HTML.BodyContext> {
        .element(named: name, nodes: nodes)
    }
}

extension LocalDate {
    /// Whole years from `birth` to self.
    func age(from birth: LocalDate) -> Int { birth.wholeYears(until: self) }
}

/// Numbers as clinicians write them: no trailing zeros, at most two decimals.
func formatNumber(_ value: Double, decimals: Int = 2) -> String {
    JSONWriter.formatNumber((value * pow(10, Double(decimals))).rounded() / pow(10, Double(decimals)))
}

/// Escapes text for SVG or HTML built as strings (the SVG charts).
func escapeXML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}
