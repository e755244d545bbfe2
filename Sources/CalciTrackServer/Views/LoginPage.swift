import Plot

/// The sign-in form. It posts with a CSRF token bound to the pre-login session, so another
/// site cannot sign a browser in as someone else (login CSRF).
struct LoginPage {
    var username = ""
    var error: String?
    var notice: String?
    let csrf: String
    let next: String

    func render() -> HTML {
        PageLayout(title: "Sign in", ctx: nil).render(
            .div(.class("login"),
                .h1(.text("Sign in to CalciTrack")),
                .unwrap(notice) { .p(.class("notice ok"), .attribute(named: "role", value: "status"), .text($0)) },
                .unwrap(error) { .p(.class("notice error"), .id("login-error"), .attribute(named: "role", value: "alert"), .text($0)) },
                H.form(action: "/login", [],
                    H.hidden("_csrf", csrf),
                    H.hidden("next", next),
                    H.field("Username", id: "username", error: nil, control: H.input(id: "username", name: "username", value: username,
                        [("autocomplete", "username"), ("required", ""), ("autocapitalize", "none")] + (error == nil ? [("autofocus", "")] : [("aria-describedby", "login-error")]))),
                    H.field("Password", id: "password", error: nil, control: H.input(id: "password", name: "password", type: "password",
                        [("autocomplete", "current-password"), ("required", "")] + (error == nil ? [] : [("aria-describedby", "login-error"), ("autofocus", "")]))),
                    .button(.type(.submit), .text("Sign in"))
                ),
                .p(.class("muted"), .text("Decision support, never decision making. Every read of patient data is recorded in the audit log."))
            )
        )
    }
}
