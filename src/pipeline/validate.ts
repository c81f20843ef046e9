import { HubError } from '../errors.js'
import type { CheckState } from './context.js'

/** How many schema errors a problem document lists at most. */
const MAX_REPORTED = 20

/** Stage: validate against the version's schema (XSD by libxml2, JSON Schema by ajv). */
export function validateSchema (s: CheckState): void {
  const v = s.type!.versions.get(s.version!)!
  if (v.validateXml !== undefined) {
    const issues = v.validateXml(s.xml!.doc)
    if (issues.length > 0) {
      throw new HubError('EGIF_ERR_SCHEMA_INVALID', `the document does not conform to ${s.type!.id} ${s.version!}: ${issues[0].message}`, {
        errors: issues.slice(0, MAX_REPORTED).map((i) => ({ line: i.line, message: i.message }))
      })
    }
  } else if (v.validateJson !== undefined) {
    if (!v.validateJson(s.json)) {
      const errors = (v.validateJson.errors ?? []).slice(0, MAX_REPORTED).map((e) => ({ path: e.instancePath === '' ? '/' : e.instancePath, message: e.message ?? 'is invalid' }))
      throw new HubError('EGIF_ERR_SCHEMA_INVALID', `the document does not conform to ${s.type!.id} ${s.version!}: ${errors[0]?.path ?? ''} ${errors[0]?.message ?? ''}`, { errors })
    }
  }
}
