import Vapor

/// A refused CDS Hooks caller: 401 with the reason in the JSON body and a `WWW-Authenticate`
/// challenge (RFC 9110 §15.5.2 requires one on every 401). RFC 6750 §3: a request without a
/// token gets the bare `Bearer` challenge; a refused token gets `error="invalid_token"` and the
/// reason as `error_description`.
struct CDSAuthenticationRefusal: AbortError, Sendable {
    let reason: String
    let hadToken: Bool

    var status: HTTPResponseStatus { .unauthorized }

    var headers: HTTPHeaders {
        ["WWW-Authenticate": hadToken ? #"Bearer error="invalid_token", error_description="\#(Self.quotable(reason))""# : "Bearer"]
    }

    /// RFC 6750 §3: error_description holds %x20-21 / %x23-5B / %x5D-7E only. The reason can quote
    /// token text (an issuer, a kid), so anything else (quotes, backslashes, line breaks, non-ASCII)
    /// becomes `'` or `?`, which also keeps the header a single line.
    static func quotable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(300).map { scalar -> Unicode.Scalar in
            switch scalar.value {
            case 0x22: "'"
            case 0x20...0x7E where scalar.value != 0x5C: scalar
            default: "?"
            }
        }))
    }
}
