import ArgumentParser
import CalciTrackServer
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `calcitrack user add|list`.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage registry users.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user (asks for the password, or reads it from stdin).")
        @Argument(help: "User name (letters, digits, . _ -).") var name: String
        @ArgumentParser.Option(help: "clinician, researcher or admin.") var role: String
        @ArgumentParser.Option(name: .customLong("site"), help: "Site code the user works at (repeatable; clinicians need one).") var sites: [String] = []
        @ArgumentParser.Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of standard input.") var passwordStdin = false
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let password: String
            if passwordStdin {
                password = readLine(strippingNewline: true) ?? ""
            } else {
                guard let first = getpass("Password for \(name): ").map({ String(cString: $0) }),
                      let second = getpass("Repeat: ").map({ String(cString: $0) }) else { throw fail("no password given") }
                guard first == second else { throw fail("the passwords differ") }
                password = first
            }
            do {
                try await RegistryApp.with(db) { app in
                    try await Accounts.addUser(username: name, role: role, password: password, siteCodes: sites, actor: RegistryApp.cliActor, on: app.db)
                }
                print("user \(name) added as \(role)")
            } catch let error as Accounts.Failure {
                throw fail(error.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            let users = try await RegistryApp.with(db, existing: true) { app in try await Accounts.listUsers(on: app.db) }
            for u in users { print("\(u.username)\t\(u.role)\t\(u.active ? "active" : "disabled")\t\(u.sites.joined(separator: ","))") }
        }
    }
}

/// `calcitrack site add CODE NAME`.
struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "site", abstract: "Manage sites (clinics).", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a site.")
        @Argument(help: "Short code, e.g. RHEUM-1.") var code: String
        @Argument(help: "Name.") var name: String
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            do {
                try await RegistryApp.with(db) { app in try await Accounts.addSite(code: code, name: name, actor: RegistryApp.cliActor, on: app.db) }
                print("site \(code) added")
            } catch let error as Accounts.Failure {
                throw fail(error.description)
            }
        }
    }
}

/// `calcitrack token issue|revoke NAME`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "API tokens for scripts.", subcommands: [Issue.self, Revoke.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a bearer token for a user and print it (only its hash is stored).")
        @Argument var name: String
        @ArgumentParser.Option(help: "What the token is for.") var label: String = "cli"
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            do {
                let token = try await RegistryApp.with(db) { app in
                    try await Accounts.issueToken(username: name, label: label, actor: RegistryApp.cliActor, on: app.db)
                }
                print(token)
            } catch let error as Accounts.Failure {
                throw fail(error.description)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a user's tokens (all, or those with --label).")
        @Argument var name: String
        @ArgumentParser.Option(help: "Only tokens with this label.") var label: String?
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            do {
                let n = try await RegistryApp.with(db) { app in
                    try await Accounts.revokeTokens(username: name, label: label, actor: RegistryApp.cliActor, on: app.db)
                }
                print("\(n) token(s) revoked")
            } catch let error as Accounts.Failure {
                throw fail(error.description)
            }
        }
    }
}
