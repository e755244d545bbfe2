import CalciTrackCore

/// FHIR `_elements` (R4 search.html#elements; Bulk Data 2.0 `$export` `_elements`): a resource cut
/// down to the elements a client named, plus what must stay for it to be a valid resource:
/// `resourceType`, `id`, `meta`, and the type's mandatory (min 1) top-level elements in R4. The
/// result is tagged SUBSETTED (v3-ObservationValue), so nobody writes it back over the whole
/// resource. A choice element is named by its stem (`value` keeps `valueQuantity`) or as `value[x]`.
public enum ElementsSubset {
    public static let subsettedSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"

    /// R4 top-level elements with min cardinality 1 (each resource's StructureDefinition).
    public static let mandatory: [String: [String]] = [
        "Patient": [],
        "Condition": ["subject"],
        "Observation": ["status", "code"],
        "BodyStructure": ["patient"],
        "MedicationStatement": ["status", "medication", "subject"],
        "Procedure": ["status", "subject"],
        "Encounter": ["status", "class"],
        "ImagingStudy": ["status", "subject"],
        "Flag": ["status", "code", "subject"],
        "Group": ["type", "actual"],
    ]

    /// The top-level elements each type marks `isSummary` (`_summary=true`), choice elements by
    /// their stem; `id`, `meta` and the mandatory elements are kept besides. Taken from the R4B
    /// definitions as PyPI `fhir.resources` carries them (`summary_element_property`); `fhir.sh`
    /// validates the answers against R4 (fhirclient, strict) and R4B.
    public static let summary: [String: [String]] = [
        "Patient": ["active", "address", "birthDate", "deceased", "gender", "identifier", "link", "managingOrganization", "name", "telecom"],
        "Condition": ["asserter", "bodySite", "clinicalStatus", "code", "encounter", "identifier", "onset", "recordedDate", "recorder", "subject",
                      "verificationStatus"],
        "Observation": ["basedOn", "code", "component", "derivedFrom", "effective", "encounter", "focus", "hasMember", "identifier", "issued", "partOf",
                        "performer", "status", "subject", "value"],
        "BodyStructure": ["active", "description", "identifier", "location", "morphology", "patient"],
        "MedicationStatement": ["basedOn", "category", "context", "dateAsserted", "effective", "identifier", "medication", "partOf", "status", "subject"],
        "Procedure": ["asserter", "basedOn", "bodySite", "category", "code", "encounter", "identifier", "instantiatesCanonical", "instantiatesUri",
                      "location", "outcome", "partOf", "performed", "performer", "reasonCode", "reasonReference", "recorder", "status",
                      "statusReason", "subject"],
        "Encounter": ["appointment", "class", "diagnosis", "episodeOfCare", "identifier", "participant", "reasonCode", "reasonReference",
                      "serviceType", "status", "subject", "type"],
        "ImagingStudy": ["basedOn", "description", "encounter", "endpoint", "identifier", "interpreter", "location", "modality", "note",
                         "numberOfInstances", "numberOfSeries", "procedureCode", "procedureReference", "reasonCode", "reasonReference", "referrer",
                         "series", "started", "status", "subject"],
        "Flag": ["author", "category", "code", "encounter", "identifier", "period", "status", "subject"],
        "Group": ["active", "actual", "code", "identifier", "managingEntity", "name", "quantity", "type"],
    ]

    /// A name `_elements` accepts: an element name (letters and digits, starting lower case),
    /// optionally `[x]`-suffixed.
    public static func isElementName(_ name: String) -> Bool {
        let stem = name.hasSuffix("[x]") ? String(name.dropLast(3)) : name
        guard let first = stem.unicodeScalars.first, first.properties.isLowercase else { return false }
        return stem.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// `resource` with only `names` (element names of its type) and what must stay.
    public static func apply(_ resource: JSONValue, keeping names: Set<String>) -> JSONValue {
        guard case .object(let object) = resource, let type = object["resourceType"]?.stringValue else { return resource }
        let stems = Set(names.map { $0.hasSuffix("[x]") ? String($0.dropLast(3)) : $0 }).union(mandatory[type] ?? [])
        func kept(_ key: String) -> Bool {
            if ["resourceType", "id", "meta"].contains(key) || stems.contains(key) { return true }
            // A choice element: the stem followed by its type name (valueQuantity, medicationCodeableConcept).
            return stems.contains { key.hasPrefix($0) && key.count > $0.count && key[key.index(key.startIndex, offsetBy: $0.count)].isUppercase }
        }
        var result = JSONObject()
        for (key, value) in object.entries where kept(key) { result[key] = value }
        var meta: JSONObject
        if case .object(let m)? = object["meta"] { meta = m } else { meta = JSONObject() }
        var tags: [JSONValue] = []
        if case .array(let existing)? = meta["tag"] { tags = existing }
        tags.append(.object(JSONObject([("system", .string(subsettedSystem)), ("code", "SUBSETTED"), ("display", "subsetted")])))
        meta["tag"] = .array(tags)
        result["meta"] = .object(meta)
        // meta goes right after id, as in every resource CalciTrack writes.
        return .object(reordered(result))
    }

    private static func reordered(_ object: JSONObject) -> JSONObject {
        let head = ["resourceType", "id", "meta"]
        var out = JSONObject()
        for key in head { if let v = object[key] { out[key] = v } }
        for (key, value) in object.entries where !head.contains(key) { out[key] = value }
        return out
    }
}
