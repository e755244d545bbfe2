import Plot
import Vapor

/// The frame of every page: skip link, header with the product, navigation, who is signed in
/// (name and role) and sign-out; then the page's content in <main>.
struct PageLayout {
    enum Section { case worklist, research, none }

    let title: String
    let ctx: WebContext?
    var section: Section = .none

    func render(_ content: Node<HTML.BodyContext>...) -> HTML {
        HTML(
            .lang(.english),
            .head(
                .meta(.charset(.utf8)),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .element(named: "title", text: title + " · CalciTrack"),
                .stylesheet(Stylesheet.path)
            ),
            .body(
                .a(.class("skip"), .href("#content"), .text("Skip to content")),
                header,
                .main(.id("content"), .group(content)),
            )
        )
    }

    private var header: Node<HTML.BodyContext> {
        guard let ctx else {
            return .header(.class("topbar"), .span(.class("brand"), .text("CalciTrack")))
        }
        let role = ctx.principal.role.rawValue
        return .header(.class("topbar"),
            .a(.class("brand"), .href("/"), .text("CalciTrack")),
            .nav(.ariaLabel("Main"), .ul(
                .li(link("/", "Worklist", current: section == .worklist)),
                .if(ctx.isResearcher, .li(link("/research", "Registry overview", current: section == .research)))
            )),
            .div(.class("who"),
                .span(.text(ctx.principal.username)),
                .span(.class("role"), .attribute(named: "data-role", value: role), .text(role)),
                H.form(action: "/logout", [],
                      H.hidden("_csrf", ctx.csrf),
                      .button(.type(.submit), .text("Sign out")))
            )
        )
    }

    private func link(_ href: String, _ text: String, current: Bool) -> Node<HTML.BodyContext> {
        .a(.href(href), .if(current, .attribute(named: "aria-current", value: "page")), .text(text))
    }
}

/// An error as a page (403, 404, ...), inside the normal frame when someone is signed in.
enum ErrorPage {
    static func render(status: HTTPResponseStatus, message: String, ctx: WebContext?) -> HTML {
        PageLayout(title: status.title, ctx: ctx).render(
            .h1(.text(status.title)),
            .p(.class("notice error"), .text(message)),
            .p(.a(.href("/"), .text("Back to the worklist")))
        )
    }
}

extension HTTPResponseStatus {
    var title: String { "\(code) \(reasonPhrase)" }
}
