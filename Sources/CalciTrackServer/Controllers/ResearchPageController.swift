import Vapor

struct ResearchPageController: Sendable {
    func register(_ pages: any RoutesBuilder) {}
}
