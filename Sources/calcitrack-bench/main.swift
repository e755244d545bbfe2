import CalciTrackCore
import Foundation

/// `swift run -c release calcitrack-bench [SHARED_DIR]`: assessments per second on the seed
/// cases and on a generated 50-lesion, 500-observation case, on one thread (= one core).
/// Prints a Markdown table for BENCHMARKS.md. Never run from the tests.

let sharedDirectory = CommandLine.arguments.dropFirst().first ?? "../shared"
let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 2.0
let today = LocalDate(iso: "2026-11-24")!

func load(_ name: String) -> [UInt8] {
    let path = "\(sharedDirectory)/cases/\(name).case.json"
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("calcitrack-bench: cannot read \(path)\n".utf8))
        exit(1)
    }
    return Array(data)
}

/// 50 lesions × 10 measurements (500 observations) plus labs and vitals over two years.
func largeCase() -> [UInt8] {
    let sites = ["hand", "finger", "thumb", "elbow", "forearm", "knee", "thigh", "lower-leg", "hip", "foot"]
    var lesions: [String] = []
    for l in 0..<50 {
        var measurements: [String] = []
        for m in 0..<10 {
            let date = LocalDate(iso: "2022-01-03")!.adding(days: m * 28 + l % 7)
            let length = 1.0 + Double((l * 7 + m * 3) % 40) / 10, width = 0.5 + Double((l * 5 + m) % 20) / 10
            measurements.append(#"{"date": "\#(date)", "lengthCm": \#(length), "widthCm": \#(width)\#(m % 3 == 0 ? ", \"perimeterCm\": \(length * 2.8)" : "")}"#)
        }
        lesions.append(#"{"id": "L\#(l)", "site": "\#(sites[l % sites.count])", "laterality": "\#(l % 2 == 0 ? "left" : "right")", "morphology": "stone", "findings": {"ulcerated": \#(l % 3 == 0), "purulent": \#(l == 7), "erythema": \#(l % 5 == 0), "edema": \#(l % 10 == 0)}, "measurements": [\#(measurements.joined(separator: ","))]}"#)
    }
    var labs: [String] = [], vitals: [String] = [], visits: [String] = []
    for i in 0..<24 {
        let date = LocalDate(iso: "2022-01-03")!.adding(days: i * 30)
        labs.append(#"{"test": "calcium", "value": \#(9.0 + Double(i % 5) / 10), "unit": "mg/dL", "date": "\#(date)"}"#)
        labs.append(#"{"test": "phosphate", "value": \#(3.2 + Double(i % 4) / 10), "unit": "mg/dL", "date": "\#(date)"}"#)
        labs.append(#"{"test": "wbc", "value": \#(8000 + i * 150), "unit": "/mm3", "date": "\#(date)"}"#)
        vitals.append(#"{"date": "\#(date)", "temperatureC": 37.\#(i % 9), "heartRate": \#(80 + i), "respiratoryRate": 18, "systolicBP": 120, "alteredMentation": false}"#)
        visits.append(#"{"date": "\#(date)", "kind": "wound-care", "nextDue": "\#(date.adding(days: 30))"}"#)
    }
    let text = """
    {"formatVersion": 1, "id": "large-50-lesions", "asOf": "2024-01-01",
     "patient": {"sex": "female", "birthDate": "1960-05-01", "weightKg": 61},
     "ssc": {"subtype": "limited", "diagnosisDate": "2005", "antibodies": {"centromere": "positive"}, "features": ["raynaud", "digital-ulcers", "osteoporosis"]},
     "labs": [\(labs.joined(separator: ","))], "vitals": [\(vitals.joined(separator: ","))],
     "medications": [{"drug": "warfarin", "doseMg": 5, "frequency": "daily", "route": "oral", "start": "2020-01-01"},
                     {"drug": "colchicine", "doseMg": 0.6, "frequency": "daily", "route": "oral", "start": "2021-01-01"},
                     {"drug": "diltiazem", "doseMg": 60, "frequency": "tid", "route": "oral", "start": "2021-06-01"},
                     {"drug": "mycophenolate", "doseMg": 1000, "frequency": "bid", "route": "oral", "start": "2019-01-01"}],
     "lesions": [\(lesions.joined(separator: ","))], "visits": [\(visits.joined(separator: ","))]}
    """
    return Array(text.utf8)
}

/// Runs `body` repeatedly for about `seconds` and returns operations per second.
@inline(never)
func measure(_ body: () -> Int) -> (perSecond: Double, iterations: Int) {
    let clock = ContinuousClock()
    var sink = 0
    // Warm-up
    for _ in 0..<50 { sink &+= body() }
    var iterations = 0
    let start = clock.now
    let budget = Duration.milliseconds(Int(seconds * 1000))
    while clock.now - start < budget {
        for _ in 0..<20 { sink &+= body() }
        iterations += 20
    }
    let elapsed = clock.now - start
    let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    if sink == 42 { print("") }  // keeps the optimiser from removing the work
    return (Double(iterations) / secondsElapsed, iterations)
}

func peakRSSMegabytes() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return nil
}

// `calcitrack-bench SHARED_DIR --dump-large FILE` writes the generated large case and exits, so
// its assessment can be compared before and after an engine change.
if let i = CommandLine.arguments.firstIndex(of: "--dump-large"), i + 1 < CommandLine.arguments.count {
    FileManager.default.createFile(atPath: CommandLine.arguments[i + 1], contents: Data(largeCase()))
    exit(0)
}

let assessor = Assessor()
let cases: [(String, [UInt8])] = [
    ("seed-1-admission", load("seed-1-admission")), ("seed-1-discharge", load("seed-1-discharge")),
    ("seed-2-followup", load("seed-2-followup")), ("large: 50 lesions, 500 measurements", largeCase()),
]

print("| case | input bytes | assess only (/s) | µs each | decode + validate (/s) | decode + assess + JSON (/s) |")
print("|---|---:|---:|---:|---:|---:|")
// BENCH_CASE=TEXT runs only the cases whose name contains TEXT (e.g. under callgrind).
let only = ProcessInfo.processInfo.environment["BENCH_CASE"]
for (name, bytes) in cases where only.map({ name.contains($0) }) ?? true {
    let decoded = try CaseDecoder.decode(bytes, today: today)
    let assess = measure { assessor.assess(decoded).alerts.count }
    let decode = measure { (try? CaseDecoder.decode(bytes, today: today))?.case.lesions.count ?? 0 }
    let full = measure {
        guard let d = try? CaseDecoder.decode(bytes, today: today) else { return 0 }
        return JSONWriter.write(AssessmentJSON.encode(assessor.assess(d)), pretty: false).utf8.count
    }
    func n(_ x: Double) -> String { String(Int(x.rounded())) }
    print("| \(name) | \(bytes.count) | \(n(assess.perSecond)) | \(String(format: "%.1f", 1e6 / assess.perSecond)) | \(n(decode.perSecond)) | \(n(full.perSecond)) |")
}
if let rss = peakRSSMegabytes() { print("\npeak RSS: \(String(format: "%.1f", rss)) MB") }
