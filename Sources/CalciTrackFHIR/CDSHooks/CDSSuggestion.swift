import CalciTrackCore

/// A CDS Hooks 2.0 card suggestion ("Suggestion"): a button the EHR can show on the card, whose
/// actions it applies when the clinician chooses it. CalciTrack only suggests; it never sets
/// `isRecommended`, and the clinician's choice comes back in the feedback (audited by its `uuid`).
public struct CDSSuggestion: Sendable, Equatable {
    /// A suggestion's action ("Action"): removing a draft order (`delete` with `resourceId`, the
    /// 2.0 form; 1.0's id in `resource` is deprecated) or proposing a new one (`create` with the
    /// resource).
    public struct Action: Sendable, Equatable {
        public var type: String
        public var description: String
        /// delete: a relative reference, e.g. "MedicationRequest/123".
        public var resourceID: String?
        /// create: the new resource.
        public var resource: JSONValue?

        public static func delete(_ resourceID: String, description: String) -> Action {
            Action(type: "delete", description: description, resourceID: resourceID, resource: nil)
        }

        public static func create(_ resource: JSONValue, description: String) -> Action {
            Action(type: "create", description: description, resourceID: nil, resource: resource)
        }

        var json: JSONValue {
            var action = JSONObject([("type", .string(type)), ("description", .string(description))])
            if let resourceID { action["resourceId"] = .string(resourceID) }
            if let resource { action["resource"] = resource }
            return .object(action)
        }
    }

    public var uuid: String
    public var label: String
    public var actions: [Action]

    public var json: JSONValue {
        .object(JSONObject([("label", .string(label)), ("uuid", .string(uuid)), ("isRecommended", false),
                            ("actions", .array(actions.map(\.json)))]))
    }
}
