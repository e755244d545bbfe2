import ArgumentParser

@main
struct CalciTrack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calcitrack",
        abstract: "Registry and decision support for calcinosis cutis in systemic sclerosis.",
        subcommands: [Assess.self, ThresholdsCommand.self, Serve.self, Migrate.self, UserCommand.self, SiteCommand.self,
                      TokenCommand.self, AuditCommand.self, BackupCommand.self, RestoreCommand.self, Generate.self, Export.self, Import.self]
    )
}
