import CalciTrackCore
import CalciTrackFHIR
import Fluent
import Vapor

/// `POST [base]/[type]/$validate` (R4 resource-operation-validate): would CalciTrack accept this
/// resource, and what of it would it keep? The resource is written exactly as a create (or, with
/// `mode=update`, an update of its id) would write it, by `FHIRWriter` inside a transaction that
/// is then rolled back: the answer names everything the write would refuse (unknown patient,
/// a lab dated before birth, a unit it cannot store, ...) and every element it would not store,
/// and nothing is written or audited. An EHR integration checks its mapping with it before
/// sending data. Always 200 with an OperationOutcome (valid or not, as R4 specifies); 400 only
/// when there is nothing to validate.
enum FHIRValidateOperation {
    static let definition = "http://hl7.org/fhir/OperationDefinition/Resource-validate"

    enum Mode: String { case create, update }

    /// What the rolled-back write returned.
    private struct RolledBack: Error { let result: EntryResult }

    @Sendable static func validate(req: Request) async throws -> Response {
        let type = req.parameters.get("type") ?? ""
        do {
            guard let served = FHIRResourceType(rawValue: type), served != .Flag else {
                throw EntryFailure(.notFound, .notSupported, "$validate is for the types CalciTrack stores; \(type) is not one", at: type)
            }
            let (resource, mode) = try input(req, type: served.rawValue)
            let entry: WriteEntry
            switch mode {
            case .create:
                entry = WriteEntry(method: .post, resourceType: type, resource: resource, index: 0)
            case .update:
                guard let id = resource["id"]?.stringValue else {
                    throw EntryFailure(.badRequest, .required, "mode update validates an update of the resource's id; the resource has none", at: "\(type).id")
                }
                entry = WriteEntry(method: .put, resourceType: type, resource: resource, id: id, index: 0)
            }
            let (authority, _) = try await FHIRWriteController.authority(req)
            let writer = FHIRWriter(authority: authority, today: req.today, mode: .transaction)
            let prepared = FHIRWriter.prepare(entry)
            var issues: [OperationOutcome.Issue]
            do {
                try await req.db.transaction { (tx: any Database) async throws -> Void in
                    let (results, _) = try await writer.write([prepared], on: tx)
                    throw RolledBack(result: results[0])
                }
                issues = [] // not reached: the transaction always rolls back
            } catch let rolledBack as RolledBack {
                let result = rolledBack.result
                issues = result.issues
                if !result.failed {
                    let what = result.kind.map { " (registry \($0.rawValue))" } ?? ""
                    issues.insert(.init(.information, .informational, "valid: CalciTrack would \(verb(result.action)) \(type)\(what); nothing was written", at: [type]), at: 0)
                }
            } catch let failure as EntryFailure {
                issues = failure.issues
            } catch let failure as TransactionFailure {
                issues = failure.issues
            }
            return FHIRWriteResponse.outcome(.ok, issues)
        } catch {
            return FHIRWriteResponse.outcome(for: error, resourceType: type, logger: req.logger)
        }
    }

    static func verb(_ action: EntryResult.Action) -> String {
        switch action {
        case .created: "create it as"
        case .updated: "update"
        case .unchanged: "find it unchanged as"
        case .matched: "match an existing"
        case .deleted: "delete"
        case .rejected, .notStored: "refuse"
        }
    }

    /// The resource (the body itself, or a Parameters resource's `resource`) and the mode (the
    /// `mode` parameter, in the query or the Parameters; create when absent).
    static func input(_ req: Request, type: String) throws -> (JSONObject, Mode) {
        var modeText = req.query[String.self, at: "mode"]
        let body = try FHIRWriteController.resourceBody(req, type: type, allowing: ["Parameters"])
        var resource = body
        if body["resourceType"]?.stringValue == "Parameters" {
            guard case .array(let parameters)? = body["parameter"],
                  case .object(let wrapped)? = parameters.first(where: { $0["name"]?.stringValue == "resource" })?["resource"] else {
                throw EntryFailure(.badRequest, .required, "a Parameters body needs a parameter named resource holding the \(type)", at: "Parameters.parameter")
            }
            if let mode = parameters.first(where: { $0["name"]?.stringValue == "mode" })?["valueCode"]?.stringValue { modeText = mode }
            guard wrapped["resourceType"]?.stringValue == type else {
                throw EntryFailure(.badRequest, .invalid, "the resource parameter is a \(wrapped["resourceType"]?.stringValue ?? "resource without resourceType"), but the URL names \(type)",
                                   at: "Parameters.parameter.resource")
            }
            resource = wrapped
        }
        guard let mode = Mode(rawValue: modeText ?? "create") else {
            throw EntryFailure(.badRequest, .notSupported, "mode must be create or update (delete is not validated), got \(modeText ?? "")", at: "mode")
        }
        return (resource, mode)
    }
}
