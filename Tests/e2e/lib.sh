# Shared by the end-to-end scripts that start `calcitrack serve` (source it after `cd` to the repo).

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to 15 s for BASE_URL/health to answer; returns 1 if it never does.
wait_for_health() {
  for _ in $(seq 1 150); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.1; done
  return 1
}
