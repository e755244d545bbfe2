import CalciTrackCore
import Fluent
import SQLKit
import Vapor

// MARK: - Generator

/// A value for an INSERT: a bind, or NULL for nil (PostgreSQL coerces NULL to the column type).
@inline(__always) private func v(_ value: (any Encodable & Sendable)?) -> any SQLExpression {
    if let value { return SQLBind(value) }
    return SQLLiteral.null
}

/// SplitMix64: tiny, fast and good enough for synthetic data; fully determined by its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SyntheticRegistry {
    /// One patient's records, drawn from the patient's own generator.
    struct Generator {
        var rng: SplitMix64
        let index: Int
        let siteID: UUID
        let today: LocalDate

        init(seed: UInt64, index: Int, siteID: UUID, today: LocalDate) {
            var mixer = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD6E8_FEB8_6659_FD93))
            _ = mixer.next()
            rng = SplitMix64(seed: mixer.next())
            self.index = index; self.siteID = siteID; self.today = today
        }

        // MARK: Draws

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
        mutating func double(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &rng) }
        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
        mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
        mutating func weighted<T>(_ items: [(T, Double)]) -> T {
            var x = Double.random(in: 0..<items.reduce(0) { $0 + $1.1 }, using: &rng)
            for (item, weight) in items { if x < weight { return item }; x -= weight }
            return items[items.count - 1].0
        }
        func round(_ value: Double, _ places: Int) -> Double { CalciTrackCore.rounded(value, places: places) }
        mutating func uuid() -> UUID {
            let a = rng.next(), b = rng.next()
            var bytes = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(i))); bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(i))) }
            bytes[6] = (bytes[6] & 0x0F) | 0x40   // version 4
            bytes[8] = (bytes[8] & 0x3F) | 0x80   // RFC 4122 variant
            return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        }
        /// A day in [from, to] (to when the range is empty).
        mutating func day(_ from: LocalDate, _ to: LocalDate) -> LocalDate {
            to <= from ? to : LocalDate(daysSinceEpoch: int(from.daysSinceEpoch...to.daysSinceEpoch))
        }

        static func timestamp(_ date: LocalDate, second: Int = 0) -> Date {
            Date(timeIntervalSince1970: Double(date.daysSinceEpoch) * 86_400 + 9 * 3_600 + Double(second))
        }

        // MARK: Vocabulary

        static let familyNames = ["Smith", "Garcia", "Müller", "Rossi", "Nguyen", "Kowalski", "Johansson", "Dubois", "Silva", "Kim",
                                  "Okafor", "Hansen", "Novak", "Papadopoulos", "Yilmaz", "Cohen", "Murphy", "Fischer", "Moreau", "Tanaka",
                                  "Singh", "Costa", "Jensen", "Horvat", "Ivanova", "Lindqvist", "O'Brien", "Schmidt", "Bianchi", "Andersen",
                                  "Mensah", "Haddad", "Petrov", "Svoboda", "Nakamura", "Pereira", "Wójcik", "Lambert", "Bauer", "Ferrari",
                                  "Chen", "Wang", "Li", "Zhang", "Patel", "Shah", "Brown", "Wilson", "Taylor", "Martin",
                                  "Lefebvre", "Romano", "Virtanen", "Nielsen", "Popescu", "Kovács", "Sato", "Ali", "Hassan", "Ortiz"]
        static let femaleNames = ["Anna", "Maria", "Sofia", "Elena", "Laura", "Emma", "Olga", "Ingrid", "Fatima", "Aiko", "Grace", "Chiara",
                                  "Ewa", "Nadia", "Helen", "Irene", "Julia", "Karin", "Lucia", "Marta", "Noor", "Petra", "Rosa", "Sara"]
        static let maleNames = ["Peter", "Marco", "Jan", "Ahmed", "Kenji", "Luis", "Tomas", "David", "Erik", "Hugo", "Ivan", "Omar"]
        static let lesionSites: [(BodySite, Double)] = [
            (.finger, 20), (.hand, 10), (.thumb, 4), (.wrist, 4), (.forearm, 7), (.elbow, 10), (.upperArm, 2), (.shoulder, 2),
            (.face, 1), (.jaw, 0.5), (.trunk, 2), (.buttock, 3), (.hip, 4), (.thigh, 5), (.knee, 9), (.lowerLeg, 7),
            (.ankle, 3), (.foot, 3), (.toe, 2), (.other, 1),
        ]
        static let morphologies: [(CalciTrackCore.Morphology, Double)] = [(.stone, 45), (.mousse, 15), (.plaque, 20), (.network, 8), (.unknown, 12)]
        static let organisms = ["Staphylococcus aureus", "Streptococcus pyogenes", "Streptococcus dysgalactiae", "Pseudomonas aeruginosa",
                                "Escherichia coli", "coagulase-negative staphylococci", "mixed skin flora"]
        static let antibiotics: [(drug: String, dose: Double, frequency: Frequency)] = [
            ("doxycycline", 100, .bid), ("cephalexin", 500, .qid), ("sulfamethoxazole-trimethoprim", 960, .bid),
            ("clindamycin", 300, .tid), ("minocycline", 100, .bid),
        ]
        /// Long-term and calcinosis medications: drug, usual dose, frequency, route, indication.
        struct Template: Sendable {
            let drug: String, dose: Double?, frequency: Frequency, route: CalciTrackCore.Route, indication: String?
            init(_ drug: String, _ dose: Double?, _ frequency: Frequency, _ route: CalciTrackCore.Route = .oral, _ indication: String? = nil) {
                self.drug = drug; self.dose = dose; self.frequency = frequency; self.route = route; self.indication = indication
            }
        }
        static let medications: [Template] = [
            Template("nifedipine", 30, .daily, .oral, "Raynaud phenomenon"), Template("amlodipine", 5, .daily, .oral, "Raynaud phenomenon"),
            Template("diltiazem", 240, .daily, .oral, "calcinosis"), Template("warfarin", 2.5, .daily),
            Template("colchicine", 0.6, .daily, .oral, "calcinosis inflammation"), Template("mycophenolate", 1000, .bid, .oral, "systemic sclerosis"),
            Template("methotrexate", 15, .weekly, .oral, "systemic sclerosis"), Template("prednisone", 5, .daily),
            Template("hydroxychloroquine", 200, .bid), Template("sildenafil", 20, .tid, .oral, "digital ulcers"),
            Template("bosentan", 62.5, .bid, .oral, "digital ulcers"), Template("omeprazole", 20, .daily, .oral, "reflux"),
            Template("esomeprazole", 40, .daily, .oral, "reflux"), Template("sodium thiosulfate", 12_500, .weekly, .intravenous, "calcinosis"),
            Template("sodium thiosulfate", nil, .daily, .topical, "calcinosis"), Template("sodium thiosulfate", 250, .monthly, .intralesional, "calcinosis"),
            Template("minocycline", 100, .daily, .oral, "calcinosis"), Template("probenecid", 500, .bid, .oral, "calcinosis"),
            Template("alendronate", 70, .weekly, .oral, "osteoporosis"), Template("rituximab", 1000, .every2Weeks, .intravenous, "systemic sclerosis"),
            Template("calcium carbonate", 500, .bid), Template("aluminum hydroxide", 600, .tid, .oral, "calcinosis"),
            Template("metoclopramide", 10, .tid), Template("atorvastatin", 20, .daily), Template("lisinopril", 10, .daily),
            Template("azathioprine", 100, .daily), Template("tacrolimus", 2, .bid), Template("cyclophosphamide", 750, .monthly, .intravenous),
        ]
        static let features: [SScFeature] = [.raynaud, .sclerodactyly, .telangiectasia, .digitalUlcers, .digitalIschemia, .acroOsteolysis,
                                             .pulmonaryArterialHypertension, .interstitialLungDisease, .osteoporosis, .dysphagia]

        // MARK: Build

        /// Builds the patient and its records as models, computes the summary with the engine, and
        /// appends the rows to `batch`.
        mutating func build(into batch: inout Batch) throws {
            let author = SyntheticRegistry.actorName
            let patient = Patient()
            let pid = uuid()
            patient.id = pid
            patient.$site.id = siteID
            patient.mrn = SyntheticRegistry.mrn(index + 1)
            let sex = weighted([("female", 82.0), ("male", 16.0), ("other", 1.0), ("unknown", 1.0)])
            patient.sex = sex
            patient.familyName = pick(Self.familyNames)
            patient.givenName = pick(sex == "male" ? Self.maleNames : Self.femaleNames) + " " + String(UnicodeScalar(UInt8(65 + int(0...25))))
            let birth = today.adding(days: -int((22 * 365)...(88 * 365)))
            patient.birthDate = chance(0.97) ? birth.description : nil
            patient.weightKg = chance(0.8) ? round(double(42...105), 1) : nil
            patient.pregnant = sex == "female" && birth.wholeYears(until: today) < 45 && chance(0.1) ? false : nil
            patient.dateShiftDays = -int(1...364)
            patient.version = 1
            patient.createdBy = author; patient.updatedBy = author

            // Follow-up timeline: first contact up to ten years ago; most patients seen recently,
            // some drifted (overdue), some gone for more than a year (lost if unhealed).
            let first = today.adding(days: -int(45...3_650))
            let recency = weighted([("recent", 62.0), ("drifting", 23.0), ("gone", 15.0)])
            var last: LocalDate
            switch recency {
            case "recent": last = today.adding(days: -int(0...75))
            case "drifting": last = today.adding(days: -int(76...330))
            default: last = today.adding(days: -int(366...2_000))
            }
            if last < first { last = first }
            let span = first.days(until: last)

            // SSc profile, history.
            let subtype = weighted([("limited", 58.0), ("diffuse", 30.0), ("overlap", 6.0), ("sine", 3.0), ("unknown", 3.0)])
            let diagnosisYear = max(birth.year + 16, first.year - int(0...20))
            var ssc: [(String, JSONValue)] = [("subtype", .string(subtype)), ("diagnosisDate", .string(String(min(diagnosisYear, today.year))))]
            func antibody(_ p: Double) -> JSONValue { .string(chance(0.2) ? "unknown" : (chance(p) ? "positive" : "negative")) }
            ssc.append(("antibodies", .object(JSONObject([("scl70", antibody(subtype == "diffuse" ? 0.4 : 0.1)),
                                                          ("centromere", antibody(subtype == "limited" ? 0.5 : 0.1)),
                                                          ("pmScl", antibody(0.05)), ("rnaPolIII", antibody(subtype == "diffuse" ? 0.15 : 0.03))]))))
            var featureList: [JSONValue] = ["raynaud"]
            for feature in Self.features.dropFirst() where chance(0.3) { featureList.append(.string(feature.rawValue)) }
            ssc.append(("features", .array(featureList)))
            patient.ssc = JSONWriter.write(.object(JSONObject(ssc)), pretty: false)
            let dialysis = chance(0.03)
            if chance(0.7) {
                patient.history = JSONWriter.write(.object(JSONObject([("dialysis", .bool(dialysis)), ("mrsaInfectionElsewhere", .bool(chance(0.03))),
                                                                       ("penetratingTrauma", .bool(chance(0.02)))])), pretty: false)
            }
            if subtype == "overlap" { patient.otherCTD = JSONWriter.write(.array([.string(pick(["dermatomyositis", "sle", "mctd", "sjogren"]))]), pretty: false) }
            let infected = chance(0.1)
            let infectionOngoing = infected && chance(0.45)
            if infectionOngoing && chance(0.5) {
                patient.infectionInputs = JSONWriter.write(.object(JSONObject([("failedPriorTherapy", .bool(chance(0.3))),
                                                                               ("immunocompromised", .bool(chance(0.3)))])), pretty: false)
            }
            var second = 0
            func stamp(_ date: LocalDate) -> Date { second += 1; return Self.timestamp(date, second: second) }

            // Lesions and measurements.
            var lesions: [LesionRecord] = [], measurements: [MeasurementRecord] = []
            let lesionCount = weighted([(1, 40.0), (2, 30.0), (3, 18.0), (4, 12.0)])
            for number in 1...lesionCount {
                let lesion = LesionRecord()
                lesion.id = uuid(); lesion.patientID = pid
                let site = weighted(Self.lesionSites)
                lesion.site = site.rawValue
                lesion.label = "\(site.rawValue)-\(number)"
                lesion.laterality = site == .face || site == .trunk ? pick(["midline", "left", "right"]) : pick(["left", "right", "right", "left", "bilateral"])
                lesion.morphology = weighted(Self.morphologies).rawValue
                lesion.periarticularMass = site.isPeriarticular && chance(0.3) ? true : (chance(0.5) ? false : nil)
                let onset = day(first, last)
                let ulcerated = chance(0.35)
                var findings: [(String, JSONValue)] = [("ulcerated", .bool(ulcerated)), ("pain", .bool(chance(0.55)))]
                if ulcerated { findings.append(("extrusion", .bool(chance(0.3)))) }
                if infectionOngoing && number == 1 {
                    findings += [("purulent", .bool(chance(0.6))), ("erythema", true), ("warmth", .bool(chance(0.6))), ("edema", .bool(chance(0.4)))]
                } else if chance(0.05) {
                    findings.append(("erythema", true))
                }
                lesion.findings = JSONWriter.write(.object(JSONObject(findings)), pretty: false)
                lesion.version = 1; lesion.createdBy = author; lesion.updatedBy = author
                lesion.createdAt = stamp(onset); lesion.updatedAt = lesion.createdAt

                // 1-6 measurements from onset to the last contact; size drifts, may heal, may recur.
                let count = weighted([(1, 18.0), (2, 22.0), (3, 20.0), (4, 16.0), (5, 13.0), (6, 11.0)])
                var dates = Set<Int>()
                for _ in 0..<count { dates.insert(day(onset, last).daysSinceEpoch) }
                dates.insert(onset.daysSinceEpoch)
                var length = round(double(0.4...5.0), 1), width = round(length * double(0.4...1.0), 1)
                var healed = false
                let drift = double(-0.25...0.2)
                for (k, d) in dates.sorted().enumerated() {
                    let m = MeasurementRecord()
                    m.id = uuid(); m.patientID = pid; m.lesionID = lesion.id!
                    m.date = LocalDate(daysSinceEpoch: d).description
                    if k > 0 && !healed && chance(0.15) {
                        healed = true
                    } else if healed && chance(0.5) {
                        healed = false   // recurred
                        length = round(double(0.3...2.0), 1); width = round(length * double(0.5...1.0), 1)
                    } else if !healed && k > 0 {
                        let factor = 1 + drift + double(-0.2...0.2)
                        length = max(0.2, min(25, round(length * factor, 1))); width = max(0.1, min(length, round(width * factor, 1)))
                    }
                    if healed {
                        m.lengthCm = 0; m.widthCm = 0; m.healed = true
                    } else {
                        m.lengthCm = length; m.widthCm = width
                        if chance(0.25) { m.depthCm = round(double(0.1...1.5), 1) }
                        if chance(0.1) { m.areaCm2 = round(Double.pi / 4 * length * width, 2) }
                        if chance(0.3) { m.healed = false }
                    }
                    if chance(0.5) { m.painVAS = Double(int(0...9)) }
                    m.version = 1; m.createdBy = author; m.updatedBy = author
                    m.createdAt = stamp(LocalDate(daysSinceEpoch: d)); m.updatedAt = m.createdAt
                    measurements.append(m)
                }
                lesion.status = healed ? "healed" : (chance(0.03) ? "excised" : "active")
                lesions.append(lesion)
            }
            measurements.sort { $0.date < $1.date }

            // Visits: 1-6 contacts, the last on `last`; a due date on the last and on some earlier ones.
            var visits: [VisitRecord] = []
            let visitCount = min(weighted([(1, 12.0), (2, 20.0), (3, 22.0), (4, 18.0), (5, 15.0), (6, 13.0)]), span + 1)
            var visitDays = Set<Int>([last.daysSinceEpoch])
            while visitDays.count < visitCount { visitDays.insert(day(first, last).daysSinceEpoch) }
            let sortedVisits = visitDays.sorted()
            for (k, d) in sortedVisits.enumerated() {
                let date = LocalDate(daysSinceEpoch: d)
                let visit = VisitRecord()
                visit.id = uuid(); visit.patientID = pid
                visit.date = date.description
                visit.kind = weighted([("clinic", 60.0), ("wound-care", 20.0), ("telephone", 8.0), ("hospital", 7.0), ("other", 5.0)])
                let isLast = k == sortedVisits.count - 1
                if (isLast && chance(0.88)) || (!isLast && chance(0.6)) {
                    visit.nextDue = date.adding(days: weighted([(14, 15.0), (28, 25.0), (42, 10.0), (90, 30.0), (180, 20.0)])).description
                }
                if chance(0.4) { visit.painVAS = Double(int(0...9)) }
                if chance(0.2) { visit.note = pick(["stable", "dressing changed", "reviewed imaging", "patient reports less pain", "new nodule noted"]) }
                visit.version = 1; visit.createdBy = author; visit.updatedBy = author
                visit.createdAt = stamp(date); visit.updatedAt = visit.createdAt
                visits.append(visit)
            }

            // Labs: 3-8 results of calcium, phosphate, creatinine, WBC (sometimes CRP, albumin) in mixed units.
            var labs: [LabRecord] = []
            let labCount = int(3...8)
            let renal = dialysis || chance(0.08)
            for k in 0..<labCount {
                let base: [LabTest] = [.calcium, .phosphate, .creatinine, .wbc]
                let extra: [(LabTest, Double)] = [(.calcium, 3), (.phosphate, 3), (.creatinine, 2), (.wbc, 2), (.crp, 1), (.albumin, 1)]
                let test: LabTest = k < 4 ? base[k] : weighted(extra)
                let date = infectionOngoing && test == .wbc ? last : day(first, last)
                var (value, unit): (Double, String)
                switch test {
                case .calcium:
                    let mg = double(8.0...10.9)
                    (value, unit) = chance(0.5) ? (round(mg, 1), "mg/dL") : (round(mg / Units.calciumMgDlPerMmolL, 2), "mmol/L")
                case .phosphate:
                    let mg = renal ? double(4.5...8.5) : double(2.4...5.0)
                    (value, unit) = chance(0.5) ? (round(mg, 1), "mg/dL") : (round(mg / Units.phosphateMgDlPerMmolL, 2), "mmol/L")
                case .creatinine:
                    let mg = renal ? double(2.0...9.0) : double(0.5...1.4)
                    (value, unit) = chance(0.5) ? (round(mg, 2), "mg/dL") : (round(mg * Units.creatinineUmolLPerMgDl, 0), "umol/L")
                case .wbc:
                    let g = infectionOngoing ? double(9.0...19.0) : double(3.8...11.5)
                    switch int(0...2) {
                    case 0: (value, unit) = (round(g, 1), "10*9/L")
                    case 1: (value, unit) = (round(g, 1), "10*3/uL")
                    default: (value, unit) = ((g * 10).rounded() * 100, "/mm3")
                    }
                case .crp: (value, unit) = infectionOngoing ? (round(double(20...180), 0), "mg/L") : (round(double(0.1...2.5), 1), "mg/dL")
                default: (value, unit) = chance(0.5) ? (round(double(3.0...4.8), 1), "g/dL") : (round(double(30...48), 0), "g/L")
                }
                let lab = LabRecord()
                lab.id = uuid(); lab.patientID = pid
                lab.test = test.rawValue; lab.value = value; lab.unit = unit
                // The same normalisation as `LabRecord.apply` (through the engine's decoder).
                lab.valueNormalised = try Units.toCanonical(value, unit: unit, test: test)
                lab.unitNormalised = Units.canonicalUnit(for: test)
                lab.loinc = LabCodes.loinc(for: test, unit: unit)?.loinc
                lab.date = date.description
                lab.version = 1; lab.createdBy = author; lab.updatedBy = author
                lab.createdAt = stamp(date); lab.updatedAt = lab.createdAt
                labs.append(lab)
            }
            labs.sort { $0.date < $1.date }

            // Vitals: some patients, always with an ongoing infection.
            var vitals: [VitalsRecord] = []
            if infectionOngoing || chance(0.25) {
                for k in 0..<int(1...2) {
                    let date = infectionOngoing && k == 0 ? last : day(first, last)
                    let row = VitalsRecord()
                    row.id = uuid(); row.patientID = pid; row.date = date.description
                    let febrile = infectionOngoing && k == 0 && chance(0.5)
                    row.temperatureC = round(febrile ? double(38.1...39.6) : double(36.1...37.6), 1)
                    row.heartRate = Double(febrile ? int(92...125) : int(58...96))
                    if chance(0.6) { row.respiratoryRate = Double(febrile ? int(18...26) : int(12...19)) }
                    if chance(0.7) { row.systolicBP = Double(febrile && chance(0.2) ? int(82...99) : int(100...150)) }
                    if febrile && chance(0.1) { row.alteredMentation = true }
                    row.version = 1; row.createdBy = author; row.updatedBy = author
                    row.createdAt = stamp(date); row.updatedAt = row.createdAt
                    vitals.append(row)
                }
                vitals.sort { $0.date < $1.date }
            }

            // Medications: 1-5 distinct long-term drugs; an antibiotic during an ongoing infection.
            var medications: [MedicationRecord] = []
            var seen = Set<String>()
            var holds: [HoldRecord] = []
            func addMedication(_ drug: String, _ dose: Double?, _ frequency: Frequency, _ route: CalciTrackCore.Route, _ indication: String?, start: LocalDate, stop: LocalDate?) {
                let m = MedicationRecord()
                m.id = uuid(); m.patientID = pid
                m.drug = drug; m.rxnorm = DrugCatalog.drug(named: drug)?.rxnorm
                m.doseMg = dose; m.frequency = frequency.rawValue; m.route = route.rawValue
                m.start = start.description; m.stop = stop?.description; m.indication = indication
                m.version = 1; m.createdBy = author; m.updatedBy = author
                m.createdAt = stamp(start); m.updatedAt = m.createdAt
                medications.append(m)
            }
            for _ in 0..<int(1...5) {
                let choice = pick(Self.medications)
                guard seen.insert(choice.drug).inserted else { continue }
                let start = day(first.adding(days: -int(0...1_500)), last)
                let stop: LocalDate? = chance(0.25) ? day(start, last) : nil
                addMedication(choice.drug, choice.dose, choice.frequency, choice.route, choice.indication, start: start, stop: stop)
                if choice.drug == "mycophenolate" && infectionOngoing && stop == nil {
                    let hold = HoldRecord()
                    hold.id = uuid(); hold.patientID = pid; hold.medicationID = medications.last!.id!
                    hold.start = last.description; hold.end = nil; hold.reason = "held during infection (HOLD-01)"
                    hold.version = 1; hold.createdBy = author; hold.updatedBy = author
                    hold.createdAt = stamp(last); hold.updatedAt = hold.createdAt
                    holds.append(hold)
                }
            }

            // Infection episodes (10 % of patients; 45 % of those still ongoing).
            var infections: [InfectionEpisodeRecord] = []
            var procedures: [ProcedureRecord] = []
            if infected {
                let onset = infectionOngoing ? last.adding(days: -int(0...10)) : day(first, last)
                let antibiotic = pick(Self.antibiotics)
                let episode = InfectionEpisodeRecord()
                episode.id = uuid(); episode.patientID = pid; episode.lesionID = lesions[0].id
                episode.onset = (onset < first ? first : onset).description
                let cultured = chance(0.7)
                episode.cultureSource = cultured ? pick(["wound-swab", "wound-swab", "tissue", "bone"]) : nil
                episode.cultureResult = cultured ? (infectionOngoing && chance(0.3) ? "pending" : pick(["positive", "positive", "negative"])) : "not-done"
                if episode.cultureResult == "positive" {
                    episode.organism = pick(Self.organisms)
                    episode.mrsa = episode.organism == "Staphylococcus aureus" ? chance(0.25) : false
                }
                episode.antibiotic = antibiotic.drug; episode.antibioticRoute = "oral"
                episode.antibioticStart = episode.onset
                if infectionOngoing {
                    episode.outcome = "ongoing"
                    if !seen.contains(antibiotic.drug) {
                        addMedication(antibiotic.drug, antibiotic.dose, antibiotic.frequency, .oral, "infected calcinosis, \(lesions[0].label)",
                                      start: LocalDate(iso: episode.onset)!, stop: nil)
                    }
                } else {
                    let resolved = day(LocalDate(iso: episode.onset)!, min(last, LocalDate(iso: episode.onset)!.adding(days: 60)))
                    episode.outcome = chance(0.9) ? "resolved" : "recurred"
                    episode.resolvedDate = resolved.description
                    episode.antibioticStop = resolved.description
                }
                episode.version = 1; episode.createdBy = author; episode.updatedBy = author
                episode.createdAt = stamp(LocalDate(iso: episode.onset)!); episode.updatedAt = episode.createdAt
                infections.append(episode)
                if chance(0.4) {
                    let p = ProcedureRecord()
                    p.id = uuid(); p.patientID = pid; p.lesionID = lesions[0].id; p.date = episode.onset
                    p.kind = pick(["incision-and-drainage", "debridement"]); p.note = "culture taken"
                    p.version = 1; p.createdBy = author; p.updatedBy = author
                    p.createdAt = stamp(LocalDate(iso: p.date)!); p.updatedAt = p.createdAt
                    procedures.append(p)
                }
            }
            medications.sort { ($0.start ?? "") < ($1.start ?? "") }
            if chance(0.12) {
                let lesion = pick(lesions)
                let p = ProcedureRecord()
                let date = day(first, last)
                p.id = uuid(); p.patientID = pid; p.lesionID = lesion.id; p.date = date.description
                p.kind = weighted([("debridement", 4.0), ("excision", 2.0), ("co2-laser", 1.0), ("eswl", 1.0), ("biopsy", 1.0)]); p.note = nil
                p.version = 1; p.createdBy = author; p.updatedBy = author
                p.createdAt = stamp(date); p.updatedAt = p.createdAt
                procedures.append(p)
            }

            // Imaging: a radiograph or ultrasound for a third of the patients.
            var imaging: [ImagingRecord] = []
            if chance(0.35) {
                let date = day(first, last)
                let study = ImagingRecord()
                study.id = uuid(); study.patientID = pid; study.date = date.description
                study.modality = weighted([("radiograph", 6.0), ("ultrasound", 3.0), ("ct", 1.0), ("mri", 0.5)])
                study.inconclusive = chance(0.1) ? true : nil
                study.findings = pick(["soft-tissue calcification", "calcinosis over the joint, no erosion", "no calcification seen", "calcified nodules"])
                study.scores = nil
                study.version = 1; study.createdBy = author; study.updatedBy = author
                study.createdAt = stamp(date); study.updatedAt = study.createdAt
                imaging.append(study)
            }

            // The worklist summary and case sections, from the real engine on the records in the
            // order the server reads them (RegistryCase.records: by date, then entry time, then
            // id), so they are the same as a later write would store.
            func ordered<R: PatientRecord, K: Comparable>(_ rows: [R], _ key: (R) -> K) -> [R] {
                rows.sorted {
                    (key($0), $0.createdAt ?? .distantPast, $0.id?.uuidString ?? "") < (key($1), $1.createdAt ?? .distantPast, $1.id?.uuidString ?? "")
                }
            }
            let records = RegistryCase.Records(
                lesions: ordered(lesions) { $0.createdAt ?? .distantPast }, measurements: ordered(measurements, \.date),
                visits: ordered(visits, \.date), labs: ordered(labs, \.date), vitals: ordered(vitals, \.date),
                medications: ordered(medications) { $0.start ?? "" }, imaging: ordered(imaging, \.date), infections: ordered(infections, \.onset))
            let summary = try PatientSummary.compute(patient: patient, records: records, today: today)
            summary.store(in: patient)
            patient.setNameKeys()
            batch.rows[TableWriter.Index.caseRecords.rawValue].append([SQLBind(pid), SQLBind(summary.caseRecords)])
            patient.createdAt = Self.timestamp(first); patient.updatedAt = Self.timestamp(last, second: second + 1)

            // Rows, in the column order of `TableWriter.tables`.
            let one = SQLLiteral.numeric("1"), by = SQLLiteral.string(author)
            func common(_ id: UUID?, _ created: Date?) -> [any SQLExpression] {
                [v(id), SQLBind(pid), one, v(created), v(created), by, by]
            }
            batch.rows[TableWriter.Index.patients.rawValue].append([
                SQLBind(pid), SQLBind(siteID), SQLBind(patient.mrn), SQLBind(patient.familyName), SQLBind(patient.givenName), SQLBind(patient.sex),
                v(patient.birthDate), v(patient.weightKg), v(patient.pregnant), v(patient.ssc), v(patient.otherCTD), v(patient.history),
                v(patient.infectionInputs), v(patient.workup), SQLBind(patient.dateShiftDays), one, v(patient.createdAt), v(patient.updatedAt),
                by, by, v(patient.lastContact), v(patient.nextDue), SQLBind(patient.hasUnhealedLesion), SQLBind(patient.activeInfection),
                v(patient.infectionSeverity), SQLBind(patient.worseningLesion), v(patient.bodySites),
                v(patient.infectionOnset), v(patient.onsetSeverity), v(patient.onsetSepsisScreen), SQLBind(patient.sepsisScreenPositive),
                v(patient.sepsisScreen), SQLBind(patient.highAlert), v(patient.highAlerts),
                SQLBind(patient.followUpStatus), SQLBind(patient.worklistTier), SQLBind(patient.standingDay), v(patient.standingUntil),
                SQLBind(patient.familyKey), SQLBind(patient.givenKey),
            ])
            for r in lesions {
                batch.rows[TableWriter.Index.lesions.rawValue].append(common(r.id, r.createdAt) + [
                    SQLBind(r.label), v(r.site), v(r.laterality), v(r.morphology), v(r.periarticularMass), v(r.findings), SQLBind(r.status), v(r.note)])
            }
            for r in measurements {
                batch.rows[TableWriter.Index.measurements.rawValue].append(common(r.id, r.createdAt) + [
                    SQLBind(r.lesionID), SQLBind(r.date), v(r.lengthCm), v(r.widthCm), v(r.depthCm), v(r.areaCm2), v(r.perimeterCm), v(r.healed), v(r.painVAS), v(r.findings)])
            }
            for r in visits {
                batch.rows[TableWriter.Index.visits.rawValue].append(common(r.id, r.createdAt) + [
                    SQLBind(r.date), v(r.kind), v(r.nextDue), v(r.painVAS), v(r.note)])
            }
            for r in labs {
                batch.rows[TableWriter.Index.labs.rawValue].append(common(r.id, r.createdAt) + [
                    SQLBind(r.test), SQLBind(r.value), SQLBind(r.unit), SQLBind(r.valueNormalised), SQLBind(r.unitNormalised), v(r.loinc), SQLBind(r.date)])
            }
            for r in vitals {
                batch.rows[TableWriter.Index.vitals.rawValue].append(common(r.id, r.createdAt) + [
                    SQLBind(r.date), v(r.temperatureC), v(r.heartRate), v(r.respiratoryRate), v(r.systolicBP), v(r.alteredMentation)])
            }
            for r in medications {
                batch.rows[TableWriter.Index.medications.rawValue].append(common(r.id, r.createdAt) + [
                    SQLBind(r.drug), v(r.rxnorm), v(r.doseMg), v(r.frequency), v(r.route), v(r.start), v(r.stop), v(r.indication)])
            }
            for r in holds {
                batch.rows[TableWriter.Index.holds.rawValue].append(common(r.id, r.createdAt) + [
                    SQLBind(r.medicationID), SQLBind(r.start), v(r.end), SQLBind(r.reason)])
            }
            for r in procedures {
                batch.rows[TableWriter.Index.procedures.rawValue].append(common(r.id, r.createdAt) + [
                    v(r.lesionID), SQLBind(r.date), SQLBind(r.kind), v(r.note)])
            }
            for r in infections {
                batch.rows[TableWriter.Index.infections.rawValue].append(common(r.id, r.createdAt) + [
                    v(r.lesionID), SQLBind(r.onset), v(r.organism), v(r.mrsa), v(r.cultureSource), v(r.cultureResult), v(r.antibiotic),
                    v(r.antibioticRoute), v(r.antibioticStart), v(r.antibioticStop), SQLBind(r.outcome), v(r.resolvedDate), v(r.note)])
            }
            for r in imaging {
                batch.rows[TableWriter.Index.imaging.rawValue].append(common(r.id, r.createdAt) + [
                    SQLBind(r.date), SQLBind(r.modality), v(r.inconclusive), v(r.findings), v(r.scores)])
            }
        }
    }
}
