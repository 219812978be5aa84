#!/usr/bin/env bash
# Single-node Apache Kafka 4.x broker (KRaft, combined broker + controller) on 127.0.0.1
# for matchd's integration tests. The broker runs from jars resolved from Maven Central
# (see pom.xml); no Docker and no Kafka distribution tarball are needed, only Java 17+
# and Maven.
#
#   kafka.sh install
#   kafka.sh start [--port N] [--controller-port N] [--data DIR] [--clean]
#                  [--tls] [--tls-port N] [--sasl] [--sasl-port N] [--sasl-ssl-port N]
#   kafka.sh stop [--data DIR]
#   kafka.sh restart [--data DIR]
#   kafka.sh status [--data DIR]
#   kafka.sh topics-create NAME PARTITIONS [--data DIR]
#   kafka.sh produce TOPIC [--data DIR]          (one message per stdin line)
#   kafka.sh consume TOPIC COUNT [--data DIR]    (from the beginning, values on stdout)
#   kafka.sh tool CLASS [ARGS...]                (any main class on the broker classpath)
#
# `start` prints MATCHD_KAFKA_BROKERS=127.0.0.1:N on stdout (plus the TLS lines with
# --tls and the SASL lines with --sasl); everything else goes to stderr, so a caller can do
#   set -a; eval "$(scripts/kafka/kafka.sh start)"; set +a
#
# --tls adds an SSL listener (port + 2; CA and broker certificate generated in DATA/tls):
#   MATCHD_KAFKA_TLS_BROKERS=127.0.0.1:N  MATCHD_KAFKA_CA_PEM=DATA/tls/ca.pem
# --sasl adds a SASL_PLAINTEXT listener (port + 3) and, with --tls, a SASL_SSL listener
# (port + 4), both with the mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 and one
# user, matchd, whose password is generated once into DATA/sasl/password (a throwaway
# test credential, kept across restarts, removed by --clean):
#   MATCHD_KAFKA_SASL_BROKERS=127.0.0.1:N      (SASL_PLAINTEXT)
#   MATCHD_KAFKA_SASL_SSL_BROKERS=127.0.0.1:N  (SASL_SSL, with --tls; trust MATCHD_KAFKA_CA_PEM)
#   MATCHD_KAFKA_SASL_USER=matchd  MATCHD_KAFKA_SASL_PASSWORD=...
# The PLAINTEXT listener stays (inter-broker traffic and the tests' own admin requests).
#
# Environment:
#   MATCHD_KAFKA_HOME          jar cache (default $HOME/.cache/matchd-kafka)
#   MATCHD_KAFKA_DATA          data dir (default $MATCHD_KAFKA_HOME/data)
#   MATCHD_KAFKA_PORT          client port (default 19092)
#   MATCHD_KAFKA_VERSION       Kafka version to install (default: the one in pom.xml)
#   MATCHD_KAFKA_HEAP_OPTS     broker heap (default "-Xms128m -Xmx512m")
#   MATCHD_KAFKA_JVM_OPTS      extra broker JVM options
#   MATCHD_KAFKA_START_TIMEOUT seconds to wait for the broker to answer (default 60)
#   MATCHD_KAFKA_STOP_TIMEOUT  seconds between SIGTERM and SIGKILL (default 30)
#   MATCHD_KAFKA_MVN_OPTS      extra Maven options for install (e.g. -o)
#   JAVA                       java binary (default $JAVA_HOME/bin/java or java)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_HOME_DIR=${MATCHD_KAFKA_HOME:-${HOME:-/tmp}/.cache/matchd-kafka}
DEFAULT_DATA=${MATCHD_KAFKA_DATA:-$KAFKA_HOME_DIR/data}
DEFAULT_PORT=${MATCHD_KAFKA_PORT:-19092}
HEAP_OPTS=${MATCHD_KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
START_TIMEOUT=${MATCHD_KAFKA_START_TIMEOUT:-60}
STOP_TIMEOUT=${MATCHD_KAFKA_STOP_TIMEOUT:-30}
# The one SASL user of --sasl (PLAIN and SCRAM); its password is in DATA/sasl/password.
SASL_USER=matchd
SASL_MECHANISMS=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
if [[ -n ${JAVA:-} ]]; then :
elif [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then JAVA=$JAVA_HOME/bin/java
else JAVA=java
fi

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }

pom_kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$SCRIPT_DIR/pom.xml" | head -n1
}
KAFKA_VERSION=${MATCHD_KAFKA_VERSION:-$(pom_kafka_version)}
[[ -n $KAFKA_VERSION ]] || die "cannot read <kafka.version> from $SCRIPT_DIR/pom.xml"
# The jar dir is keyed by the Kafka version and the pom's content, so editing pom.xml
# (e.g. another log4j2 version) leads to a fresh install next to the old one.
POM_KEY=$( (cat "$SCRIPT_DIR/pom.xml"; echo "$KAFKA_VERSION") | sha256sum | cut -c1-10)
LIB_DIR=$KAFKA_HOME_DIR/kafka-$KAFKA_VERSION-$POM_KEY/libs

# ---------------------------------------------------------------- helpers

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH${2:+ ($2)}"; }

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (set JAVA or JAVA_HOME; Java 17+ is needed)"
  local v major
  v=$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
  major=${v%%.*}
  [[ $major =~ ^[0-9]+$ ]] || die "cannot tell the Java version of $JAVA (got '$v')"
  ((major >= 17)) || die "Kafka $KAFKA_VERSION needs Java 17+, $JAVA is $v"
}

is_installed() { [[ -f $LIB_DIR/.complete ]]; }

# Runs a Kafka CLI class (quiet logging, small heap, fast start-up).
run_tool() {
  is_installed || die "Kafka jars are not installed: run '$0 install' first"
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/tools-log4j2.properties" \
    -cp "$LIB_DIR/*" "$@"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

valid_port() {
  if [[ ! $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then die "invalid port: $1"; fi
}

# pid of the broker recorded in DATA, if that process is alive and really is this broker.
broker_pid() {
  local pidfile=$DATA/broker.pid pid state
  [[ -f $pidfile ]] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$pid/stat" 2>/dev/null || true)
  [[ $state != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "kafka.Kafka $DATA/server.properties" || return 1
  echo "$pid"
}

load_state() {
  # broker.env is written by start: PORT, CONTROLLER_PORT, TLS, TLS_PORT, SASL, SASL_PORT,
  # SASL_SSL_PORT (files written before --sasl existed lack the SASL ones: SASL off).
  PORT='' CONTROLLER_PORT='' TLS=0 TLS_PORT='' SASL=0 SASL_PORT='' SASL_SSL_PORT=''
  if [[ -f $DATA/broker.env ]]; then
    # shellcheck disable=SC1091
    source "$DATA/broker.env"
  fi
}

save_state() {
  cat >"$DATA/broker.env" <<EOF
PORT=$PORT
CONTROLLER_PORT=$CONTROLLER_PORT
TLS=$TLS
TLS_PORT=$TLS_PORT
SASL=$SASL
SASL_PORT=$SASL_PORT
SASL_SSL_PORT=$SASL_SSL_PORT
EOF
}

brokers_of_data() {
  if [[ -n ${MATCHD_KAFKA_BROKERS:-} && ! -f $DATA/broker.env ]]; then
    echo "$MATCHD_KAFKA_BROKERS"; return
  fi
  load_state
  [[ -n $PORT ]] || die "no broker was started with data dir $DATA (no broker.env); pass --data DIR"
  echo "127.0.0.1:$PORT"
}

print_endpoints() {
  echo "MATCHD_KAFKA_BROKERS=127.0.0.1:$PORT"
  if [[ $TLS == 1 ]]; then
    echo "MATCHD_KAFKA_TLS_BROKERS=127.0.0.1:$TLS_PORT"
    echo "MATCHD_KAFKA_CA_PEM=$DATA/tls/ca.pem"
  fi
  if [[ $SASL == 1 ]]; then
    echo "MATCHD_KAFKA_SASL_BROKERS=127.0.0.1:$SASL_PORT"
    if [[ -n $SASL_SSL_PORT ]]; then
      echo "MATCHD_KAFKA_SASL_SSL_BROKERS=127.0.0.1:$SASL_SSL_PORT"
    fi
    echo "MATCHD_KAFKA_SASL_USER=$SASL_USER"
    echo "MATCHD_KAFKA_SASL_PASSWORD=$(cat "$DATA/sasl/password")"
  fi
}

log_tail() {
  local f
  for f in "$DATA/logs/kafka.out" "$DATA/logs/server.log"; do
    [[ -s $f ]] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

abs_path() { mkdir -p "$1" && (cd "$1" && pwd); }

# ---------------------------------------------------------------- install

cmd_install() {
  check_java
  if is_installed; then
    log "Kafka $KAFKA_VERSION already installed in $LIB_DIR"
    return 0
  fi
  need mvn "Maven resolves the broker jars from Maven Central"
  mkdir -p "$KAFKA_HOME_DIR"
  local tmp="$LIB_DIR.tmp.$$"
  rm -rf "$tmp"
  log "resolving Kafka $KAFKA_VERSION jars with Maven into $LIB_DIR ..."
  local mvnlog=$KAFKA_HOME_DIR/install-$KAFKA_VERSION.log
  # shellcheck disable=SC2086
  if ! mvn -q -B -f "$SCRIPT_DIR/pom.xml" ${MATCHD_KAFKA_MVN_OPTS:-} \
      -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
      >"$mvnlog" 2>&1; then
    tail -n 30 "$mvnlog" >&2
    rm -rf "$tmp"
    die "Maven could not resolve Kafka $KAFKA_VERSION (is Maven Central reachable? is the version served?); full output in $mvnlog"
  fi
  [[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after resolution"; }
  touch "$tmp/.complete"
  rm -rf "$LIB_DIR"
  mkdir -p "$(dirname "$LIB_DIR")"
  mv "$tmp" "$LIB_DIR"
  log "installed $(find "$LIB_DIR" -name '*.jar' | wc -l) jars ($(du -sh "$LIB_DIR" | cut -f1)) in $LIB_DIR"
}

# ---------------------------------------------------------------- TLS material

gen_tls() {
  need openssl "needed for --tls"
  local dir=$DATA/tls
  if [[ -f $dir/broker.p12 && -f $dir/ca.pem && -f $dir/keystore.password ]]; then
    return 0
  fi
  log "generating a test CA and broker certificate in $dir"
  rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  (
    set -e
    cd "$dir"
    openssl rand -hex 16 >keystore.password
    cat >ca.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = ext
[dn]
CN = matchd test CA
[ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    cat >broker.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
EOF
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -config ca.cnf -keyout ca.key -out ca.pem
    openssl req -new -newkey rsa:2048 -nodes -sha256 -config broker.cnf \
      -keyout broker.key -out broker.csr
    openssl x509 -req -sha256 -days 3650 -in broker.csr -CA ca.pem -CAkey ca.key \
      -set_serial "0x$(openssl rand -hex 8)" -extfile broker.cnf -extensions ext -out broker.pem
    openssl pkcs12 -export -name broker -in broker.pem -inkey broker.key -certfile ca.pem \
      -passout "file:keystore.password" -out broker.p12
    rm -f broker.csr
  ) >"$DATA/logs/tls-gen.log" 2>&1 || { cat "$DATA/logs/tls-gen.log" >&2; die "TLS material generation failed"; }
}

tls_properties() {
  local pw
  pw=$(cat "$DATA/tls/keystore.password")
  cat <<EOF

# ---- added by kafka.sh start --tls: SSL listener for clients (server auth only) ----
ssl.keystore.type=PKCS12
ssl.keystore.location=$DATA/tls/broker.p12
ssl.keystore.password=$pw
ssl.key.password=$pw
ssl.client.auth=none
ssl.endpoint.identification.algorithm=https
EOF
}

# ---------------------------------------------------------------- SASL

# The password of SASL_USER, generated once per data dir (--clean removes it).
gen_sasl() {
  local dir=$DATA/sasl
  [[ -s $dir/password ]] && return 0
  log "generating the SASL password of user $SASL_USER in $dir/password"
  mkdir -p "$dir"; chmod 700 "$dir"
  rm -f "$dir/scram-users"  # SCRAM credentials made with another password are stale
  od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$dir/password.tmp"
  [[ -s $dir/password.tmp ]] || die "could not generate the SASL password"
  chmod 600 "$dir/password.tmp"
  mv "$dir/password.tmp" "$dir/password"
}

# The SCRAM credentials of SASL_USER, as StorageTool format --add-scram and
# ConfigCommand --add-config take them.
scram_credentials() {
  local pw
  pw=$(cat "$DATA/sasl/password")
  printf 'SCRAM-SHA-256=[name=%s,password=%s]\n' "$SASL_USER" "$pw"
  printf 'SCRAM-SHA-512=[name=%s,password=%s]\n' "$SASL_USER" "$pw"
}

# Per-listener SASL settings (listener names are lower case in these keys).
sasl_listener_properties() {
  local l=$1 pw
  pw=$(cat "$DATA/sasl/password")
  cat <<EOF
listener.name.$l.sasl.enabled.mechanisms=$SASL_MECHANISMS
listener.name.$l.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$pw";
listener.name.$l.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.$l.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
}

sasl_properties() {
  cat <<EOF

# ---- added by kafka.sh start --sasl: SASL listener(s) for clients, user $SASL_USER ----
# PLAIN users come from the JAAS line below; the SCRAM credentials live in the KRaft
# metadata (StorageTool format --add-scram). No authorizer: an authenticated user may do anything.
sasl.enabled.mechanisms=$SASL_MECHANISMS
EOF
  sasl_listener_properties sasl_plaintext
  if [[ -n $SASL_SSL_PORT ]]; then
    sasl_listener_properties sasl_ssl
  fi
}

# Client listeners besides PLAINTEXT, written after the template's listeners (the
# last value of a key wins).
listener_properties() {
  local listeners="PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"
  local advertised="PLAINTEXT://127.0.0.1:$PORT" extra='' opts=''
  if [[ $TLS == 1 ]]; then
    extra+=",SSL://127.0.0.1:$TLS_PORT"; opts+=' --tls'
  fi
  if [[ $SASL == 1 ]]; then
    extra+=",SASL_PLAINTEXT://127.0.0.1:$SASL_PORT"; opts+=' --sasl'
  fi
  if [[ -n $SASL_SSL_PORT ]]; then
    extra+=",SASL_SSL://127.0.0.1:$SASL_SSL_PORT"
  fi
  cat <<EOF

# ---- added by kafka.sh start$opts: client listeners (protocol map in the template) ----
listeners=$listeners$extra
advertised.listeners=$advertised$extra
EOF
}

# Adds the SCRAM credentials through the running broker, for a data dir formatted
# before --sasl was used with it (format --add-scram only works on fresh storage).
# One mechanism per call: Kafka refuses to alter one user's credentials twice in a
# request (DuplicateResourceException).
add_scram_users() {
  local cred
  log "adding the SCRAM credentials of $SASL_USER through the broker"
  : >"$DATA/logs/scram-users.log"
  while read -r cred; do
    run_tool kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$PORT" \
      --command-config "$DATA/admin.properties" --alter --entity-type users \
      --entity-name "$SASL_USER" --add-config "${cred/name=$SASL_USER,/}" </dev/null >>"$DATA/logs/scram-users.log" 2>&1 \
      || { cat "$DATA/logs/scram-users.log" >&2
           die "could not add the SCRAM credentials (the broker still runs; stop it with '$0 stop --data $DATA')"; }
  done < <(scram_credentials)
  touch "$DATA/sasl/scram-users"
}

# ---------------------------------------------------------------- start

gen_cluster_id() {
  # Kafka cluster ids are 16 random bytes, base64url without padding (22 chars).
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id =~ ^[A-Za-z0-9] ]] && { echo "$id"; return; }
  done
}

write_config() {
  local logdirs=$DATA/kraft-logs
  sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@LOG_DIRS@|$logdirs|g" "$SCRIPT_DIR/server.properties" >"$DATA/server.properties.tmp"
  if [[ $TLS == 1 || $SASL == 1 ]]; then
    listener_properties >>"$DATA/server.properties.tmp"
  fi
  if [[ $TLS == 1 ]]; then
    tls_properties >>"$DATA/server.properties.tmp"
  fi
  if [[ $SASL == 1 ]]; then
    sasl_properties >>"$DATA/server.properties.tmp"
  fi
  chmod 600 "$DATA/server.properties.tmp"
  mv "$DATA/server.properties.tmp" "$DATA/server.properties"
}

wait_ready() {
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
  local admin=$DATA/admin.properties
  printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=10000\n' >"$admin"
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null || ! broker_pid >/dev/null; then
      log_tail
      die "the broker exited during start-up (logs in $DATA/logs)"
    fi
    if port_open "$PORT"; then
      # Kafka protocol check: a Metadata round trip through the admin client.
      if timeout 30 "$JAVA" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
          -Dlog4j2.configurationFile="$SCRIPT_DIR/tools-log4j2.properties" \
          -cp "$LIB_DIR/*" org.apache.kafka.tools.TopicCommand \
          --bootstrap-server "127.0.0.1:$PORT" --command-config "$admin" --list \
          >"$DATA/logs/ready-check.log" 2>&1; then
        return 0
      fi
    fi
    sleep 0.5
  done
  log_tail
  [[ -s $DATA/logs/ready-check.log ]] && { echo '----- last ready check -----' >&2; tail -n 10 "$DATA/logs/ready-check.log" >&2; }
  die "the broker did not answer on 127.0.0.1:$PORT within ${START_TIMEOUT}s (pid $pid still running; stop it with '$0 stop --data $DATA')"
}

cmd_start() {
  local req_port='' req_cport='' req_tls=0 req_tls_port='' clean=0
  local req_sasl=0 req_sasl_port='' req_sasl_ssl_port=''
  while (($#)); do
    case $1 in
      --port) req_port=${2:?--port needs a value}; shift 2 ;;
      --controller-port) req_cport=${2:?--controller-port needs a value}; shift 2 ;;
      --data) DATA=${2:?--data needs a value}; shift 2 ;;
      --tls) req_tls=1; shift ;;
      --tls-port) req_tls=1; req_tls_port=${2:?--tls-port needs a value}; shift 2 ;;
      --sasl) req_sasl=1; shift ;;
      --sasl-port) req_sasl=1; req_sasl_port=${2:?--sasl-port needs a value}; shift 2 ;;
      --sasl-ssl-port) req_sasl=1; req_sasl_ssl_port=${2:?--sasl-ssl-port needs a value}; shift 2 ;;
      --clean) clean=1; shift ;;
      *) die "start: unknown argument '$1'" ;;
    esac
  done
  [[ -z $req_sasl_ssl_port ]] || ((req_tls)) || die "--sasl-ssl-port needs --tls (the SASL_SSL listener uses the TLS certificate)"
  check_java
  cmd_install
  DATA=$(abs_path "$DATA")

  local pid
  if pid=$(broker_pid); then
    load_state
    local differs=$clean
    [[ -n $req_port && $req_port != "$PORT" ]] && differs=1
    ((req_tls && TLS != 1)) && differs=1
    ((req_sasl && SASL != 1)) && differs=1
    ((req_tls && req_sasl)) && [[ -z $SASL_SSL_PORT ]] && differs=1
    if ((differs)); then
      die "a broker is already running with data dir $DATA (pid $pid, port $PORT): stop it first"
    fi
    log "already running (pid $pid)"
    print_endpoints
    return 0
  fi

  if ((clean)); then
    log "wiping data dir $DATA"
    rm -rf "${DATA:?}/kraft-logs" "$DATA/logs" "$DATA/tls" "$DATA/sasl" "$DATA/broker.env" \
      "$DATA/server.properties" "$DATA/admin.properties" "$DATA/broker.pid"
  fi
  mkdir -p "$DATA/logs"

  load_state
  local formatted=0
  [[ -f $DATA/kraft-logs/meta.properties ]] && formatted=1
  PORT=${req_port:-${PORT:-$DEFAULT_PORT}}
  valid_port "$PORT"
  if ((formatted)) && [[ -n $CONTROLLER_PORT ]]; then
    # The KRaft voter set stored at format time names the controller endpoint: keep it.
    if [[ -n $req_cport && $req_cport != "$CONTROLLER_PORT" ]]; then
      die "data dir $DATA was formatted with controller port $CONTROLLER_PORT; use that, or --clean"
    fi
  else
    CONTROLLER_PORT=${req_cport:-$((PORT + 1))}
  fi
  valid_port "$CONTROLLER_PORT"
  if ((req_tls)); then
    TLS=1
    TLS_PORT=${req_tls_port:-$((PORT + 2))}
  else
    TLS=0
    TLS_PORT=''
  fi
  if ((req_sasl)); then
    SASL=1
    SASL_PORT=${req_sasl_port:-$((PORT + 3))}
    SASL_SSL_PORT=''
    ((TLS)) && SASL_SSL_PORT=${req_sasl_ssl_port:-$((PORT + 4))}
  else
    SASL=0
    SASL_PORT=''
    SASL_SSL_PORT=''
  fi
  local p ports=("$PORT" "$CONTROLLER_PORT" ${TLS_PORT:+"$TLS_PORT"} ${SASL_PORT:+"$SASL_PORT"} ${SASL_SSL_PORT:+"$SASL_SSL_PORT"})
  for p in "${ports[@]}"; do
    valid_port "$p"
    port_open "$p" && die "port $p on 127.0.0.1 is already in use (another broker? pick --port)"
  done
  (($(printf '%s\n' "${ports[@]}" | sort -u | wc -l) == ${#ports[@]})) \
    || die "client, controller, TLS and SASL ports must differ (${ports[*]})"

  ((TLS)) && gen_tls
  ((SASL)) && gen_sasl
  write_config
  save_state

  if ((!formatted)); then
    local cid scram=()
    cid=$(gen_cluster_id)
    rm -f "$DATA/sasl/scram-users"
    if ((SASL)); then
      local cred
      while read -r cred; do scram+=(--add-scram "$cred"); done < <(scram_credentials)
    fi
    log "formatting KRaft storage in $DATA/kraft-logs (cluster id $cid${SASL_PORT:+, SCRAM user $SASL_USER})"
    run_tool kafka.tools.StorageTool format --standalone -t "$cid" \
      -c "$DATA/server.properties" "${scram[@]}" >"$DATA/logs/format.log" 2>&1 \
      || { cat "$DATA/logs/format.log" >&2; die "storage format failed"; }
    if ((SASL)); then
      touch "$DATA/sasl/scram-users"
    fi
  fi

  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (controller $CONTROLLER_PORT${TLS_PORT:+, TLS $TLS_PORT}${SASL_PORT:+, SASL $SASL_PORT}${SASL_SSL_PORT:+, SASL_SSL $SASL_SSL_PORT}), data $DATA"
  rm -f "$DATA/broker.pid"
  # setsid: the broker must outlive this script and not get the caller's signals.
  # The inner shell records its own pid and then becomes the JVM (exec).
  # shellcheck disable=SC2016
  local launcher=(sh -c 'echo $$ >"$0"; exec "$@"' "$DATA/broker.pid")
  command -v setsid >/dev/null 2>&1 && launcher=(setsid "${launcher[@]}")
  # shellcheck disable=SC2086
  nohup "${launcher[@]}" "$JAVA" $HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true -Dlog4j2.shutdownHookEnabled=false ${MATCHD_KAFKA_JVM_OPTS:-} \
    -Dkafka.logs.dir="$DATA/logs" \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" \
    -cp "$LIB_DIR/*" kafka.Kafka "$DATA/server.properties" \
    </dev/null >"$DATA/logs/kafka.out" 2>&1 &
  local _
  pid=''
  for _ in $(seq 1 50); do
    [[ -s $DATA/broker.pid ]] && pid=$(cat "$DATA/broker.pid") && [[ -n $pid ]] && break
    sleep 0.1
  done
  [[ -n $pid ]] || die "could not launch java (see $DATA/logs/kafka.out)"
  wait_ready "$pid"
  if ((SASL)) && [[ ! -f $DATA/sasl/scram-users ]]; then
    add_scram_users
  fi
  log "broker ready (pid $pid); log: $DATA/logs/server.log"
  print_endpoints
}

# ---------------------------------------------------------------- stop / status / restart

cmd_stop() {
  parse_data_only "$@"
  local pid
  if ! pid=$(broker_pid); then
    rm -f "$DATA/broker.pid"
    log "no broker running for data dir $DATA"
    return 0
  fi
  log "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while ((SECONDS < deadline)) && broker_pid >/dev/null; do sleep 0.2; done
  if broker_pid >/dev/null; then
    log "broker did not exit within ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)) && broker_pid >/dev/null; do sleep 0.2; done
    broker_pid >/dev/null && die "broker pid $pid survived SIGKILL"
  fi
  rm -f "$DATA/broker.pid"
  log "stopped"
}

cmd_status() {
  parse_data_only "$@"
  local pid
  if pid=$(broker_pid); then
    load_state
    if port_open "$PORT"; then
      log "running (pid $pid), data $DATA"
    else
      log "process running (pid $pid) but 127.0.0.1:$PORT is not accepting connections yet"
    fi
    print_endpoints
    return 0
  fi
  log "not running (data dir $DATA)"
  return 3
}

cmd_restart() {
  parse_data_only "$@"
  load_state
  [[ -n $PORT ]] || die "no broker was ever started with data dir $DATA: use start"
  local args=(--data "$DATA" --port "$PORT" --controller-port "$CONTROLLER_PORT")
  [[ $TLS == 1 ]] && args+=(--tls-port "$TLS_PORT")
  [[ $SASL == 1 ]] && args+=(--sasl-port "$SASL_PORT")
  [[ -n $SASL_SSL_PORT ]] && args+=(--sasl-ssl-port "$SASL_SSL_PORT")
  cmd_stop --data "$DATA"
  cmd_start "${args[@]}"
}

parse_data_only() {
  while (($#)); do
    case $1 in
      --data) DATA=${2:?--data needs a value}; shift 2 ;;
      *) die "${CMD}: unknown argument '$1'" ;;
    esac
  done
  [[ -d $DATA ]] && DATA=$(cd "$DATA" && pwd)
  return 0
}

# ---------------------------------------------------------------- topic / data helpers

# Splits "$@" into positional args (POS) and --data.
split_args() {
  POS=()
  while (($#)); do
    case $1 in
      --data) DATA=${2:?--data needs a value}; shift 2 ;;
      *) POS+=("$1"); shift ;;
    esac
  done
  [[ -d $DATA ]] && DATA=$(cd "$DATA" && pwd)
  return 0
}

cmd_topics_create() {
  split_args "$@"
  ((${#POS[@]} == 2)) || die "usage: $0 topics-create NAME PARTITIONS [--data DIR]"
  local name=${POS[0]} parts=${POS[1]} brokers
  [[ $parts =~ ^[1-9][0-9]*$ ]] || die "PARTITIONS must be a positive integer, got '$parts'"
  brokers=$(brokers_of_data)
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" \
    --create --if-not-exists --topic "$name" --partitions "$parts" --replication-factor 1 >&2 \
    || die "could not create topic $name"
}

cmd_produce() {
  split_args "$@"
  ((${#POS[@]} == 1)) || die "usage: $0 produce TOPIC [--data DIR] <lines"
  run_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$(brokers_of_data)" \
    --topic "${POS[0]}"
}

cmd_consume() {
  split_args "$@"
  ((${#POS[@]} == 2)) || die "usage: $0 consume TOPIC COUNT [--data DIR]"
  run_tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$(brokers_of_data)" \
    --topic "${POS[0]}" --from-beginning --max-messages "${POS[1]}" --timeout-ms 20000
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
}

# ---------------------------------------------------------------- main

DATA=$DEFAULT_DATA
CMD=${1:-}
[[ -n $CMD ]] && shift
case $CMD in
  install) (($# == 0)) || die "install takes no arguments"; cmd_install ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  restart) cmd_restart "$@" ;;
  status) cmd_status "$@" ;;
  topics-create) cmd_topics_create "$@" ;;
  produce) cmd_produce "$@" ;;
  consume) cmd_consume "$@" ;;
  tool) (($# >= 1)) || die "usage: $0 tool CLASS [ARGS...]"; run_tool "$@" ;;
  -h|--help|help) usage ;;
  '') usage; exit 2 ;;
  *) usage; die "unknown command '$CMD'" ;;
esac
