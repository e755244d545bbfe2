/// Unit conversion for lab values (UCUM spellings, as case-format.md lists them). Every value is
/// converted to one canonical unit per test before any rule sees it.
///
/// Factors: Ca 1 mmol/L = 4.008 mg/dL and P 1 mmol/L = 3.097 mg/dL (IUPAC atomic weights,
/// clinical-spec 1.2); creatinine 1 mg/dL = 88.42 umol/L (molar mass 113.12 g/mol);
/// PaCO2 1 kPa = 7.50062 mm Hg; WBC 1/mm3 = 1/uL = 10^-3 x 10^9/L.
public struct UnitError: Error, Equatable, Sendable {
    public let test: LabTest
    public let unit: String
    public var message: String {
        "unit \"\(unit)\" is not accepted for \(test.rawValue); use one of: \(Units.accepted(for: test).joined(separator: ", "))"
    }
}

public enum Units {
    public static let calciumMgDlPerMmolL = 4.008
    public static let phosphateMgDlPerMmolL = 3.097
    public static let creatinineUmolLPerMgDl = 88.42
    public static let mmHgPerKPa = 7.50062
    /// Ca×P mg²/dL² per mmol²/L² (4.008 × 3.097), clinical-spec 1.2.
    public static var caxpMgPerMmol: Double { calciumMgDlPerMmolL * phosphateMgDlPerMmolL }

    /// The unit every rule works in, per test.
    public static func canonicalUnit(for test: LabTest) -> String {
        switch test {
        case .calcium, .calciumCorrected, .phosphate, .creatinine: "mg/dL"
        case .calciumIonized: "mmol/L"
        case .egfr: "mL/min/1.73m2"
        case .wbc: "10*9/L"
        case .bands: "%"
        case .crp: "mg/L"
        case .albumin: "g/dL"
        case .pth: "pg/mL"
        case .inr: "1"
        case .paco2: "mm[Hg]"
        }
    }

    /// Accepted units and their factor to the canonical unit.
    static func table(for test: LabTest) -> [(unit: String, factor: Double)] {
        switch test {
        case .calcium, .calciumCorrected: [("mg/dL", 1), ("mmol/L", calciumMgDlPerMmolL)]
        case .calciumIonized: [("mmol/L", 1)]
        case .phosphate: [("mg/dL", 1), ("mmol/L", phosphateMgDlPerMmolL)]
        case .creatinine: [("mg/dL", 1), ("umol/L", 1 / creatinineUmolLPerMgDl)]
        // The UCUM form with its annotation is accepted beside the case-format spelling (clinical-spec 12.6).
        case .egfr: [("mL/min/1.73m2", 1), ("mL/min/{1.73_m2}", 1)]
        case .wbc: [("10*9/L", 1), ("10*3/uL", 1), ("/mm3", 0.001)]
        case .bands: [("%", 1)]
        case .crp: [("mg/L", 1), ("mg/dL", 10)]
        case .albumin: [("g/dL", 1), ("g/L", 0.1)]
        case .pth: [("pg/mL", 1)]
        case .inr: [("1", 1)]
        case .paco2: [("mm[Hg]", 1), ("kPa", mmHgPerKPa)]
        }
    }

    public static func accepted(for test: LabTest) -> [String] { table(for: test).map(\.unit) }

    public static func toCanonical(_ value: Double, unit: String, test: LabTest) throws(UnitError) -> Double {
        guard let entry = table(for: test).first(where: { $0.unit == unit }) else { throw UnitError(test: test, unit: unit) }
        return value * entry.factor
    }
}

/// Rounding for display and output; rules compare unrounded values except where a rule says otherwise.
public func rounded(_ value: Double, places: Int) -> Double {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    return (value * scale).rounded() / scale
}
