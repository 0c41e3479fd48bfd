/**
 * The attributes that DICOM PS3.15 Annex E, Table E.1-1 ("Application Level Confidentiality
 * Profile Attributes") names, with the Basic Application Level Confidentiality Profile's action
 * for each (column "Basic Prof."), and the action `privacy:` suggests for a column of one.
 *
 * Source: the 2023 edition of the table
 * (dicom.nema.org/medical/dicom/2023/output/chtml/part15/chapter_E.html, Table E.1-1), as
 * KitwareMedical/dicom-anonymizer lists it by action
 * (dicomanonymizer/dicom_anonymization_databases/dicomfields_2023.py, commit 1843581),
 * cross-checked against an earlier edition's table as innolitics/dicom-standard extracts it
 * (standard/confidentiality_profile_attributes.json, commit 0d01bf1): the 456 attributes that
 * edition lists are all here with the same code but three that the 2023 edition changed
 * (Structure Set Time (3006,0009) X/D -> Z, Treatment Machine Name (300A,00B2) X -> X/Z,
 * Treatment Site (3010,0077) D -> X/D). Every tag of the table is in this tool's dictionary.
 * Besides the tags below, the table names private attributes (odd groups: X), curve data
 * (50xx,xxxx: X), overlay data and comments ((60xx,3000), (60xx,4000): X); see `profiledAttribute`.
 *
 * The profile's codes (PS3.15 E.3.1): D a dummy value, Z zero length or a dummy, X remove,
 * U a new UID; several (`X/Z/D`) when it depends on the attribute's type; X/Z/U* (a sequence of
 * references): its UIDs replaced, the rest removed or emptied. The suggested actions map them
 * onto this tool's: a UID the profile replaces (U) -> `uid`; dates, date-times and times ->
 * `shift_date` (the profile's "Retain Longitudinal Temporal Information with Modified Dates"
 * option; times, moved by whole days, stay as they are); an age -> `age_band` (between X and the
 * "Retain Patient Characteristics" option's K); a person's name -> `pseudonym`; identifiers a
 * table joins by (`PSEUDONYM_IDS`) -> `pseudonym`; everything else -> `remove`. Some suggestions
 * are stricter than that rule (`REMOVED`): the patient's other names, birth time, and a few
 * dates that say more of the patient or device than they help a table.
 */
import { lookupTag, parseTag } from './keywords.js'
import type { PrivacyAction } from '../records.js'

/** A profiled attribute: the Basic Profile's code and the action suggested for a column of it. */
export interface ProfiledAttribute {
  /** The Basic Profile's action code(s) in Table E.1-1 (`Z`, `X/Z/D`, `U`). */
  basic: string
  /** What `privacy:` suggests, and `--pseudonymise` applies, for a column of this attribute. */
  suggested: PrivacyAction
}

/**
 * Table E.1-1 (2023): the tags, "GGGG,EEEE", under their Basic Profile code, in tag order.
 */
const TABLE_E_1_1: Readonly<Record<string, string>> = {
  // 92
  D: `
    0008,0106 0008,0107 0012,0010 0012,0020 0012,0040 0012,0042 0012,0081 0018,11BB 0018,9074 0018,9151
    0018,9367 0018,9369 0018,936A 0018,9371 0018,9623 0018,9701 0018,9804 0034,0001 0034,0002 0034,0005
    0034,0007 003A,0314 0040,0512 0040,0551 0040,1101 0040,A027 0040,A030 0040,A073 0040,A075 0040,A120
    0040,A121 0040,A122 0040,A123 0040,A13A 0040,A730 0042,0011 0044,0104 0068,6226 0068,6270 006A,0003
    006A,0005 0070,0001 0072,000A 0072,005E 0072,005F 0072,0061 0072,0063 0072,0065 0072,0066 0072,0068
    0072,006A 0072,006B 0072,006C 0072,006D 0072,006E 0072,0070 0072,0071 0400,0105 0400,0115 0400,0562
    0400,0563 0400,0565 2100,0140 3006,0002 3008,0024 3008,0025 3008,0162 3008,0164 3008,0166 3008,0168
    300A,0002 300A,022C 300A,022E 300A,0608 300A,0619 300A,0623 300A,062A 300A,067C 300A,0734 300A,0736
    300A,073A 300A,0741 300A,0742 300A,0760 300A,0783 300C,0127 3010,002D 3010,0033 3010,0034 3010,0035
    3010,0038 3010,0054
  `,
  // 43
  Z: `
    0008,0020 0008,0030 0008,0050 0008,0090 0008,009C 0010,0010 0010,0020 0010,0030 0010,0040 0012,0021
    0012,0030 0012,0031 0012,0050 0012,0060 0018,1203 0020,0010 0040,0513 0040,0562 0040,0610 0040,2016
    0040,2017 0040,A082 0040,A088 0400,0564 3006,0008 3006,0009 3006,0026 3006,00A6 300A,0611 300A,0615
    300A,067D 300E,0004 300E,0005 3010,000F 3010,0017 3010,001B 3010,0043 3010,005A 3010,005C 3010,007A
    3010,007B 3010,007F 3010,0081
  `,
  // 369
  X: `
    0000,1000 0008,0015 0008,0024 0008,0025 0008,0034 0008,0035 0008,0054 0008,0055 0008,0081 0008,0092
    0008,0094 0008,0096 0008,009D 0008,0201 0008,1000 0008,1030 0008,103E 0008,1040 0008,1041 0008,1048
    0008,1049 0008,1050 0008,1052 0008,1060 0008,1062 0008,1080 0008,1084 0008,1088 0008,1120 0008,2111
    0008,4000 0010,0021 0010,0032 0010,0050 0010,0101 0010,0102 0010,1000 0010,1001 0010,1002 0010,1005
    0010,1010 0010,1020 0010,1030 0010,1040 0010,1050 0010,1060 0010,1080 0010,1081 0010,1090 0010,1100
    0010,2000 0010,2110 0010,2150 0010,2152 0010,2154 0010,2155 0010,2160 0010,2180 0010,21A0 0010,21B0
    0010,21C0 0010,21D0 0010,21F0 0010,2297 0010,2299 0010,4000 0012,0051 0012,0071 0012,0072 0012,0082
    0012,0086 0012,0087 0014,407C 0014,407E 0016,002B 0016,004B 0016,004D 0016,004E 0016,004F 0016,0050
    0016,0051 0016,0070 0016,0071 0016,0072 0016,0073 0016,0074 0016,0075 0016,0076 0016,0077 0016,0078
    0016,0079 0016,007A 0016,007B 0016,007C 0016,007D 0016,007E 0016,007F 0016,0080 0016,0081 0016,0082
    0016,0083 0016,0084 0016,0085 0016,0086 0016,0087 0016,0088 0016,0089 0016,008A 0016,008B 0016,008C
    0016,008D 0016,008E 0018,0027 0018,0035 0018,1004 0018,1005 0018,1007 0018,1008 0018,1009 0018,100A
    0018,1012 0018,1014 0018,1042 0018,1043 0018,1072 0018,1073 0018,1078 0018,1079 0018,1200 0018,1201
    0018,1202 0018,1204 0018,1205 0018,4000 0018,5011 0018,9185 0018,9373 0018,937B 0018,937F 0018,9424
    0018,9937 0018,A002 0018,A003 0020,0027 0020,3401 0020,3403 0020,3405 0020,3406 0020,4000 0020,9158
    0028,4000 0032,0012 0032,0032 0032,0033 0032,0034 0032,0035 0032,1000 0032,1001 0032,1010 0032,1011
    0032,1020 0032,1021 0032,1030 0032,1032 0032,1033 0032,1040 0032,1041 0032,1050 0032,1051 0032,1066
    0032,1067 0032,1070 0032,4000 0038,0004 0038,0010 0038,0011 0038,0014 0038,001A 0038,001B 0038,001C
    0038,001D 0038,001E 0038,0020 0038,0021 0038,0030 0038,0032 0038,0040 0038,0050 0038,0060 0038,0061
    0038,0062 0038,0064 0038,0300 0038,0400 0038,0500 0038,4000 003A,0329 003A,032B 0040,0001 0040,0002
    0040,0003 0040,0004 0040,0005 0040,0006 0040,0007 0040,0009 0040,000B 0040,0010 0040,0011 0040,0012
    0040,0241 0040,0242 0040,0243 0040,0244 0040,0245 0040,0250 0040,0251 0040,0253 0040,0254 0040,0275
    0040,0280 0040,0310 0040,050A 0040,051A 0040,0600 0040,0602 0040,06FA 0040,1001 0040,1002 0040,1004
    0040,1005 0040,100A 0040,1010 0040,1011 0040,1102 0040,1103 0040,1104 0040,1400 0040,2001 0040,2004
    0040,2005 0040,2008 0040,2009 0040,2010 0040,2011 0040,2400 0040,3001 0040,4005 0040,4008 0040,4010
    0040,4011 0040,4025 0040,4027 0040,4028 0040,4030 0040,4034 0040,4035 0040,4036 0040,4037 0040,4050
    0040,4051 0040,4052 0040,A023 0040,A024 0040,A033 0040,A078 0040,A07A 0040,A07C 0040,A110 0040,A112
    0040,A192 0040,A193 0040,A307 0040,A352 0040,A353 0040,A354 0040,A358 0040,DB06 0040,DB07 0040,E004
    0044,0004 0044,000B 0044,0010 0044,0105 0050,001B 0050,0020 0050,0021 006A,0006 0070,0082 0070,0083
    0070,0086 0074,1234 0074,1236 0088,0200 0088,0904 0088,0906 0088,0910 0088,0912 0100,0420 0400,0310
    0400,0402 0400,0403 0400,0404 0400,0550 0400,0551 0400,0552 0400,0561 0400,0600 2030,0020 2100,0040
    2100,0050 2100,0070 3002,0121 3002,0123 3006,0004 3006,0006 3006,0028 3006,0038 3006,0085 3006,0088
    300A,0003 300A,0004 300A,000B 300A,000E 300A,0016 300A,0072 300A,00C3 300A,00DD 300A,0196 300A,01A6
    300A,01B2 300A,0216 300A,02EB 300A,0676 300A,078E 300A,0792 300A,0794 300A,079A 300C,0113 3010,0036
    3010,0037 3010,0061 3010,0085 4000,0010 4000,4000 4008,0040 4008,0042 4008,0100 4008,0101 4008,0102
    4008,0108 4008,0109 4008,010A 4008,010B 4008,010C 4008,0111 4008,0112 4008,0113 4008,0114 4008,0115
    4008,0118 4008,0119 4008,011A 4008,0200 4008,0202 4008,0300 4008,4000 FFFA,FFFA FFFC,FFFC
  `,
  // 54
  U: `
    0000,1001 0002,0003 0004,1511 0008,0014 0008,0017 0008,0018 0008,0019 0008,0058 0008,1155 0008,1195
    0008,3010 0018,1002 0018,100B 0018,2042 0020,000D 0020,000E 0020,0052 0020,0200 0020,9161 0020,9164
    0028,1199 0028,1214 003A,0310 0040,0554 0040,4023 0040,A124 0040,A171 0040,A172 0040,A402 0040,DB0C
    0040,DB0D 0062,0021 0064,0003 0070,031A 0070,1101 0070,1102 0088,0140 0400,0100 3006,0024 3006,00C2
    300A,0013 300A,0083 300A,0609 300A,0650 300A,0700 300A,0785 3010,0006 3010,000B 3010,0013 3010,0015
    3010,0031 3010,003B 3010,006E 3010,006F
  `,
  // 5
  'Z/D': `
    0008,0023 0008,0033 0018,0010 0018,9919 0070,0084
  `,
  // 11
  'X/Z': `
    0008,0022 0008,0032 0008,1110 0010,2203 0032,1060 0040,0555 2200,0002 2200,0005 3008,0105 300A,00B2
    300E,0008
  `,
  // 22
  'X/D': `
    0008,0012 0008,0021 0008,0031 0008,1072 0018,1030 0018,1400 0018,700A 0018,700C 0018,700E 0018,9516
    0018,9517 0040,A032 3008,0054 3008,0056 3008,0250 3008,0251 300A,0006 300A,0007 3010,004C 3010,004D
    3010,0056 3010,0077
  `,
  // 8
  'X/Z/D': `
    0008,0013 0008,002A 0008,0080 0008,0082 0008,1010 0008,1070 0008,1111 0018,1000
  `,
  // 2
  'X/Z/U*': `
    0008,1140 0008,2112
  `,
}

/** Identifiers (not names, not UIDs) that tables join by: keyed tokens rather than removed. */
const PSEUDONYM_IDS = new Set([
  'PatientID',
  'AccessionNumber',
  'StudyID',
  'PlacerOrderNumberImagingServiceRequest',
  'FillerOrderNumberImagingServiceRequest',
  'ClinicalTrialSubjectID',
  'ClinicalTrialSubjectReadingID',
  'InstitutionName',
  'StationName',
  'DeviceSerialNumber',
  'DetectorID',
])

/** Names and dates the rule would key or shift, removed instead. */
const REMOVED = new Set([
  'OtherPatientNames',
  'PatientBirthName',
  'PatientMotherBirthName',
  'ResponsiblePerson',
  'PatientBirthTime',
  'LastMenstrualDate',
  'DateOfLastCalibration',
  'TimeOfLastCalibration',
])

/** The action suggested for a column of an attribute, from its keyword, VR and code. */
function suggest(keyword: string | undefined, vr: string, basic: string): PrivacyAction {
  if (keyword !== undefined && PSEUDONYM_IDS.has(keyword)) return 'pseudonym'
  if (keyword !== undefined && REMOVED.has(keyword)) return 'remove'
  if (basic.includes('U') && vr === 'UI') return 'uid'
  if (vr === 'DA' || vr === 'DT' || vr === 'TM') return 'shift_date'
  if (vr === 'AS') return 'age_band'
  if (vr === 'PN') return 'pseudonym'
  return 'remove'
}

/** A profiled attribute of the table, with its keyword (from the dictionary). */
export interface ProfileEntry extends ProfiledAttribute {
  tag: number
  keyword?: string
}

let entries: Map<number, ProfileEntry> | undefined

/** Table E.1-1's entries by tag (the tags above; not private, curve or overlay groups). */
export function profileEntries(): ReadonlyMap<number, ProfileEntry> {
  if (!entries) {
    entries = new Map()
    for (const [basic, tags] of Object.entries(TABLE_E_1_1)) {
      for (const text of tags.split(/\s+/)) {
        if (text === '') continue
        const tag = parseTag(text)
        if (tag === undefined || entries.has(tag)) throw new Error(`Table E.1-1: ${text} twice or not a tag`)
        const entry = lookupTag(tag)
        const keyword = entry?.keyword
        entries.set(tag, {
          tag,
          ...(keyword !== undefined && { keyword }),
          basic,
          suggested: suggest(keyword, entry?.vr ?? '', basic),
        })
      }
    }
  }
  return entries
}

/** The entry of a keyword, or undefined (for tests and reports: "PatientName" -> Z). */
export function profiledKeyword(keyword: string): ProfileEntry | undefined {
  for (const entry of profileEntries().values()) if (entry.keyword === keyword) return entry
  return undefined
}

/** A private attribute (odd group): the profile removes them all (X). */
export const PRIVATE_ATTRIBUTE: ProfiledAttribute = { basic: 'X', suggested: 'remove' }

/** Curve data and overlay data or comments (repeating groups): X. */
const REPEATING_GROUP: ProfiledAttribute = { basic: 'X', suggested: 'remove' }

/** What the profile says of an attribute by its tag; undefined when it is not named. */
export function profiledAttribute(tag: number): ProfiledAttribute | undefined {
  const entry = profileEntries().get(tag)
  if (entry) return entry
  const group = tag >>> 16
  const element = tag & 0xffff
  if (group % 2 === 1) return PRIVATE_ATTRIBUTE
  // Curve data (50xx,xxxx), overlay data (60xx,3000) and comments (60xx,4000): X.
  if ((group & 0xff00) === 0x5000) return REPEATING_GROUP
  if ((group & 0xff00) === 0x6000 && (element === 0x3000 || element === 0x4000)) return REPEATING_GROUP
  return undefined
}
