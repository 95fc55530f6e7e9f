#!/usr/bin/env bash
# Real local services for Darooghe without Docker:
#   Apache Kafka 4.1 (KRaft, combined broker + controller), Redis, and a MongoDB-wire-compatible
#   server (mongo-java-server), all on loopback.
#
#   scripts/services.sh up|down|status|logs [kafka|redis|redis-cluster|mongo]
#
#   Redis also serves TLS on REDIS_TLS_PORT with an ACL user `darooghe`: source
#   $DAROOGHE_SERVICES_DIR/redis/tls/tls.env for DAROOGHE_REDIS (rediss://darooghe:...@) and
#   DAROOGHE_REDIS_CA. redis-cluster is 3 masters + 3 replicas (URL redis://127.0.0.1:7001).
#
# Environment (all optional):
#   KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093 REDIS_PORT=6379 MONGO_PORT=27017
#   REDIS_TLS_PORT=6380 with the default REDIS_PORT, else off   REDIS_CLUSTER_PORT=7001 (first of six) REDIS_CLUSTER_NODE_TIMEOUT_MS=2000
#   KAFKA_ADVERTISED_PORT=$KAFKA_PORT (the port clients are told to use: a proxy's, in tests)
#   KAFKA_SASL_SSL_PORT=9094 with the default KAFKA_PORT, else off (set a port to add it)
#   MONGO_BACKEND=h2|memory (h2 keeps data on disk)   SERVICES_HOST=127.0.0.1
#   DAROOGHE_SERVICES_DIR=<repo>/.services  (pids, logs, data; git-ignored)
#   DAROOGHE_CACHE_DIR=~/.cache/darooghe    (downloaded jars, compiled launchers)
#
# `up` is idempotent and reuses a service that already answers on its port with the right
# protocol; `down` stops only the processes that `up` started (tracked by pid files).
#
# Kafka's second listener, SASL_SSL on $KAFKA_SASL_SSL_PORT, takes SCRAM-SHA-512 and PLAIN
# for the user `darooghe`; inter-broker and controller traffic stay PLAINTEXT. The first `up`
# makes, under $DAROOGHE_SERVICES_DIR/kafka/:
#   tls/ca.pem (the CA to trust), tls/server*.pem (the broker's key and certificate, SAN
#   127.0.0.1 and localhost), sasl-password (generated once), and on every `up`
#   client-sasl-ssl.properties: one file for `darooghe --kafka-config`, `kcat -F` and the Java
#   client (see kafka_client_file for why its Java-only lines hide behind a carriage return).
# The SCRAM credential is stored in the cluster's metadata through the admin API once per
# cluster, so a storage formatted before the listener existed gets it too.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOST=${SERVICES_HOST:-127.0.0.1}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
# Clients connect to the advertised address after bootstrap: the chaos tests put a TCP proxy
# there to cut and delay the broker's connections without stopping it.
KAFKA_ADVERTISED_PORT=${KAFKA_ADVERTISED_PORT:-$KAFKA_PORT}
# A broker on other ports (tests' private ones) gets no SASL_SSL listener unless asked: the
# default 9094 belongs to the main broker.
if [ -z "${KAFKA_SASL_SSL_PORT:-}" ]; then
  if [ "$KAFKA_PORT" = 9092 ]; then KAFKA_SASL_SSL_PORT=9094; else KAFKA_SASL_SSL_PORT=off; fi
fi
KAFKA_SASL_USER=darooghe
REDIS_PORT=${REDIS_PORT:-6379}
# Likewise Redis's TLS port: 6380 belongs to the main server; others get none unless asked.
if [ -z "${REDIS_TLS_PORT:-}" ]; then
  if [ "$REDIS_PORT" = 6379 ]; then REDIS_TLS_PORT=6380; else REDIS_TLS_PORT=off; fi
fi
# The cluster's six nodes: REDIS_CLUSTER_PORT .. REDIS_CLUSTER_PORT+5.
REDIS_CLUSTER_PORT=${REDIS_CLUSTER_PORT:-7001}
MONGO_PORT=${MONGO_PORT:-27017}
MONGO_BACKEND=${MONGO_BACKEND:-h2}
STATE=${DAROOGHE_SERVICES_DIR:-$ROOT/.services}
CACHE=${DAROOGHE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/darooghe}
POM=$ROOT/scripts/services/pom.xml
JAVA_SRC=$ROOT/scripts/services/java
KAFKA_WAIT=${KAFKA_WAIT_SECONDS:-120}
# The h2 backend reads its whole file at start: a gigabyte of documents takes over a minute.
MONGO_WAIT=${MONGO_WAIT_SECONDS:-60}

LOGS=$STATE/logs
PIDS=$STATE/pids
REDIS_TLS=$STATE/redis/tls
mkdir -p "$LOGS" "$PIDS"

say() { printf '%s\n' "$*"; }
fail() {
  printf 'services: %s\n' "$*" >&2
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

read_pid() { [ -f "$PIDS/$1.pid" ] && cat "$PIDS/$1.pid" || true; }

holder_of() {
  # Best effort: name the process listening on a port, for error messages.
  if command -v ss >/dev/null 2>&1; then
    ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -n1
  fi
}

need_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    JAVA=$JAVA_HOME/bin/java
    JAVAC=$JAVA_HOME/bin/javac
  else
    JAVA=$(command -v java || true)
    JAVAC=$(command -v javac || true)
  fi
  [ -n "$JAVA" ] || fail "Java not found: Kafka and the MongoDB stand-in need a JDK 17+; install one (apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
  [ -n "$JAVAC" ] || fail "javac not found: the service launchers are compiled on first use; install a full JDK 17+ (apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
  local major
  major=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  [ "${major%%.*}" -ge 17 ] 2>/dev/null || fail "Java $major found at $JAVA, but Kafka 4 needs Java 17+; install a newer JDK or set JAVA_HOME"
}

# Jars come from Maven Central through a throwaway pom; cached by the pom's hash.
ensure_jars() {
  local key
  key=$(sha256sum "$POM" | cut -c1-12)
  JARS=$CACHE/jars-$key
  if [ -f "$JARS/.complete" ]; then return; fi
  command -v mvn >/dev/null 2>&1 || fail "Maven (mvn) not found: it fetches the Kafka jars from Maven Central once; install it (apt-get install maven)"
  say "fetching Kafka and mongo-java-server jars from Maven Central (once) ..."
  rm -rf "$JARS"
  mkdir -p "$JARS"
  if ! mvn -B -q -f "$POM" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$JARS" >"$LOGS/maven.log" 2>&1; then
    tail -n 20 "$LOGS/maven.log" >&2
    fail "could not fetch jars with Maven (log: $LOGS/maven.log); check access to Maven Central"
  fi
  touch "$JARS/.complete"
}

ensure_launchers() {
  local key
  key=$(cat "$JAVA_SRC"/*.java "$POM" | sha256sum | cut -c1-12)
  CLASSES=$CACHE/classes-$key
  if [ ! -f "$CLASSES/.complete" ]; then
    mkdir -p "$CLASSES"
    "$JAVAC" -nowarn -d "$CLASSES" -cp "$JARS/*" "$JAVA_SRC"/*.java >"$LOGS/javac.log" 2>&1 ||
      fail "could not compile the service launchers (log: $LOGS/javac.log)"
    touch "$CLASSES/.complete"
  fi
  CP="$CLASSES:$JARS/*"
}

prepare_java() {
  need_java
  ensure_jars
  ensure_launchers
}

# probe KIND PORT [WAIT_SECONDS] [PID] -> exit code of DaroogheProbe. KIND kafka-client reads
# the client file; its last failure goes to $LOGS/probe.log.
probe() {
  "$JAVA" -Xshare:auto -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=off \
    -Dlog4j2.level=OFF -cp "$CP" DaroogheProbe "$1" "$HOST:$2" "${3:-0}" "${4:-}" \
    "$STATE/kafka/client-sasl-ssl.properties" >/dev/null 2>"$LOGS/probe.log"
}

# Decides what to do with a port before starting: 0 = free, 10 = ours/compatible and healthy.
check_port() {
  local kind=$1 port=$2 rc=0
  port_open "$port" || return 0
  probe "$kind" "$port" 5 || rc=$?
  if [ "$rc" -eq 0 ]; then return 10; fi
  local who
  who=$(holder_of "$port")
  fail "port $port is in use by something that is not $kind${who:+ ($who)}; stop it or choose another port (e.g. ${kind^^}_PORT=...)"
}

wait_ready() {
  local name=$1 kind=$2 port=$3 seconds=$4 pid=$5 rc=0
  probe "$kind" "$port" "$seconds" "$pid" || rc=$?
  case $rc in
  0) return 0 ;;
  4)
    tail -n 30 "$LOGS/$name.log" >&2 || true
    rm -f "$PIDS/$name.pid"
    fail "$name exited during start-up (log above, full log: $LOGS/$name.log)"
    ;;
  *)
    tail -n 30 "$LOGS/$name.log" >&2 || true
    fail "$name did not become ready on $HOST:$port within ${seconds}s (log: $LOGS/$name.log)"
    ;;
  esac
}

report_running() {
  local pid
  pid=$(read_pid "$1")
  if pid_alive "$pid"; then
    say "$(printf '%-7s' "$1") $HOST:$2 already running (pid $pid)"
  else
    say "$(printf '%-7s' "$1") $HOST:$2 already answering (not started by us), reused"
  fi
}

# ---------------------------------------------------------------- Kafka
sasl_ssl_on() { [ "$KAFKA_SASL_SSL_PORT" != off ]; }

# A CA and the broker's certificate, made once and kept: clients keep trusting tls/ca.pem
# across restarts. The server certificate is remade when the host it must name changes.
kafka_tls() {
  local tls=$STATE/kafka/tls san="IP:127.0.0.1,DNS:localhost"
  command -v openssl >/dev/null 2>&1 ||
    fail "openssl not found: it makes the SASL_SSL listener's certificates; install it (apt-get install openssl) or set KAFKA_SASL_SSL_PORT=off"
  case $HOST in
  127.0.0.1 | localhost) ;;
  *[!0-9.]*) san="$san,DNS:$HOST" ;;
  *) san="$san,IP:$HOST" ;;
  esac
  mkdir -p "$tls"
  if [ ! -f "$tls/ca.pem" ] || [ ! -f "$tls/ca.key" ]; then
    (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -subj "/CN=Darooghe local CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign") \
      >"$LOGS/openssl.log" 2>&1 || fail "openssl could not make the CA (log: $LOGS/openssl.log)"
    chmod 644 "$tls/ca.pem"
    rm -f "$tls/san"
  fi
  if [ "$(cat "$tls/san" 2>/dev/null)" != "$san" ] || [ ! -f "$tls/server-keystore.pem" ]; then
    (umask 077 && openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
      -keyout "$tls/server.key" -out "$tls/server.csr" &&
      printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
        "$san" >"$tls/server.ext" &&
      openssl x509 -req -sha256 -days 3650 -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
        -CAcreateserial -extfile "$tls/server.ext" -out "$tls/server.pem") \
      >"$LOGS/openssl.log" 2>&1 || fail "openssl could not make the broker certificate (log: $LOGS/openssl.log)"
    # Kafka's PEM key store: the (unencrypted PKCS#8) key, then the chain.
    (umask 077 && cat "$tls/server.key" "$tls/server.pem" "$tls/ca.pem" >"$tls/server-keystore.pem")
    rm -f "$tls/server.csr" "$tls/server.ext"
    echo "$san" >"$tls/san"
  fi
}

kafka_sasl_password() {
  local f=$STATE/kafka/sasl-password
  if [ ! -s "$f" ]; then
    mkdir -p "$STATE/kafka"
    # Hex: nothing in it needs quoting in a properties file or a JAAS line.
    (umask 077 && openssl rand -hex 24 >"$f")
  fi
  SASL_PASSWORD=$(cat "$f")
}

# One file that `darooghe --kafka-config`, `kcat -F` and the Java client each read as is.
# No set of keys satisfies all three: the Java client needs sasl.jaas.config and
# ssl.truststore.* (it ignores librdkafka's sasl.username/password and ssl.ca.location with a
# warning), while kcat stops at the first key librdkafka refuses, and librdkafka refuses
# ssl.truststore.* and sasl.jaas.config (kcat converts only a PlainLoginModule line).
# Java's Properties ends a line at a lone carriage return, kcat only at a newline: the
# Java-only keys follow "#<CR>", a comment to kcat and to line-based readers, a comment line
# and then a key to Java.
kafka_client_file() {
  local tls=$STATE/kafka/tls cr=$'\r'
  (
    umask 077
    cat >"$STATE/kafka/client-sasl-ssl.properties" <<EOF
# Darooghe's local Kafka, SASL_SSL listener: written by scripts/services.sh on every up.
# For darooghe --kafka-config FILE, kcat -F FILE and the Java client (Properties.load).
# The last three lines carry the Java client's keys after a carriage return, hidden from
# kcat, which refuses them (see scripts/services.sh, kafka_client_file).
bootstrap.servers=$HOST:$KAFKA_SASL_SSL_PORT
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.username=$KAFKA_SASL_USER
sasl.password=$SASL_PASSWORD
ssl.ca.location=$tls/ca.pem
ssl.endpoint.identification.algorithm=https
client.id=darooghe
compression.type=none
#${cr}sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_SASL_USER" password="$SASL_PASSWORD";
#${cr}ssl.truststore.type=PEM
#${cr}ssl.truststore.location=$tls/ca.pem
EOF
  )
}

kafka_sasl_prepare() {
  sasl_ssl_on || return 0
  kafka_tls
  kafka_sasl_password
  kafka_client_file
}

# The SCRAM credential lives in the cluster metadata: added through the admin API on the
# PLAINTEXT listener once per cluster and password (a marker remembers which), which also
# covers a storage formatted before this listener existed.
kafka_scram_user() {
  local dir=$STATE/kafka cluster want
  cluster=$(sed -n 's/^cluster.id=//p' "$dir/data/meta.properties" 2>/dev/null || true)
  want="$cluster $KAFKA_SASL_USER $(printf '%s' "$SASL_PASSWORD" | sha256sum | cut -c1-16)"
  [ "$(cat "$dir/scram-user" 2>/dev/null)" = "$want" ] && return 0
  # (--add-config-file would keep the password off the command line, but Kafka 4.1 reads
  # SCRAM-SHA-512 there as SCRAM_SHA_512 and refuses it.)
  "$JAVA" -Xshare:auto -XX:TieredStopAtLevel=1 "-Dlog4j2.configurationFile=$dir/log4j2-tools.properties" \
    -cp "$CP" kafka.admin.ConfigCommand --bootstrap-server "$HOST:$KAFKA_PORT" --alter \
    --entity-type users --entity-name "$KAFKA_SASL_USER" \
    --add-config "SCRAM-SHA-512=[iterations=4096,password=$SASL_PASSWORD]" >"$LOGS/kafka-scram.log" 2>&1 ||
    fail "could not add the SCRAM user $KAFKA_SASL_USER (log: $LOGS/kafka-scram.log)"
  echo "$want" >"$dir/scram-user"
}

# The SASL_SSL listener answers a metadata request made with the client file (TLS and SCRAM
# included); the credential takes a moment to reach the broker after it is added.
kafka_sasl_ready() {
  if ! probe kafka-client "$KAFKA_SASL_SSL_PORT" 60 "${1:-}"; then
    fail "kafka SASL_SSL listener $HOST:$KAFKA_SASL_SSL_PORT refuses $STATE/kafka/client-sasl-ssl.properties: $(tail -n 1 "$LOGS/probe.log") (broker log: $LOGS/kafka.log)"
  fi
  say "kafka   $HOST:$KAFKA_SASL_SSL_PORT SASL_SSL ready (SCRAM-SHA-512, PLAIN; client file $STATE/kafka/client-sasl-ssl.properties)"
}

kafka_config() {
  local dir=$STATE/kafka listeners advertised protocols sasl=""
  mkdir -p "$dir/data"
  listeners="PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT"
  advertised="PLAINTEXT://$HOST:$KAFKA_ADVERTISED_PORT"
  protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if sasl_ssl_on; then
    listeners="$listeners,SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT"
    advertised="$advertised,SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT"
    protocols="$protocols,SASL_SSL:SASL_SSL"
    # PLAIN's user sits in the broker's JAAS line, SCRAM's in the cluster metadata.
    sasl="sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER=\"$SASL_PASSWORD\";
ssl.keystore.type=PEM
ssl.keystore.location=$dir/tls/server-keystore.pem
ssl.client.auth=none"
  fi
  (
    umask 077
    cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
$sasl
log.dirs=$dir/data
num.partitions=6
num.network.threads=3
num.io.threads=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
# History backfill carries event times up to days old; retention is by record time.
log.retention.hours=720
log.segment.bytes=268435456
EOF
  )
  # The admin tool run by `up` prints warnings only.
  cat >"$dir/log4j2-tools.properties" <<EOF
status = error
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %m%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
EOF
  cat >"$dir/log4j2.properties" <<EOF
status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
EOF
}

kafka_up() {
  local rc=0
  check_port kafka "$KAFKA_PORT" || rc=$?
  kafka_sasl_prepare
  if [ "$rc" -eq 10 ]; then
    report_running kafka "$KAFKA_PORT"
    if sasl_ssl_on; then
      if port_open "$KAFKA_SASL_SSL_PORT"; then
        kafka_scram_user
        kafka_sasl_ready
      else
        say "kafka   $HOST:$KAFKA_SASL_SSL_PORT no SASL_SSL listener: this broker was started without it; restart it to add it (scripts/services.sh down kafka && scripts/services.sh up kafka)"
      fi
    fi
    return
  fi
  port_open "$KAFKA_CONTROLLER_PORT" && fail "controller port $KAFKA_CONTROLLER_PORT is in use; free it or set KAFKA_CONTROLLER_PORT"
  if sasl_ssl_on && port_open "$KAFKA_SASL_SSL_PORT"; then
    fail "SASL_SSL port $KAFKA_SASL_SSL_PORT is in use; free it or set KAFKA_SASL_SSL_PORT (a port, or off)"
  fi
  kafka_config
  local dir=$STATE/kafka
  local jvm=(-Xms512m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$dir/log4j2.properties")
  if [ ! -f "$dir/data/meta.properties" ]; then
    # A cluster id is 16 random bytes in URL-safe base64. Like Kafka's own generator we never
    # start it with '-': the storage tool would read such an id as an option and refuse to format.
    local cluster_id
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
    cluster_id=${cluster_id/#-/A}
    "$JAVA" "${jvm[@]}" -cp "$CP" kafka.tools.StorageTool format "--cluster-id=$cluster_id" \
      -c "$dir/server.properties" --ignore-formatted >"$LOGS/kafka-format.log" 2>&1 ||
      fail "could not format Kafka storage (log: $LOGS/kafka-format.log)"
  fi
  nohup "$JAVA" "${jvm[@]}" -cp "$CP" kafka.Kafka "$dir/server.properties" >"$LOGS/kafka.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$PIDS/kafka.pid"
  wait_ready kafka kafka "$KAFKA_PORT" "$KAFKA_WAIT" "$pid"
  say "kafka   $HOST:$KAFKA_PORT started (pid $pid)"
  if sasl_ssl_on; then
    kafka_scram_user
    kafka_sasl_ready "$pid"
  fi
}

# ---------------------------------------------------------------- Redis
ensure_redis_server() {
  if command -v redis-server >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing redis-server from Debian (once) ..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } \
      >"$LOGS/apt-redis.log" 2>&1 || fail "apt-get could not install redis-server (log: $LOGS/apt-redis.log)"
    # Debian's package starts a system service on 6379; we run our own instance instead.
    if command -v systemctl >/dev/null 2>&1; then systemctl stop redis-server >/dev/null 2>&1 || true; fi
    return
  fi
  fail "redis-server not found: install Redis 7 (apt-get install redis-server) or start one on $HOST:$REDIS_PORT"
}

redis_up() {
  local rc=0
  check_port redis "$REDIS_PORT" || rc=$?
  if [ "$rc" -eq 10 ]; then
    report_running redis "$REDIS_PORT"
    [ "$REDIS_TLS_PORT" = off ] || port_open "$REDIS_TLS_PORT" || say "redis   no TLS on $HOST:$REDIS_TLS_PORT (a server started before TLS was added): down and up again for it"
    return
  fi
  ensure_redis_server
  mkdir -p "$STATE/redis"
  redis_tls_files
  rm -f "$PIDS/redis.pid"
  # AOF with fsync every second: the state store must survive a restart of Redis itself.
  # The ACL file keeps the default user open (as before) and adds the `darooghe` user; the TLS
  # port serves the same data with the locally made certificate (clients need none of their own).
  local tls=()
  if [ "$REDIS_TLS_PORT" != off ]; then
    tls=(--tls-port "$REDIS_TLS_PORT" --tls-cert-file "$REDIS_TLS/server.crt"
      --tls-key-file "$REDIS_TLS/server.key" --tls-ca-cert-file "$REDIS_TLS/ca.crt"
      --tls-auth-clients no)
  fi
  redis-server --bind "$HOST" --port "$REDIS_PORT" --dir "$STATE/redis" --save "" \
    --appendonly yes --appendfsync everysec --daemonize yes --pidfile "$PIDS/redis.pid" \
    --logfile "$LOGS/redis.log" --protected-mode no --aclfile "$REDIS_TLS/users.acl" \
    "${tls[@]}" >/dev/null ||
    fail "redis-server failed to start (log: $LOGS/redis.log)"
  local i pid=""
  for i in $(seq 1 50); do
    pid=$(read_pid redis)
    [ -n "$pid" ] && break
    sleep 0.1
  done
  # Redis answers only once its append-only file is loaded: after long benchmark sessions that
  # took 15 s and more (a process that dies is still reported at once).
  wait_ready redis redis "$REDIS_PORT" 120 "$pid"
  if [ "$REDIS_TLS_PORT" = off ]; then
    say "redis   $HOST:$REDIS_PORT started (pid $pid)"
  else
    say "redis   $HOST:$REDIS_PORT started (pid $pid), TLS on $HOST:$REDIS_TLS_PORT (user darooghe: $REDIS_TLS/tls.env)"
  fi
}

# TLS and ACL material, made once under $STATE/redis/tls and reused: a CA, a server certificate
# for 127.0.0.1/localhost signed by it, the `darooghe` user's password, and tls.env with a ready
# URL for clients and tests. The password is kept only there and in `password` (mode 600) and
# as a hash in the ACL file: it never appears on a command line.
redis_tls_files() {
  mkdir -p "$REDIS_TLS"
  chmod 700 "$REDIS_TLS"
  if [ ! -f "$REDIS_TLS/server.crt" ]; then
    command -v openssl >/dev/null 2>&1 || fail "openssl not found: it makes Redis's TLS certificate once; install it (apt-get install openssl)"
    (
      cd "$REDIS_TLS"
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Darooghe local CA" \
        -keyout ca.key -out ca.crt
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile server.ext -out server.crt
      chmod 600 ca.key server.key
    ) >"$LOGS/redis-tls.log" 2>&1 || fail "openssl could not make Redis's TLS certificate (log: $LOGS/redis-tls.log)"
  fi
  if [ ! -f "$REDIS_TLS/password" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' >"$REDIS_TLS/password")
  fi
  local password hash
  password=$(cat "$REDIS_TLS/password")
  hash=$(printf '%s' "$password" | sha256sum | cut -c1-64)
  # darooghe: every key, every command but the dangerous ones (FLUSHALL, CONFIG, KEYS, ...),
  # plus INFO and the CLUSTER subcommands a client needs to find a cluster's nodes.
  cat >"$REDIS_TLS/users.acl" <<EOF
user default on nopass ~* &* +@all
user darooghe on #$hash ~* &* +@all -@dangerous +info +cluster|info +cluster|slots +cluster|shards +cluster|nodes +cluster|myid
EOF
  [ "$REDIS_TLS_PORT" != off ] || return 0
  (
    umask 077
    printf 'DAROOGHE_REDIS=rediss://darooghe:%s@%s:%s\nDAROOGHE_REDIS_CA=%s\n' \
      "$password" "$HOST" "$REDIS_TLS_PORT" "$REDIS_TLS/ca.crt" >"$REDIS_TLS/tls.env"
  )
}

# ---------------------------------------------------------------- Redis Cluster
# Six redis-server processes, 3 masters and 3 replicas, on REDIS_CLUSTER_PORT .. +5. Each node
# has its own directory and config file under $STATE/redis-cluster/<port>, so a node killed by
# a test restarts with `redis-server <that file>` and rejoins (as a replica, if it was failed
# over). A short node timeout makes a failover take seconds instead of fifteen.
cluster_ports() { seq "$REDIS_CLUSTER_PORT" $((REDIS_CLUSTER_PORT + 5)); }

cluster_ping() { redis-cli -h "$HOST" -p "$1" ping 2>/dev/null | grep -q PONG; }

cluster_node_up() {
  local port=$1 dir=$STATE/redis-cluster/$1
  if cluster_ping "$port"; then return; fi
  port_open "$port" && fail "port $port is in use by something that is not Redis; stop it or set REDIS_CLUSTER_PORT"
  mkdir -p "$dir"
  cat >"$dir/redis.conf" <<EOF
bind $HOST
port $port
dir $dir
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout ${REDIS_CLUSTER_NODE_TIMEOUT_MS:-2000}
appendonly yes
appendfsync everysec
save ""
protected-mode no
daemonize yes
pidfile $PIDS/redis-cluster-$port.pid
logfile $LOGS/redis-cluster-$port.log
EOF
  redis-server "$dir/redis.conf" >/dev/null || fail "redis-server failed to start on $port (log: $LOGS/redis-cluster-$port.log)"
}

redis-cluster_up() {
  ensure_redis_server
  [[ $(redis-cli --cluster help 2>&1 || true) == *create* ]] || fail "redis-cli has no --cluster (Redis 5+ needed): install a newer redis-tools"
  local port i nodes=()
  for port in $(cluster_ports); do
    cluster_node_up "$port"
    nodes+=("$HOST:$port")
  done
  for port in $(cluster_ports); do
    for i in $(seq 1 100); do
      cluster_ping "$port" && break
      sleep 0.1
    done
    cluster_ping "$port" || fail "Redis Cluster node $HOST:$port did not start (log: $LOGS/redis-cluster-$port.log)"
  done
  if redis-cli -h "$HOST" -p "$REDIS_CLUSTER_PORT" cluster info | grep -q '^cluster_slots_assigned:0'; then
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
      >"$LOGS/redis-cluster-create.log" 2>&1 ||
      fail "redis-cli --cluster create failed (log: $LOGS/redis-cluster-create.log)"
  fi
  cluster_wait_ok "${REDIS_CLUSTER_WAIT_SECONDS:-60}" ||
    fail "the Redis Cluster on $HOST:$REDIS_CLUSTER_PORT.. did not reach cluster_state:ok (logs: $LOGS/redis-cluster-*.log)"
  say "redis-cluster $HOST:$REDIS_CLUSTER_PORT..$((REDIS_CLUSTER_PORT + 5)) ok (3 masters, 3 replicas; URL redis://$HOST:$REDIS_CLUSTER_PORT)"
}

# Every node says cluster_state:ok (slots covered, a majority of masters reachable).
cluster_wait_ok() {
  local seconds=$1 i port ok
  for i in $(seq 1 $((seconds * 10))); do
    ok=1
    for port in $(cluster_ports); do
      redis-cli -h "$HOST" -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || ok=0
    done
    [ "$ok" -eq 1 ] && return 0
    sleep 0.1
  done
  return 1
}

redis-cluster_down() {
  local port
  for port in $(cluster_ports); do stop_one "redis-cluster-$port"; done
}

redis-cluster_status() {
  local port bad=0 pid owner role state
  for port in $(cluster_ports); do
    pid=$(read_pid "redis-cluster-$port")
    if pid_alive "$pid"; then owner="pid $pid, ours"; else owner="not ours"; fi
    if cluster_ping "$port"; then
      role=$(redis-cli -h "$HOST" -p "$port" role | head -n1)
      state=$(redis-cli -h "$HOST" -p "$port" cluster info | grep '^cluster_state' | tr -d '\r')
      say "redis-cluster $HOST:$port $role, $state ($owner)"
      [ "$state" = cluster_state:ok ] || bad=1
    else
      say "redis-cluster $HOST:$port down"
      bad=1
    fi
  done
  return $bad
}

# ---------------------------------------------------------------- MongoDB stand-in
mongo_up() {
  local rc=0
  check_port mongo "$MONGO_PORT" || rc=$?
  if [ "$rc" -eq 10 ]; then
    report_running mongo "$MONGO_PORT"
    return
  fi
  mkdir -p "$STATE/mongo"
  nohup "$JAVA" -Xms128m -Xmx2g -XX:+UseG1GC -cp "$CP" DaroogheMongo "$HOST" "$MONGO_PORT" \
    "$MONGO_BACKEND" "$STATE/mongo/darooghe.mv.db" >"$LOGS/mongo.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$PIDS/mongo.pid"
  wait_ready mongo mongo "$MONGO_PORT" "$MONGO_WAIT" "$pid"
  say "mongo   $HOST:$MONGO_PORT started (pid $pid, mongo-java-server, $MONGO_BACKEND backend)"
}

# ---------------------------------------------------------------- commands
stop_one() {
  local name=$1 pid
  pid=$(read_pid "$name")
  if [ -z "$pid" ]; then
    say "$name: not started by us"
    return
  fi
  if ! pid_alive "$pid"; then
    rm -f "$PIDS/$name.pid"
    say "$name: already stopped"
    return
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 300); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    say "$name: did not stop within 30 s, killing pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDS/$name.pid"
  say "$name: stopped (pid $pid)"
}

status_one() {
  local name=$1 kind=$2 port=$3 pid owner rc=0
  pid=$(read_pid "${name%% *}")
  if pid_alive "$pid"; then owner="pid $pid, ours"; else owner="not ours"; fi
  if ! port_open "$port"; then
    say "$name $HOST:$port down"
    return 1
  fi
  probe "$kind" "$port" 3 || rc=$?
  if [ "$rc" -eq 0 ]; then
    say "$name $HOST:$port healthy ($owner)"
  else
    say "$name $HOST:$port unhealthy: the port answers but not as $kind ($owner)"
    return 1
  fi
}

services_for() {
  if [ $# -eq 0 ]; then echo "kafka redis redis-cluster mongo"; else echo "$@"; fi
}

check_names() {
  local s
  for s in "$@"; do
    case $s in kafka | redis | redis-cluster | mongo) ;; *) fail "unknown service '$s': expected kafka, redis, redis-cluster or mongo" ;; esac
  done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
check_names "$@"
case $cmd in
up)
  prepare_java
  for s in $(services_for "$@"); do "${s}_up"; done
  ;;
down)
  # Reverse order: clients of Kafka go first, Kafka last.
  for s in $(services_for "$@" | tr ' ' '\n' | tac); do
    if [ "$s" = redis-cluster ]; then redis-cluster_down; else stop_one "$s"; fi
  done
  ;;
status)
  prepare_java
  bad=0
  for s in $(services_for "$@"); do
    case $s in
    kafka)
      status_one kafka kafka "$KAFKA_PORT" || bad=1
      if sasl_ssl_on; then status_one "kafka SASL_SSL" kafka-client "$KAFKA_SASL_SSL_PORT" || bad=1; fi
      ;;
    redis) status_one redis redis "$REDIS_PORT" || bad=1 ;;
    redis-cluster) redis-cluster_status || bad=1 ;;
    mongo) status_one mongo mongo "$MONGO_PORT" || bad=1 ;;
    esac
  done
  exit $bad
  ;;
logs)
  for s in $(services_for "$@"); do
    if [ -f "$LOGS/$s.log" ]; then
      say "==> $LOGS/$s.log <=="
      tail -n "${LINES_PER_LOG:-50}" "$LOGS/$s.log"
    else
      say "==> $s: no log yet ($LOGS/$s.log)"
    fi
  done
  ;;
-h | --help | help | "")
  sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'
  [ -n "$cmd" ] || exit 2
  ;;
*)
  fail "unknown command '$cmd': expected up, down, status or logs"
  ;;
esac
