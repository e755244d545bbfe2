import Fluent
import Vapor

/// A registry patient: identity (site, MRN, name), the case format's patient, SSc profile,
/// history and clinician infection inputs, and a summary the worklist filters on. The summary
/// is recomputed by the engine in the same transaction as every write to the patient's records.
final class Patient: Model, @unchecked Sendable {
    static let schema = "patients"
    @ID(key: .id) var id: UUID?
    @Parent(key: "site_id") var site: Site
    @Field(key: "mrn") var mrn: String
    @Field(key: "family_name") var familyName: String
    @Field(key: "given_name") var givenName: String
    @Field(key: "sex") var sex: String
    @OptionalField(key: "birth_date") var birthDate: String?
    @OptionalField(key: "weight_kg") var weightKg: Double?
    @OptionalField(key: "pregnant") var pregnant: Bool?
    /// Case-format sections as JSON text (already validated): ssc, otherConnectiveTissueDisease,
    /// history, infection, workup.
    @OptionalField(key: "ssc") var ssc: String?
    @OptionalField(key: "other_ctd") var otherCTD: String?
    @OptionalField(key: "history") var history: String?
    @OptionalField(key: "infection_inputs") var infectionInputs: String?
    @OptionalField(key: "workup") var workup: String?
    /// Days added to every date in de-identified reads; drawn once per patient.
    @Field(key: "date_shift_days") var dateShiftDays: Int
    @Field(key: "version") var version: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?
    @Timestamp(key: "deleted_at", on: .delete) var deletedAt: Date?
    @Field(key: "created_by") var createdBy: String
    @Field(key: "updated_by") var updatedBy: String
    // Summary for the worklist (PatientSummary).
    @OptionalField(key: "last_contact") var lastContact: String?
    @OptionalField(key: "next_due") var nextDue: String?
    @Field(key: "has_unhealed_lesion") var hasUnhealedLesion: Bool
    @Field(key: "active_infection") var activeInfection: Bool
    @OptionalField(key: "infection_severity") var infectionSeverity: String?
    @Field(key: "worsening_lesion") var worseningLesion: Bool
    @OptionalField(key: "body_sites") var bodySites: String?
    // Worklist flags (migration 011, PatientSummary): the onset triage of an open infection that
    // today's assessment does not classify, a positive sepsis screen now, high alerts now.
    @OptionalField(key: "infection_onset") var infectionOnset: String?
    @OptionalField(key: "onset_severity") var onsetSeverity: String?
    @OptionalField(key: "onset_sepsis_screen") var onsetSepsisScreen: String?
    @Field(key: "sepsis_screen_positive") var sepsisScreenPositive: Bool
    @OptionalField(key: "sepsis_screen") var sepsisScreen: String?
    @Field(key: "high_alert") var highAlert: Bool
    @OptionalField(key: "high_alerts") var highAlerts: String?
    // Worklist standing (migration 012, WorklistStanding): follow-up status and urgency tier as
    // of `standingDay`, valid until `standingUntil`; folded names for prefix search (NameSearchKey).
    @Field(key: "follow_up_status") var followUpStatus: String
    @Field(key: "worklist_tier") var worklistTier: Int
    @Field(key: "standing_day") var standingDay: String
    @OptionalField(key: "standing_until") var standingUntil: String?
    @Field(key: "family_key") var familyKey: String
    @Field(key: "given_key") var givenKey: String

    init() {}

    /// Fluent finds a model's properties by reflection for every row it reads or writes: 40 % of
    /// a worklist request's CPU at 100,000 patients. Listed here instead, in declaration order;
    /// `ModelPropertyListTests` fails if a property is added above and not here.
    var properties: [any AnyProperty] {
        [$id, $site, $mrn, $familyName, $givenName, $sex, $birthDate, $weightKg, $pregnant, $ssc, $otherCTD, $history,
         $infectionInputs, $workup, $dateShiftDays, $version, $createdAt, $updatedAt, $deletedAt, $createdBy, $updatedBy,
         $lastContact, $nextDue, $hasUnhealedLesion, $activeInfection, $infectionSeverity, $worseningLesion, $bodySites,
         $infectionOnset, $onsetSeverity, $onsetSepsisScreen, $sepsisScreenPositive, $sepsisScreen, $highAlert, $highAlerts,
         $followUpStatus, $worklistTier, $standingDay, $standingUntil, $familyKey, $givenKey]
    }
}
