/// Runs every rule over a case. The only place that knows the order in which rules depend on
/// one another; each rule is a pure function of the case context and earlier findings.
public struct Assessor: Sendable {
    public let thresholds: Thresholds

    public init(thresholds: Thresholds = Thresholds()) { self.thresholds = thresholds }

    public func assess(_ decoded: DecodedCase) -> Assessment {
        assess(decoded.case, asOf: decoded.asOf, inputWarnings: decoded.warnings)
    }

    public func assess(_ c: Case, asOf: LocalDate, inputWarnings: [FieldIssue] = []) -> Assessment {
        let ctx = CaseContext(case: c, asOf: asOf, thresholds: thresholds)
        let product = CalciumPhosphateProduct.evaluate(ctx)
        let type = CalcinosisType.evaluate(ctx, product: product)
        let infection = InfectionTriage.evaluate(ctx)
        let lesions = ctx.lesions.map { LesionMetrics.evaluate($0, thresholds: thresholds) }

        var alerts = Interactions.evaluate(ctx, infection: infection)
        if let a = Holds.immunosuppressantReview(ctx, infection: infection) { alerts.append(a) }
        if let a = Holds.inrCheck(ctx, infection: infection) { alerts.append(a) }
        if let a = SafetyChecks.sepsisScreen(infection) { alerts.append(a) }
        alerts.append(contentsOf: SafetyChecks.doseFrequency(ctx))
        if let a = SafetyChecks.labsMissing(ctx) { alerts.append(a) }
        if let a = SafetyChecks.calciphylaxis(type) { alerts.append(a) }
        // Stable sort: urgent first, rule-table order within a level. An insertion sort by swaps
        // moves the few alerts in place instead of copying each.
        for i in alerts.indices.dropFirst() {
            var j = i
            while j > 0 && alerts[j].level < alerts[j - 1].level {
                alerts.swapAt(j, j - 1)
                j -= 1
            }
        }

        let medications = c.medications.map { m in
            MedicationSummary(drug: m.drugInfo?.name ?? m.drug, recognized: m.drugInfo != nil, rxnorm: m.drugInfo?.rxnorm,
                              rxnormTag: m.drugInfo?.rxnormTag, active: m.isActive(on: asOf),
                              classes: m.drugInfo?.classNames ?? [])
        }

        return Assessment(
            caseId: c.id, asOf: asOf, calcinosisType: type, calciumPhosphateProduct: product, infection: infection,
            alerts: alerts, imaging: Imaging.evaluate(ctx, infection: infection),
            therapyOptions: TherapyOptions.evaluate(ctx, infection: infection),
            dosing: Dosing.evaluate(ctx, infection: infection, lesions: lesions),
            lesions: lesions, followUp: FollowUp.evaluate(ctx, lesions: lesions), riskFactors: RiskFactors.evaluate(ctx),
            medications: medications, inputWarnings: inputWarnings, ignoredRecordCount: ctx.ignoredRecordCount,
            thresholdOverrides: thresholds.overrides)
    }
}
