/**
 * The key of pseudonymised runs: read from a file (`--key-file`) or the environment
 * (`ETL_PSEUDONYM_KEY`), never from a pipeline file, and refused when shorter than 32 bytes.
 */
import { readFileSync } from 'node:fs'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'
import { MIN_KEY_BYTES } from '../transforms/privacy.js'

/** The environment variable a key may come from. */
export const KEY_ENV = 'ETL_PSEUDONYM_KEY'

/**
 * The key: the bytes of `file` (one final line break left out), else of the variable
 * `ETL_PSEUDONYM_KEY`.
 * @throws EtlError `E_KEY` (exit 78) when there is none, it cannot be read, or it is shorter than 32 bytes.
 */
export function readPseudonymKey(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Buffer {
  let key: Buffer
  let from: string
  if (file !== undefined) {
    from = `key file ${file}`
    try {
      key = readFileSync(file)
    } catch (err) {
      throw new EtlError('E_KEY', `cannot read the ${from}: ${describeSystemError(err)}`, ExitCode.CONFIG)
    }
    const end = key.length - (key.at(-1) === 10 ? (key.at(-2) === 13 ? 2 : 1) : 0)
    key = key.subarray(0, end)
  } else {
    const text = env[KEY_ENV]
    if (text === undefined || text === '') {
      throw new EtlError(
        'E_KEY',
        `pseudonymising needs a key: --key-file FILE or the variable ${KEY_ENV} (at least ${MIN_KEY_BYTES} bytes)`,
        ExitCode.CONFIG,
      )
    }
    from = `variable ${KEY_ENV}`
    key = Buffer.from(text, 'utf8')
  }
  if (key.length < MIN_KEY_BYTES) {
    throw new EtlError(
      'E_KEY',
      `the ${from} holds ${key.length} bytes: a key needs at least ${MIN_KEY_BYTES} (e.g. openssl rand -hex 32)`,
      ExitCode.CONFIG,
    )
  }
  return key
}
