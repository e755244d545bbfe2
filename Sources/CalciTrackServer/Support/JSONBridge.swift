import CalciTrackCore
import Vapor

extension Response {
    /// A JSON response written by CalciTrack's own writer (key order as built, numbers as the
    /// case format writes them).
    static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:]) -> Response {
        var headers = headers
        headers.contentType = .json
        return Response(status: status, headers: headers, body: .init(buffer: ByteBuffer(bytes: JSONWriter.bytes(value, pretty: false))))
    }
}

extension Request {
    /// The request body as a JSON object; a missing, malformed or non-object body is a 422
    /// naming what is wrong (line and column for syntax errors).
    func jsonObject() throws -> JSONObject {
        guard var buffer = body.data, buffer.readableBytes > 0 else {
            throw APIError.invalid("body", nil, "a JSON object is required (Content-Type: application/json)")
        }
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw APIError.invalid("body", nil, "not valid JSON: \(error.description)")
        }
        guard case .object(let object) = value else {
            throw APIError.invalid("body", nil, "expected a JSON object, got \(value.typeName)")
        }
        return object
    }

    /// A UUID path parameter, or 404 (an unparseable id names no record).
    func uuidParameter(_ name: String, _ what: String) throws -> UUID {
        guard let text = parameters.get(name), let id = UUID(uuidString: text) else { throw APIError.notFound(what) }
        return id
    }
}

extension JSONObject {
    /// Builds an object from pairs, dropping nil values (absent optional fields are omitted).
    init(compacting pairs: [(String, JSONValue?)]) {
        self.init(pairs.compactMap { key, value in value.map { (key, $0) } })
    }
}

extension JSONValue {
    static func optional(_ s: String?) -> JSONValue? { s.map { .string($0) } }
    static func optional(_ d: Double?) -> JSONValue? { d.map { .number($0) } }
    static func optional(_ i: Int?) -> JSONValue? { i.map { .number(Double($0)) } }
    static func optional(_ b: Bool?) -> JSONValue? { b.map { .bool($0) } }
    static func optional(_ d: Date?) -> JSONValue? { d.map { .string(ISOTimestamp.iso($0)) } }

    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
}

/// ISO 8601 timestamps (UTC) for created/updated times and audit entries, written from digits:
/// an `ISO8601DateFormatter` per call was a fifth of a worklist request's CPU (BENCHMARKS.md).
enum ISOTimestamp {
    /// `2026-11-24T16:07:54Z`
    static func iso(_ date: Date) -> String { format(date, millis: false) }

    /// `2026-11-24T16:07:54.123Z`
    static func isoMillis(_ date: Date) -> String { format(date, millis: true) }

    private static func format(_ date: Date, millis: Bool) -> String {
        let totalMillis = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        let ms = ((totalMillis % 1000) + 1000) % 1000
        let seconds = (totalMillis - ms) / 1000
        let secondOfDay = ((seconds % 86_400) + 86_400) % 86_400
        let day = LocalDate(daysSinceEpoch: (seconds - secondOfDay) / 86_400)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var text = "\(day)T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        if millis { text += "." + String(String(ms + 1000).dropFirst()) }
        return text + "Z"
    }
}
