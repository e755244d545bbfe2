@testable import CalciTrackServer
import Fluent
import Testing

/// Models that list their Fluent properties by hand (to spare reflection on hot paths) must list
/// every property: one left out would silently never be read or written.
@Suite struct ModelPropertyListTests {
    /// What Fluent's default `properties` finds: every property wrapper, by reflection.
    static func reflected(_ model: any Fields) -> [String] {
        Mirror(reflecting: model).children.compactMap { $0.value as? any AnyDatabaseProperty }.flatMap(\.keys).map(\.description)
    }

    static func listed(_ model: any Fields) -> [String] {
        model.properties.compactMap { $0 as? any AnyDatabaseProperty }.flatMap(\.keys).map(\.description)
    }

    @Test("Patient, AuditEntry and AuditHead list the same fields, in the same order, as reflection finds",
          arguments: [Patient.self as any Fields.Type, AuditEntry.self, AuditHead.self])
    func listedEqualsReflected(_ type: any Fields.Type) {
        let model = type.init()
        #expect(Self.listed(model) == Self.reflected(model))
        #expect(Self.listed(model).count > 2)
    }
}
