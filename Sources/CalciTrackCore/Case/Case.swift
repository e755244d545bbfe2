/// A patient described as of a date: case format v1 (../shared/case-format.md), decoded,
/// unit-converted and validated. Build one with `CaseDecoder`; the engine only ever sees valid cases.
public struct Case: Sendable, Equatable {
    public var formatVersion = 1
    public var id: String?
    public var asOf: LocalDate?
    public var patient = Patient()
    public var ssc: SScProfile?
    public var otherConnectiveTissueDisease: [ConnectiveTissueDisease] = []
    public var history = History()
    public var labs: [LabResult] = []
    public var vitals: [VitalSigns] = []
    public var medications: [Medication] = []
    public var lesions: [Lesion] = []
    public var infection = InfectionInputs()
    public var visits: [Visit] = []
    public var imagingStudies: [ImagingStudy] = []
    public var workup = WorkupQuestions()

    public init() {}
}

public struct Patient: Sendable, Equatable {
    public var sex: Sex?
    public var birthDate: LocalDate?
    public var weightKg: Double?
    /// Optional (added field): pregnancy matters for tetracyclines (DDI-19).
    public var pregnant: Bool?
    public init(sex: Sex? = nil, birthDate: LocalDate? = nil, weightKg: Double? = nil, pregnant: Bool? = nil) {
        self.sex = sex; self.birthDate = birthDate; self.weightKg = weightKg; self.pregnant = pregnant
    }
}

public struct Antibodies: Sendable, Equatable {
    public var scl70: AntibodyStatus = .unknown
    public var centromere: AntibodyStatus = .unknown
    public var pmScl: AntibodyStatus = .unknown
    public var rnaPolIII: AntibodyStatus = .unknown
    public init() {}
}

public struct SScProfile: Sendable, Equatable {
    public var subtype: SScSubtype?
    public var diagnosisDate: PartialDate?
    public var antibodies = Antibodies()
    public var features: [SScFeature] = []
    public init(subtype: SScSubtype? = nil) { self.subtype = subtype }
}

public struct Exposure: Sendable, Equatable {
    public var date: LocalDate
    public var site: BodySite?
    public var laterality: Laterality?
    public var kind: ExposureKind
    public init(date: LocalDate, site: BodySite?, laterality: Laterality?, kind: ExposureKind) {
        self.date = date; self.site = site; self.laterality = laterality; self.kind = kind
    }
}

/// Every flag is optional: nil means "not recorded", which rules report rather than read as false.
public struct History: Sendable, Equatable {
    public var dialysis: Bool?
    public var calciumOrPhosphateExposures: [Exposure] = []
    public var mrsaInfectionElsewhere: Bool?
    public var mrsaNasalColonization: Bool?
    public var injectionDrugUse: Bool?
    public var penetratingTrauma: Bool?
    public var familyHistoryTumoralCalcinosis: Bool?
    public init() {}
}

/// A lab value as entered and converted to the engine's canonical unit for its test.
public struct LabResult: Sendable, Equatable {
    public var test: LabTest
    public var value: Double
    public var unit: String
    public var date: LocalDate
    public var canonicalValue: Double
    public init(test: LabTest, value: Double, unit: String, date: LocalDate) throws(UnitError) {
        self.test = test; self.value = value; self.unit = unit; self.date = date
        canonicalValue = try Units.toCanonical(value, unit: unit, test: test)
    }
}

public struct VitalSigns: Sendable, Equatable {
    public var date: LocalDate
    public var temperatureC: Double?
    public var heartRate: Double?
    public var respiratoryRate: Double?
    public var systolicBP: Double?
    public var alteredMentation: Bool?
    public init(date: LocalDate, temperatureC: Double? = nil, heartRate: Double? = nil, respiratoryRate: Double? = nil,
                systolicBP: Double? = nil, alteredMentation: Bool? = nil) {
        self.date = date; self.temperatureC = temperatureC; self.heartRate = heartRate
        self.respiratoryRate = respiratoryRate; self.systolicBP = systolicBP; self.alteredMentation = alteredMentation
    }
}

public struct Medication: Sendable, Equatable {
    /// As entered (lower-cased); `drugInfo` is nil for a drug the engine does not know.
    public let drug: String
    public let drugInfo: Drug?
    public var doseMg: Double?
    public var frequency: Frequency?
    public var route: Route?
    public var start: LocalDate?
    public var stop: LocalDate?

    public init(drug: String, doseMg: Double? = nil, frequency: Frequency? = nil, route: Route? = nil,
                start: LocalDate? = nil, stop: LocalDate? = nil) {
        self.drug = drug; self.drugInfo = DrugCatalog.drug(named: drug); self.doseMg = doseMg; self.frequency = frequency; self.route = route
        self.start = start; self.stop = stop
    }

    /// Active on d when start ≤ d and (stop is null or stop > d) (case-format.md). A missing
    /// start date counts as started before d; rules that rely on it say so in their basis.
    public func isActive(on d: LocalDate) -> Bool {
        (start.map { $0 <= d } ?? true) && (stop.map { $0 > d } ?? true)
    }

    /// Daily dose in mg when dose and frequency allow it (doseMg × administrations per day).
    public var dailyDoseMg: Double? {
        guard let doseMg, let perDay = frequency?.perDay else { return nil }
        return doseMg * perDay
    }
}

public struct LesionFindings: Sendable, Equatable {
    public var ulcerated = false, purulent = false, abscess = false, erythema = false, warmth = false
    public var edema = false, pain = false, extrusion = false, bullae = false, skinSloughing = false
    public var necrosis = false, retiformPurpura = false, livedo = false
    public init() {}
}

public struct LesionMeasurement: Sendable, Equatable {
    public var date: LocalDate
    public var lengthCm: Double?
    public var widthCm: Double?
    public var depthCm: Double?
    /// Planimetry area when measured so; otherwise the engine uses the ellipse formula.
    public var areaCm2: Double?
    public var perimeterCm: Double?
    public var healed: Bool?
    public init(date: LocalDate, lengthCm: Double? = nil, widthCm: Double? = nil, depthCm: Double? = nil,
                areaCm2: Double? = nil, perimeterCm: Double? = nil, healed: Bool? = nil) {
        self.date = date; self.lengthCm = lengthCm; self.widthCm = widthCm; self.depthCm = depthCm
        self.areaCm2 = areaCm2; self.perimeterCm = perimeterCm; self.healed = healed
    }
}

public struct Lesion: Sendable, Equatable {
    public var id: String
    public var site: BodySite?
    public var laterality: Laterality?
    public var morphology: Morphology?
    public var periarticularMass: Bool?
    public var findings = LesionFindings()
    /// Sorted by date by the decoder.
    public var measurements: [LesionMeasurement] = []
    public init(id: String, site: BodySite? = nil, laterality: Laterality? = nil, morphology: Morphology? = nil) {
        self.id = id; self.site = site; self.laterality = laterality; self.morphology = morphology
    }
}

/// Clinician inputs for infection triage (case-format.md `infection`). nil = not assessed.
public struct InfectionInputs: Sendable, Equatable {
    public var failedPriorTherapy: Bool?
    public var immunocompromised: Bool?
    public var hypotension: Bool?
    public var organDysfunction: Bool?
    public var deepInfectionSigns: Bool?
    public init() {}
}

public struct Visit: Sendable, Equatable {
    public var date: LocalDate
    public var kind: VisitKind?
    public var nextDue: LocalDate?
    public init(date: LocalDate, kind: VisitKind? = nil, nextDue: LocalDate? = nil) {
        self.date = date; self.kind = kind; self.nextDue = nextDue
    }
}

/// Optional (added field `imagingStudies`): imaging already done, so advice does not repeat it.
public struct ImagingStudy: Sendable, Equatable {
    public var date: LocalDate
    public var modality: ImagingModality
    public var inconclusive: Bool?
    public init(date: LocalDate, modality: ImagingModality, inconclusive: Bool? = nil) {
        self.date = date; self.modality = modality; self.inconclusive = inconclusive
    }
}

/// Optional (added field `workup`): the clinical questions behind CT/MRI advice [9] and DDI-12.
public struct WorkupQuestions: Sendable, Equatable {
    public var plannedSurgery: Bool?
    public var suspectedDeepExtension: Bool?
    public var neurovascularSymptoms: Bool?
    public var suspectedSoftTissueInflammation: Bool?
    public init() {}
}
