import CalciTrackCore
import Foundation

/// The OpenAPI 3.1 description of the JSON API, served at /openapi.json.
///
/// It is built from the same vocabularies, ranges and route lists the validators use
/// (`BodySite.allCases`, `PlausibleRanges`, `Units.accepted(for:)`, `RecordInfo`, ...), so an
/// added enum value or a changed range shows up here without editing this file. Everything a
/// schema declares must be true of the server: `Tests/e2e/schemathesis.sh` checks every response
/// against it. Rules JSON Schema cannot state (a date not after today + 1 day, stop on or after
/// start, a lesionId of the same patient, a siteId of one of your sites, unique MRNs and lesion
/// labels) are written in the descriptions and answered with 422.
enum OpenAPIDocument {
    static let json: JSONValue = build()

    static func build() -> JSONValue {
        var paths = PathTable()
        Routes.system(&paths)
        Routes.auth(&paths)
        Routes.admin(&paths)
        Routes.patients(&paths)
        Routes.assessment(&paths)
        for record in RecordDocs.all { Routes.records(record, &paths) }

        var schemas: [(String, JSONValue)] = Components.schemas
        for record in RecordDocs.all {
            schemas.append((record.schemaName + "Input", record.input))
            schemas.append((record.schemaName, record.output))
            schemas.append((record.schemaName + "List", S.object([("items", S.array(S.ref(record.schemaName)))], required: ["items"])))
        }
        return S.obj([
            ("openapi", "3.1.0"),
            ("info", S.obj([
                ("title", "CalciTrack API"),
                ("version", "1"),
                ("summary", "Registry and clinical decision support for calcinosis cutis in systemic sclerosis."),
                ("description", .string(Text.info)),
            ])),
            ("jsonSchemaDialect", "https://spec.openapis.org/oas/3.1/dialect/base"),
            ("servers", .array([S.obj([("url", "/")])])),
            ("security", .array([S.obj([("bearerAuth", .array([]))]), S.obj([("cookieSession", .array([]))])])),
            ("tags", .array(Text.tags.map { S.obj([("name", .string($0.0)), ("description", .string($0.1))]) })),
            ("paths", paths.json),
            ("components", S.obj([
                ("securitySchemes", Components.securitySchemes),
                ("parameters", Components.parameters),
                ("headers", Components.headers),
                ("responses", Components.responses),
                ("schemas", .object(JSONObject(schemas))),
            ])),
        ])
    }
}
