# Shared by the job-store integration scripts (sourced, not run): the two backends and SQL counts on them.

# Points WARREN_STORE / WARREN_STORE_FILE at backend $1 (sqlite|postgres); $2 is a scratch directory.
use_store() {
  unset WARREN_STORE WARREN_STORE_FILE
  case $1 in
    sqlite) export WARREN_STORE="sqlite:$2/jobs.db" ;;
    postgres)
      deploy/postgres-local.sh start >/dev/null 2>&1 || deploy/postgres-local.sh start
      (umask 077 && deploy/postgres-local.sh url >"$2/store-url")
      export WARREN_STORE_FILE=$2/store-url
      ;;
  esac
  STORE_BACKEND=$1
  STORE_DIR=$2
}

# Prints the single value of SQL query $1 on the current store.
store_sql() {
  case $STORE_BACKEND in
    sqlite) sqlite3 -cmd ".timeout 10000" "$STORE_DIR/jobs.db" "$1" ;;
    postgres) deploy/postgres-local.sh psql -qAt -c "$1" ;;
  esac
}
