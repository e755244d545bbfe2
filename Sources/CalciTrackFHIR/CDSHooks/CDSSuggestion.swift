import CalciTrackCore

/// A CDS Hooks 2.0 card suggestion ("Suggestion"): a button the EHR can show on the card, whose
/// actions it applies when the clinician chooses it. CalciTrack only suggests; it never sets
/// `isRecommended`, and the clinician's choice comes back in the feedback (audited by its `uuid`).
public struct CDSSuggestion: Sendable, Equatable {
    /// A suggestion's action ("Action"). CalciTrack suggests removing a draft order only (`delete`
    /// with `resourceId`, the 2.0 form; 1.0's id in `resource` is deprecated).
    public struct Action: Sendable, Equatable {
        public var type: String
        public var description: String
        /// A relative reference, e.g. "MedicationRequest/123".
        public var resourceID: String

        public static func delete(_ resourceID: String, description: String) -> Action {
            Action(type: "delete", description: description, resourceID: resourceID)
        }

        var json: JSONValue {
            .object(JSONObject([("type", .string(type)), ("description", .string(description)), ("resourceId", .string(resourceID))]))
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
