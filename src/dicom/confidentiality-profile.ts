/**
 * The attributes that DICOM PS3.15 Annex E, Table E.1-1 ("Application Level Confidentiality
 * Profile Attributes") names, with the Basic Application Level Confidentiality Profile's action
 * for each (column "Basic Prof."), and the action `privacy:` suggests for it when a column
 * extracts it. Only attributes a header table may hold are listed (not sequences of items nor
 * pixel, overlay or curve data, which `etl` never reads as columns); private attributes, which the
 * profile removes (X), are told by their odd group (see `profiledAttribute`).
 *
 * The profile's codes (PS3.15 E.3.1): D a dummy value, Z zero length or a dummy, X remove,
 * K keep, C clean, U a new UID; several (`X/Z/D`) when it depends on the attribute's type. The
 * suggested actions map them onto this tool's: U -> `uid`; identifiers and names a table joins
 * by (D or Z) -> `pseudonym`; dates and date-times -> `shift_date` (the profile's "Retain
 * Longitudinal Temporal Information with Modified Dates" option), times -> `shift_date` (whole
 * days: unchanged); the patient's age -> `age_band` (between X and the "Retain Patient
 * Characteristics" option's K); everything else -> `remove`.
 */
import type { PrivacyAction } from '../records.js'

/** A profiled attribute: the Basic Profile's code and the action suggested for a column of it. */
export interface ProfiledAttribute {
  /** The Basic Profile's action code(s) in Table E.1-1 (`Z`, `X/Z/D`, `U`). */
  basic: string
  /** What `privacy:` suggests, and `--pseudonymise` applies, for a column of this attribute. */
  suggested: PrivacyAction
}

const p = (basic: string, suggested: PrivacyAction): ProfiledAttribute => ({ basic, suggested })

/** Keyword -> profile code and suggested action (PS3.15 Annex E, Table E.1-1). */
export const CONFIDENTIALITY_PROFILE: Readonly<Record<string, ProfiledAttribute>> = {
  // Patient identity
  PatientID: p('Z', 'pseudonym'),
  PatientName: p('Z', 'pseudonym'),
  IssuerOfPatientID: p('X', 'remove'),
  OtherPatientIDs: p('X', 'remove'),
  OtherPatientNames: p('X', 'remove'),
  PatientBirthName: p('X', 'remove'),
  PatientMotherBirthName: p('X', 'remove'),
  MedicalRecordLocator: p('X', 'remove'),
  PatientBirthDate: p('Z', 'shift_date'),
  PatientBirthTime: p('X', 'remove'),
  PatientAge: p('X', 'age_band'),
  PatientSex: p('Z', 'remove'),
  PatientSize: p('X', 'remove'),
  PatientWeight: p('X', 'remove'),
  PatientAddress: p('X', 'remove'),
  PatientTelephoneNumbers: p('X', 'remove'),
  CountryOfResidence: p('X', 'remove'),
  RegionOfResidence: p('X', 'remove'),
  EthnicGroup: p('X', 'remove'),
  Occupation: p('X', 'remove'),
  MilitaryRank: p('X', 'remove'),
  BranchOfService: p('X', 'remove'),
  PatientReligiousPreference: p('X', 'remove'),
  MedicalAlerts: p('X', 'remove'),
  Allergies: p('X', 'remove'),
  SmokingStatus: p('X', 'remove'),
  PregnancyStatus: p('X', 'remove'),
  LastMenstrualDate: p('X', 'remove'),
  AdditionalPatientHistory: p('X', 'remove'),
  PatientComments: p('X', 'remove'),
  PatientState: p('X', 'remove'),
  CurrentPatientLocation: p('X', 'remove'),
  AdmissionID: p('X', 'remove'),
  AdmittingDiagnosesDescription: p('X', 'remove'),
  ResponsiblePerson: p('X', 'remove'),
  ResponsibleOrganization: p('X', 'remove'),
  // Study, series, request
  AccessionNumber: p('Z', 'pseudonym'),
  StudyID: p('Z', 'pseudonym'),
  StudyDate: p('Z', 'shift_date'),
  StudyTime: p('Z', 'shift_date'),
  SeriesDate: p('X/D', 'shift_date'),
  SeriesTime: p('X/D', 'shift_date'),
  AcquisitionDate: p('X/Z', 'shift_date'),
  AcquisitionTime: p('X/Z', 'shift_date'),
  AcquisitionDateTime: p('X/Z/D', 'shift_date'),
  ContentDate: p('Z/D', 'shift_date'),
  ContentTime: p('Z/D', 'shift_date'),
  InstanceCreationDate: p('X/D', 'shift_date'),
  InstanceCreationTime: p('X/Z/D', 'shift_date'),
  PerformedProcedureStepStartDate: p('X', 'shift_date'),
  PerformedProcedureStepStartTime: p('X', 'shift_date'),
  PerformedProcedureStepEndDate: p('X', 'shift_date'),
  PerformedProcedureStepEndTime: p('X', 'shift_date'),
  PerformedProcedureStepID: p('X', 'remove'),
  PerformedProcedureStepDescription: p('X', 'remove'),
  RequestedProcedureID: p('X', 'remove'),
  RequestedProcedureDescription: p('X/Z', 'remove'),
  StudyDescription: p('X', 'remove'),
  SeriesDescription: p('X', 'remove'),
  ProtocolName: p('X/D', 'remove'),
  ImageComments: p('X', 'remove'),
  DerivationDescription: p('X', 'remove'),
  AcquisitionDeviceProcessingDescription: p('X/D', 'remove'),
  ContrastBolusAgent: p('Z/D', 'remove'),
  TimezoneOffsetFromUTC: p('X', 'remove'),
  // People
  ReferringPhysicianName: p('Z', 'pseudonym'),
  ReferringPhysicianAddress: p('X', 'remove'),
  ReferringPhysicianTelephoneNumbers: p('X', 'remove'),
  PerformingPhysicianName: p('X', 'pseudonym'),
  NameOfPhysiciansReadingStudy: p('X', 'pseudonym'),
  PhysiciansOfRecord: p('X', 'pseudonym'),
  RequestingPhysician: p('X', 'pseudonym'),
  OperatorsName: p('X/Z/D', 'pseudonym'),
  // Institution and device
  InstitutionName: p('X/Z/D', 'pseudonym'),
  InstitutionAddress: p('X', 'remove'),
  InstitutionalDepartmentName: p('X', 'remove'),
  StationName: p('X/Z/D', 'pseudonym'),
  DeviceSerialNumber: p('X/Z/D', 'pseudonym'),
  DetectorID: p('X/D', 'pseudonym'),
  GantryID: p('X', 'remove'),
  PlateID: p('X', 'remove'),
  CassetteID: p('X', 'remove'),
  DateOfLastCalibration: p('X', 'remove'),
  TimeOfLastCalibration: p('X', 'remove'),
  // UIDs
  StudyInstanceUID: p('U', 'uid'),
  SeriesInstanceUID: p('U', 'uid'),
  SOPInstanceUID: p('U', 'uid'),
  MediaStorageSOPInstanceUID: p('U', 'uid'),
  ReferencedSOPInstanceUID: p('U', 'uid'),
  FrameOfReferenceUID: p('U', 'uid'),
  SynchronizationFrameOfReferenceUID: p('U', 'uid'),
  InstanceCreatorUID: p('U', 'uid'),
  IrradiationEventUID: p('U', 'uid'),
  DeviceUID: p('U', 'uid'),
  DimensionOrganizationUID: p('U', 'uid'),
  ConcatenationUID: p('U', 'uid'),
  StorageMediaFileSetUID: p('U', 'uid'),
  TargetUID: p('U', 'uid'),
}

/** A private attribute (odd group): the profile removes them all (X). */
export const PRIVATE_ATTRIBUTE: ProfiledAttribute = p('X', 'remove')

/** What the profile says of an attribute by its keyword or tag; undefined when it is not named. */
export function profiledAttribute(keyword: string | undefined, tag: number): ProfiledAttribute | undefined {
  if (keyword !== undefined && Object.hasOwn(CONFIDENTIALITY_PROFILE, keyword)) return CONFIDENTIALITY_PROFILE[keyword]
  return (tag >>> 16) % 2 === 1 ? PRIVATE_ATTRIBUTE : undefined
}
