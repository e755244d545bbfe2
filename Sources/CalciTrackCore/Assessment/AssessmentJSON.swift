/// The assessment's JSON form. Keys marked fixed in case-format.md are public contract: add
/// keys freely, never rename or drop one.
public enum AssessmentJSON {
    public static func encode(_ a: Assessment) -> JSONValue {
        var root = JSONObject()
        root["formatVersion"] = 1
        root["caseId"] = a.caseId.map(JSONValue.string) ?? .null
        root["asOf"] = .string(a.asOf.description)
        root["engine"] = obj([("name", "calcitrack"), ("version", .string(Assessment.engineVersion)),
                              ("ruleset", .string(Assessment.rulesetVersion)),
                              ("thresholdOverrides", .object(JSONObject(a.thresholdOverrides.map { ($0.key, .number($0.value)) })))])
        root["calcinosisType"] = calcinosisType(a.calcinosisType)
        root["calciumPhosphateProduct"] = product(a.calciumPhosphateProduct)
        root["infection"] = infection(a.infection)
        root["alerts"] = .array(a.alerts.map(alert))
        root["imaging"] = .array(a.imaging.map { i in
            obj([("modality", .string(i.modality.rawValue)), ("reason", .string(i.reason)), ("basis", .string(i.basis)),
                 ("source", .string(Sources.shortText(i.sources))), ("sources", strings(i.sources))])
        })
        root["therapyOptions"] = .array(a.therapyOptions.map(therapy))
        root["doses"] = .array(a.dosing.doses.map(dose))
        root["doseNotes"] = strings(a.dosing.notes)
        root["lesions"] = .array(a.lesions.map(lesion))
        root["followUp"] = followUp(a.followUp)
        root["riskFactors"] = .array(a.riskFactors.map { r in
            obj([("id", .string(r.id)), ("association", .string(r.association)), ("conflicting", .bool(r.conflicting)),
                 ("basis", .string(r.basis)), ("source", .string(r.source)), ("sources", strings(r.sources)), ("tag", .string(r.tag.rawValue))])
        })
        root["riskFactorNote"] = .string(RiskFactors.note)
        root["medications"] = .array(a.medications.map { m in
            obj([("drug", .string(m.drug)), ("status", .string(m.recognized ? "recognized" : "unrecognized")),
                 ("rxnorm", opt(m.rxnorm)), ("rxnormTag", opt(m.rxnormTag?.rawValue)), ("active", .bool(m.active)),
                 ("classes", strings(m.classes))])
        })
        root["unrecognizedDrugs"] = strings(a.medications.filter { !$0.recognized }.map(\.drug))
        root["inputWarnings"] = .array(a.inputWarnings.map(\.json))
        root["ignoredRecords"] = .number(Double(a.ignoredRecordCount))
        root["references"] = .object(JSONObject(a.citedSources.map { id in (id, .string(Sources.all[id]?.reference ?? id)) }))
        root["disclaimer"] = "Decision support, not a decision: every item shows its inputs and sources for the clinician to check."
        return .object(root)
    }

    static func calcinosisType(_ t: CalcinosisType) -> JSONValue {
        obj([("value", .string(t.value.rawValue)),
             ("matchedRules", strings(t.matchedRules.map(\.rawValue))),
             ("rules", .array(t.matches.map { m in
                 obj([("rule", .string(m.rule)), ("subtype", .string(m.subtype.rawValue)), ("reason", .string(m.reason)), ("sources", strings(m.sources))])
             })),
             ("missingInputs", strings(t.missingInputs)),
             ("calciphylaxisStatus", opt(t.calciphylaxisStatus)),
             ("basis", .string(t.basis)), ("sources", strings(t.sources))])
    }

    static func product(_ p: CalciumPhosphateProduct) -> JSONValue {
        obj([("mg2dl2", num(p.mg2dl2)), ("mmol2l2", num(p.mmol2l2)), ("aboveThreshold", p.aboveThreshold.map(JSONValue.bool) ?? .null),
             ("thresholdMg2dl2", .number(p.thresholdMg2dl2)), ("calciumType", opt(p.calciumType)),
             ("calciumDate", opt(p.calcium?.date.description)), ("phosphateDate", opt(p.phosphate?.date.description)),
             ("sameDay", p.sameDay.map(JSONValue.bool) ?? .null), ("basis", .string(p.basis)), ("sources", strings(p.sources))])
    }

    static func infection(_ i: InfectionTriage) -> JSONValue {
        obj([("present", .bool(i.present)), ("purulent", .bool(i.purulent)), ("presentReasons", strings(i.presentReasons)),
             ("systemicSigns", strings(i.systemicSigns.present)),
             ("systemicSignsNotAssessed", strings(i.systemicSigns.notAssessed)),
             ("sirs", obj([("criteriaMet", .number(Double(i.sirs.criteriaMet))), ("positive", .bool(i.sirs.positive)),
                           ("criteria", strings(i.sirs.criteria)), ("notAssessed", strings(i.sirs.notAssessed)), ("basis", .string(i.sirs.basis))])),
             ("qsofa", i.qsofa.map { q in
                 obj([("score", .number(Double(q.score))), ("positive", .bool(q.positive)), ("notAssessed", strings(q.notAssessed)), ("basis", .string(q.basis))])
             } ?? .null),
             ("immunocompromised", .bool(i.immunosuppression.immunocompromised)),
             ("immunocompromisedBasis", .string(i.immunosuppression.basis)),
             ("severity", .string(i.severity.rawValue)), ("severityReasons", strings(i.severityReasons)),
             ("route", .string(i.route)), ("mrsaCoverage", .bool(i.mrsaCoverage)), ("mrsaReasons", strings(i.mrsaReasons)),
             ("management", strings(i.management)),
             ("empiricOptions", .array(i.empiricOptions.map { o in
                 var e = JSONObject()
                 e["drug"] = .string(o.agent.drug)
                 e["rxnorm"] = opt(o.rxnorm)
                 e["dose"] = opt(o.agent.dose)
                 e["route"] = .string(o.agent.route.rawValue)
                 if let regimen = o.agent.regimen { e["regimen"] = .string(regimen) }
                 e["weightBasedDose"] = opt(o.weightBasedDose)
                 e["activeAgainstMRSA"] = .bool(o.agent.activeAgainstMRSA)
                 e["doseTag"] = .string(o.agent.doseTag.rawValue)
                 e["sources"] = strings(o.agent.doseSources)
                 return .object(e)
             })),
             ("durationDays", i.durationDays.map { .number(Double($0)) } ?? .null),
             ("basis", .string(i.basis)), ("sources", strings(i.sources))])
    }

    static func alert(_ a: Alert) -> JSONValue {
        obj([("id", .string(a.id)), ("level", .string(a.level.rawValue)), ("message", .string(a.message)), ("action", opt(a.action)),
             ("drugs", strings(a.drugs)), ("proposed", .bool(a.proposed)), ("basis", .string(a.basis)),
             ("source", .string(a.source)), ("sources", strings(a.sources)), ("tag", .string(a.tag.rawValue))])
    }

    static func therapy(_ t: TherapyOption) -> JSONValue {
        obj([("id", .string(t.id)), ("kind", .string(t.kind)), ("name", .string(t.name)), ("regimen", opt(t.regimen)),
             ("evidenceLevel", opt(t.evidenceLevel)), ("evidence", .string(t.evidence)), ("recommendation", .string(t.recommendation)),
             ("current", .bool(t.current)), ("cautions", strings(t.cautions)), ("basis", .string(t.basis)),
             ("source", .string(t.source)), ("sources", strings(t.sources)), ("tag", .string(t.tag.rawValue))])
    }

    static func dose(_ d: DoseCalculation) -> JSONValue {
        var o = JSONObject()
        o["id"] = .string(d.id)
        if let lesion = d.lesion { o["lesion"] = .string(lesion) }
        if let mg = d.mgPerDay { o["mgPerDay"] = .number(mg) }
        if let ml = d.ml { o["ml"] = .number(ml) }
        if let capped = d.capped { o["capped"] = .bool(capped) }
        if d.dermatomyositisDerived { o["dermatomyositisDerived"] = true }
        if let caution = d.caution { o["caution"] = .string(caution) }
        o["basis"] = .string(d.basis)
        o["sources"] = strings(d.sources)
        o["tag"] = .string(d.tag.rawValue)
        return .object(o)
    }

    static func lesion(_ l: LesionMetrics) -> JSONValue {
        obj([("id", .string(l.id)), ("site", opt(l.site?.rawValue)), ("laterality", opt(l.laterality?.rawValue)),
             ("morphology", opt(l.morphology?.rawValue)),
             ("latestAreaCm2", num(l.latestAreaCm2)), ("areaMethod", opt(l.areaMethod)), ("baselineAreaCm2", num(l.baselineAreaCm2)),
             ("par4w", num(l.par4w)), ("par4wDay", l.par4wDay.map { .number(Double($0)) } ?? .null),
             ("gilmanCm", num(l.gilmanCm)), ("gilmanCmPerDay", num(l.gilmanCmPerDay)),
             ("trend", .string(l.trend)), ("response", .string(l.response)), ("healed", l.healed.map(JSONValue.bool) ?? .null),
             ("recurred", .bool(l.everRecurred)),
             ("series", .array(l.areas.map { obj([("date", .string($0.date.description)), ("areaCm2", .number(rounded($0.areaCm2, places: 2))),
                                                   ("method", .string($0.method.rawValue))]) })),
             ("basis", .string(l.basis)), ("sources", strings(l.sources))])
    }

    static func followUp(_ f: FollowUp) -> JSONValue {
        obj([("status", .string(f.status)), ("lastVisit", opt(f.lastVisit?.description)),
             ("daysSinceLastVisit", f.daysSinceLastVisit.map { .number(Double($0)) } ?? .null),
             ("nextDue", opt(f.nextDue?.description)), ("daysPastDue", f.daysPastDue.map { .number(Double($0)) } ?? .null),
             ("basis", .string(f.basis)), ("sources", strings(f.sources))])
    }

    static func obj(_ entries: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(entries)) }
    static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
    static func opt(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    static func num(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
}
