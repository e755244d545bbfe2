import ArgumentParser
import CalciTrackCore

/// `calcitrack thresholds`: the rule thresholds with their sources and verification tags.
struct ThresholdsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thresholds",
        abstract: "List every rule threshold with its default, unit, source and verification tag."
    )

    @ArgumentParser.Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() {
        if json {
            let items: [JSONValue] = Thresholds.definitions.map { d in
                .object(JSONObject([("key", .string(d.key)), ("value", .number(d.value)), ("unit", .string(d.unit)), ("rule", .string(d.rule)),
                                    ("tag", .string(d.tag.rawValue)), ("sources", .array(d.sources.map(JSONValue.string))),
                                    ("note", d.note.map(JSONValue.string) ?? .null)]))
            }
            print(JSONWriter.write(.array(items)))
            return
        }
        for d in Thresholds.definitions {
            print("\(d.key) = \(JSONWriter.formatNumber(d.value)) \(d.unit)  [\(d.tag.rawValue)] \(d.rule) — \(Sources.shortText(d.sources))"
                + (d.note.map { " (\($0))" } ?? ""))
        }
    }
}
