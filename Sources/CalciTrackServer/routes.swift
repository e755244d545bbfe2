import Fluent
import Prometheus
import Vapor

/// Every route, in one place.
func routes(_ app: Application, metrics: PrometheusCollectorRegistry) throws {
    HealthController(registry: metrics).register(app)
    app.get("openapi.json") { _ in Response.json(OpenAPIDocument.json) }
    // CDS Hooks 2.0 (issue 5): its own JWT caller authentication, not registry sessions or tokens.
    CDSHooksController().register(app)

    // Web pages (issue 4): session sign-in, CSRF on every form post, HTML errors.
    app.get("static", "app.css", use: Stylesheet.serve)
    let web = app.grouped(User.sessionAuthenticator())
    WebAuthController().register(web.grouped(WebPageMiddleware(requireSignIn: false)).grouped(CollectFormBodyMiddleware()).grouped(CSRFMiddleware()))
    let pages = web.grouped(WebPageMiddleware()).grouped(CollectFormBodyMiddleware()).grouped(CSRFMiddleware())
    WorklistPageController().register(pages)
    PatientPageController().register(pages)
    VisitFormController().register(pages)
    ResearchPageController().register(pages)

    let api = app.grouped("api", "v1")
        .grouped(TokenAuthenticator(), User.sessionAuthenticator())
        .grouped(CSRFMiddleware())
    AuthController().register(api)
    AdminController().register(api)
    PatientController().register(api)
    AssessmentController().register(api)
    RecordController<LesionRecord>().register(api)
    RecordController<MeasurementRecord>().register(api)
    RecordController<VisitRecord>().register(api)
    RecordController<LabRecord>().register(api)
    RecordController<VitalsRecord>().register(api)
    RecordController<MedicationRecord>().register(api)
    RecordController<HoldRecord>().register(api)
    RecordController<ProcedureRecord>().register(api)
    RecordController<InfectionEpisodeRecord>().register(api)
    RecordController<ImagingRecord>().register(api)

    // FHIR R4 (issue 5, docs/fhir.md): same authentication as the JSON API, OperationOutcome errors.
    let fhir = app.grouped("fhir")
        .grouped(FHIRPrettyPrinting())
        .grouped(FHIRErrorMiddleware())
        .grouped(FHIRContentNegotiation())
        .grouped(TokenAuthenticator(), User.sessionAuthenticator())
        .grouped(CSRFMiddleware())
    FHIRReadController().register(fhir)
    FHIRWriteController().register(fhir)
    BulkExportController().register(fhir)
    FHIRUnknownRoute.register(fhir)
}
