import t from 'tap'
import { sqlTableCases } from './sql-table-cases.js'

// Needs the MariaDB of the machine (root, empty password, database "test"); fails when it does not answer.
await sqlTableCases(t, process.env.EGIF_TEST_MARIADB_URL ?? 'mariadb://root@127.0.0.1:3306/test')
