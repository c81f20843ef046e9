import t from 'tap'
import { sqlTableCases } from './sql-table-cases.js'

// Needs the PostgreSQL of the machine (trust auth, database "test"); fails when it does not answer.
await sqlTableCases(t, process.env.EGIF_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
