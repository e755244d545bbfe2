import ArgumentParser

@main
struct CalciTrack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calcitrack",
        abstract: "Registry and decision support for calcinosis cutis in systemic sclerosis.",
        subcommands: [Assess.self, ThresholdsCommand.self]
    )
}
