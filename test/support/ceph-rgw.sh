#!/usr/bin/env bash
# A throwaway single-node Ceph (1 mon + 1 memstore osd + radosgw beast) on 127.0.0.1, for running
# the S3 integration tests against RGW. No mgr, no systemd; runs as root.
#   eval "$(test/support/ceph-rgw.sh start DIR)"   # prints S3_TEST_* exports; logs go to stderr and DIR/log
#   test/support/ceph-rgw.sh stop DIR              # kills the daemons and removes DIR
# CEPH_OBJECTSTORE=bluestore keeps the data on disk under DIR (for the benchmarks' large objects).
set -euo pipefail
exec 3>&1 1>&2 # stdout is only for the export lines
CMD=${1:-} DIR=${2:-}
[[ $CMD =~ ^(start|stop)$ && -n $DIR ]] || { echo "usage: $0 start|stop DIR"; exit 2; }
DIR=$(realpath -m "$DIR")
export CEPH_CONF=$DIR/ceph.conf

waitfor() { # TRIES COMMAND...: poll every 0.25 s
  local n=$1; shift
  until "$@" >/dev/null 2>&1; do ((--n > 0)) || return 1; sleep 0.25; done
}
gone() { # exited or a zombie (PID 1 here reaps only every second or two)
  local p; for p; do [[ $(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null) =~ ^Z?$ ]] || return 1; done
}
stop() { # SIGKILL: a clean shutdown takes seconds and there is nothing to keep
  local pids; pids=$(cat "$DIR/pids" 2>/dev/null) || return 0
  kill -9 $pids 2>/dev/null || true
  waitfor 40 gone $pids
}
if [[ $CMD == stop ]]; then
  [[ -f $CEPH_CONF ]] || { echo "$DIR has no ceph.conf; not removing it"; exit 1; }
  stop; rm -rf "$DIR"; exit 0
fi

t0=$SECONDS
say() { echo "[ceph-rgw +$((SECONDS - t0))s] $*"; }

PKGS="ceph-mon ceph-osd radosgw ceph-common curl"
have() { for c; do command -v "$c" >/dev/null || return 1; done; }
if ! have radosgw ceph-osd ceph-mon ceph-authtool curl; then
  say "installing $PKGS"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends $PKGS >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $PKGS >/dev/null; }
fi

mkdir -p "$DIR"
[[ -z $(ls -A "$DIR") ]] || { echo "$DIR is not empty"; exit 1; }
mkdir -p "$DIR"/{mon/a,osd,rgw,run,log}
trap '[[ $? == 0 ]] || { tail -n 20 "$DIR"/log/*.out; echo "start failed; logs in $DIR/log"; stop; }' EXIT

# Two free ports, held together so they differ.
read -r MON_PORT RGW_PORT < <(python3 -c 'import socket; ss = [socket.socket() for _ in "ab"]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
FSID=$(cat /proc/sys/kernel/random/uuid)
cat >"$CEPH_CONF" <<EOF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
# msgr2 would want a second mon port; v1 alone is enough here.
ms bind msgr2 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
# Fast paxos/ticks: the defaults add seconds to every pool creation and to the osd coming up.
paxos propose interval = 0.1
mon tick interval = 1
# Disk fullness must not stop the mon: this is test data.
mon data avail crit = 0
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
keyring = $DIR/keyring
[mon]
mon data = $DIR/mon/\$id
[osd]
osd data = $DIR/osd/\$id
keyring = $DIR/osd/\$id/keyring
$(if [[ ${CEPH_OBJECTSTORE:-memstore} == bluestore ]]; then cat <<'BLUESTORE'
# On disk, in a sparse file under DIR: the benchmarks' 6 GiB objects would not fit in RAM (memstore
# took 17 GiB of RSS for one 6 GiB copy and was OOM-killed).
osd objectstore = bluestore
bluestore block create = true
# Capped: bluestore does not give freed space back to the file, which grew to 68 GB over P1.
bluestore block size = 34359738368
osd memory target = 1073741824
BLUESTORE
else cat <<'MEMSTORE'
# In RAM: no mkfs of a block device, and nothing left on disk. The suite writes well under 4 GiB.
osd objectstore = memstore
memstore device bytes = 4294967296
MEMSTORE
fi)
[client.rgw.a]
keyring = $DIR/rgw/keyring
# Without tcp_nodelay many small calls take ~45 ms instead of ~5 ms.
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $DIR/rgw
# Deleted objects' data can be freed at once (radosgw-admin gc process), not after 2 h.
rgw gc obj min wait = 0
EOF

say "starting mon on port $MON_PORT"
ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$DIR/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v1:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring"
ceph-mon -i a -f >>"$DIR/log/mon.out" 2>&1 3>&- & echo $! >>"$DIR/pids"
waitfor 120 ceph --connect-timeout 2 mon stat

say "starting osd"
OSD_UUID=$(cat /proc/sys/kernel/random/uuid) OSD_KEY=$(ceph-authtool --gen-print-key)
OSD_ID=$(echo "{\"cephx_secret\": \"$OSD_KEY\"}" | ceph osd new "$OSD_UUID" -i -)
mkdir -p "$DIR/osd/$OSD_ID"
ceph-authtool --create-keyring "$DIR/osd/$OSD_ID/keyring" -n "osd.$OSD_ID" --add-key "$OSD_KEY" >/dev/null
ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/osd.out" 2>&1
ceph-osd -i "$OSD_ID" -f >>"$DIR/log/osd.out" 2>&1 3>&- & echo $! >>"$DIR/pids"
osd_up() { ceph osd stat | grep -q ' 1 up'; }
waitfor 240 osd_up

# RGW would create these lazily, stalling ~2 s on the first bucket, object and multipart upload.
say "creating rgw pools"
for pool in .rgw.root default.rgw.{log,control,meta,buckets.index,buckets.data,buckets.non-ec}; do
  echo "osd pool create $pool 8 8"; echo "osd pool application enable $pool rgw"
done | ceph >>"$DIR/log/pools.out" 2>&1

say "starting radosgw on port $RGW_PORT"
ceph auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' -o "$DIR/rgw/keyring"
radosgw -n client.rgw.a -f >>"$DIR/log/rgw.out" 2>&1 3>&- & echo $! >>"$DIR/pids"
waitfor 240 curl -sf "http://127.0.0.1:$RGW_PORT/"

AK=$(od -An -tx1 -N10 /dev/urandom | tr -d ' \n' | tr a-f A-F) SK=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
radosgw-admin user create --uid=test --display-name=test --access-key="$AK" --secret="$SK" >/dev/null
say "ready: http://127.0.0.1:$RGW_PORT, pids $(tr '\n' ' ' <"$DIR/pids")"
cat >&3 <<EOF
export S3_TEST_ENDPOINT=http://127.0.0.1:$RGW_PORT
export S3_TEST_ACCESS_KEY_ID=$AK
export S3_TEST_SECRET_ACCESS_KEY=$SK
export S3_TEST_REGION=us-east-1
export S3_TEST_KIND=ceph
EOF
