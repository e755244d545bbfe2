import CalciTrackCore
import Fluent
import Prometheus
import SQLKit
import Vapor

/// `/health` (database reachable) and `/metrics` (Prometheus text format: Vapor's request
/// counters and timers through swift-metrics).
struct HealthController: Sendable {
    let registry: PrometheusCollectorRegistry

    func register(_ app: any RoutesBuilder) {
        app.get("health", use: health)
        app.get("metrics", use: metrics)
    }

    @Sendable func health(req: Request) async throws -> Response {
        do {
            _ = try await (req.db as! any SQLDatabase).raw("SELECT 1").all()
            return Response.json(.object(JSONObject([("status", "ok"), ("database", "ok")])))
        } catch {
            return Response.json(.object(JSONObject([("status", "unavailable"), ("database", .string("\(error)"))])), status: .serviceUnavailable)
        }
    }

    @Sendable func metrics(req: Request) async throws -> Response {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/plain; version=0.0.4")
        return Response(status: .ok, headers: headers, body: .init(string: String(decoding: buffer, as: UTF8.self)))
    }
}
