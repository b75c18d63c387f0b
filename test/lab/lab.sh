#!/usr/bin/env bash
# lab.sh: the reference lab in network namespaces. Two FRR leaves (Debian frr,
# zebra + bgpd, sshd with a vtysh login) and Calico-style BIRD 1.6 nodes on
# one bridge, plus a spare node that is not in the cluster state yet, and an
# IPv6 node (FRR bgpd) that sends IPv4 routes over its IPv6 session.
#
#   lab.sh up                 build or repair the lab (idempotent)
#   lab.sh down               stop everything the lab started, delete its namespaces
#   lab.sh status             print what runs; exit 0 only when everything does
#   lab.sh reset              leaves back to their baseline config, nodes back to
#                             their Calico routes (restarts FRR and BIRD; ~1 s)
#   lab.sh vtysh LEAF [-c CMD]...
#   lab.sh birdc NODE [CMD...]
#   lab.sh nodevtysh NODE6 [-c CMD]...   vtysh on an IPv6 node
#   lab.sh rogue NODE [PREFIX...]   make NODE advertise PREFIXes it does not own
#                                   (none: stop); Calico's filter is bypassed
#   lab.sh session NODE < STATEMENTS   BIRD statements for every session of
#                             NODE (e.g. password "..."), read from stdin;
#                             empty input clears them
#   lab.sh pause|resume NODE  stop (SIGSTOP) or continue a node's BIRD: a hung
#                             node whose TCP connections stay open
#   lab.sh exec NAME CMD...   run CMD in the namespace of a leaf, node or "sw"
#   lab.sh bird NODE stop|start|pause|resume   stop a BIRD node (its sessions
#                             close at once), start it again, or freeze it
#                             (SIGSTOP: the leaves notice only when their hold
#                             timer runs out, as for a node that lost power)
#                             and let it run again
#   lab.sh restart LEAF DAEMON  restart a leaf's zebra or bgpd as watchfrr does:
#                             the daemon starts again with the saved frr.conf
#                             (what "write memory" saved), not what was typed since
#   lab.sh rundir             print the daemons' run folder
#   lab.sh clean              down, then remove the keys as well
#
# Environment:
#   LAB            name of the lab (default frlab): namespaces are <LAB>-<name>.
#                  Several labs can run at once.
#   LAB_PORT_SHIFT added to the leaves' SSH forwarder ports (default 0: 2201/2202)
#   FRR_PROFILE    FRR defaults profile: datacenter (default) or traditional
#   WAIT_TIMEOUT   seconds to wait for daemons (default 20)
#
# Nothing listens outside the lab's namespaces except the SSH forwarders on
# 127.0.0.1. Every process the lab starts is stopped by its PID.
#
# Files: the keys (test/lab/run/<LAB>/keys, with the known_hosts file that
# examples/haystack/fabric-frr.yaml names) stay in the checkout. What the
# daemons use (configs, pid files, vtysh and BIRD control sockets, logs) is in
# a run folder outside it, /run/fabric-reconciler-lab/<LAB>-<checkout id>
# (lab.sh rundir): FRR drops to user frr, which cannot reach a checkout under
# a home folder of mode 0700, and a Unix socket path must fit in 108 bytes,
# which one under a long checkout path does not. The checkout id (a hash of
# the checkout's path) keeps two checkouts' run folders apart.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${LAB:-frlab}
LAB_PORT_SHIFT=${LAB_PORT_SHIFT:-0}
FRR_PROFILE=${FRR_PROFILE:-datacenter}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-20}
TOPOLOGY=${LAB_TOPOLOGY:-$HERE/topology}
PASSWORD_FILE=${LAB_PASSWORD_FILE:-$REPO/examples/haystack/secrets/frr-password}
STATE=$HERE/run/$LAB
KEYS=$STATE/keys
RUN_BASE=/run/fabric-reconciler-lab
SUBNET_BITS=28
FRR_BIN=/usr/lib/frr

case "$LAB" in
  *[!a-zA-Z0-9-]* | '') echo "lab: LAB must be letters, digits and -" >&2; exit 2 ;;
esac
[ ${#LAB} -le 8 ] || { echo "lab: LAB must be at most 8 characters (namespace and link names)" >&2; exit 2; }
RUN=$RUN_BASE/$LAB-$(printf '%s' "$(cd "$REPO" && pwd -P)" | sha256sum | cut -c1-8)

log() { echo "lab[$LAB]: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- topology
LEAVES=() NODES=() SPARES=() NODES6=()
declare -A ADDR ASN RID PORT BLOCK ROUTES ROLE
while read -r role name addr asn a b; do
  case "$role" in ''|'#'*) continue ;; esac
  ROLE[$name]=$role ADDR[$name]=$addr ASN[$name]=$asn
  case "$role" in
    leaf) LEAVES+=("$name"); RID[$name]=$a; PORT[$name]=$((b + LAB_PORT_SHIFT)) ;;
    node) NODES+=("$name"); BLOCK[$name]=$a; ROUTES[$name]=$b ;;
    spare) SPARES+=("$name"); BLOCK[$name]=$a; ROUTES[$name]=$b ;;
    node6) NODES6+=("$name"); BLOCK[$name]=$a; ROUTES[$name]=$b ;;
    *) die "topology: unknown role $role" ;;
  esac
done <"$TOPOLOGY"
ALLNODES=("${NODES[@]}" "${SPARES[@]}")
ALL=("${LEAVES[@]}" "${ALLNODES[@]}" "${NODES6[@]}")

# IPv6 on the segment: the leaves and the IPv6 nodes also have addresses in
# V6NET, with the host number of their IPv4 address (leaf201 192.168.9.204
# is fd00:9::204); an IPv6 node's IPv4 address is the reverse (fd00:9::199
# is 192.168.9.199). The BIRD nodes stay IPv4-only, as in the reference lab.
V6NET=fd00:9::
V4NET=192.168.9.
v6addr() { echo "$V6NET${ADDR[$1]##*.}"; }
v4addr() { echo "$V4NET${ADDR[$1]##*:}"; }

ns() { echo "$LAB-$1"; }
SW=$(ns sw)
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

has_ns() { [ -e "/run/netns/$1" ]; }

# alive PIDFILE: the process in PIDFILE runs (not a zombie) and belongs to
# this lab (its command line names the run folder or the lab's namespace).
alive() {
  local f=$1 pid st
  pid=$( { tr -dc '0-9' <"$f"; } 2>/dev/null ) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$st" != Z ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -e "$RUN" -e "$LAB-" || return 1
}

pidof_file() { { tr -dc '0-9' <"$1"; } 2>/dev/null; }

# wait_until DESCRIPTION CMD...: wait until CMD succeeds; status 1 (and a
# line saying what it waited for) after WAIT_TIMEOUT seconds.
wait_until() {
  local what=$1 deadline=$((SECONDS + WAIT_TIMEOUT)); shift
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "timed out after ${WAIT_TIMEOUT}s waiting for $what"
      return 1
    fi
    sleep 0.05
  done
}

# failed WHAT LOG...: WHAT did not start. Prints the end of each of its logs
# (at most 25 lines of 300 characters each), so that the error of lab.sh,
# and the test failure that quotes it, says why; then exits.
failed() {
  local what=$1 f msg; shift
  msg="lab[$LAB]: $what did not start"
  for f in "$@"; do
    if [ -s "$f" ]; then
      msg+=$'\n'"  --- the end of $f:"$'\n'$(tail -n 25 "$f" | cut -c1-300 | sed 's/^/  | /')
    else
      msg+=$'\n'"  --- $f: empty or missing"
    fi
  done
  printf '%s\n' "$msg" >&2 # one write: parallel components do not interleave
  exit 1
}

# ensure_run creates the run folder, reachable by the daemons' users (FRR
# runs as frr) whatever the umask.
ensure_run() {
  mkdir -p "$RUN"
  chmod 755 "$RUN_BASE" "$RUN"
  echo "$REPO" >"$RUN/checkout"
}

# ---------------------------------------------------------------- keys
ensure_keys() {
  mkdir -p "$KEYS"
  chmod 700 "$KEYS"
  [ -r "$PASSWORD_FILE" ] || die "missing $PASSWORD_FILE (the lab's admin password)"
  [ -e "$KEYS/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$LAB-client" -f "$KEYS/client_ed25519"
  cp "$KEYS/client_ed25519.pub" "$KEYS/authorized_keys"
  local kh=$KEYS/known_hosts.tmp l
  : >"$kh"
  for l in "${LEAVES[@]}"; do
    [ -e "$KEYS/${l}_host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$l" -f "$KEYS/${l}_host_ed25519"
    echo "[127.0.0.1]:${PORT[$l]},${ADDR[$l]} $(cut -d' ' -f1,2 "$KEYS/${l}_host_ed25519.pub")" >>"$kh"
  done
  mv "$kh" "$KEYS/known_hosts"
  # The leaves' sshd sees these two files at /etc/passwd and /etc/shadow (in
  # its private mount namespace only): user admin logs in to vtysh.
  local hash
  hash=$(LAB_PW=$(head -n1 "$PASSWORD_FILE") perl -e 'my @c=("a".."z","A".."Z",0..9); my $s=join("",map {$c[rand @c]} 1..16); print crypt($ENV{LAB_PW}, "\$6\$$s\$")')
  { grep -v '^admin:' /etc/passwd; echo "admin:x:0:0:lab admin:/root:/usr/bin/vtysh"; } >"$RUN/passwd"
  { grep -v '^admin:' /etc/shadow; echo "admin:$hash:19000:0:99999:7:::"; } >"$RUN/shadow"
  chmod 644 "$RUN/passwd"
  chmod 600 "$RUN/shadow"
}

# ---------------------------------------------------------------- network
ensure_netns() { # ensure_netns NAMESPACE [v6]: IPv6 stays off unless v6
  local n=$1 off=1
  [ "${2:-}" = v6 ] && off=0
  has_ns "$n" || ip netns add "$n"
  ip netns exec "$n" ip link set lo up
  ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=$off net.ipv6.conf.default.disable_ipv6=$off 2>/dev/null || true
}

ensure_network() {
  ensure_netns "$SW"
  local l
  for l in "${LEAVES[@]}"; do ensure_netns "$(ns "$l")" v6; nsx "$l" sysctl -qw net.ipv4.ip_forward=1; done
  ip netns exec "$SW" ip link show br0 >/dev/null 2>&1 || ip netns exec "$SW" ip link add br0 type bridge
  ip netns exec "$SW" ip link set br0 up
  local n v6
  for n in "${ALL[@]}"; do
    v6=
    case "${ROLE[$n]}" in leaf|node6) v6=v6 ;; esac
    ensure_netns "$(ns "$n")" $v6
    if ! nsx "$n" ip link show eth0 >/dev/null 2>&1; then
      ip netns exec "$SW" ip link del "p-$n" 2>/dev/null || true
      ip link add eth0 netns "$(ns "$n")" type veth peer name "p-$n" netns "$SW"
    fi
    ip netns exec "$SW" ip link set "p-$n" master br0 up
    [ -z "$v6" ] || nsx "$n" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
    nsx "$n" ip link set eth0 up
    case "${ROLE[$n]}" in
      node6)
        nsx "$n" ip addr replace "$(v4addr "$n")/$SUBNET_BITS" dev eth0
        nsx "$n" ip -6 addr replace "${ADDR[$n]}/64" dev eth0 nodad ;;
      leaf)
        nsx "$n" ip addr replace "${ADDR[$n]}/$SUBNET_BITS" dev eth0
        nsx "$n" ip -6 addr replace "$(v6addr "$n")/64" dev eth0 nodad ;;
      *) nsx "$n" ip addr replace "${ADDR[$n]}/$SUBNET_BITS" dev eth0 ;;
    esac
  done
}

# ---------------------------------------------------------------- FRR leaves
leaf_baseline() { # the network team's config: the BGP instance, a hand-made neighbor and prefix-list
  local l=$1
  cat <<EOF
frr version 8.4
frr defaults $FRR_PROFILE
hostname $l
log file $RUN/$l/frr.log informational
service integrated-vtysh-config
!
ip prefix-list HANDMADE-BORDER-OUT seq 5 permit 172.16.0.0/12 le 24
ip prefix-list HANDMADE-BORDER-OUT seq 10 deny any
!
router bgp ${ASN[$l]}
 bgp router-id ${RID[$l]}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 192.168.9.206 remote-as 65000
 neighbor 192.168.9.206 description border router, configured by hand
 !
 address-family ipv4 unicast
  neighbor 192.168.9.206 prefix-list HANDMADE-BORDER-OUT out
 exit-address-family
exit
!
EOF
}

leaf_dirs() {
  local l=$1 d=$RUN/$1
  mkdir -p "$d/etc" "$d/sock"
  chown frr:frr "$d" "$d/sock" "$d/etc"
  chmod 755 "$d"
}

write_leaf_config() {
  local l=$1 d=$RUN/$1
  leaf_dirs "$l"
  leaf_baseline "$l" >"$d/etc/frr.conf"
  echo "service integrated-vtysh-config" >"$d/etc/vtysh.conf"
  chown frr:frr "$d/etc/frr.conf" "$d/etc/vtysh.conf"
}

vty() { # vty LEAF ARGS...: vtysh on a leaf, from the host
  local l=$1; shift
  nsx "$l" unshare --uts sh -c 'hostname "$0"; exec "$@"' "$l" \
    vtysh --vty_socket "$RUN/$l/sock" --config_dir "$RUN/$l/etc" "$@"
}

start_frr_daemon() { # start_frr_daemon LEAF DAEMON
  local l=$1 dm=$2 d=$RUN/$1
  alive "$d/$dm.pid" && return 0
  rm -f "$d/$dm.pid"
  nsx "$l" unshare --uts sh -c 'hostname "$0"; exec "$@"' "$l" \
    "$FRR_BIN/$dm" -d -F "$FRR_PROFILE" --vty_socket "$d/sock" -i "$d/$dm.pid" \
    -z "$d/sock/zserv.api" -f "$d/etc/frr.conf" -P 0 --log "file:$d/$dm.log" >>"$d/$dm.start.log" 2>&1 \
    || failed "$dm on $l" "$d/$dm.start.log" "$d/$dm.log"
  wait_until "$dm on $l" test -S "$d/sock/$dm.vty" || failed "$dm on $l" "$d/$dm.start.log" "$d/$dm.log"
}

start_leaf_frr() {
  local l=$1 d=$RUN/$1 fresh=0
  alive "$d/zebra.pid" && alive "$d/bgpd.pid" || fresh=1
  [ -e "$d/etc/frr.conf" ] || write_leaf_config "$l"
  [ $fresh = 1 ] || return 0
  stop_pidfile "$d/bgpd.pid"
  leaf_dirs "$l"
  start_frr_daemon "$l" zebra
  start_frr_daemon "$l" bgpd
  vty "$l" -b >"$d/vtysh-b.log" 2>&1 || failed "the configuration of $l (vtysh -b)" "$d/vtysh-b.log" "$d/frr.log"
}

start_leaf_sshd() {
  local l=$1 d=$RUN/$1
  alive "$d/sshd.pid" && return 0
  cat >"$d/sshd_config" <<EOF
Port 22
ListenAddress 0.0.0.0
HostKey $KEYS/${l}_host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $KEYS/authorized_keys
AllowUsers admin
PermitRootLogin yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 64
LogLevel INFO
EOF
  rm -f "$d/sshd.pid"
  # A private mount + UTS namespace: /run is a tmpfs (sshd's privsep dir)
  # where /run/frr is this leaf's socket folder and the lab's run folder
  # stays at its path (sshd writes its pid file there); /etc/frr is this
  # leaf's, and passwd/shadow add "admin". The new /run is put together on
  # /tmp (in this namespace only), then moved over /run, which would hide
  # the run folder if it were mounted first.
  case "$RUN" in /run/*) ;; *) die "the run folder $RUN is not under /run" ;; esac
  # shellcheck disable=SC2016
  nsx "$l" unshare --mount --uts --propagation private sh -c '
    set -e; hostname "$1"
    mount -t tmpfs -o mode=755 lab-run /tmp
    mkdir -p /tmp/sshd /tmp/frr "/tmp${3#/run}"
    mount --bind "$3" "/tmp${3#/run}"
    mount --bind "$2/sock" /tmp/frr
    mount -n --move /tmp /run # -n: the moved /run has no /run/mount/utab to update
    mount --bind "$2/etc" /etc/frr
    mount --bind "$3/passwd" /etc/passwd
    mount --bind "$3/shadow" /etc/shadow
    exec /usr/sbin/sshd -f "$2/sshd_config" -E "$2/sshd.log"' sh "$l" "$d" "$RUN" </dev/null >"$d/sshd.start.log" 2>&1 \
    || failed "sshd on $l" "$d/sshd.start.log" "$d/sshd.log"
  wait_until "sshd on $l" nsx "$l" bash -c "exec 3<>/dev/tcp/127.0.0.1/22" \
    || failed "sshd on $l" "$d/sshd.start.log" "$d/sshd.log"
}

start_forwarder() {
  local l=$1 d=$RUN/$1
  # Written even when the forwarder runs: socat reads it per connection.
  # Before each connection it puts user admin back into sshd's view when
  # the bind mounts of start_leaf_sshd are gone: a host tool that replaces
  # /etc/passwd or /etc/shadow (a new file renamed over the old one) makes
  # the kernel detach mounts on the old file in every namespace (Linux 3.18
  # and later), and sshd then answers "Invalid user admin".
  cat >"$d/fwd.sh.tmp" <<EOF
#!/bin/sh
# one SSH connection from 127.0.0.1:${PORT[$l]} into $l (TCP_NODELAY: no Nagle delays)
pid=\$(cat "$d/sshd.pid" 2>/dev/null) && nsenter -t "\$pid" -m sh -c '
  grep -q "^admin:" /etc/passwd || mount --bind "$RUN/passwd" /etc/passwd
  grep -q "^admin:" /etc/shadow || mount --bind "$RUN/shadow" /etc/shadow' </dev/null >>"$d/fwd.log" 2>&1
exec ip netns exec $(ns "$l") socat STDIO TCP:127.0.0.1:22,nodelay
EOF
  chmod 755 "$d/fwd.sh.tmp"
  mv "$d/fwd.sh.tmp" "$d/fwd.sh"
  alive "$d/fwd.pid" && return 0
  port_free "$l"
  setsid socat "TCP-LISTEN:${PORT[$l]},bind=127.0.0.1,reuseaddr,fork,nodelay" "EXEC:$d/fwd.sh" </dev/null >>"$d/fwd.log" 2>&1 &
  echo $! >"$d/fwd.pid"
  wait_until "forwarder 127.0.0.1:${PORT[$l]}" bash -c "exec 3<>/dev/tcp/127.0.0.1/${PORT[$l]}" \
    || failed "the SSH forwarder of $l" "$d/fwd.log"
}

# port_free LEAF: nothing but this lab's forwarder listens on the leaf's port.
port_free() {
  local l=$1
  alive "$RUN/$l/fwd.pid" && return 0
  if (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$l]}") 2>/dev/null; then
    die "127.0.0.1:${PORT[$l]} is taken by another program (another checkout's lab $LAB? set LAB_PORT_SHIFT, or take that lab down)"
  fi
}

# ---------------------------------------------------------------- BIRD nodes
write_node_config() {
  local n=$1 d=$RUN/$1 leaf r
  mkdir -p "$d"
  # Calico's bird.cfg / bird_aggr.cfg / bird_ipam.cfg layout (confd output),
  # for this node's block, its service routes and peers.
  cat >"$d/bird_aggr.cfg" <<EOF
# Generated like Calico's confd bird_aggr.cfg
protocol static {
  # IP blocks for this host.
  route ${BLOCK[$n]} blackhole;
}

# Aggregation of routes on this host; export the block, nothing beneath it.
function calico_aggr ()
{
  # Block ${BLOCK[$n]} is confirmed
  if ( net = ${BLOCK[$n]} ) then { accept; }
  if ( net ~ ${BLOCK[$n]} ) then { reject; }
}
EOF
  cat >"$d/bird_ipam.cfg" <<EOF
# Generated like Calico's confd bird_ipam.cfg
filter calico_export_to_bgp_peers {
  # lab only (not Calico): routes of protocol lab_rogue are exported as
  # they are, so a test can make a node advertise what it does not own.
  if ( proto = "lab_rogue" ) then accept;
  calico_aggr();
  if ( net ~ 172.29.0.0/16 ) then {
    accept;
  }
  if ( net ~ 172.27.0.0/16 ) then {
    accept;
  }
  reject;
}

filter calico_kernel_programming {
  if ( net ~ 172.27.0.0/16 ) then {
    krt_tunnel = "";
    accept;
  }
  accept;
}
EOF
  # Upstream BIRD 1.6.8 has no krt_tunnel attribute (Calico's fork does).
  sed -i 's/^    krt_tunnel = "";/    # krt_tunnel = ""; (Calico fork only)/' "$d/bird_ipam.cfg"
  {
    echo "# Generated like Calico's confd bird.cfg"
    echo 'include "bird_aggr.cfg";'
    echo 'include "bird_ipam.cfg";'
    echo 'include "lab_rogue.cfg";'
    echo
    echo "router id ${ADDR[$n]};"
    cat <<EOF

protocol kernel {
  learn;
  persist;
  scan time 2;
  import all;
  export none;       # the lab does not program the node's kernel
  graceful restart;
  merge paths on;
}

protocol device {
  debug { states };
  scan time 2;
}

protocol direct {
  debug { states };
  interface -"cali*", -"kube-ipvs*", "*";
}

# Service addresses Calico advertises (serviceLoadBalancerIPs and the
# LoadBalancer /32s this node announces).
protocol static {
EOF
    for r in ${ROUTES[$n]//,/ }; do echo "  route $r blackhole;"; done
    cat <<EOF
}

template bgp bgp_template {
  debug { states };
  description "Connection to BGP peer";
  local as ${ASN[$n]};
  multihop;
  gateway recursive;
  import all;
  export filter calico_export_to_bgp_peers;
  add paths on;
  graceful restart;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
  # lab only: what "lab.sh session" sets (a password, as Calico writes a
  # BGPPeer's password.secretKeyRef into its peer blocks: password "...";)
include "lab_session.cfg";
}

# ------------- Node-specific peers -------------
EOF
    for leaf in "${LEAVES[@]}"; do
      cat <<EOF
protocol bgp Node_${ADDR[$leaf]//./_} from bgp_template {
  neighbor ${ADDR[$leaf]} as ${ASN[$leaf]};
  source address ${ADDR[$n]};
}
EOF
    done
  } >"$d/bird.cfg"
  write_rogue "$n"
  : >"$d/lab_session.cfg"
  chmod 600 "$d/lab_session.cfg"
}

write_rogue() { # write_rogue NODE [PREFIX...]
  local n=$1 p; shift
  {
    echo "# lab.sh rogue: prefixes this node advertises without owning them"
    echo "protocol static lab_rogue {"
    for p in "$@"; do echo "  route $p blackhole;"; done
    echo "}"
  } >"$RUN/$n/lab_rogue.cfg.tmp"
  mv "$RUN/$n/lab_rogue.cfg.tmp" "$RUN/$n/lab_rogue.cfg"
}

start_bird() {
  local n=$1 d=$RUN/$1
  [ -e "$d/bird.cfg" ] || write_node_config "$n"
  alive "$d/bird.pid" && return 0
  rm -f "$d/bird.pid" "$d/bird.ctl"
  nsx "$n" bird -c "$d/bird.cfg" -s "$d/bird.ctl" -P "$d/bird.pid" >"$d/bird.start.log" 2>&1 \
    || failed "bird on $n" "$d/bird.start.log"
  wait_until "bird on $n" nsx "$n" birdc -s "$d/bird.ctl" show status || failed "bird on $n" "$d/bird.start.log"
}

# ---------------------------------------------------------------- IPv6 nodes
# An IPv6 node peers with the leaves over IPv6 only and advertises, in the
# sessions' IPv4 unicast family, the IPv4 prefixes of its routes column: a
# node that is misbehaving or compromised. It runs FRR's bgpd, not BIRD:
# BIRD 1.6 (what Calico runs) keeps IPv4 and IPv6 in two daemons, bird and
# bird6, and its IPv6 daemon carries no IPv4 routes; BIRD 2 can, but
# Debian's bird2 conflicts with the bird package the other nodes use.
write_node6_config() {
  local n=$1 d=$RUN/$1 leaf r
  leaf_dirs "$n"
  {
    cat <<EOF
frr version 8.4
frr defaults datacenter
hostname $n
log file $d/frr.log informational
service integrated-vtysh-config
!
router bgp ${ASN[$n]}
 bgp router-id $(v4addr "$n")
 no bgp ebgp-requires-policy
 no bgp network import-check
EOF
    for leaf in "${LEAVES[@]}"; do echo " neighbor $(v6addr "$leaf") remote-as ${ASN[$leaf]}"; done
    echo " !"
    echo " address-family ipv4 unicast"
    for r in ${ROUTES[$n]//,/ }; do case "$r" in *:*) ;; *) echo "  network $r" ;; esac; done
    echo " exit-address-family"
    echo " !"
    echo " address-family ipv6 unicast"
    for r in ${ROUTES[$n]//,/ }; do case "$r" in *:*) echo "  network $r" ;; esac; done
    for leaf in "${LEAVES[@]}"; do echo "  neighbor $(v6addr "$leaf") activate"; done
    echo " exit-address-family"
    echo "exit"
    echo "!"
  } >"$d/etc/frr.conf"
  echo "service integrated-vtysh-config" >"$d/etc/vtysh.conf"
  chown frr:frr "$d/etc/frr.conf" "$d/etc/vtysh.conf"
}

start_node6() {
  local n=$1 d=$RUN/$1
  [ -e "$d/etc/frr.conf" ] || write_node6_config "$n"
  alive "$d/zebra.pid" && alive "$d/bgpd.pid" && return 0
  stop_pidfile "$d/bgpd.pid"
  leaf_dirs "$n"
  start_frr_daemon "$n" zebra
  start_frr_daemon "$n" bgpd
  vty "$n" -b >"$d/vtysh-b.log" 2>&1 || failed "the configuration of $n (vtysh -b)" "$d/vtysh-b.log" "$d/frr.log"
}

# ---------------------------------------------------------------- stop
stop_pidfile() {
  local f=$1 pid i
  alive "$f" || { rm -f "$f"; return 0; }
  pid=$(pidof_file "$f")
  kill "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true # a paused node (lab.sh pause) takes SIGTERM only once it runs
  for i in $(seq 100); do
    alive "$f" || break
    sleep 0.02
  done
  if alive "$f"; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$f"
}

stop_forwarder() {
  local f=$RUN/$1/fwd.pid pid
  if alive "$f"; then
    pid=$(pidof_file "$f")
    # socat forks one child per connection; setsid made the listener a group leader.
    kill -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop_leaf() {
  local l=$1 d=$RUN/$1
  stop_forwarder "$l"
  stop_pidfile "$d/sshd.pid"
  stop_pidfile "$d/bgpd.pid"
  stop_pidfile "$d/zebra.pid"
}

# ---------------------------------------------------------------- commands
# other_checkout prints the checkout (or run folder) of a lab of this name
# that is up from another checkout: it shares this lab's namespaces and
# ports, so this one cannot start beside it.
other_checkout() {
  local other f
  for other in "$RUN_BASE/$LAB"-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]; do
    [ -d "$other" ] && [ "$other" != "$RUN" ] || continue
    for f in "$other"/*/*.pid; do
      if [ -e "$f" ] && RUN=$other alive "$f"; then
        cat "$other/checkout" 2>/dev/null || echo "$other"
        return 0
      fi
    done
  done
  return 1
}

cmd_up() {
  local start=$SECONDS n other
  if other=$(other_checkout); then
    die "lab $LAB is up from another checkout, $other: take it down there (LAB=$LAB $other/test/lab/lab.sh down) or use another LAB"
  fi
  for n in "${LEAVES[@]}"; do port_free "$n"; done
  ensure_run
  ensure_keys
  ensure_network
  for n in "${LEAVES[@]}"; do start_leaf_frr "$n" & done; wait_all
  for n in "${LEAVES[@]}"; do start_leaf_sshd "$n" & done
  for n in "${ALLNODES[@]}"; do start_bird "$n" & done
  for n in "${NODES6[@]}"; do start_node6 "$n" & done; wait_all
  for n in "${LEAVES[@]}"; do start_forwarder "$n"; done
  log "up in $((SECONDS - start))s: leaves ${LEAVES[*]} (ssh admin@127.0.0.1 -p $(for l in "${LEAVES[@]}"; do printf '%s ' "${PORT[$l]}"; done | sed 's/ $//; s/ /|/g')), nodes ${NODES[*]}, spare ${SPARES[*]}, IPv6 nodes ${NODES6[*]}"
}

# wait_all waits for the background jobs and fails if one failed.
wait_all() {
  local rc=0 j
  for j in $(jobs -p); do wait "$j" || rc=1; done
  [ $rc = 0 ] || die "a component did not start (see above)"
}

cmd_down() {
  local n nsn pid
  if [ -d "$RUN" ]; then
    for n in "${LEAVES[@]}"; do stop_leaf "$n"; done
    for n in "${ALLNODES[@]}"; do stop_pidfile "$RUN/$n/bird.pid"; done
    for n in "${NODES6[@]}"; do stop_pidfile "$RUN/$n/bgpd.pid"; stop_pidfile "$RUN/$n/zebra.pid"; done
  fi
  # Anything still running in a lab namespace was started by the lab.
  for n in sw "${ALL[@]}"; do
    nsn=$(ns "$n")
    has_ns "$nsn" || continue
    for pid in $(ip netns pids "$nsn" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  for n in sw "${ALL[@]}"; do
    nsn=$(ns "$n")
    has_ns "$nsn" || continue
    for pid in $(ip netns pids "$nsn" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$nsn"
  done
  rm -rf "${RUN:?}"
  rmdir "$RUN_BASE" 2>/dev/null || true
  log "down"
}

cmd_status() {
  local ok=0 n d
  for n in sw "${ALL[@]}"; do has_ns "$(ns "$n")" || { echo "namespace $(ns "$n"): missing"; ok=1; }; done
  for n in "${LEAVES[@]}"; do
    d=$RUN/$n
    for p in zebra bgpd sshd fwd; do
      if alive "$d/$p.pid"; then echo "$n $p: running (pid $(pidof_file "$d/$p.pid"))"; else echo "$n $p: stopped"; ok=1; fi
    done
  done
  for n in "${ALLNODES[@]}"; do
    if alive "$RUN/$n/bird.pid"; then echo "$n bird: running (pid $(pidof_file "$RUN/$n/bird.pid"))"; else echo "$n bird: stopped"; ok=1; fi
  done
  for n in "${NODES6[@]}"; do
    for p in zebra bgpd; do
      if alive "$RUN/$n/$p.pid"; then echo "$n $p: running (pid $(pidof_file "$RUN/$n/$p.pid"))"; else echo "$n $p: stopped"; ok=1; fi
    done
  done
  return $ok
}

cmd_reset() {
  local n
  has_ns "$SW" && [ -d "$RUN" ] || die "the lab is not up (lab.sh up)"
  for n in "${LEAVES[@]}"; do
    (
      stop_pidfile "$RUN/$n/bgpd.pid"
      stop_pidfile "$RUN/$n/zebra.pid"
      write_leaf_config "$n"
      start_leaf_frr "$n"
    ) &
  done
  for n in "${ALLNODES[@]}"; do
    (
      stop_pidfile "$RUN/$n/bird.pid"
      write_node_config "$n"
      start_bird "$n"
    ) &
  done
  for n in "${NODES6[@]}"; do
    (
      stop_pidfile "$RUN/$n/bgpd.pid"
      stop_pidfile "$RUN/$n/zebra.pid"
      write_node6_config "$n"
      start_node6 "$n"
    ) &
  done
  wait_all
}

# cmd_restart restarts one daemon of a leaf the way FRR's packaging does
# when watchfrr restarts a daemon that died: frrcommon.sh daemon_start
# starts it, then runs "vtysh -b -d <daemon>" (vtysh_b), which loads the
# saved integrated configuration into that daemon only (FRR 8.4.4,
# /usr/lib/frr/frrcommon.sh). The other daemons keep their running state:
# after a bgpd restart, zebra still holds the prefix-lists and route-maps
# typed since the last "write memory", and bgpd does not.
cmd_restart() {
  local l=${1:?usage: lab.sh restart LEAF DAEMON} dm=${2:?usage: lab.sh restart LEAF DAEMON} d
  [ "${ROLE[$l]:-}" = leaf ] || die "$l is not a leaf"
  case "$dm" in zebra|bgpd) ;; *) die "restart: $dm is not one of zebra, bgpd" ;; esac
  d=$RUN/$l
  stop_pidfile "$d/$dm.pid"
  start_frr_daemon "$l" "$dm"
  vty "$l" -b -d "$dm" >"$d/vtysh-b.log" 2>&1 || { cat "$d/vtysh-b.log" >&2; die "$l: vtysh -b -d $dm failed"; }
}

# cmd_session sets the BIRD statements read from stdin into every BGP
# session of a node (its template), e.g. 'password "..."; ' and reloads
# BIRD; no input clears them. The statements never appear on a command line.
cmd_session() {
  local n=${1:?usage: lab.sh session NODE < STATEMENTS} d
  case "${ROLE[$n]:-}" in node|spare) ;; *) die "$n is not a BIRD node" ;; esac
  d=$RUN/$n
  (umask 077; cat >"$d/lab_session.cfg.tmp")
  mv "$d/lab_session.cfg.tmp" "$d/lab_session.cfg"
  nsx "$n" birdc -s "$d/bird.ctl" configure >/dev/null
}

# cmd_pause stops a node's BIRD (SIGSTOP) without closing its sockets: the
# kernel still acknowledges the leaves' segments, but no BGP message comes
# back, as from a hung node; cmd_resume lets it run again (SIGCONT).
cmd_pause() {
  local n=${1:?usage: lab.sh pause|resume NODE} sig=$2
  case "${ROLE[$n]:-}" in node|spare) ;; *) die "$n is not a BIRD node" ;; esac
  alive "$RUN/$n/bird.pid" || die "$n: bird is not running"
  kill "-$sig" "$(pidof_file "$RUN/$n/bird.pid")"
}

# cmd_bird stops, starts, freezes or thaws a node's BIRD.
cmd_bird() {
  local n=${1:?usage: lab.sh bird NODE stop|start|pause|resume} op=${2:?usage: lab.sh bird NODE stop|start|pause|resume} f
  case "${ROLE[$n]:-}" in node|spare) ;; *) die "$n is not a BIRD node" ;; esac
  f=$RUN/$n/bird.pid
  case "$op" in
    stop) stop_pidfile "$f" ;;
    start) start_bird "$n" ;;
    pause) alive "$f" || die "bird on $n is not running"; kill -STOP "$(pidof_file "$f")" ;;
    resume) alive "$f" || die "bird on $n is not running"; kill -CONT "$(pidof_file "$f")" ;;
    *) die "bird: $op is not one of stop, start, pause, resume" ;;
  esac
}

cmd_rogue() {
  local n=${1:?usage: lab.sh rogue NODE [PREFIX...]}; shift
  case "${ROLE[$n]:-}" in node|spare) ;; *) die "$n is not a BIRD node" ;; esac
  write_rogue "$n" "$@"
  nsx "$n" birdc -s "$RUN/$n/bird.ctl" configure >/dev/null
}

main() {
  local c=${1:-}
  [ $# -gt 0 ] && shift
  case "$c" in
    up|down|status|reset|clean|restart|bird) [ "$(id -u)" = 0 ] || die "needs root (network namespaces)" ;;
  esac
  case "$c" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    clean) cmd_down; rm -rf "${STATE:?}" ;;
    rundir) echo "$RUN" ;;
    vtysh) local l=${1:?usage: lab.sh vtysh LEAF [-c CMD]...}; shift; vty "$l" "$@" ;;
    birdc) local n=${1:?usage: lab.sh birdc NODE [CMD...]}; shift; nsx "$n" birdc -s "$RUN/$n/bird.ctl" "$@" ;;
    nodevtysh) local n=${1:?usage: lab.sh nodevtysh NODE6 [-c CMD]...}; shift
      [ "${ROLE[$n]:-}" = node6 ] || die "$n is not an IPv6 node"; vty "$n" "$@" ;;
    rogue) cmd_rogue "$@" ;;
    session) cmd_session "$@" ;;
    pause) cmd_pause "${1:-}" STOP ;;
    resume) cmd_pause "${1:-}" CONT ;;
    restart) cmd_restart "$@" ;;
    bird) cmd_bird "$@" ;;
    exec) local n=${1:?usage: lab.sh exec NAME CMD...}; shift; nsx "$n" "$@" ;;
    *) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; [ -z "$c" ] || exit 2 ;;
  esac
}

main "$@"
