import CalciTrackCore
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Metrics
import Prometheus
import SQLKit
import Vapor

/// Settings read from the command line and environment by the executable.
public struct ServerSettings: Sendable {
    public var database: DatabaseLocation
    /// Load the demo patients even when the database is not empty.
    public var forceDemo: Bool = false
    /// Load the demo patients into an empty database (on for `serve`, off for tests and tools).
    public var demoWhenEmpty: Bool = true
    public var migrate: Bool = true
    /// PostgreSQL schema to use instead of `public` (tests give each test its own).
    public var postgresSchema: String?
    /// Where `$export` files go (`<dir>/exports`); nil: `CALCITRACK_DATA_DIR`, else the SQLite
    /// file's directory, else the working directory (`Application.exportsDirectory`).
    public var dataDirectory: String?

    public init(database: DatabaseLocation, forceDemo: Bool = false, demoWhenEmpty: Bool = true, migrate: Bool = true, postgresSchema: String? = nil,
                dataDirectory: String? = nil) {
        self.database = database; self.forceDemo = forceDemo; self.demoWhenEmpty = demoWhenEmpty; self.migrate = migrate
        self.postgresSchema = postgresSchema; self.dataDirectory = dataDirectory
    }
}

/// Prometheus registry shared by the process (swift-metrics can be bootstrapped only once).
let metricsRegistry: PrometheusCollectorRegistry = {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}()

/// Configures databases, migrations, middleware and routes. The executable and the tests both
/// call this, so what is tested is what runs.
public func configure(_ app: Application, _ settings: ServerSettings) async throws {
    try useDatabase(app, settings.database, schema: settings.postgresSchema)
    // After the database: model middleware is stored in its configuration.
    registerModelMiddleware(app)
    addMigrations(app)

    app.routes.defaultMaxBodySize = "1mb"
    app.worklistCache = WorklistCache()
    app.sessions.use(.fluent)
    app.sessions.configuration.cookieName = "calcitrack_session"
    app.middleware = Middlewares()
    app.middleware.use(RouteLoggingMiddleware(logLevel: .info))
    // Outside the error middleware, so CDS Hooks error responses carry CORS headers too.
    app.middleware.use(CDSHooksCORS())
    app.middleware.use(JSONErrorMiddleware())
    app.middleware.use(SessionsOutsideCDSHooks(sessions: app.sessions.middleware))

    if settings.migrate { try await app.autoMigrate() }
    try await enableWriteAheadLog(app, settings.database)
    if settings.forceDemo || settings.demoWhenEmpty {
        let empty = try await Patient.query(on: app.db).withDeleted().count() == 0
        if settings.forceDemo || empty { try await DemoData.load(on: app.db, today: LocalDate.utc(app.registryClock.now()), logger: app.logger) }
    }
    app.cdsHooks = try await CDSHooksSettings.fromEnvironment(logger: app.logger)
    app.loginThrottle = LoginThrottle()
    app.searchSnapshots = SearchSnapshots()
    app.bulkExports = BulkExportRunner(directory: Application.exportsDirectory(settings))
    app.lifecycle.use(BulkExportCleanup())
    try routes(app, metrics: metricsRegistry)
}

func useDatabase(_ app: Application, _ location: DatabaseLocation, schema: String? = nil) throws {
    switch location {
    case .sqliteFile(let path):
        // Several connections: readers proceed in parallel under WAL; writers queue on the audit head.
        app.databases.use(.sqlite(.file(path), maxConnectionsPerEventLoop: 4), as: .sqlite)
    case .sqliteMemory:
        app.databases.use(.sqlite(.memory), as: .sqlite)
    case .postgres(let url):
        var config = try SQLPostgresConfiguration(url: url)
        config.searchPath = [schema ?? "public"]
        app.databases.use(.postgres(configuration: config, maxConnectionsPerEventLoop: 4), as: .psql)
    }
}

func addMigrations(_ app: Application) {
    app.migrations.add(CreateSitesAndUsers())
    app.migrations.add(CreatePatients())
    app.migrations.add(CreateClinicalRecords())
    app.migrations.add(CreateAuditLog())
    app.migrations.add(CreateSessions())
    app.migrations.add(AddWorklistIndexes())
    app.migrations.add(WorklistCoveringIndexes())
    app.migrations.add(CaseRecordsAndDataVersion())
    app.migrations.add(CreateResourceVersions())
    app.migrations.add(ImportBookkeeping())
    app.migrations.add(FindingsHistoryAndWorklistFlags())
    app.migrations.add(WorklistStandingAndNameKeys())
    app.migrations.add(CreateBulkExportJobs())
    app.migrations.add(ResourceVersionsTimeIndex())
    app.migrations.add(BulkExportHeartbeat())
    app.migrations.add(ImportProgressRejections())
}

/// Model middleware: patients' name keys (012), then the history of every record (009).
func registerModelMiddleware(_ app: Application) {
    app.databases.middleware.use(PatientNameKeyMiddleware())
    ResourceHistory.register(app)
}

/// For tools that open the registry without serving it (user, token, audit, backup).
public func configureForTools(_ app: Application, _ location: DatabaseLocation) async throws {
    try useDatabase(app, location)
    registerModelMiddleware(app)
    addMigrations(app)
    try await app.autoMigrate()
    try await enableWriteAheadLog(app, location)
}

/// SQLite files use write-ahead logging: readers never block the writer, and a crash never
/// leaves a half-written transaction. The mode is stored in the file, so once is enough.
func enableWriteAheadLog(_ app: Application, _ location: DatabaseLocation) async throws {
    guard case .sqliteFile = location else { return }
    _ = try await (app.db as! any SQLDatabase).raw("PRAGMA journal_mode=WAL").all()
}
