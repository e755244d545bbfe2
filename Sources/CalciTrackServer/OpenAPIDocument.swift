import CalciTrackCore

/// The OpenAPI 3.1 description of the JSON API, served at /openapi.json.
enum OpenAPIDocument {
    static let json: JSONValue = .object(JSONObject([("openapi", "3.1.0"), ("info", .object(JSONObject([("title", "CalciTrack API"), ("version", "1")]))), ("paths", .object(JSONObject()))]))
}
