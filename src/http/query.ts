import { HubError } from '../errors.js'

/** A query parameter that must be a whole number (a count, a position). @throws HubError EGIF_ERR_BAD_REQUEST */
export function wholeNumber (v: string | undefined, what: string): number {
  if (v === undefined || !/^\d{1,15}$/.test(v)) throw new HubError('EGIF_ERR_BAD_REQUEST', `${what} must be a whole number`)
  return Number(v)
}

/** A page's size from `?limit=`: 100 when absent, at least 1 and at most 1,000. @throws HubError EGIF_ERR_BAD_REQUEST when it is not a whole number */
export function pageLimit (v: string | undefined): number {
  return v === undefined ? 100 : Math.min(1000, Math.max(1, wholeNumber(v, 'limit')))
}
