import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Foundation

/// One `$export` request (migration 013): who asked, what, and how far it got. Its files are
/// `<exports directory>/<job id>/<Type>.ndjson` (`BulkExportFiles`).
final class BulkExportJob: Model, @unchecked Sendable {
    static let schema = "bulk_export_jobs"

    enum State: String, Sendable { case running, complete, failed }

    @ID(key: .id) var id: UUID?
    /// Only this user may poll the job and download its files.
    @Field(key: "owner_id") var ownerID: UUID
    @Field(key: "owner_username") var ownerUsername: String
    @Field(key: "state") var stateText: String
    /// The kick-off URL as requested (the manifest's `request`).
    @Field(key: "request_url") var requestURL: String
    /// Comma-separated resource types, in export order.
    @Field(key: "types") var typesText: String
    @OptionalField(key: "since") var since: Date?
    /// When the export's reading began: the manifest's `transactionTime`; expiry counts from it.
    @Field(key: "transaction_time") var transactionTime: Date
    /// For `X-Progress` while running.
    @Field(key: "progress") var progress: String
    /// The finished files as JSON `[{"type": T, "count": n}]`; a `_since` export adds
    /// `{"type": "Bundle", "deleted": true, "count": n}` for its deletions file (n may be 0).
    @Field(key: "outputs") var outputsText: String
    @OptionalField(key: "error") var error: String?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    /// While running: when the process running it last said so (015; `BulkExportRunner.heartbeat`).
    @OptionalField(key: "heartbeat_at") var heartbeatAt: Date?

    init() {}

    init(id: UUID, ownerID: UUID, ownerUsername: String, requestURL: String, types: [FHIRResourceType], since: Date?, transactionTime: Date) {
        self.id = id; self.ownerID = ownerID; self.ownerUsername = ownerUsername; self.stateText = State.running.rawValue
        self.requestURL = requestURL; self.typesText = types.map(\.rawValue).joined(separator: ","); self.since = since
        self.transactionTime = transactionTime; self.progress = "queued"; self.outputsText = "[]"
    }

    var state: State? { State(rawValue: stateText) }

    /// A running job is cut off (its process stopped) when no process has said it runs it for
    /// `BulkExportRunner.heartbeatTimeout`, or never did (a row from before 015).
    func isCutOff(now: Date) -> Bool {
        guard let heartbeatAt else { return true }
        return now.timeIntervalSince(heartbeatAt) > BulkExportRunner.heartbeatTimeout
    }
    var types: [FHIRResourceType] { typesText.split(separator: ",").compactMap { FHIRResourceType(rawValue: String($0)) } }

    struct Output: Sendable, Equatable { var type: FHIRResourceType; var count: Int }

    var outputs: [Output] {
        guard case .array(let list)? = try? JSONParser.parse(outputsText) else { return [] }
        return list.compactMap { item in
            guard let type = item["type"]?.stringValue.flatMap(FHIRResourceType.init(rawValue:)), case .number(let n)? = item["count"] else { return nil }
            return Output(type: type, count: Int(n))
        }
    }

    /// The deletions file of a `_since` export: its name and number of Bundles (nil: not a `_since` export).
    static let deletedFile = "deleted.ndjson"

    var deletedBundles: Int? {
        guard case .array(let list)? = try? JSONParser.parse(outputsText),
              let item = list.first(where: { $0["deleted"] == .bool(true) }), case .number(let n)? = item["count"] else { return nil }
        return Int(n)
    }

    static func outputsJSON(_ outputs: [Output], deletedBundles: Int? = nil) -> String {
        var items: [JSONValue] = outputs.map { .object(JSONObject([("type", .string($0.type.rawValue)), ("count", .number(Double($0.count)))])) }
        if let deletedBundles {
            items.append(.object(JSONObject([("type", "Bundle"), ("deleted", .bool(true)), ("count", .number(Double(deletedBundles)))])))
        }
        return JSONWriter.write(.array(items), pretty: false)
    }
}
