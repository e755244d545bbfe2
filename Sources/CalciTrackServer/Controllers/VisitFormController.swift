import Vapor

struct VisitFormController: Sendable {
    func register(_ pages: any RoutesBuilder) {}
}
