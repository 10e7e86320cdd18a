# free_port: prints a TCP port on 127.0.0.1 that nothing listens on (checked by trying to
# connect), for the scripts that start the server. Sourced, not run.
#
# The port is below the kernel's range of ephemeral ports: a port in that range can be the
# local end of a client's connection (wrk's, pgbench's, the server's own to PostgreSQL) at the
# moment the server binds it, which then fails with "Address already in use".
free_port() {
  local port low span
  low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  span=$(( low > 12000 ? low - 10000 : 20000 ))
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % span))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}
