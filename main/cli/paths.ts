/**
 * The CLI's default database is the same file as the app's and browser mode's (one SQLite file per
 * user): see main/server/paths.ts for the locations and the RW_DB / RW_DATA_DIR overrides.
 */
export { DB_FILE_NAME, defaultDataDir, defaultDbPath, PRODUCT_NAME } from '../server/paths';
